import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import type * as Scope from "effect/Scope"

/**
 * One run per key at a time, shared by every caller that arrives while it runs. The run is forked
 * into `scope`, so a caller that is interrupted does not cancel a refresh others wait for (or one
 * whose rotated refresh token must still be stored). The key is released when the run ends.
 */
export const make = <A, E>(scope: Scope.Scope) => {
  const running = new Map<string, Deferred.Deferred<A, E>>()
  const run = <R>(key: string, work: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      const current = running.get(key)
      if (current !== undefined) return Deferred.await(current)
      const deferred = Deferred.unsafeMake<A, E>(FiberId.none)
      running.set(key, deferred)
      return work.pipe(
        Effect.onExit((exit) =>
          Effect.suspend(() => {
            running.delete(key)
            return Deferred.done(deferred, exit)
          })
        ),
        Effect.forkIn(scope),
        Effect.zipRight(Deferred.await(deferred))
      )
    })
  return { run, size: () => running.size }
}
