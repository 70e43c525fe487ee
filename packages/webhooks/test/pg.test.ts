/**
 * Webhook delivery on PostgreSQL (the run's throwaway server): one process end to end, then four
 * worker processes against one database, two subscribers, one of which refuses every first
 * attempt. Every event reaches each subscriber with exactly one 2xx per delivery id.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { fileURLToPath } from "node:url"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import { assert, describe, it } from "@effect/vitest"
import { ConnectorInstances, ConnectorRegistry, EgressPolicy, LifecycleEvents } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Envelope, Fingerprint, Keyring } from "@patchbay/crypto"
import { SqlStore } from "@patchbay/store-sql"
import type {} from "@patchbay/testing/globalSetup"
import { Effect, Layer, Redacted, Schedule, Schema } from "effect"
import { inject } from "vitest"
import { WebhookSubscriptions, WebhookWorker } from "../src/index.js"
import { as, configuredHost, connector, lifeOfAnInstance, password } from "./support/fixtures.js"
import { Receiver } from "./support/receiver.js"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const childScript = fileURLToPath(new URL("./support/workerChild.ts", import.meta.url))

/** Runs `statements` on the database at `url`; the rows of the last one. */
const query = (url: string, ...statements: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    let rows: ReadonlyArray<unknown> = []
    for (const statement of statements) rows = yield* sql.unsafe(statement)
    return rows
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url) })), Effect.orDie)

/** A new database on the run's server, dropped with the scope; its URL. */
const freshDatabase = Effect.acquireRelease(
  Effect.gen(function* () {
    const server = inject("databaseUrl")
    const name = `patchbay_webhooks_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`
    yield* query(server, `CREATE DATABASE ${name}`)
    const url = new URL(server)
    url.pathname = `/${name}`
    return { server, name, url: url.toString() }
  }),
  ({ name, server }) => query(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).pipe(Effect.ignore)
)

/** Patchbay on the database: instances, the vault and the subscriptions, on one keyring key. */
const stack = (url: string, key: string) =>
  WebhookSubscriptions.layer.pipe(
    Layer.provideMerge(CredentialVault.layer),
    Layer.provideMerge(ConnectorInstances.layer),
    Layer.provideMerge(
      Layer.mergeAll(
        SqlStore.layerPg({ url: Redacted.make(url), maxConnections: 4 }),
        ConnectorRegistry.layer([connector]),
        Envelope.layer.pipe(
          Layer.provideMerge(Keyring.layer({ keys: [{ id: "k1", key: Redacted.make(key) }], primary: "k1" }))
        ),
        Fingerprint.layerEphemeral,
        EgressPolicy.layer({ allowLoopback: true })
      )
    )
  )

const orgA = "0190a000-0000-7000-8000-00000000000a"
const Texts = Schema.Array(Schema.Struct({ text: Schema.String }))
const decodeEvent = Schema.decodeUnknownSync(Schema.parseJson(LifecycleEvents.LifecycleEvent))

const subscribe = (receiver: Receiver) =>
  Effect.gen(function* () {
    const created = yield* Effect.flatMap(WebhookSubscriptions.WebhookSubscriptions, (s) =>
      s.create({ url: receiver.url })
    )
    receiver.secrets = [created.secret]
    return created
  }).pipe(as(orgA))

/** Starts a worker process; resolves `ready` when it has built its layers. */
const spawnWorker = (env: Record<string, string>) => {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@patchbay/source", childScript], {
    cwd: packageDir,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stderr = ""
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve()
    })
    void exited.then((code) => reject(new Error(`worker exited with ${code} before it was ready: ${stderr}`)))
  })
  return { child, ready, exited }
}

const stop = (worker: { readonly child: ChildProcess; readonly exited: Promise<number | null> }) =>
  Effect.promise(() => {
    if (worker.child.exitCode === null) worker.child.kill("SIGTERM")
    return worker.exited
  }).pipe(
    Effect.timeout("10 seconds"),
    Effect.catchAll(() => Effect.sync(() => worker.child.kill("SIGKILL")))
  )

