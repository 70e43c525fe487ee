/**
 * Receiving Patchbay webhooks in an @effect/platform HTTP server: the request's raw body is
 * checked with `WebhookSignature.verify` and decoded as a lifecycle event, with the delivery id
 * to deduplicate by.
 *
 * @since 0.1.0
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { LifecycleEvents } from "@patchbay/core"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as WebhookSignature from "./WebhookSignature.js"

/**
 * The body is not a lifecycle event, or the delivery id is missing, although the signature
 * verified: a sender newer than this receiver, or not Patchbay.
 *
 * @since 0.1.0
 */
export class UnexpectedDelivery extends Schema.TaggedError<UnexpectedDelivery>("@patchbay/webhooks/UnexpectedDelivery")(
  "UnexpectedDelivery",
  { detail: Schema.String }
) {}

/**
 * A verified delivery.
 *
 * @since 0.1.0
 */
export interface Delivery {
  /** `Patchbay-Delivery`: the same on every attempt; deduplicate by it. */
  readonly deliveryId: string
  readonly event: LifecycleEvents.LifecycleEvent
}

const decodeEvent = Schema.decodeUnknown(Schema.parseJson(LifecycleEvents.LifecycleEvent))

/**
 * Verifies the current request (signature and timestamp, see `WebhookSignature.verify`) and
 * decodes its event. Reading the body may fail with the platform's `RequestError`.
 *
 * @since 0.1.0
 */
export const verify = (options: {
  readonly secret: Redacted.Redacted<string>
  readonly toleranceSeconds?: number | undefined
}) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const body = new Uint8Array(yield* request.arrayBuffer)
    yield* WebhookSignature.verify({
      secret: options.secret,
      header: request.headers["patchbay-signature"],
      body,
      toleranceSeconds: options.toleranceSeconds
    })
    const deliveryId = request.headers["patchbay-delivery"]
    if (deliveryId === undefined || deliveryId === "") {
      return yield* new UnexpectedDelivery({ detail: "the Patchbay-Delivery header is missing" })
    }
    const event = yield* decodeEvent(Buffer.from(body).toString("utf8")).pipe(
      Effect.mapError(() => new UnexpectedDelivery({ detail: "the body is not a lifecycle event this receiver knows" }))
    )
    return { deliveryId, event } satisfies Delivery
  }).pipe(Effect.withSpan("WebhookReceiver.verify"))
