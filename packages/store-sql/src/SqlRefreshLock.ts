/**
 * `RefreshLock` as a PostgreSQL advisory lock: `pg_advisory_xact_lock` on a 64-bit hash of the key,
 * taken in a transaction of its own on a connection of its own. Every process using the same
 * database excludes every other; the lock is released when the transaction ends, also when the
 * connection dies. The guarded effect runs inside that transaction, so repository writes it makes
 * commit together with the release.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { RefreshLock } from "@patchbay/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { guard } from "./internal/errors.js"
import { lockKey } from "./internal/lockKey.js"
import { boundOf } from "./internal/options.js"
import { transaction } from "./internal/transaction.js"

/**
 * @since 0.1.0
 */
export interface RefreshLockOptions {
  /** Longest `withLock` waits for a lock another holder has (default 60 seconds); then `StorageError`. */
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
    const wait = boundOf(client, options?.lockTimeout ?? "60 seconds")
    return RefreshLock.RefreshLock.of({
      withLock: (key, effect) =>
        transaction(
          sql,
          "RefreshLock.withLock"
        )(
          Effect.zipRight(
            sql`SELECT pg_advisory_xact_lock(${lockKey(key)}::bigint)`.pipe(guard("RefreshLock.withLock", wait)),
            effect
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
