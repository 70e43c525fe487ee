/**
 * An operation's time limit at the price of one fiber. `Effect.timeoutFail` races the operation
 * against a sleeping fiber, forks both and merges the winner's fiber refs back: on the store's hot
 * path (one indexed SELECT, a few hundred microseconds) that cost twice the runtime's own work per
 * call (CPU per call, measured in isolation: about 15 µs bare, +65–80 µs with `timeoutFail`,
 * +25–30 µs with this). Here the operation runs in one child fiber and a plain timer interrupts it.
 *
 * Semantics are those of `timeoutFail` for the store's operations: past the limit the operation
 * is interrupted (on `PgClient` that asks the server to cancel the running statement), and once
 * the interruption has finished the caller gets `onTimeout()`. Interrupting the caller interrupts
 * the operation. Fiber refs the operation changes are not merged back into the caller (the store's
 * operations change none that a caller reads).
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"

/** Runs `effect`, failing with `onTimeout()` after `limit` (nothing for an infinite limit). */
export const timeLimit =
  <E1>(limit: Duration.Duration, onTimeout: () => E1) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | E1, R> => {
    if (!Duration.isFinite(limit)) return effect
    const millis = Duration.toMillis(limit)
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.fork(restore(effect)), (fiber) =>
        Effect.onInterrupt(
          restore(
            Effect.async<A, E | E1>((resume) => {
              let settled = false
              const timer = setTimeout(() => {
                if (settled) return
                settled = true
                resume(Effect.zipRight(Fiber.interrupt(fiber), Effect.fail(onTimeout())))
              }, millis)
              fiber.addObserver((exit) => {
                if (settled) return
                settled = true
                clearTimeout(timer)
                resume(exit)
              })
              return Effect.sync(() => {
                settled = true
                clearTimeout(timer)
              })
            })
          ),
          () => Fiber.interrupt(fiber)
        )
      )
    )
  }
