import { assert, describe, it } from "@effect/vitest"
import { Activities } from "@patchbay/activities"
import { PostgresConnector } from "@patchbay/connector-postgres"
import { Actor, ConnectorInstances } from "@patchbay/core"
import { CredentialRefresher, CredentialVault } from "@patchbay/credentials"
import type {} from "@patchbay/testing/globalSetup"
import { ConfigProvider, Context, Effect, Layer, ManagedRuntime, Ref, Schema } from "effect"
import { inject } from "vitest"
import * as Patchbay from "../src/Patchbay.js"

const database = new URL(inject("databaseUrl"))
const orgId = "0190a000-0000-7000-8000-00000000000a"
const actor = Schema.decodeSync(Actor.ActorInfo)({ orgId })
const organization = { type: "organization" as const, id: orgId }

/** Creates a Postgres instance for the test database with an organization credential. */
const connectDatabase = (instanceName: string) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const vault = yield* CredentialVault.CredentialVault
    const instance = yield* instances.create({
      connector: "postgres",
      instanceName,
      configuration: {
        host: database.hostname,
        port: Number(database.port),
        database: database.pathname.slice(1),
        ssl_mode: "disable"
      }
    })
    yield* vault.create({
      instanceId: instance.id,
      scope: organization,
      credentials: { username: decodeURIComponent(database.username), password: decodeURIComponent(database.password) }
    })
    return instance.id
  })

const runQuery = (instanceId: string, sql: string) =>
  Effect.flatMap(Activities.Activities, (activities) => activities.runQuery({ instanceId, sql }))

/** Counts the resolutions that pass through the refresher, exposed as a service of its own. */
class Refreshes extends Context.Tag("test/Refreshes")<Refreshes, Ref.Ref<number>>() {}

const countingRefresher = Layer.effect(
  CredentialRefresher.CredentialRefresher,
  Effect.map(Refreshes, (count) =>
    CredentialRefresher.CredentialRefresher.of({
      refresh: (_instance, resolved) =>
        Effect.as(
          Ref.update(count, (n) => n + 1),
          resolved
        ),
      obtain: CredentialRefresher.none.obtain
    })
  )
).pipe(Layer.provideMerge(Layer.effect(Refreshes, Ref.make(0))))

describe("Patchbay.layer", () => {
  it.effect("runs a query on a real PostgreSQL from one layer built once, with the actor provided per call", () =>
    Effect.gen(function* () {
      const runtime = ManagedRuntime.make(
        Patchbay.layer({
          store: Patchbay.layerMemory,
          connectors: [PostgresConnector.connector],
          keys: "ephemeral",
          egress: { allowLoopback: true }
        })
      )
      yield* Effect.addFinalizer(() => runtime.disposeEffect)
      const asActor = <A, E>(effect: Effect.Effect<A, E, Actor.Actor | Patchbay.Services>) =>
        Effect.promise(() => runtime.runPromiseExit(Effect.provideService(effect, Actor.Actor, actor)))

      const instanceId = yield* Effect.flatten(asActor(connectDatabase("preset-db")))
      const results = yield* Effect.all(
        [1, 2, 3].map((n) => Effect.flatten(asActor(runQuery(instanceId, `SELECT ${n}::int AS n`)))),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(
        results.map((r) => r.rows[0]!.n),
        [1, 2, 3]
      )
    }).pipe(Effect.scoped)
  )

  it.effect("denies loopback unless the egress option allows it (the default reads PATCHBAY_EGRESS_*)", () =>
    Effect.gen(function* () {
      const refused = yield* Effect.gen(function* () {
        const instanceId = yield* connectDatabase("preset-denied")
        return yield* runQuery(instanceId, "SELECT 1")
      }).pipe(
        Effect.provide(
          Patchbay.layer({ store: Patchbay.layerMemory, connectors: [PostgresConnector.connector], keys: "ephemeral" })
        ),
        Effect.provideService(Actor.Actor, actor),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
        Effect.flip
      )
      assert.strictEqual(refused._tag, "ActivityRejected")
      assert.include(refused.message, "loopback addresses are denied")
    })
  )

  it.effect("puts the refresher option in front of every resolution and exposes its other services", () =>
    Effect.gen(function* () {
      const instanceId = yield* connectDatabase("preset-refreshed")
      yield* runQuery(instanceId, "SELECT 1")
      yield* runQuery(instanceId, "SELECT 2")
      assert.strictEqual(yield* Ref.get(yield* Refreshes), 2)
    }).pipe(
      Effect.provide(
        Patchbay.layer({
          store: Patchbay.layerMemory,
          connectors: [PostgresConnector.connector],
          keys: "ephemeral",
          egress: { allowLoopback: true },
          refresher: countingRefresher
        })
      ),
      Effect.provideService(Actor.Actor, actor)
    )
  )

  it.effect("reads its keys from configuration and fails at start when the keyring lacks a stored key", () =>
    Effect.gen(function* () {
      // One store, kept across two starts of the preset.
      const store = Layer.succeedContext(yield* Layer.build(Patchbay.layerMemory))
      const keysFor = (keyId: string) =>
        ConfigProvider.fromMap(
          new Map([
            ["PATCHBAY_KEYRING", `${keyId}:${Buffer.alloc(32, keyId).toString("base64")}`],
            ["PATCHBAY_PRIMARY_KEY_ID", keyId],
            ["PATCHBAY_FINGERPRINT_KEY", Buffer.alloc(32, 7).toString("base64")]
          ])
        )
      const preset = Patchbay.layer({
        store,
        connectors: [PostgresConnector.connector],
        keys: "config",
        egress: { allowLoopback: true }
      })
      yield* connectDatabase("preset-keys").pipe(
        Effect.provide(preset),
        Effect.provideService(Actor.Actor, actor),
        Effect.withConfigProvider(keysFor("k1"))
      )
      const missing = yield* Effect.void.pipe(
        Effect.provide(preset),
        Effect.withConfigProvider(keysFor("k2")),
        Effect.flip
      )
      assert.strictEqual(missing._tag, "MissingKey")
      assert.deepStrictEqual(missing._tag === "MissingKey" ? missing.keyIds : [], ["k1"])
      const unconfigured = yield* Effect.void.pipe(
        Effect.provide(preset),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
        Effect.flip
      )
      assert.strictEqual(unconfigured._tag, "ConfigError")
    }).pipe(Effect.scoped)
  )
})
