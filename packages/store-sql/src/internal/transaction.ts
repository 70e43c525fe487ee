/**
 * A transaction whose COMMIT and ROLLBACK failures are typed. `SqlClient.withTransaction` turns a
 * failed COMMIT into a defect; when the database goes away mid-transaction we want a `SqlError`.
 *
 * Both helpers ask whether a `SqlClient.TransactionConnection` is in context, as @effect/sql's own
 * `withTransaction` and statement execution do: that is the ambient "inside a transaction?" state
 * of the fiber, not a service a host provides, so there is nothing a host could forget to supply.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { DomainError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type { Admission } from "./admission.js"
import { fromSqlError } from "./errors.js"

/**
 * Runs `effect` in a transaction on a connection reserved from `sql`; statements of `sql` inside
 * it use that connection. Inside an enclosing transaction it simply joins it. The connection is
 * taken through `admission` (the pool's wait bound). Failures of the transaction itself (reserving
 * a connection, BEGIN, COMMIT) become `StorageError`s of `operation`; the effect's own failures
 * pass through unchanged.
 */
// `TransactionConnection` is not a dependency a host provides: it is the marker @effect/sql's own
// `withTransaction` puts in the fiber's context while a transaction runs, and probing it with
// `serviceOption` is how @effect/sql itself tells whether a transaction is running. A host
// cannot forget it; nothing but a running transaction provides it.
export const transaction =
  (sql: SqlClient.SqlClient, operation: string, admission: Admission) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | DomainError.StorageError, R> =>
    Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (enclosing) =>
      Option.isSome(enclosing)
        ? effect
        : admission.admit(
            operation,
            Effect.uninterruptibleMask((restore) =>
              Effect.scoped(
                Effect.gen(function* () {
                  // Not interruptible: a connection that arrives after an interruption would never go back
                  // to the pool. The wait is short (a permit is held, so the pool has a connection or room
                  // for one) and bounded by the connect timeout.
                  const conn = yield* sql.reserve.pipe(Effect.mapError((e) => fromSqlError(operation, e)))
                  yield* restore(conn.executeUnprepared("BEGIN", [], undefined)).pipe(
                    Effect.mapError((e) => fromSqlError(operation, e))
                  )
                  // The effect's own failure is what matters; a dead connection is discarded by the pool.
                  const rollback = conn
                    .executeUnprepared("ROLLBACK", [], undefined)
                    .pipe(Effect.timeout("5 seconds"), Effect.ignore)
                  const exit = yield* Effect.exit(
                    restore(Effect.provideService(effect, SqlClient.TransactionConnection, [conn, 0] as const))
                  )
                  if (Exit.isSuccess(exit)) {
                    const committed = yield* Effect.exit(
                      restore(conn.executeUnprepared("COMMIT", [], undefined)).pipe(
                        Effect.mapError((e) => fromSqlError(operation, e))
                      )
                    )
                    if (Exit.isFailure(committed)) {
                      yield* rollback
                      return yield* Effect.failCause(committed.cause)
                    }
                  } else {
                    yield* rollback
                  }
                  return yield* exit
                })
              )
            )
          )
    )

/**
 * Runs one statement so that its failure leaves an enclosing transaction usable: inside one, the
 * statement runs after a savepoint and a failure rolls back to it, so the transaction can go on
 * (to look up the row a unique index refused, say). Outside a transaction it runs as it is.
 */
export const recoverable =
  (sql: SqlClient.SqlClient) =>
  <A, R>(statement: Effect.Effect<A, SqlError, R>): Effect.Effect<A, SqlError, R> =>
    Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (enclosing) =>
      Option.isNone(enclosing)
        ? statement
        : Effect.zipRight(
            sql.unsafe("SAVEPOINT patchbay_statement"),
            statement.pipe(
              Effect.tapError(() => sql.unsafe("ROLLBACK TO SAVEPOINT patchbay_statement")),
              Effect.tap(() => sql.unsafe("RELEASE SAVEPOINT patchbay_statement"))
            )
          )
    )
