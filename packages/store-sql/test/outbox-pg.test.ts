/**
 * The lifecycle event outbox in PostgreSQL: events commit with the change they describe, a failed
 * change leaves none, and no row holds a credential value.
 */
import { assert, describe, it } from "@effect/vitest"
import { Actor, ConnectorInstances, Ids, LifecycleEvents } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Effect, Layer, Redacted, Schema } from "effect"
import { SqlStore } from "../src/index.js"
import { descriptor, services } from "./idempotency.js"
import { freshDatabase, query } from "./support.js"

const Rows = Schema.Array(Schema.Struct({ type: Schema.String, payload: Schema.String }))

describe("event outbox in PostgreSQL", () => {
  it.scoped("each change writes its event in its transaction; a failed change writes none; no secret", () =>
    Effect.gen(function* () {
      const db = yield* freshDatabase()
      const orgId = yield* Ids.make(Ids.OrgId)
      const password = "correct-horse-battery-staple"
      const pending = yield* Effect.gen(function* () {
        const instances = yield* ConnectorInstances.ConnectorInstances
        const vault = yield* CredentialVault.CredentialVault
        const outbox = yield* LifecycleEvents.EventOutbox
        const instance = yield* instances.create({
          connector: descriptor.key,
          instanceName: "Evented",
          configuration: { host: "db.internal" }
        })
        const stored = yield* vault.create({
          instanceId: instance.id,
          scope: { type: "organization", id: orgId },
          credentials: { username: "reporting", password }
        })
        yield* vault.revoke(stored.id)
        const failed = yield* Effect.flip(
          instances.create({ connector: descriptor.key, instanceName: "evented", configuration: { host: "x" } })
        )
        assert.strictEqual(failed._tag, "NameTaken")
        const events = yield* outbox.pending({ limit: 10 })
        yield* outbox.markDelivered([events[0]!.id], new Date())
        const rest = yield* outbox.pending({ limit: 10 })
        assert.deepStrictEqual(
          rest.map((event) => event.id),
          events.slice(1).map((event) => event.id)
        )
        assert.deepStrictEqual(
          (yield* outbox.read({ limit: 10 })).map((event) => event.id),
          events.map((event) => event.id),
          "read returns delivered events too"
        )
        assert.deepStrictEqual(
          (yield* outbox.read({ after: events[0]!.id, limit: 1 })).map((event) => event.id),
          [events[1]!.id]
        )
        assert.strictEqual(yield* outbox.newest, events[events.length - 1]!.id)
        return events
      }).pipe(
        Effect.provide(services.pipe(Layer.provideMerge(SqlStore.layerPg({ url: Redacted.make(db.url) })))),
        Effect.provideService(Actor.Actor, Actor.ActorInfo.make({ orgId }))
      )
      assert.deepStrictEqual(
        pending.map((event) => event._tag),
        ["instance.created", "credential.stored", "credential.revoked"]
      )
      const result = yield* query(
        db.url,
        "SELECT type, payload::text AS payload FROM patchbay.event_outbox WHERE org_id = $1 ORDER BY id",
        [orgId]
      )
      const rows = yield* Schema.decodeUnknown(Rows)(result.rows)
      assert.deepStrictEqual(
        rows.map((row) => row.type),
        ["instance.created", "credential.stored", "credential.revoked"]
      )
      const text = JSON.stringify(rows)
      for (const form of [password, "reporting", "db.internal"]) assert.notInclude(text, form)
    })
  )
})
