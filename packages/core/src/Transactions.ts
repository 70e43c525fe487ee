/**
 * The port through which a service runs several repository writes and their audit events as one
 * unit: all of them happen, or none. The SQL stores run the unit as one database transaction
 * (the statements of every repository inside join it); `layerMemory` journals each write of the
 * memory repositories and undoes them all when the unit fails.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import type { StorageError } from "./DomainError.js"
import * as Journal from "./internal/journal.js"

/**
 * @since 0.1.0
 */
export interface TransactionsShape {
  /**
   * Runs `effect` as one unit: when it fails (or is interrupted) none of its writes remain. Inside
   * an enclosing unit it joins that unit. Starting or committing the unit may fail with a
   * `StorageError`; after a failed commit nothing was written.
   */
  readonly run: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StorageError, R>
}

/**
 * @since 0.1.0
 */
export class Transactions extends Context.Tag("@patchbay/core/Transactions")<Transactions, TransactionsShape>() {}

/**
 * Runs `effect` as one unit of the `Transactions` in context.
 *
 * @since 0.1.0
 */
export const run = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | StorageError, R | Transactions> =>
  Effect.flatMap(Transactions, (transactions) => transactions.run(effect))

/**
 * Units of work over the memory repositories of core (`InstanceRepository`, `CredentialRepository`,
 * `AuditLog`, `PendingAuthorizationRepository` `layerMemory`). Units run one at a time; each write
 * inside records its undo step, and a unit that fails replays them newest first, leaving memory as
 * it was. Reads outside a unit may see the writes of a unit still running (read uncommitted), and
 * a write made outside any unit is not serialised with the units.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<Transactions> = Layer.sync(Transactions, () => {
  const lock = Effect.unsafeMakeSemaphore(1)
  return Transactions.of({
    run: <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | StorageError, R> =>
      FiberRef.getWith(Journal.current, (enclosing) =>
        enclosing !== undefined
          ? effect
          : lock.withPermits(1)(
              Effect.uninterruptibleMask((restore) => {
                const journal: Journal.Journal = []
                return Effect.flatMap(
                  Effect.exit(restore(Effect.locally(effect, Journal.current, journal))),
                  (exit) => {
                    if (Exit.isFailure(exit)) {
                      for (let i = journal.length - 1; i >= 0; i--) journal[i]!()
                    }
                    return exit
                  }
                )
              })
            )
      )
  })
})
