import { assert, describe, it } from "@effect/vitest"
import { type ConnectorDescriptor, Ids } from "@patchbay/core"
import { Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import * as Fingerprint from "../src/Fingerprint.js"
import { freshKey } from "./fixtures.js"

const descriptor = {
  id: Ids.ConnectorId.make("00000000-0000-4000-8000-000000000001"),
  key: "demo-db",
  name: "Demo database",
  version: "1.0.0",
  authProfiles: ["database_password"],
  operations: ["test_connection"],
  configuration: Schema.Struct({ host: Schema.String, port: Schema.Number, database: Schema.String }),
  credentials: Schema.Struct({ username: Schema.String, password: Schema.String }),
  secretFields: ["password"],
  accountFields: ["host", "port", "database", "username"],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor.ConnectorDescriptor

const key = freshKey()
const fingerprint = Fingerprint.layer({ key: Redacted.make(key) })

const of = (configuration: Record<string, unknown>, credentials: Record<string, unknown>) =>
  Effect.flatMap(Fingerprint.Fingerprint, (f) =>
    f.account(descriptor, { configuration, credentials: Redacted.make(credentials) })
  )

describe("Fingerprint", () => {
  it.layer(fingerprint)((it) => {
    it.effect("agrees on spellings of the same account", () =>
      Effect.gen(function* () {
        const base = yield* of(
          { host: "db.internal", port: 5432, database: "analytics" },
          { username: "reader", password: "one" }
        )
        assert.match(base!, /^v1:[A-Za-z0-9_-]{43}$/)
        const same = yield* of(
          { host: " DB.Internal. ", port: "5432", database: "analytics", sslMode: "require" },
          { username: "reader ", password: "another password" }
        )
        assert.strictEqual(same, base)
      })
    )

    it.effect("differs when any account field differs (usernames and databases are case-sensitive)", () =>
      Effect.gen(function* () {
        const config = { host: "db.internal", port: 5432, database: "analytics" }
        const base = yield* of(config, { username: "reader" })
        const others = [
          yield* of({ ...config, host: "db2.internal" }, { username: "reader" }),
          yield* of({ ...config, port: 5433 }, { username: "reader" }),
          yield* of({ ...config, database: "Analytics" }, { username: "reader" }),
          yield* of(config, { username: "Reader" })
        ]
        assert.strictEqual(new Set([base, ...others]).size, 5)
      })
    )

    it.effect("is null when no account field has a value, and never contains the values", () =>
      Effect.gen(function* () {
        assert.isNull(yield* of({}, { password: "x" }))
        const value = yield* of({ host: "db.internal" }, { username: "reader" })
        assert.notInclude(value!, "reader")
        assert.notInclude(value!, "db.internal")
      })
    )
  })

  it.effect("depends on the key", () =>
    Effect.gen(function* () {
      const input = [{ host: "h", port: 1, database: "d" }, { username: "u" }] as const
      const a = yield* of(...input).pipe(Effect.provide(fingerprint))
      const b = yield* of(...input).pipe(Effect.provide(Fingerprint.layer({ key: Redacted.make(freshKey()) })))
      assert.notStrictEqual(a, b)
    })
  )

  it("canonicalises in field order with numbers as strings", () => {
    const text = Fingerprint.canonical(descriptor, {
      configuration: { port: 5432, host: "DB.example.com.", database: " x " },
      credentials: { username: "u", password: "secret" }
    })
    assert.strictEqual(
      text,
      JSON.stringify([
        "patchbay.account.v1",
        descriptor.id,
        [
          ["database", "x"],
          ["host", "db.example.com"],
          ["port", "5432"],
          ["username", "u"]
        ]
      ])
    )
  })

  it.effect("refuses a key that is not 32 bytes", () =>
    Effect.gen(function* () {
      const result = yield* Effect.either(Layer.build(Fingerprint.layer({ key: Redacted.make("c2hvcnQ=") })))
      assert.isTrue(Either.isLeft(result))
      assert.include(Option.getOrThrow(Either.getLeft(result)).message, "must be 32 bytes")
    }).pipe(Effect.scoped)
  )
})
