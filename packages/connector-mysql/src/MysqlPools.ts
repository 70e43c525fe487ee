/**
 * The connections of the MySQL / MariaDB driver: one `mysql2` pool per instance and credential
 * scope, made for one credential version (a new version or configuration replaces it; a replaced
 * pool ends once its checked-out connections are back), with the host checked by the
 * `EgressPolicy` before a pool is made and again every `recheckMillis`; the pool connects to the
 * approved address, never to the name. An instance behind an SSH bastion (`ssh_tunnel`) gets the
 * bastion checked instead, and its pool connects through a tunnel of its own, replaced with it.
 * A call runs on a pooled connection and gives it back; a connection whose statement was killed
 * (interrupted, or past its timeout) is destroyed, never handed to the next caller.
 *
 * @since 0.1.0
 */
import { type ConnectorDriver, type DriverError, EgressPolicy } from "@patchbay/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as PoolCache from "./internal/poolCache.js"
import type { Configuration, Credentials } from "./MysqlDescriptor.js"

/**
 * Limits of the connection pools.
 *
 * @since 0.1.0
 */
export interface PoolOptions {
  /** Connections per instance. Default 10. */
  readonly maxConnections?: number | undefined
  /** How long an unused connection stays open. Default 30 s. */
  readonly idleTimeoutMillis?: number | undefined
  /** How long connecting (TCP, TLS, authentication) may take. Default 10 s. */
  readonly connectTimeoutMillis?: number | undefined
  /** How often a pool's host is resolved and checked again. Default 60 s. */
  readonly recheckMillis?: number | undefined
  /** How long an SSH tunnel's connection stays open with no database connection through it. Default 30 s. */
  readonly tunnelIdleMillis?: number | undefined
}

/**
 * The driver context of a MySQL call.
 *
 * @since 0.1.0
 */
export type DriverContext = ConnectorDriver.DriverContext<Configuration, Credentials>

/**
 * How a statement runs and is reported.
 *
 * @since 0.1.0
 */
export interface StatementOptions {
  /** The client waits this long, then kills the statement on the server and fails with `TimedOut`. */
  readonly timeoutMillis: number
  /** Prepended to an error's detail (`statement 2 (…): `). */
  readonly prefix?: string | undefined
}

/**
 * A result column: its name and type.
 *
 * @since 0.1.0
 */
export interface Field {
  readonly name: string
  readonly type: string
}

/**
 * The outcome of one statement.
 *
 * @since 0.1.0
 */
export interface ReadResult {
  readonly fields: ReadonlyArray<Field>
  readonly rows: Array<Record<string, unknown>>
  /** More rows than asked for existed (they were read and dropped). */
  readonly truncated: boolean
  /** Rows affected, for a statement without a result set. */
  readonly affectedRows: number | null
}

/**
 * Rows a cursor read: the result's columns and at most the cursor's batch size of rows.
 *
 * @since 0.1.0
 */
export interface RowChunk {
  readonly fields: ReadonlyArray<Field>
  readonly rows: Array<Record<string, unknown>>
}

/**
 * A statement whose rows are read as the reader asks: the server is held back (the connection
 * paused) while a batch waits to be taken. Closing its scope before the last row kills the
 * statement on the server (`KILL QUERY` from another connection) and the connection is destroyed.
 *
 * @since 0.1.0
 */
export interface Cursor {
  /** The next rows, `None` after the last; fails with `TimedOut` when none come within the statement's timeout. */
  readonly next: Effect.Effect<Option.Option<RowChunk>, DriverError.DriverError>
  /** Whether the statement has ended (every row read, or failed). */
  readonly finished: () => boolean
}

/**
 * A server connection for the length of one call.
 *
 * @since 0.1.0
 */
export interface Connection {
  /** `host:port/database`, named in errors. */
  readonly target: string
  /** Runs one statement with `?` placeholders bound to `values`, keeping every row. */
  readonly query: (
    sql: string,
    values: ReadonlyArray<unknown>,
    options: StatementOptions
  ) => Effect.Effect<ReadResult, DriverError.DriverError>
  /** Runs one statement, keeping at most `maxRows` rows. */
  readonly read: (
    sql: string,
    values: ReadonlyArray<unknown>,
    maxRows: number,
    options: StatementOptions
  ) => Effect.Effect<ReadResult, DriverError.DriverError>
  /** Starts one statement whose rows are read `batchSize` at a time, for the length of the scope. */
  readonly cursor: (
    sql: string,
    values: ReadonlyArray<unknown>,
    batchSize: number,
    options: StatementOptions
  ) => Effect.Effect<Cursor, never, Scope.Scope>
}

/**
 * @since 0.1.0
 */
export interface MysqlPoolsShape {
  /** Runs `use` on a pooled connection of the instance, given back (or destroyed) when it ends. */
  readonly withConnection: <A, E>(
    context: DriverContext,
    use: (connection: Connection) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | ConnectorDriver.DriverFailure>
  /** A pooled connection of the instance for the length of the scope, given back (or destroyed) when it closes. */
  readonly connection: (context: DriverContext) => Effect.Effect<Connection, ConnectorDriver.DriverFailure, Scope.Scope>
  /** Runs `use` on a fresh, unpooled connection (a connection test authenticates anew), closed when it ends. */
  readonly withNewConnection: <A, E>(
    context: DriverContext,
    use: (connection: Connection) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | ConnectorDriver.DriverFailure>
  /** The number of open pools. */
  readonly size: Effect.Effect<number>
  /** Closes every pool. */
  readonly closeAll: Effect.Effect<void>
}

/**
 * The pools the MySQL driver runs on.
 *
 * @since 0.1.0
 */
export class MysqlPools extends Context.Tag("@patchbay/connector-mysql/MysqlPools")<MysqlPools, MysqlPoolsShape>() {}

/**
 * Pools on the given egress policy, closed by `closeAll`. Prefer `make` or `layer`.
 *
 * @since 0.1.0
 */
export const unsafeMake = (egress: EgressPolicy.EgressPolicyShape, options: PoolOptions = {}): MysqlPoolsShape =>
  PoolCache.make(egress, options)

/**
 * Pools on the `EgressPolicy` of the context, closed with the scope.
 *
 * @since 0.1.0
 */
export const make = (
  options: PoolOptions = {}
): Effect.Effect<MysqlPoolsShape, never, EgressPolicy.EgressPolicy | Scope.Scope> =>
  Effect.acquireRelease(
    Effect.map(EgressPolicy.EgressPolicy, (egress) => unsafeMake(egress, options)),
    (pools) => pools.closeAll
  )

/**
 * Pools on the `EgressPolicy` of the context, all closed when the layer is released.
 *
 * @since 0.1.0
 */
export const layer = (options: PoolOptions = {}): Layer.Layer<MysqlPools, never, EgressPolicy.EgressPolicy> =>
  Layer.scoped(MysqlPools, make(options))
