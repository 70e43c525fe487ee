/**
 * A who-am-I API on 127.0.0.1 (node:http): it answers the account of the bearer token, asked at the
 * test provider's introspection endpoint, at a configurable dotted path of its JSON answer; 401
 * for a token the provider does not know.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import type { TestProvider } from "./provider.js"

export interface WhoAmI {
  readonly url: string
  /** Requests seen, with the method. */
  readonly requests: Array<string>
  /** The bodies of the requests seen ("" for none). */
  readonly bodies: Array<string>
  /** Where the account id goes in the answer (`data.user.id`). */
  readonly shape: { path: string }
  close: () => Promise<void>
}

/** `value` at a dotted path; a number part makes an array with the value at that index. */
const nest = (path: string, value: string): unknown =>
  path
    .split(".")
    .reverse()
    .reduce<unknown>((inner, key) => {
      if (!/^\d+$/.test(key)) return { [key]: inner }
      const array: Array<unknown> = Array.from({ length: Number(key) }, () => ({}))
      array.push(inner)
      return array
    }, value)

export const start = async (provider: () => TestProvider): Promise<WhoAmI> => {
  const requests: Array<string> = []
  const bodies: Array<string> = []
  const shape = { path: "data.user.id" }
  const server: Server = createServer((req, res) => {
    requests.push(req.method ?? "")
    const header = req.headers.authorization ?? ""
    const token = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : ""
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    new Promise<void>((resolve) => req.on("end", () => resolve()))
      .then(() => {
        bodies.push(Buffer.concat(chunks).toString("utf8"))
        return provider().introspect(token)
      })
      .then(
        (account) => {
          if (account === undefined) {
            res.writeHead(401, { "www-authenticate": 'Bearer error="invalid_token"' }).end()
            return
          }
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(nest(shape.path, account)))
        },
        () => res.writeHead(500).end()
      )
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    bodies,
    shape,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
