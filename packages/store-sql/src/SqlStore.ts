/**
 * Every Patchbay repository port, `Transactions` and `RefreshLock` on SQL, as one layer per way of getting a
 * database: `layerPg` (PostgreSQL through @effect/sql-pg's `PgClient`, from `PATCHBAY_DATABASE_URL`) and
 * `layerFromSqlClient` (any PostgreSQL `SqlClient` the host already has; `@patchbay/store-pglite`
 * builds the embedded default on it). Each layer migrates the database at start (or, with
 * `migrate: false`, checks that it is migrated) and refuses one migrated by a newer Patchbay.
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import {
  type AuditLog,
  type CredentialRepository,
  type HealthHistory,
  type Idempotency,
  type InstanceRepository,
  type LifecycleEvents,
  type MonitorClaims,
  type PendingAuthorizationRepository,
  type ReconnectWaits,
  type RefreshLock,
  type Transactions,
  type WebhookStore
} from "@patchbay/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import pg from "pg"
import * as Admission from "./internal/admission.js"
import { fromSqlError } from "./internal/errors.js"
import type { RepositoryOptions } from "./internal/options.js"
import * as Migrations from "./Migrations.js"
import * as SqlAuditLog from "./SqlAuditLog.js"
import * as SqlCredentialRepository from "./SqlCredentialRepository.js"
import * as SqlEventOutbox from "./SqlEventOutbox.js"
import * as SqlHealthHistory from "./SqlHealthHistory.js"
import * as SqlIdempotencyKeys from "./SqlIdempotencyKeys.js"
import * as SqlInstanceRepository from "./SqlInstanceRepository.js"
import * as SqlMonitorClaims from "./SqlMonitorClaims.js"
import * as SqlPendingAuthorizationRepository from "./SqlPendingAuthorizationRepository.js"
import * as SqlReconnectWaits from "./SqlReconnectWaits.js"
import * as SqlRefreshLock from "./SqlRefreshLock.js"
import * as SqlTransactions from "./SqlTransactions.js"
import * as SqlWebhookStore from "./SqlWebhookStore.js"

/**
 * The services every SQL store layer provides.
 *
 * @since 0.1.0
 */
export type Services =
  | InstanceRepository.InstanceRepository
  | Idempotency.IdempotencyKeys
  | CredentialRepository.CredentialRepository
  | AuditLog.AuditLog
  | LifecycleEvents.EventOutbox
  | PendingAuthorizationRepository.PendingAuthorizationRepository
  | RefreshLock.RefreshLock
  | Transactions.Transactions
  | WebhookStore.WebhookStore
  | HealthHistory.HealthHistory
  | MonitorClaims.MonitorClaims
  | ReconnectWaits.ReconnectWaits

/**
 * Options of every store layer.
 *
 * @since 0.1.0
 */
export interface Options extends RepositoryOptions, SqlRefreshLock.RefreshLockOptions {
  /**
   * Apply pending migrations at start (default `true`). With `false` the layer only checks, and
   * fails with `SchemaVersionMismatch` unless the database is at this version's schema.
   */
  readonly migrate?: boolean | undefined
}

/**
 * Options of `layerPg`.
 *
 * @since 0.1.0
 */
export interface PgOptions extends Options {
  /** The connection URL; read from `PATCHBAY_DATABASE_URL` when absent. */
  readonly url?: Redacted.Redacted | undefined
  /** Pool size (default 10): connections, and so operations, at the same time. */
  readonly maxConnections?: number | undefined
  /** Longest opening a new connection may take (default 5 seconds); then "cannot connect". */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /**
   * Longest an operation waits for a connection of a busy pool (default 5 seconds); then a
   * retryable `StorageError` saying the pool is exhausted.
   */
  readonly poolTimeout?: Duration.DurationInput | undefined
  /** `application_name` shown in `pg_stat_activity` (default `patchbay`). */
  readonly applicationName?: string | undefined
}

const stores = (
  options: Options,
  lock: Layer.Layer<RefreshLock.RefreshLock, never, SqlClient.SqlClient>
): Layer.Layer<Services, Migrations.StartupError, SqlClient.SqlClient> =>
  Layer.unwrapEffect(
    Effect.as(
      Migrations.ensure({ migrate: options.migrate ?? true }),
      Layer.mergeAll(
        SqlInstanceRepository.layer(options),
        SqlIdempotencyKeys.layer(options),
        SqlCredentialRepository.layer(options),
        SqlAuditLog.layer(options),
        SqlEventOutbox.layer(options),
        SqlPendingAuthorizationRepository.layer(options),
        SqlWebhookStore.layer(options),
        SqlTransactions.layer,
        SqlHealthHistory.layer(options),
        SqlMonitorClaims.layer(options),
        SqlReconnectWaits.layer(options),
        lock
      )
    )
  )

/**
 * The store on the PostgreSQL `SqlClient` in context (a `PgClient` of the host, or any client
 * with the PostgreSQL dialect). `RefreshLock` is the advisory lock unless `lock` says otherwise (a
 * single-session database such as PGlite passes the in-process lock).
 *
 * @since 0.1.0
 */
export const layerFromSqlClient = (
  options: Options = {},
  lock: Layer.Layer<RefreshLock.RefreshLock, never, SqlClient.SqlClient> = SqlRefreshLock.layer(options)
): Layer.Layer<Services, Migrations.StartupError, SqlClient.SqlClient> => stores(options, lock)

/** A `StorageError` of the start-up for a failure of the client itself. */
const clientFailed = (error: SqlError) => fromSqlError("SqlStore.layerPg", error)

/**
 * The store on a real PostgreSQL through @effect/sql-pg's `PgClient`, connecting to `options.url`
 * or `PATCHBAY_DATABASE_URL`. Many processes may share one database. Statements are sent unnamed
 * (no server-side prepared statements), so the store also works behind PgBouncer in transaction
 * mode.
 *
 * @since 0.1.0
 */
export const layerPg = (
  options: PgOptions = {}
): Layer.Layer<Services, Migrations.StartupError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const url = options.url ?? (yield* Config.redacted("PATCHBAY_DATABASE_URL"))
      const connections = Math.max(1, Math.floor(options.maxConnections ?? 10))
      const admission = Admission.bounded(connections, options.poolTimeout ?? "5 seconds")
      const pool = Effect.acquireRelease(
        Effect.sync(() => {
          const pool = new pg.Pool({
            connectionString: Redacted.value(url),
            max: connections,
            // The pool never queues (`Admission` lets no more operations in than it has connections),
            // so this bounds only the opening of a new connection.
            connectionTimeoutMillis: Duration.toMillis(options.connectTimeout ?? "5 seconds"),
            application_name: options.applicationName ?? "patchbay",
            keepAlive: true
          })
          // An idle connection that the server closes must not crash the process; the pool drops it.
          pool.on("error", () => {})
          return pool
        }),
        (pool) => Effect.promise(() => pool.end()).pipe(Effect.timeout("5 seconds"), Effect.ignore)
      )
      const client = Layer.scopedContext(
        Effect.map(PgClient.fromPool({ acquire: pool }), (client) =>
          Context.make(SqlClient.SqlClient, Admission.register(client, admission))
        )
      ).pipe(Layer.provide(Reactivity.layer), Layer.mapError(clientFailed))
      return Layer.provide(layerFromSqlClient(options), client)
    })
  )
