/**
 * Key rotation re-wraps webhook subscription secrets, on the memory layers and on PostgreSQL (the
 * run's throwaway server): secrets sealed under key A, a rotation to B interrupted after its first
 * batch (every secret still opens), resumed, then A leaves the ring and the worker still signs
 * deliveries that each receiver verifies with its subscription's secret (the previous secret of a
 * rotated subscription too, during its overlap).
 */
import { randomBytes } from "node:crypto"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import { assert, describe, it } from "@effect/vitest"
import { ConnectorInstances, ConnectorRegistry, DomainError, EgressPolicy, WebhookStore } from "@patchbay/core"
import { Credentials } from "@patchbay/credentials"
import { Envelope, Keyring, Rotation } from "@patchbay/crypto"
import { SqlStore } from "@patchbay/store-sql"
import type {} from "@patchbay/testing/globalSetup"
import { Effect, Exit, Layer, Redacted } from "effect"
import { inject } from "vitest"
import { WebhookSubscriptions, WebhookWorker } from "../src/index.js"
import { as, configuredHost, connector, descriptor } from "./support/fixtures.js"
import { Receiver } from "./support/receiver.js"

const orgA = "0190a000-0000-7000-8000-00000000000a"
const now = { backoffBase: "0 millis" } as const

/** The keyring `keys` with `primary`, its envelope, and the subscriptions sealing with it. */
const withKeys =
  (keys: Record<string, string>, primary: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.provide(
      effect,
      WebhookSubscriptions.layer.pipe(
        Layer.provideMerge(Envelope.layer),
        Layer.provideMerge(
          Keyring.layer({
            keys: Object.entries(keys).map(([id, key]) => ({ id, key: Redacted.make(key) })),
            primary
          })
        ),
        Layer.orDie
      )
    )

/** One lifecycle event (an instance created) in organization A. */
const event = (name: string) =>
  Effect.flatMap(ConnectorInstances.ConnectorInstances, (instances) =>
    instances.create({ connector: descriptor.key, instanceName: name, configuration: { host: configuredHost } })
  ).pipe(as(orgA))

const scenario = Effect.gen(function* () {
  const a = randomBytes(32).toString("base64")
  const b = randomBytes(32).toString("base64")
  const receivers = [yield* Receiver.make(), yield* Receiver.make(), yield* Receiver.make()]
  const created = yield* Effect.gen(function* () {
    const service = yield* WebhookSubscriptions.WebhookSubscriptions
    const subscriptions = yield* Effect.forEach(receivers, (receiver) => service.create({ url: receiver.url }))
    const rotated = yield* service.rotateSecret(subscriptions[2]!.subscription.id)
    return { subscriptions, rotated }
  }).pipe(as(orgA), withKeys({ A: a }, "A"))
  receivers[0]!.secrets = [created.subscriptions[0]!.secret]
  receivers[1]!.secrets = [created.subscriptions[1]!.secret]
  // Only the previous secret: it verifies only while the worker can still open and sign with it.
  receivers[2]!.secrets = [created.subscriptions[2]!.secret]
  const store = yield* WebhookStore.WebhookStore
  assert.deepStrictEqual(yield* Rotation.missingWebhookKeys.pipe(withKeys({ B: b }, "B")), ["A"])

  // A rotation to B whose second batch write is lost (batches of one subscription).
  let writes = 0
  const crashing = WebhookStore.WebhookStore.of({
    ...store,
    replaceSealedBatch: (replacements) =>
      Effect.suspend(() =>
        ++writes > 1
          ? Effect.fail(new DomainError.StorageError({ operation: "replaceSealedBatch", detail: "connection lost" }))
          : store.replaceSealedBatch(replacements)
      )
  })
  const crashed = yield* Effect.exit(
    Rotation.run({ batchSize: 1 }).pipe(
      Effect.provideService(WebhookStore.WebhookStore, crashing),
      withKeys({ A: a, B: b }, "B")
    )
  )
  assert.isTrue(Exit.isFailure(crashed))
  assert.deepStrictEqual([...(yield* store.keyIds)].sort(), ["A", "B"])
  // Every secret still opens: deliveries made now verify.
  yield* event("during")
  assert.strictEqual(yield* WebhookWorker.drain(now).pipe(withKeys({ A: a, B: b }, "B")), 3)

  const resumed = yield* Rotation.run({ batchSize: 1 }).pipe(withKeys({ A: a, B: b }, "B"))
  assert.deepStrictEqual([resumed.webhookRewrapped, resumed.webhookRaced, resumed.webhookFailed.length], [2, 0, 0])
  assert.deepStrictEqual(yield* store.keyIds, ["B"])
  assert.deepStrictEqual(yield* Rotation.retirable.pipe(withKeys({ A: a, B: b }, "B")), ["A"])

  // A leaves the ring: nothing is missing, and deliveries still verify.
  assert.deepStrictEqual(yield* Rotation.missingWebhookKeys.pipe(withKeys({ B: b }, "B")), [])
  yield* event("after")
  assert.strictEqual(yield* WebhookWorker.drain(now).pipe(withKeys({ B: b }, "B")), 3)
  for (const receiver of receivers) {
    assert.deepStrictEqual(
      receiver.received.map((r) => [r.verified, r.status]),
      [
        [0, 204],
        [0, 204]
      ]
    )
  }
  // The rotated subscription's current secret signs too.
  receivers[2]!.secrets = [created.rotated.secret]
  yield* event("last")
  yield* WebhookWorker.drain(now).pipe(withKeys({ B: b }, "B"))
  assert.deepStrictEqual(
    receivers[2]!.received.map((r) => r.verified),
    [0, 0, 0]
  )
})

/** Runs `statements` on the database at `url`. */
const query = (url: string, statement: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(
    Effect.provide(PgClient.layer({ url: Redacted.make(url) })),
    Effect.orDie
  )

/** A new database on the run's server, dropped with the scope; its URL. */
const freshDatabase = Effect.acquireRelease(
  Effect.gen(function* () {
    const server = inject("databaseUrl")
    const name = `patchbay_rotation_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`
    yield* query(server, `CREATE DATABASE ${name}`)
    const url = new URL(server)
    url.pathname = `/${name}`
    return { server, name, url: url.toString() }
  }),
  ({ name, server }) => query(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).pipe(Effect.ignore)
)

describe("key rotation of webhook secrets", () => {
  it.live("memory: interrupted, resumed, the old key removed; deliveries verify throughout", () =>
    scenario.pipe(
      Effect.provide(
        WebhookStore.layerMemory.pipe(
          Layer.provideMerge(Credentials.layerMemory([connector])),
          Layer.provideMerge(EgressPolicy.layer({ allowLoopback: true }))
        )
      ),
      Effect.scoped
    )
  )

  it.live(
    "PostgreSQL: interrupted, resumed, the old key removed; deliveries verify throughout",
    () =>
      Effect.gen(function* () {
        const db = yield* freshDatabase
        yield* scenario.pipe(
          Effect.provide(
            ConnectorInstances.layer.pipe(
              Layer.provideMerge(
                Layer.mergeAll(
                  SqlStore.layerPg({ url: Redacted.make(db.url), maxConnections: 4 }),
                  ConnectorRegistry.layer([connector]),
                  EgressPolicy.layer({ allowLoopback: true })
                )
              )
            )
          ),
          Effect.scoped
        )
      }).pipe(Effect.scoped),
    120_000
  )
})
