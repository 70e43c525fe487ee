/**
 * One webhook request over node:http(s), connected to the address the egress policy approved (the
 * pinned `lookup` answers nothing else). Redirects are not followed (node's client never does) and
 * the response body is never read: only the status and the `Retry-After` header count.
 */
import * as http from "node:http"
import * as https from "node:https"
import type { EgressPolicy } from "@patchbay/core"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/** Why a request got no status: a socket error code, `timeout` or `transport_error`. */
export interface SendFailure {
  readonly _tag: "SendFailure"
  readonly error: string
}

const codeOf = (error: unknown): string => {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { readonly code?: unknown }).code
    if (typeof code === "string" && /^[A-Z0-9_]{1,64}$/.test(code)) return code
  }
  return "transport_error"
}

/** What the receiver answered: its status and its `Retry-After` header, as sent. */
export interface Response {
  readonly status: number
  readonly retryAfter: string | undefined
}

/** POSTs `body` to `url` through `pinned`, within `timeout`; the response's status and `Retry-After`. */
export const post = (options: {
  readonly url: URL
  readonly pinned: EgressPolicy.Pinned
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly timeout: Duration.Duration
}): Effect.Effect<Response, SendFailure> =>
  Effect.async<Response, SendFailure>((resume) => {
    const payload = Buffer.from(options.body, "utf8")
    const send = options.url.protocol === "https:" ? https.request : http.request
    const request = send(
      options.url,
      {
        method: "POST",
        agent: false,
        lookup: options.pinned.lookup,
        headers: {
          ...options.headers,
          "content-type": "application/json",
          "content-length": String(payload.length),
          "user-agent": "Patchbay-Webhooks/0.1"
        }
      },
      (response) => {
        const status = response.statusCode ?? 0
        const retryAfter = response.headers["retry-after"]
        response.destroy()
        resume(Effect.succeed({ status, retryAfter }))
      }
    )
    request.on("error", (error) => resume(Effect.fail({ _tag: "SendFailure", error: codeOf(error) })))
    request.end(payload)
    return Effect.sync(() => request.destroy())
  }).pipe(
    Effect.timeoutFail({
      duration: options.timeout,
      onTimeout: (): SendFailure => ({ _tag: "SendFailure", error: "timeout" })
    })
  )
