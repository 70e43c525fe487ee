/**
 * The connections of the PostgreSQL driver: one `pg` pool per instance and credential scope, made
 * for one credential version (a new version or configuration replaces it), with the host checked by
 * the `EgressPolicy` before a pool is made and again every `recheckMillis`. A call runs on a pooled connection and gives it back; a connection whose
 * statement is still running when the call ends (interrupted, or past its backstop) has that
 * statement cancelled from another connection of the pool (`pg_cancel_backend`) and is destroyed,
 * never handed to the next caller.
 *
 * @since 0.1.0
 */
import { type ConnectorDriver, type DriverError, EgressPolicy } from "@patchbay/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as PoolCache from "./internal/poolCache.js"
import * as PooledCall from "./internal/pooledCall.js"
import type { Configuration, Credentials } from "./PostgresDescriptor.js"

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
  /** How long connecting (TCP, TLS, authentication) or waiting for a free connection may take. Default 10 s. */
  readonly connectTimeoutMillis?: number | undefined
  /** How long an unused pool is kept. Default 5 min. */
  readonly poolIdleMillis?: number | undefined
  /** How often a pool's host is resolved and checked again. Default 60 s. */
  readonly recheckMillis?: number | undefined
  /** How long an SSH tunnel's connection stays open with no database connection through it. Default 30 s. */
  readonly tunnelIdleMillis?: number | undefined
}

/**
 * The driver context of a PostgreSQL call.
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
  /** The statement timeout in force, named by `TimedOut`; the client stops waiting 5 s after it. */
  readonly timeoutMillis: number
  /** Bound values, scrubbed from server messages. */
  readonly params?: ReadonlyArray<unknown> | undefined
  /** Prepended to an error's detail (`statement 2 (…): `). */
  readonly prefix?: string | undefined
}

/**
 * A result column as the server describes it.
 *
 * @since 0.1.0
 */
export interface Field {
  readonly name: string
  readonly dataTypeID: number
}

/**
 * The outcome of one statement.
 *
 * @since 0.1.0
 */
export interface StatementResult {
  readonly fields: ReadonlyArray<Field>
  readonly rows: Array<Record<string, unknown>>
  /** The command tag's verb (`SELECT`, `INSERT`, `SET`…); null when the rows were cut by a cursor. */
  readonly command: string | null
  /** Rows affected or returned, from the command tag. */
  readonly rowCount: number | null
}

/**
 * The outcome of a statement read through a cursor.
 *
 * @since 0.1.0
 */
export interface CursorResult extends StatementResult {
  /** More rows than asked for existed; the server sent one more at most. */
  readonly truncated: boolean
}

/**
 * What the driver set on a server session and still relies on.
 *
 * @since 0.1.0
 */
export interface Session {
  /** The session's `statement_timeout` as last set, or undefined when unknown. */
  statementTimeout: number | undefined
}

/**
 * A server connection for the length of one call. Each statement is one Effect: its failure mapped
 * to a driver error, and bounded on the client side 5 s after its timeout.
 *
 * @since 0.1.0
 */
export interface Connection {
  /** `host:port/database`, named in errors. */
  readonly target: string
  /** Type names of non-built-in OIDs seen on this instance. */
  readonly typeCache: Map<number, string>
  /** What the driver set on this server session. */
  readonly session: Session
  /** Runs one statement (bound values, or several statements as one simple query without values). */
  readonly query: (
    text: string,
    values: ReadonlyArray<unknown> | undefined,
    options: StatementOptions
  ) => Effect.Effect<StatementResult, DriverError.DriverError>
  /** Runs one statement through a `pg-cursor`: the server sends at most `maxRows + 1` rows. */
  readonly read: (
    text: string,
    values: ReadonlyArray<unknown>,
    maxRows: number,
    options: StatementOptions
  ) => Effect.Effect<CursorResult, DriverError.DriverError>
  /** The transaction status of the last ReadyForQuery: idle, in a transaction, in a failed one. */
  readonly transactionStatus: () => "I" | "T" | "E" | null
}

/**
 * @since 0.1.0
 */
export interface PostgresPoolsShape {
  /** Runs `use` on a pooled connection of the instance, given back (or destroyed) when it ends. */
  readonly withConnection: <A, E>(
    context: DriverContext,
    use: (connection: Connection) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | ConnectorDriver.DriverFailure>
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
 * The pools the PostgreSQL driver runs on.
 *
 * @since 0.1.0
 */
export class PostgresPools extends Context.Tag("@patchbay/connector-postgres/PostgresPools")<
  PostgresPools,
  PostgresPoolsShape
>() {}

/**
 * Pools on the given egress policy, closed by `closeAll` only (idle pools and connections also
 * close by themselves and never keep the process alive). Prefer `make` or `layer`.
 *
 * @since 0.1.0
 */
export const unsafeMake = (egress: EgressPolicy.EgressPolicyShape, options: PoolOptions = {}): PostgresPoolsShape => {
  const cache = PoolCache.make(egress, options)
  return {
    withConnection: (context, use) => PooledCall.pooled(cache, context, use),
    withNewConnection: (context, use) => PooledCall.unpooled(cache, context, use),
    size: cache.size,
    closeAll: cache.closeAll
  }
}

/**
 * Pools on the `EgressPolicy` of the context, closed with the scope.
 *
 * @since 0.1.0
 */
export const make = (
  options: PoolOptions = {}
): Effect.Effect<PostgresPoolsShape, never, EgressPolicy.EgressPolicy | Scope.Scope> =>
  Effect.acquireRelease(
    Effect.map(EgressPolicy.EgressPolicy, (egress) => unsafeMake(egress, options)),
    (pools) => pools.closeAll
  )

/**
 * Pools on the `EgressPolicy` of the context, all closed when the layer is released.
 *
 * @since 0.1.0
 */
export const layer = (options: PoolOptions = {}): Layer.Layer<PostgresPools, never, EgressPolicy.EgressPolicy> =>
  Layer.scoped(PostgresPools, make(options))
