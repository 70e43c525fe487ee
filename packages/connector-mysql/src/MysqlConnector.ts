/**
 * The MySQL / MariaDB connector: its descriptor, the driver (connection test with the
 * least-privilege report, health check, Run Query, streaming queries, schema discovery, guarded DDL) on `MysqlPools`,
 * and the connector for `ConnectorRegistry.layer`, either with pools of its own (closed with the
 * registry) or on the `MysqlPools` the host provides.
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
import * as MysqlDescriptor from "./MysqlDescriptor.js"
import * as MysqlPools from "./MysqlPools.js"
import * as Privileges from "./Privileges.js"
import * as SqlPolicy from "./SqlPolicy.js"

/**
 * The MySQL / MariaDB descriptor (key `mysql`); its schemas are in `MysqlDescriptor`.
 *
 * @since 0.1.0
 */
export const descriptor = MysqlDescriptor.descriptor

/**
 * The driver's context: an instance, its decoded configuration and credentials.
 *
 * @since 0.1.0
 */
export type Context = MysqlPools.DriverContext

type Driver = ConnectorDriver.ConnectorDriver<MysqlDescriptor.Configuration, MysqlDescriptor.Credentials>

/**
 * The MySQL driver, with every capability the descriptor declares.
 *
 * @since 0.1.0
 */
export interface MysqlDriver extends Driver {
  readonly query: NonNullable<Driver["query"]>
  readonly streamQuery: NonNullable<Driver["streamQuery"]>
  readonly discoverSchema: NonNullable<Driver["discoverSchema"]>
  readonly executeDdl: NonNullable<Driver["executeDdl"]>
}

const testTimeoutMillis = 10_000

const yesNo = (value: boolean) => (value ? "yes" : "no")

/** The test's message: the server, the account's privileges, and the least-privilege warning if any. */
const testMessage = (version: string, privileges: Privileges.AccountPrivileges, readOnly: boolean): string => {
  const summary = `${version}; account ${privileges.account}: super ${yesNo(privileges.superuser)}, file ${yesNo(privileges.file)}, grant option ${yesNo(privileges.grantOption)}, create user ${yesNo(privileges.createUser)}, can write ${yesNo(privileges.canWrite)}`
  const warning = readOnly ? Privileges.readOnlyWarning(privileges) : undefined
  return warning === undefined ? summary : `Warning: ${warning}. ${summary}`
}

/**
 * The driver on the given pools.
 *
 * @since 0.1.0
 */
export const make = (pools: MysqlPools.MysqlPoolsShape): MysqlDriver => {
  const test = Effect.fn("Mysql.test")(function* (context: Context) {
    const { result, privileges } = yield* pools.withNewConnection(context, (connection) =>
      Effect.all({
        result: connection.query("SELECT VERSION() AS version", [], { timeoutMillis: testTimeoutMillis }),
        privileges: Privileges.read(connection)
      })
    )
    const version = result.rows[0]?.version
    return testMessage(typeof version === "string" ? version : "connected", privileges, context.configuration.read_only)
  })

  const healthCheck = Effect.fn("Mysql.healthCheck")(function* (context: Context) {
    yield* pools.withConnection(context, (connection) =>
      connection.query("SELECT 1", [], { timeoutMillis: testTimeoutMillis })
    )
  })

  const query: MysqlDriver["query"] = (context, request) =>
    SqlPolicy.planQuery(request.sql).pipe(
      Effect.mapError((refused) => SqlPolicy.toRequestRejected(refused, targetOf(context.configuration))),
      Effect.flatMap((plan) =>
        pools.withConnection(context, (connection) =>
          RunQuery.run(connection, request, context.configuration.read_only, plan, context.configuration.database)
        )
      )
    )

  const streamQuery: MysqlDriver["streamQuery"] = (context, request) =>
    SqlPolicy.planQuery(request.sql).pipe(
      Effect.filterOrFail(
        (plan) => plan.command === "select",
        (plan) =>
          new SqlPolicy.PolicyRefused({
            kind: "statement",
            detail: `a streaming query runs one SELECT; ${plan.command.toUpperCase()} is not one (use Run Query)`
          })
      ),
      Effect.mapError((refused) => SqlPolicy.toRequestRejected(refused, targetOf(context.configuration))),
      Effect.map(() => StreamQuery.stream(pools, context, request)),
      Stream.unwrap,
      Stream.withSpan("Mysql.streamQuery")
    )

  const discoverSchema = Effect.fn("Mysql.discoverSchema")(function* (
    context: Context,
    request: Database.SchemaRequest
  ) {
    return yield* pools.withConnection(context, (connection) =>
      Discovery.discover(connection, request, context.configuration.database)
    )
  })

  const executeDdl = Effect.fn("Mysql.executeDdl")(function* (context: Context, request: Database.DdlRequest) {
    if (context.configuration.read_only) {
      return yield* new DomainError.DdlRejected({
        detail: `${targetOf(context.configuration)} is configured read_only; DDL is refused on this instance`
      })
    }
    const statements = yield* DdlClassifier.classify(request.sql)
    return yield* pools.withConnection(context, (connection) =>
      Ddl.execute(connection, statements, request, context.configuration.database)
    )
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
  Effect.map(MysqlPools.make(), (pools) => ConnectorDriver.make(descriptor, make(pools)))

/**
 * The connector on the `MysqlPools` the host provides (see `layer`).
 *
 * @since 0.1.0
 */
export const fromPools: Effect.Effect<ConnectorDriver.Connector, never, MysqlPools.MysqlPools> = Effect.map(
  MysqlPools.MysqlPools,
  (pools) => ConnectorDriver.make(descriptor, make(pools))
)

/**
 * The resources the driver owns, for `fromPools`: its pools on the `EgressPolicy` of the context,
 * closed when the layer is released.
 *
 * @since 0.1.0
 */
export const layer = (
  options: MysqlPools.PoolOptions = {}
): Layer.Layer<MysqlPools.MysqlPools, never, EgressPolicy.EgressPolicy> => MysqlPools.layer(options)
