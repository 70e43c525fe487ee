/**
 * Waiting for a pooled connection, bounded on its own. `layerPg`'s pool has one permit per
 * connection; an operation (or a transaction) takes one before it touches the pool and gives it
 * back when it ends, so the pool itself never queues and its `connectionTimeoutMillis` bounds only
 * the opening of a new connection. An operation that finds no permit free within the wait bound
 * fails with a retryable `StorageError` saying the pool is exhausted, naming the bound, instead of
 * looking like a database that cannot be reached.
 *
 * Operations nested in one that holds a permit (the statements of a transaction) run on that
 * permit; `released` opts out, for work that must take a connection of its own.
 */
import { DomainError } from "@patchbay/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Option from "effect/Option"

/** Runs operations within the pool's capacity. */
export interface Admission {
  /** Runs `effect` holding a permit (taken here unless the fiber already holds one). */
  readonly admit: <A, E, R>(
    operation: string,
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | DomainError.StorageError, R>
}

/** Whether the current fiber runs inside an admitted operation. */
const admitted: FiberRef.FiberRef<boolean> = globalValue(Symbol.for("@patchbay/store-sql/admitted"), () =>
  FiberRef.unsafeMake(false)
)

/**
 * Runs `effect` as if no permit were held: its operations take their own (for work that must not
 * run on the enclosing operation's connection, such as writes under `RefreshLock.withLock`).
 */
export const released = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.locally(effect, admitted, false)

/** No bound of its own: for clients whose pool the host (or PGlite) manages. */
export const unbounded: Admission = { admit: (_operation, effect) => effect }

/** The admission of a pool of `connections`, where waiting for a free one takes at most `wait`. */
export const bounded = (connections: number, wait: Duration.DurationInput): Admission => {
  const permits = Effect.unsafeMakeSemaphore(connections)
  const bound = Duration.decode(wait)
  let waiting = 0

  const exhausted = (operation: string) =>
    new DomainError.StorageError({
      operation,
      detail: `pool exhausted: none of its ${connections} connections came free within ${Duration.format(
        bound
      )} (poolTimeout)`
    })

  const inside = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.locally(effect, admitted, true)

  /** Queues for a permit, at most `bound`. */
  const queued = <A, E, R>(operation: string, effect: Effect.Effect<A, E, R>) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function* () {
        waiting++
        const taken = yield* Effect.exit(
          restore(Effect.timeoutFail(permits.take(1), { duration: bound, onTimeout: () => exhausted(operation) }))
        )
        waiting--
        if (Exit.isFailure(taken)) return yield* Effect.failCause(taken.cause)
        return yield* Effect.ensuring(restore(inside(effect)), permits.release(1))
      })
    )

  return {
    admit: (operation, effect) =>
      Effect.flatMap(FiberRef.get(admitted), (held) => {
        if (held) return effect
        // Taken at once only while nobody queues, so that waiters are served first.
        if (waiting > 0) return queued(operation, effect)
        return Effect.flatMap(
          permits.withPermitsIfAvailable(1)(inside(effect)),
          Option.match({ onSome: Effect.succeed, onNone: () => queued(operation, effect) })
        )
      })
  }
}

const registry = new WeakMap<object, Admission>()

/** Records that operations on `client` are admitted by `admission` (`layerPg` does, for its pool). */
export const register = <C extends object>(client: C, admission: Admission): C => {
  registry.set(client, admission)
  return client
}

/** The admission of operations on `client`: its pool's, or `unbounded` for a client of the host. */
export const of = (client: object): Admission => registry.get(client) ?? unbounded