describe("webhook delivery on PostgreSQL", () => {
  it.live(
    "one process: verified deliveries, a recovering receiver, dead letter and redelivery; secrets sealed at rest",
    () =>
      Effect.gen(function* () {
        const db = yield* freshDatabase
        const key = randomBytes(32).toString("base64")
        const result = yield* Effect.gen(function* () {
          const steady = yield* Receiver.make()
          const flaky = yield* Receiver.make((_, seen) => (seen === 0 ? 500 : 200))
          const a = yield* subscribe(steady)
          const b = yield* subscribe(flaky)
          yield* lifeOfAnInstance(orgA, "primary")
          yield* WebhookWorker.drain({ backoffBase: "0 millis", maxAttempts: 2 })
          // A third receiver always fails: dead after two attempts, then redelivered once it recovers.
          const down = yield* Receiver.make(() => 503)
          const c = yield* subscribe(down)
          yield* lifeOfAnInstance(orgA, "second")
          yield* WebhookWorker.drain({ backoffBase: "0 millis", maxAttempts: 2 })
          const service = yield* WebhookSubscriptions.WebhookSubscriptions
          const dead = yield* service.deliveries({ status: "dead" }).pipe(as(orgA))
          assert.strictEqual(dead.length, 3)
          for (const row of dead) {
            assert.strictEqual(row.subscriptionId, c.subscription.id)
            assert.strictEqual(row.attempts, 2)
            assert.strictEqual(row.lastStatus, 503)
          }
          down.answer = () => 200
          for (const row of dead) yield* service.redeliver(row.id).pipe(as(orgA))
          yield* WebhookWorker.drain({ backoffBase: "0 millis", maxAttempts: 2 })
          assert.deepStrictEqual([...down.acknowledged.keys()].sort(), dead.map((row) => row.id).sort())
          return { steady, flaky, down, secrets: [a.secret, b.secret, c.secret] }
        }).pipe(Effect.provide(stack(db.url, key)))

        const { steady, flaky, down, secrets } = result
        assert.strictEqual(steady.received.length, 6)
        assert.strictEqual(flaky.received.length, 12)
        for (const receiver of [steady, flaky]) {
          assert.strictEqual(receiver.acknowledged.size, 6)
          for (const count of receiver.acknowledged.values()) assert.strictEqual(count, 1)
          for (const r of receiver.received) assert.strictEqual(r.verified, 0)
        }
        for (const id of flaky.acknowledged.keys()) {
          assert.deepStrictEqual(
            flaky.received.filter((r) => r.deliveryId === id).map((r) => r.status),
            [500, 200]
          )
        }
        // No secret in a body, nor in any stored row (the subscription secrets are sealed).
        const bodies = JSON.stringify([steady.received, flaky.received, down.received].flat().map((r) => r.body))
        const stored = yield* query(
          db.url,
          `SELECT row_to_json(s)::text AS text FROM patchbay.webhook_subscriptions s
           UNION ALL SELECT row_to_json(d)::text FROM patchbay.webhook_deliveries d
           UNION ALL SELECT row_to_json(o)::text FROM patchbay.event_outbox o`
        ).pipe(Effect.flatMap(Schema.decodeUnknown(Texts)))
        // 3 subscriptions, 6 + 9 deliveries, 6 events.
        assert.strictEqual(stored.length, 3 + 15 + 6)
        const text = `${bodies}${JSON.stringify(stored)}`
        for (const value of [...secrets.map(Redacted.value), password, configuredHost]) assert.notInclude(text, value)
        // The target URLs are sealed too: the rows show only their masks.
        assert.notInclude(JSON.stringify(stored), "/hooks")
        assert.include(JSON.stringify(stored), `${new URL(steady.url).host}/…`)
      }).pipe(Effect.scoped),
    120_000
  )

  it.live(
    "four processes: every event is delivered to each of two subscribers exactly once, deduplicated by delivery id",
    () =>
      Effect.gen(function* () {
        const db = yield* freshDatabase
        const key = randomBytes(32).toString("base64")
        const instances = 20
        yield* Effect.gen(function* () {
          const steady = yield* Receiver.make()
          // Every first attempt is refused: each delivery is retried, by whichever process claims it.
          const flaky = yield* Receiver.make((_, seen) => (seen === 0 ? 500 : 204))
          yield* subscribe(steady)
          yield* subscribe(flaky)
          const workers = yield* Effect.acquireRelease(
            Effect.sync(() => Array.from({ length: 4 }, () => spawnWorker({ DATABASE_URL: db.url, KEY: key }))),
            (workers) => Effect.forEach(workers, stop, { concurrency: "unbounded", discard: true })
          )
          yield* Effect.promise(() => Promise.all(workers.map((w) => w.ready)))
          // The events are written while the workers run, by four writers at once.
          yield* Effect.forEach(
            Array.from({ length: instances }, (_, i) => i),
            (i) => lifeOfAnInstance(orgA, `instance-${i}`),
            { concurrency: 4, discard: true }
          )
          const expected = instances * 3
          yield* Effect.promise(() =>
            Promise.all([steady, flaky].map((r) => r.until(() => r.acknowledged.size >= expected)))
          )
          // Wait (bounded) for the workers to record the last outcomes.
          const pending = query(
            db.url,
            "SELECT count(*)::text AS text FROM patchbay.webhook_deliveries WHERE status <> 'delivered'"
          ).pipe(Effect.flatMap(Schema.decodeUnknown(Texts)))
          yield* pending.pipe(
            Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: (rows) => rows[0]?.text === "0" }),
            Effect.timeout("60 seconds")
          )
          yield* Effect.forEach(workers, stop, { discard: true })

          const events = yield* query(
            db.url,
            `SELECT id::text AS text FROM patchbay.event_outbox WHERE org_id = '${orgA}' ORDER BY id`
          ).pipe(Effect.flatMap(Schema.decodeUnknown(Texts)))
          assert.strictEqual(events.length, expected)
          const eventIds = events.map((row) => row.text).sort()
          for (const receiver of [steady, flaky]) {
            // No delivery id was acknowledged twice, and the acknowledged ones cover every event once.
            for (const [id, count] of receiver.acknowledged) assert.strictEqual(count, 1, id)
            const acknowledged = receiver.received.filter((r) => r.status >= 200 && r.status < 300)
            assert.strictEqual(acknowledged.length, expected)
            assert.deepStrictEqual(acknowledged.map((r) => decodeEvent(r.body).id).sort(), eventIds)
            for (const r of receiver.received) assert.strictEqual(r.verified, 0)
          }
          // The refused first attempts were retried with the same delivery id, once each.
          for (const id of flaky.acknowledged.keys()) {
            assert.deepStrictEqual(
              flaky.received.filter((r) => r.deliveryId === id).map((r) => r.status),
              [500, 204]
            )
          }
          const rows = yield* query(
            db.url,
            `SELECT json_build_object('subscription', subscription_id, 'event', event_id, 'attempts', attempts,
               'status', status)::text AS text FROM patchbay.webhook_deliveries`
          ).pipe(Effect.flatMap(Schema.decodeUnknown(Texts)))
          assert.strictEqual(rows.length, expected * 2)
        }).pipe(Effect.provide(stack(db.url, key)), Effect.scoped)
      }).pipe(Effect.scoped),
    180_000
  )
})
