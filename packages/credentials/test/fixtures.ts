import { inspect } from "node:util"
import { assert } from "@effect/vitest"
import { Actor, AuditLog, type ConnectorDescriptor, ConnectorDriver, ConnectorInstances, Ids } from "@patchbay/core"
import { Cause, Effect, Exit, Layer, Option, Schema } from "effect"
import * as Credentials from "../src/Credentials.js"

export const orgA = "0190a000-0000-7000-8000-00000000000a"
export const orgB = "0190b000-0000-7000-8000-00000000000b"
export const workspace1 = "0190a000-0000-7000-8000-0000000000a1"
export const workspace2 = "0190a000-0000-7000-8000-0000000000a2"
export const user1 = "0190a000-0000-7000-8000-0000000000c1"
export const user2 = "0190a000-0000-7000-8000-0000000000c2"
export const agent1 = "0190a000-0000-7000-8000-0000000000d1"
export const agent2 = "0190a000-0000-7000-8000-0000000000d2"

const database = {
  id: Ids.ConnectorId.make("00000000-0000-4000-8000-000000000001"),
  key: "demo-db",
  name: "Demo database",
  version: "1.0.0",
  authProfiles: ["database_password"],
  operations: ["test_connection", "health_check"],
  configuration: Schema.Struct({
    host: Schema.String.pipe(Schema.minLength(1)),
    port: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 65535)), { default: () => 5432 }),
    database: Schema.String
  }),
  credentials: Schema.Struct({ username: Schema.String, password: Schema.Redacted(Schema.String) }),
  secretFields: ["password"],
  accountFields: ["host", "port", "database", "username"],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor.ConnectorDescriptor

const oauth = {
  id: Ids.ConnectorId.make("00000000-0000-4000-8000-000000000002"),
  key: "demo-oauth",
  name: "Demo OAuth API",
  version: "1.0.0",
  authProfiles: ["oauth2_authorization_code"],
  operations: ["test_connection", "health_check"],
  configuration: Schema.Struct({}),
  credentials: Schema.Struct({
    access_token: Schema.Redacted(Schema.String),
    refresh_token: Schema.Redacted(Schema.String)
  }),
  secretFields: ["access_token", "refresh_token"],
  accountFields: [],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor.ConnectorDescriptor

/** Connectors whose drivers do nothing: enough for credential tests. */
export const databaseConnector = ConnectorDriver.make(database, {
  test: () => Effect.succeed("ok"),
  healthCheck: () => Effect.void
})
export const oauthConnector = ConnectorDriver.make(oauth, {
  test: () => Effect.succeed("ok"),
  healthCheck: () => Effect.void
})

/** Everything in memory, fresh for each test (with the given refresher, default none). */
export const memory = (refresher?: Parameters<typeof Credentials.layerMemory>[1]) =>
  Credentials.layerMemory([databaseConnector, oauthConnector], refresher)

/** Runs an effect as the given actor. */
export const as =
  (actor: typeof Actor.ActorInfo.Encoded) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, Actor.Actor>> =>
    Effect.provide(effect, Layer.succeed(Actor.Actor, Schema.decodeSync(Actor.ActorInfo)(actor)))

export const admin = { orgId: orgA, workspaceId: workspace1, userId: user1 }

export const dbConfig = { host: "db.internal", database: "analytics" }

/** Creates a database instance as `admin` and returns the full instance. */
export const createInstance = (
  instanceName: string,
  options: { readonly configuration?: unknown; readonly workspaceId?: string; readonly connector?: string } = {}
) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const view = yield* instances.create({
      connector: options.connector ?? "demo-db",
      instanceName,
      configuration: options.configuration ?? (options.connector === "demo-oauth" ? {} : dbConfig),
      ...(options.workspaceId === undefined ? {} : { workspaceId: options.workspaceId })
    })
    return yield* instances.getUsable(view.id)
  })

/** The typed failure of an effect that must fail. */
export const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(effect)
    if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
    const error = Cause.failureOption(exit.cause)
    if (Option.isNone(error)) return assert.fail(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
    return error.value
  })

/** Asserts that no rendering of `value` (JSON, String, inspect) contains any of `secrets`. */
export const assertNoSecret = (value: unknown, secrets: ReadonlyArray<string>) => {
  const renderings = [JSON.stringify(value) ?? "", String(value), inspect(value, { depth: 10 })]
  if (value instanceof Error) renderings.push(value.message)
  for (const secret of secrets) {
    for (const rendering of renderings) assert.notInclude(rendering, secret)
  }
}

/** Every audit row of an organization, oldest first. */
export const auditRows = (orgId: string = orgA) =>
  Effect.flatMap(AuditLog.AuditLog, (log) => log.list(Ids.OrgId.make(orgId), { limit: 1000 })).pipe(
    Effect.map((rows) => [...rows].reverse())
  )
