/**
 * A real node:http server on 127.0.0.1 playing an HTTP API and an OAuth2 token endpoint: `GET
 * /health` answers 200 while `up`, 503 otherwise; `POST /token` refuses the client (401
 * `invalid_client`), or answers 503 while `tokenDown`. It counts the requests it gets per path.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"

export interface ApiServer {
  readonly port: number
  readonly url: string
  /** Requests seen per path. */
  readonly counts: Record<string, number>
  up: boolean
  tokenDown: boolean
}

export const apiServer = Effect.acquireRelease(
  Effect.async<{ readonly api: ApiServer; readonly close: () => Promise<void> }>((resume) => {
    const counts: Record<string, number> = {}
    const api = { port: 0, url: "", counts, up: true, tokenDown: false } as {
      -readonly [K in keyof ApiServer]: ApiServer[K]
    }
    const server = createServer((request, response) => {
      const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname
      counts[path] = (counts[path] ?? 0) + 1
      request.resume()
      request.on("end", () => {
        if (path === "/token" && api.tokenDown) {
          response.writeHead(503, { "content-type": "application/json" })
          return response.end(JSON.stringify({ error: "temporarily_unavailable" }))
        }
        if (path === "/token") {
          response.writeHead(401, { "content-type": "application/json" })
          return response.end(JSON.stringify({ error: "invalid_client", error_description: "unknown client" }))
        }
        response.writeHead(api.up ? 200 : 503, { "content-type": "application/json" })
        response.end(JSON.stringify(api.up ? { ok: true } : { error: "maintenance" }))
      })
    })
    server.listen(0, "127.0.0.1", () => {
      api.port = (server.address() as AddressInfo).port
      api.url = `http://127.0.0.1:${api.port}`
      resume(
        Effect.succeed({
          api,
          close: () =>
            new Promise<void>((done) => {
              server.closeAllConnections()
              server.close(() => done())
            })
        })
      )
    })
  }),
  ({ close }) => Effect.promise(close)
).pipe(Effect.map(({ api }) => api as ApiServer))
