/**
 * The PostgreSQL connector: its descriptor, the driver (connection test, health check, Run Query,
 * streaming queries, schema discovery, guarded DDL) on `PostgresPools`, and the connector for
 * `ConnectorRegistry.layer`, either with pools of its own (closed with the registry) or on the
 * `PostgresPools` the host provides.
 *
 * @since 0.1.0
 */
import { ConnectorDriver, type Database, DomainError, type EgressPolicy } from "@patchbay/core"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as DdlClassifier from "./DdlClassifier.js"
import { targetOf } from "./internal/connection.js"
import * as Ddl from "./internal/ddl.js"
import * as Discovery from "./internal/discovery.js"
import * as RunQuery from "./internal/runQuery.js"
import * as StreamQuery from "./internal/streamQuery.js"
import * as PostgresDescriptor from "./PostgresDescriptor.js"
import * as PostgresPools from "./PostgresPools.js"
import * as SqlPolicy from "./SqlPolicy.js"

/**
 * The PostgreSQL descriptor (key `postgres`); its schemas are in `PostgresDescriptor`.
 *
 * @since 0.1.0
 */
export const descriptor = PostgresDescriptor.descriptor

/**
 * The driver's context: a PostgreSQL instance, its decoded configuration and credentials.
 *
 * @since 0.1.0
 */
export type Context = PostgresPools.DriverContext

type Driver = ConnectorDriver.ConnectorDriver<PostgresDescriptor.Configuration, PostgresDescriptor.Credentials>

/**
 * The PostgreSQL driver, with every capability the descriptor declares.
 *
 * @since 0.1.0
 */
export interface PostgresDriver extends Driver {
  readonly query: NonNullable<Driver["query"]>
  readonly streamQuery: NonNullable<Driver["streamQuery"]>
  readonly discoverSchema: NonNullable<Driver["discoverSchema"]>
  readonly executeDdl: NonNullable<Driver["executeDdl"]>
}

const testTimeoutMillis = 10_000

/** What the SQL policy needs of an instance's configuration. */
const policySettings = (configuration: PostgresDescriptor.Configuration): SqlPolicy.Settings => ({
  readOnly: configuration.read_only,
  allowSideEffects: configuration.allow_side_effect_functions
})

const yesNo = (value: boolean) => (value ? "yes" : "no")

/** The test's message: the server, the role's attributes, and the least-privilege warning if any. */
const testMessage = (version: string, role: SqlPolicy.RoleAttributes, readOnly: boolean): string => {
  const attributes = `superuser ${yesNo(role.superuser)}, createrole ${yesNo(role.createrole)}, bypassrls ${yesNo(role.bypassrls)}, replication ${yesNo(role.replication)}, can write ${yesNo(role.canWrite)}`
  const warning = readOnly ? SqlPolicy.readOnlyWarning(role) : undefined
  const summary = `${version}; role ${role.role}: ${attributes}`
  return warning === undefined ? summary : `Warning: ${warning}. ${summary}`
}

/**
 * The driver on the given pools.
 *
 * @since 0.1.0
 */
export const make = (pools: PostgresPools.PostgresPoolsShape): PostgresDriver => {
  const planQuery = SqlPolicy.makePlanner()

  const test = Effect.fn("Postgres.test")(function* (context: Context) {
    const options = { timeoutMillis: testTimeoutMillis }
    const { result, role } = yield* pools.withNewConnection(context, (connection) =>
      Effect.all({
        result: connection.query("SELECT version()", undefined, options),
        role: SqlPolicy.roleAttributes((sql, params) => connection.query(sql, params, options))
      })
    )
    const version = result.rows[0]?.version
    return testMessage(typeof version === "string" ? version : "connected", role, context.configuration.read_only)
  })

  const healthCheck = Effect.fn("Postgres.healthCheck")(function* (context: Context) {
    yield* pools.withConnection(context, (connection) =>
      connection.query("SELECT 1", undefined, { timeoutMillis: testTimeoutMillis })
    )
  })

  // No span of its own: Run Query is traced by its caller (the activity's span), and on a 1-row
  // query a span and the call-site capture of `Effect.fn` cost as much as the driver's own work.
  const query: PostgresDriver["query"] = (context, request) =>
    planQuery(request.sql, policySettings(context.configuration)).pipe(
      Effect.mapError((refused) => SqlPolicy.toRequestRejected(refused, targetOf(context.configuration))),
      Effect.flatMap((plan) =>
        pools.withConnection(context, (connection) =>
          RunQuery.run(connection, request, context.configuration.read_only, plan)
        )
      )
    )

  // Read-only whatever the instance allows: a refused write never reaches the server.
  const streamQuery: PostgresDriver["streamQuery"] = (context, request) =>
    planQuery(request.sql, { readOnly: true, allowSideEffects: false }).pipe(
      Effect.mapError((refused) => SqlPolicy.toRequestRejected(refused, targetOf(context.configuration))),
      Effect.map(() => StreamQuery.stream(pools, context, request)),
      Stream.unwrap,
      Stream.withSpan("Postgres.streamQuery")
    )

  const discoverSchema = Effect.fn("Postgres.discoverSchema")(function* (
    context: Context,
    request: Database.SchemaRequest
  ) {
    return yield* pools.withConnection(context, (connection) => Discovery.discover(connection, request))
  })

  const executeDdl = Effect.fn("Postgres.executeDdl")(function* (context: Context, request: Database.DdlRequest) {
    if (context.configuration.read_only) {
      return yield* new DomainError.DdlRejected({
        detail: `${targetOf(context.configuration)} is configured read_only; DDL is refused on this instance`
      })
    }
    const statements = yield* DdlClassifier.classify(request.sql)
    yield* SqlPolicy.checkDdl(request.sql, policySettings(context.configuration)).pipe(
      Effect.mapError(SqlPolicy.toDdlRejected)
    )
    return yield* pools.withConnection(context, (connection) => Ddl.execute(connection, statements, request))
  })

  return { test, healthCheck, query, streamQuery, discoverSchema, executeDdl }
}

/**
 * The connector for `ConnectorRegistry.layer`, with pools of its own (default `PoolOptions`) on the
 * host's `EgressPolicy`, closed when the registry's scope closes.
 *
 * @since 0.1.0
 */
export const connector: Effect.Effect<ConnectorDriver.Connector, never, EgressPolicy.EgressPolicy | Scope.Scope> =
  Effect.map(PostgresPools.make(), (pools) => ConnectorDriver.make(descriptor, make(pools)))

/**
 * The connector on the `PostgresPools` the host provides (see `layer`), for pool options or pools
 * shared beyond the registry.
 *
 * @since 0.1.0
 */
export const fromPools: Effect.Effect<ConnectorDriver.Connector, never, PostgresPools.PostgresPools> = Effect.map(
  PostgresPools.PostgresPools,
  (pools) => ConnectorDriver.make(descriptor, make(pools))
)

/**
 * The resources the driver owns, for `fromPools`: its pools on the `EgressPolicy` of the context,
 * closed when the layer is released.
 *
 * @since 0.1.0
 */
export const layer = (
  options: PostgresPools.PoolOptions = {}
): Layer.Layer<PostgresPools.PostgresPools, never, EgressPolicy.EgressPolicy> => PostgresPools.layer(options)
