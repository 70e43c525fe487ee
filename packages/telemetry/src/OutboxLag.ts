/**
 * The outbox lag: the age of the oldest lifecycle event still pending in the `EventOutbox`, set on
 * the `PatchbayMetrics.outboxLag` gauge by a poller the host runs. A lag that keeps growing means
 * nobody delivers the outbox (no relay or webhook worker runs, or it fails).
 *
 * @since 0.1.0
 */
import { type DomainError, LifecycleEvents, PatchbayMetrics } from "@patchbay/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * Reads the oldest pending event, sets the gauge to its age in seconds (0 when none is pending)
 * and returns it.
 *
 * @since 0.1.0
 */
export const measure: Effect.Effect<number, DomainError.StorageError, LifecycleEvents.EventOutbox> = Effect.gen(
  function* () {
    const outbox = yield* LifecycleEvents.EventOutbox
    const [oldest] = yield* outbox.pending({ limit: 1 })
    const now = yield* Clock.currentTimeMillis
    const seconds = oldest === undefined ? 0 : Math.max(0, now - oldest.at.getTime()) / 1000
    yield* PatchbayMetrics.recordOutboxLag(seconds)
    return seconds
  }
).pipe(Effect.withSpan("OutboxLag.measure"))

/**
 * Options of `layer`.
 *
 * @since 0.1.0
 */
export interface Options {
  /** How often the outbox is read (default 15 seconds). */
  readonly interval?: Duration.DurationInput | undefined
}

const measureLogged = Effect.catchAll(measure, (error) =>
  Effect.logWarning("the outbox lag could not be read", error.message)
)

const every = (options: Options) =>
  Effect.forever(Effect.delay(measureLogged, Duration.decode(options.interval ?? "15 seconds")))

/**
 * Measures the lag now and then every `interval`, for as long as the returned effect runs; a
 * failed read is logged and the next one tried.
 *
 * @since 0.1.0
 */
export const poll = (options: Options = {}): Effect.Effect<never, never, LifecycleEvents.EventOutbox> =>
  Effect.zipRight(measureLogged, every(options))

/**
 * Measures the lag once while the layer is built (the gauge is set when the host starts), then
 * every `interval` in the background for as long as the layer lives.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<never, never, LifecycleEvents.EventOutbox> =>
  Layer.scopedDiscard(Effect.zipRight(measureLogged, Effect.forkScoped(every(options))))
