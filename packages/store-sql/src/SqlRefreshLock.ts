/**
 * `RefreshLock` as a PostgreSQL advisory lock: `pg_advisory_xact_lock` on a 64-bit hash of the key,
 * taken in a transaction of its own on a connection of its own. Every process using the same
 * database excludes every other; the lock is released when the transaction ends, also when the
 * connection dies. The guarded effect runs outside that transaction, on connections of its own:
 * the lock's transaction holds nothing but the lock, and every write the effect makes commits when
 * it is made (the refresh protocol records an attempt durably before it sends the token request).
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { DomainError, RefreshLock } from "@patchbay/core"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { released } from "./internal/admission.js"
import { guard, sqlState } from "./internal/errors.js"
import { lockKey } from "./internal/lockKey.js"
import { operationTimeout, type RepositoryOptions } from "./internal/options.js"
import { transaction } from "./internal/transaction.js"

/**
 * @since 0.1.0
 */
export interface RefreshLockOptions extends RepositoryOptions {
  /**
   * Longest `withLock` waits for a lock another holder has (default 60 seconds); then `StorageError`.
   * The server enforces it (`lock_timeout` of the lock's transaction).
   */
  readonly lockTimeout?: Duration.DurationInput | undefined
}

/**
 * Builds the lock on the `SqlClient` in context.
 *
 * @since 0.1.0
 */
export const make = (
  options?: RefreshLockOptions
): Effect.Effect<RefreshLock.RefreshLockShape, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const client = yield* SqlClient.SqlClient
    const sql = client.withoutTransforms()
    const wait = Duration.decode(options?.lockTimeout ?? "60 seconds")
    const bound = operationTimeout(options, client)
    // `lock_timeout` in milliseconds; 0 waits for ever.
    const waitSetting = Duration.isFinite(wait) ? String(Math.max(1, Math.ceil(Duration.toMillis(wait)))) : "0"
    // The operation's own bound comes on top of the server's, for a server that does not answer.
    const backstop = { ...bound, duration: Duration.sum(wait, bound.duration) }
    const notFree = (error: SqlError): SqlError | DomainError.StorageError =>
      sqlState(error.cause) === "55P03"
        ? new DomainError.StorageError({
            operation: "RefreshLock.withLock",
            detail: `the lock was not free within ${Duration.format(wait)} (lockTimeout)`
          })
        : error
    return RefreshLock.RefreshLock.of({
      withLock: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) =>
        transaction(
          sql,
          "RefreshLock.withLock",
          bound.admission
        )(
          Effect.zipRight(
            // The volatile subquery runs first, so the lock is taken under the transaction's bound.
            sql`SELECT pg_advisory_xact_lock(${lockKey(key)}::bigint)
              FROM (SELECT set_config('lock_timeout', ${waitSetting}, true)) AS bounded`.pipe(
              Effect.mapError(notFree),
              guard("RefreshLock.withLock", backstop)
            ),
            released(
              Effect.mapInputContext(
                effect,
                (context: Context.Context<R>) =>
                  // `R` may include the connection; without it, the effect's statements use the pool.
                  Context.omit(SqlClient.TransactionConnection)(context) as Context.Context<R>
              )
            )
          )
        ).pipe(Effect.withSpan("RefreshLock.withLock"))
    })
  })

/**
 * The lock as a layer over a `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer = (options?: RefreshLockOptions): Layer.Layer<RefreshLock.RefreshLock, never, SqlClient.SqlClient> =>
  Layer.effect(RefreshLock.RefreshLock, make(options))
