/**
 * Every Patchbay repository port and `RefreshLock` on SQL, as one layer per way of getting a
 * database: `layerPg` (PostgreSQL through @effect/sql-pg, from `PATCHBAY_DATABASE_URL`) and
 * `layerFromSqlClient` (any PostgreSQL `SqlClient` the host already has; `@patchbay/store-pglite`
 * builds the embedded default on it). Each layer migrates the database at start (or, with
 * `migrate: false`, checks that it is migrated) and refuses one migrated by a newer Patchbay.
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import {
  type AuditLog,
  type CredentialRepository,
  type InstanceRepository,
  type PendingAuthorizationRepository,
  type RefreshLock
} from "@patchbay/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { RepositoryOptions } from "./internal/options.js"
import * as PoolClient from "./internal/pgClient.js"
import { makePool } from "./internal/pool.js"
import * as Migrations from "./Migrations.js"
import * as SqlAuditLog from "./SqlAuditLog.js"
import * as SqlCredentialRepository from "./SqlCredentialRepository.js"
import * as SqlInstanceRepository from "./SqlInstanceRepository.js"
import * as SqlPendingAuthorizationRepository from "./SqlPendingAuthorizationRepository.js"
import * as SqlRefreshLock from "./SqlRefreshLock.js"

/**
 * The services every SQL store layer provides.
 *
 * @since 0.1.0
 */
export type Services =
  | InstanceRepository.InstanceRepository
  | CredentialRepository.CredentialRepository
  | AuditLog.AuditLog
  | PendingAuthorizationRepository.PendingAuthorizationRepository
  | RefreshLock.RefreshLock

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
  /** Pool size (default 10). */
  readonly maxConnections?: number | undefined
  /** Longest a new connection may take (default 5 seconds). */
  readonly connectTimeout?: Duration.DurationInput | undefined
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
        SqlCredentialRepository.layer(options),
        SqlAuditLog.layer(options),
        SqlPendingAuthorizationRepository.layer(options),
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

/** The OpenTelemetry attributes of the statements' spans, as `PgClient` sets them. */
const spanAttributesOf = (url: string): ReadonlyArray<readonly [string, unknown]> => {
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  const database = parsed === undefined ? "" : decodeURIComponent(parsed.pathname.slice(1))
  const username = parsed === undefined ? "" : decodeURIComponent(parsed.username)
  return [
    ["db.system.name", "postgresql"],
    ["db.namespace", database || username || "postgres"],
    ["server.address", parsed?.hostname || "localhost"],
    ["server.port", parsed?.port ? Number(parsed.port) : 5432]
  ]
}

/**
 * The store on a real PostgreSQL through @effect/sql-pg, connecting to `options.url` or
 * `PATCHBAY_DATABASE_URL`. Many processes may share one database.
 *
 * @since 0.1.0
 */
export const layerPg = (
  options: PgOptions = {}
): Layer.Layer<Services, Migrations.StartupError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const url = options.url ?? (yield* Config.redacted("PATCHBAY_DATABASE_URL"))
      const pool = Effect.acquireRelease(
        Effect.sync(() =>
          makePool({
            connectionString: Redacted.value(url),
            max: options.maxConnections ?? 10,
            connectionTimeoutMillis: Duration.toMillis(options.connectTimeout ?? "5 seconds"),
            applicationName: options.applicationName ?? "patchbay"
          })
        ),
        (pool) => Effect.promise(() => pool.end()).pipe(Effect.timeout("5 seconds"), Effect.ignore)
      )
      const client = Layer.scoped(
        SqlClient.SqlClient,
        Effect.flatMap(pool, (pool) => PoolClient.make(pool, spanAttributesOf(Redacted.value(url))))
      ).pipe(Layer.provide(Reactivity.layer))
      return Layer.provide(layerFromSqlClient(options), client)
    })
  )
