import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc, Layer, Schema } from "effect"
import { ConnectorInstances } from "../src/ConnectorInstances.js"
import * as ConnectorRegistry from "../src/ConnectorRegistry.js"
import * as DomainError from "../src/DomainError.js"
import { actorLayer, demoConnector, memoryLayer } from "./fixtures.js"

/** Secret-like values: long enough to be told apart from a schema's own words. */
const secret = fc.oneof(
  fc.string({
    minLength: 8,
    maxLength: 40,
    unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_-")
  }),
  fc.string({ minLength: 8, maxLength: 40, unit: "grapheme-ascii" }),
  fc.string({ minLength: 8, maxLength: 20, unit: "grapheme" })
)

/** Every way the secret could show in a message. */
const spellings = (value: string) => [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]

const assertNotQuoted = (text: string, value: string) => {
  for (const spelling of spellings(value)) assert.notInclude(text, spelling, `${JSON.stringify(text)} quotes the value`)
}

/** Inputs to `create` that are refused because of where a secret was put. */
const placements: ReadonlyArray<(s: string) => Record<string, unknown>> = [
  (s) => ({ configuration: { host: "h", database: "d", port: s } }),
  (s) => ({ configuration: { host: "h", database: [s] } }),
  (s) => ({ configuration: { host: `postgres://app:${s}@db.example.com:5432/x`, database: "d" } }),
  (s) => ({ configuration: { host: "h", database: "d", dsn: `mysql://root:${encodeURIComponent(s)}@db/x` } }),
  (s) => ({ configuration: { host: `host=db user=app password=${s}`, database: "d" } }),
  (s) => ({ configuration: { host: "h", database: "d", headers: { Authorization: `Bearer ${s}` } } }),
  (s) => ({ configuration: { host: "h", database: "d", headers: { "X-API-Key": s } } }),
  (s) => ({ configuration: { host: "h", database: "d", password: s } }),
  (s) => ({ configuration: { host: "h", database: "d", nested: { cookie: s } } }),
  (s) => ({ authType: s }),
  (s) => ({ workspaceId: s }),
  (s) => ({ description: { text: s } }),
  (s) => ({ description: s.repeat(Math.ceil(2001 / s.length)) }),
  (s) => ({ instanceName: [s] }),
  (s) => ({ isEnabled: s }),
  (s) => ({ configuration: `${s}\u0000` })
]

const inOrg = Layer.merge(memoryLayer, actorLayer())
let unique = 0

describe("refused values are never quoted", () => {
  it.layer(inOrg)((it) => {
    it.effect.prop(
      "create: a secret in any refused field is named, never shown",
      [secret, fc.integer({ min: 0, max: placements.length - 1 })],
      ([value, which]) =>
        Effect.gen(function* () {
          const instances = yield* ConnectorInstances
          const input = { connector: "demo-db", instanceName: `quoted-${unique++}`, ...placements[which]!(value) }
          const error = yield* Effect.flip(instances.create(input as never))
          assert.oneOf(error._tag, ["InvalidInput", "InvalidConfiguration"])
          assertNotQuoted(error.message, value)
          assertNotQuoted(JSON.stringify(error), value)
        }),
      { fastCheck: { numRuns: 1500 } }
    )
  })

  it.effect("names the field of a credential header, a DSN password and a connection string", () =>
    Effect.gen(function* () {
      const descriptor = demoConnector.descriptor
      const header = yield* Effect.flip(
        ConnectorRegistry.validateConfiguration(descriptor, {
          host: "h",
          database: "d",
          headers: { Authorization: "Basic dXNlcjpodW50ZXIy" }
        })
      )
      assert.include(header.detail, "headers.Authorization")
      assert.notInclude(header.message, "dXNlcjpodW50ZXIy")
      const dsn = yield* Effect.flip(
        ConnectorRegistry.validateConfiguration(descriptor, { host: "postgres://u:hunter22@h/db", database: "d" })
      )
      assert.include(dsn.detail, "host holds a credential")
      assert.notInclude(dsn.message, "hunter22")
      const ok = yield* ConnectorRegistry.validateConfiguration(descriptor, {
        host: "db.example.com",
        database: "user@example.com:x"
      })
      assert.strictEqual(ok.host, "db.example.com")
    })
  )

  it.prop(
    "describeParseError hides values in default messages, custom messages and transformations",
    [secret],
    ([value]) => {
      const schema = Schema.Struct({
        n: Schema.NumberFromString,
        literal: Schema.Literal("a", "b"),
        custom: Schema.String.pipe(Schema.filter((s) => s.length < 3 || `the value ${s} is not allowed`)),
        json: Schema.parseJson(),
        date: Schema.Date
      })
      const input = { n: value, literal: value, custom: value, json: `{${value}`, date: value, [`k: ${value}`]: 1 }
      const result = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "error" })(input)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        const detail = DomainError.describeParseError(result.left)
        assert.include(detail, "n:")
        assertNotQuoted(detail, value)
        assertNotQuoted(DomainError.InvalidInput.fromParseError(result.left).message, value)
      }
    },
    { fastCheck: { numRuns: 500 } }
  )
})
