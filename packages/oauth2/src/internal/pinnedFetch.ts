/**
 * A `fetch` for oauth4webapi's `customFetch` whose connection goes only to the address the egress
 * policy approved for the URL's host: the host is resolved once through the policy and node's
 * `http`/`https` request gets the pinned `lookup`, so a name cannot re-resolve (DNS rebinding)
 * between the check and the connection. The URL keeps the host name, so the Host header, TLS SNI
 * and certificate verification use the name. Redirects are not followed (oauth4webapi asks for
 * `redirect: "manual"`), and a response body is read up to `maxBodyBytes`.
 */
import * as http from "node:http"
import * as https from "node:https"
import { EgressPolicy } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

/** The largest response body read from an authorization server. */
export const maxBodyBytes = 1024 * 1024

interface FetchOptions {
  readonly body?: unknown
  readonly headers: Record<string, string>
  readonly method: string
  readonly signal?: AbortSignal | undefined
}

/** The failure a denied or unresolvable host is reported with: a `TypeError`, as fetch reports network failures. */
const networkError = (message: string, cause: unknown) => Object.assign(new TypeError(message), { cause })

const bodyBytes = (body: unknown): Buffer | undefined => {
  if (body === undefined || body === null) return undefined
  if (typeof body === "string") return Buffer.from(body)
  if (body instanceof URLSearchParams) return Buffer.from(body.toString())
  if (body instanceof Uint8Array) return Buffer.from(body)
  if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body))
  throw new TypeError("unsupported request body")
}

/**
 * A fetch function pinned through `policy`.
 */
export const pinnedFetch =
  (policy: EgressPolicy.EgressPolicyShape) =>
  (url: string, options: FetchOptions): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url)
      if (target.protocol !== "https:" && target.protocol !== "http:") {
        return reject(networkError(`unsupported protocol ${target.protocol}`, undefined))
      }
      const host = target.hostname.replace(/^\[|\]$/g, "")
      Effect.runCallback(EgressPolicy.pin(policy, host), {
        onExit: (exit) => {
          if (Exit.isFailure(exit)) {
            const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
            return reject(failure ?? networkError(`cannot connect to ${host.slice(0, 255)}`, exit.cause))
          }
          let body: Buffer | undefined
          try {
            body = bodyBytes(options.body)
          } catch (error) {
            return reject(error)
          }
          const headers: Record<string, string> = { ...options.headers }
          if (body !== undefined) headers["content-length"] = String(body.byteLength)
          const request = (target.protocol === "https:" ? https : http).request(
            target,
            {
              method: options.method,
              headers,
              lookup: exit.value.lookup,
              agent: false,
              ...(options.signal === undefined ? {} : { signal: options.signal })
            },
            (response) => {
              const chunks: Array<Buffer> = []
              let size = 0
              response.on("data", (chunk: Buffer) => {
                size += chunk.byteLength
                if (size > maxBodyBytes) {
                  response.destroy()
                  request.destroy()
                  return reject(networkError(`the response is larger than ${maxBodyBytes} bytes`, undefined))
                }
                chunks.push(chunk)
              })
              response.on("error", (error) => reject(networkError("the response broke off", error)))
              response.on("end", () => {
                const answer = new Headers()
                for (const [name, value] of Object.entries(response.headers)) {
                  if (value === undefined) continue
                  for (const one of Array.isArray(value) ? value : [value]) answer.append(name, one)
                }
                const status = response.statusCode ?? 502
                const empty = status === 204 || status === 205 || status === 304 || options.method === "HEAD"
                resolve(
                  new Response(empty ? null : Buffer.concat(chunks), {
                    status,
                    statusText: response.statusMessage ?? "",
                    headers: answer
                  })
                )
              })
            }
          )
          request.on("error", (error) => {
            if (error.name === "AbortError") return reject(error)
            reject(networkError("fetch failed", error))
          })
          request.end(body)
        }
      })
    })
