/**
 * What an idempotency key leaves in PostgreSQL, row by row: the request's fingerprint and the
 * result, never a secret; nothing for a call that failed; a retention of 24 hours.
 */
import { assert, describe, it } from "@effect/vitest"
import { Actor, ConnectorInstances, Ids } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Effect, Encoding, Layer, Redacted, Schema } from "effect"
import { SqlStore } from "../src/index.js"
import { descriptor, services } from "./idempotency.js"
import { freshDatabase, query } from "./support.js"

const Rows = Schema.Array(
  Schema.Struct({
    operation: Schema.String,
    idempotency_key: Schema.String,
    fingerprint: Schema.String,
    result: Schema.String,
    retention: Schema.Number
  })
)

describe("idempotency keys in PostgreSQL", () => {
  it.scoped("a key's row holds a fingerprint and the masked result, never the secret; a failed call leaves none", () =>
    Effect.gen(function* () {
      const db = yield* freshDatabase()
      const orgId = yield* Ids.make(Ids.OrgId)
      const password = "correct-horse-battery-staple"
      yield* Effect.gen(function* () {
        const instances = yield* ConnectorInstances.ConnectorInstances
        const vault = yield* CredentialVault.CredentialVault
        const instance = yield* instances.create({
          connector: descriptor.key,
          instanceName: "Keyed",
          configuration: { host: "db.internal" },
          idempotencyKey: "instance-key"
        })
        yield* vault.create({
          instanceId: instance.id,
          scope: { type: "organization", id: orgId },
          credentials: { username: "reporting", password },
          idempotencyKey: "store-key"
        })
        const failed = yield* Effect.flip(
          instances.create({
            connector: descriptor.key,
            instanceName: "keyed",
            configuration: { host: "db.internal" },
            idempotencyKey: "failed-key"
          })
        )
        assert.strictEqual(failed._tag, "NameTaken")
      }).pipe(
        Effect.provide(services.pipe(Layer.provideMerge(SqlStore.layerPg({ url: Redacted.make(db.url) })))),
        Effect.provideService(Actor.Actor, Actor.ActorInfo.make({ orgId }))
      )

      const result = yield* query(
        db.url,
        `SELECT operation, idempotency_key, fingerprint, result::text AS result,
           EXTRACT(EPOCH FROM expires_at - created_at)::int AS retention
         FROM patchbay.idempotency_keys WHERE org_id = $1 ORDER BY operation`,
        [orgId]
      )
      const rows = yield* Schema.decodeUnknown(Rows)(result.rows)
      assert.deepStrictEqual(
        rows.map((row) => [row.operation, row.idempotency_key, row.retention]),
        [
          ["credential.create", "store-key", 86_400],
          ["instance.create", "instance-key", 86_400]
        ]
      )
      for (const row of rows) assert.match(row.fingerprint, /^v1:[A-Za-z0-9_-]{43}$/)
      const text = JSON.stringify(rows)
      for (const form of [
        password,
        Encoding.encodeBase64(password),
        Encoding.encodeBase64Url(password),
        Encoding.encodeBase64(`reporting:${password}`)
      ]) {
        assert.notInclude(text, form)
      }
      assert.include(rows[0]!.result, "••••")
    })
  )
})
