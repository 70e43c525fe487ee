/**
 * A webhook receiver on 127.0.0.1 (node:http): it verifies each request's signature with
 * `WebhookSignature.verify` against the secrets it was given, answers with the status `answer`
 * chooses, and records what it got. `until` resolves once a condition on the records holds.
 */
import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, Either, Redacted } from "effect"
import { WebhookSignature } from "../../src/index.js"

/** One request as the receiver saw it. */
export interface Received {
  readonly path: string
  readonly deliveryId: string
  readonly eventType: string
  readonly signature: string | undefined
  readonly body: string
  /** Which of the receiver's secrets verified the signature (index), or the refusal's tag. */
  readonly verified: number | string
  readonly status: number
}

const header = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name.toLowerCase()]
  return Array.isArray(value) ? value.join(",") : value
}

export class Receiver {
  readonly received: Array<Received> = []
  /** The secrets requests are checked against (set once the subscription exists). */
  secrets: Array<Redacted.Redacted<string>> = []
  /** Extra response headers for a delivery id seen `seen` times before (e.g. `Retry-After`). */
  headers: (deliveryId: string, seen: number) => Readonly<Record<string, string>> = () => ({})
  private readonly waiters: Array<() => void> = []
  private constructor(
    readonly url: string,
    private readonly close: () => Promise<void>,
    /** The status for a delivery id seen `seen` times before; replace it to change behaviour. */
    public answer: (deliveryId: string, seen: number) => number
  ) {}

  /** How many 2xx answers each delivery id got. */
  get acknowledged(): Map<string, number> {
    const counts = new Map<string, number>()
    for (const r of this.received) {
      if (r.status >= 200 && r.status < 300) counts.set(r.deliveryId, (counts.get(r.deliveryId) ?? 0) + 1)
    }
    return counts
  }

  /** Resolves once `condition` holds (checked after every request). */
  until(condition: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (condition() ? resolve() : this.waiters.push(check))
      check()
    })
  }

  /** A receiver answering `answer(deliveryId, times seen before)`; closed with the scope. */
  static make = (answer: (deliveryId: string, seen: number) => number = () => 204) =>
    Effect.acquireRelease(
      Effect.async<Receiver>((resume) => {
        let receiver: Receiver | undefined
        const server = createServer((request, response) => {
          const chunks: Array<Buffer> = []
          request.on("data", (chunk: Buffer) => chunks.push(chunk))
          request.on("end", () => {
            const self = receiver!
            const body = Buffer.concat(chunks).toString("utf8")
            const deliveryId = header(request, "Patchbay-Delivery") ?? ""
            const signature = header(request, WebhookSignature.header)
            let verified: number | string = "no secret"
            for (const [index, secret] of self.secrets.entries()) {
              const result = Effect.runSync(
                Effect.either(WebhookSignature.verify({ secret, header: signature, body, now: new Date() }))
              )
              if (Either.isRight(result)) {
                verified = index
                break
              }
              verified = result.left._tag
            }
            const seen = self.received.filter((r) => r.deliveryId === deliveryId).length
            const status = typeof verified === "number" ? self.answer(deliveryId, seen) : 401
            self.received.push({
              path: request.url ?? "",
              deliveryId,
              eventType: header(request, "Patchbay-Event") ?? "",
              signature,
              body,
              verified,
              status
            })
            response.writeHead(status, { ...self.headers(deliveryId, seen), "content-type": "text/plain" })
            // A body the worker must never store: it is not read.
            response.end(`receiver says ${status} ${Redacted.value(self.secrets[0] ?? Redacted.make(""))}`)
            for (const wake of self.waiters.splice(0)) wake()
          })
        })
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as AddressInfo
          receiver = new Receiver(
            `http://127.0.0.1:${port}/hooks`,
            () =>
              new Promise((done) => {
                server.closeAllConnections()
                server.close(() => done())
              }),
            answer
          )
          resume(Effect.succeed(receiver))
        })
      }),
      (receiver) => Effect.promise(() => receiver.close())
    )
}
