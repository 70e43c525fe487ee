import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Either, Exit, FastCheck as fc, Layer, Schema } from "effect"
import { ConnectorInstances } from "../src/ConnectorInstances.js"
import * as InputBounds from "../src/InputBounds.js"
import { actorLayer, memoryLayer } from "./fixtures.js"

const decodes = <A, I>(schema: Schema.Schema<A, I>, input: unknown) =>
  Either.isRight(Schema.decodeUnknownEither(schema, { onExcessProperty: "error" })(input))

let unique = 0

/** `levels` nested objects, built without recursion. */
const nested = (levels: number, leaf: unknown = 1): unknown => {
  let value: unknown = leaf
  for (let i = 0; i < levels; i++) value = { a: value }
  return value
}

/** Strings with a NUL or an unpaired surrogate somewhere. */
const unsafeString = fc
  .tuple(
    fc.string({ maxLength: 20 }),
    fc.constantFrom("\u0000", "\uD800", "\uDFFF", "\uDBFF\u0041", "a\uDC00"),
    fc.string({ maxLength: 20 })
  )
  .map(([a, bad, b]) => `${a}${bad}${b}`)

/** The failure of an effect that must fail with a non-retryable InvalidInput (never a defect). */
const invalidInput = <A, R>(effect: Effect.Effect<A, { readonly _tag: string }, R>) =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(effect)
    assert.isTrue(Exit.isFailure(exit), "expected a refusal")
    if (Exit.isSuccess(exit)) return
    assert.isTrue(Cause.isFailType(exit.cause), Cause.pretty(exit.cause))
    if (!Cause.isFailType(exit.cause)) return
    const error = exit.cause.error as { readonly _tag: string; readonly retryable?: boolean }
    assert.strictEqual(error._tag, "InvalidInput")
    assert.isFalse(error.retryable)
  })

const inOrg = Layer.merge(memoryLayer, actorLayer())

describe("InputBounds", () => {
  it("strings: no NUL, no unpaired surrogate; pairs are fine", () => {
    assert.isTrue(decodes(InputBounds.SafeString, "emoji 😀 ok"))
    for (const bad of ["a\u0000b", "\uD800", "x\uDC00", "\uD83D"]) assert.isFalse(decodes(InputBounds.SafeString, bad))
    assert.isFalse(decodes(InputBounds.boundedString(3), "abcd"))
  })

  it("SQL: 1 to 1 MiB characters", () => {
    assert.isTrue(decodes(InputBounds.Sql, "select 1"))
    assert.isFalse(decodes(InputBounds.Sql, ""))
    assert.isFalse(decodes(InputBounds.Sql, "x".repeat(InputBounds.maxSqlLength + 1)))
    assert.isFalse(decodes(InputBounds.Sql, "select '\u0000'"))
  })

  it("durations: finite non-negative milliseconds only", () => {
    const decode = Schema.decodeUnknownEither(InputBounds.DurationFromMillis)
    assert.deepStrictEqual(Either.getOrThrow(decode(1500)), Duration.millis(1500))
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1, "5 seconds", {}, Duration.seconds(1), null, 1e15]) {
      assert.isTrue(Either.isLeft(decode(bad)), String(bad))
    }
  })

  it("id lists and labels have a length", () => {
    const ids = InputBounds.boundedArray(Schema.String, 100)
    assert.isTrue(decodes(ids, Array(100).fill("x")))
    assert.isFalse(decodes(ids, Array(101).fill("x")))
    const labels = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]))
    assert.isFalse(decodes(InputBounds.Labels, labels))
    assert.isTrue(decodes(InputBounds.Labels, { team: "data" }))
    assert.isFalse(decodes(InputBounds.Labels, { team: "x".repeat(513) }))
    assert.isFalse(decodes(InputBounds.Labels, { "": "v" }))
  })

  it("JSON: depth, size, values, keys; no accessors, prototypes, cycles or odd values", () => {
    const limits = InputBounds.metadataLimits
    assert.isUndefined(InputBounds.jsonIssue({ a: [1, "x", null, true, { b: 2 }] }, limits))
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const throwing = Object.defineProperty({}, "x", {
      enumerable: true,
      get: () => {
        throw new Error("boom")
      }
    })
    const proxy = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error("boom")
        }
      }
    )
    const refused: ReadonlyArray<unknown> = [
      nested(100_000),
      cyclic,
      throwing,
      proxy,
      new Date(0),
      new Map(),
      JSON.parse('{"__proto__": {"polluted": true}}'),
      { n: Number.NaN },
      { f: () => 1 },
      { b: 1n },
      { u: undefined },
      Object.assign(new Array<number>(3), { 0: 1, 2: 3 }),
      { s: "x".repeat(limits.maxStringLength + 1) },
      Array(limits.maxValues + 1).fill(0),
      { ["k".repeat(200)]: 1 },
      { "a\u0000": 1 }
    ]
    for (const value of refused) assert.isString(InputBounds.jsonIssue(value, limits))
  })

  it.layer(inOrg)((it) => {
    it.effect("create and update refuse unbounded configuration, names and descriptions with InvalidInput", () =>
      Effect.gen(function* () {
        const instances = yield* ConnectorInstances
        const base = { connector: "demo-db", instanceName: "bounded", configuration: { host: "h", database: "d" } }
        yield* invalidInput(instances.create({ ...base, configuration: nested(50_000) }))
        yield* invalidInput(
          instances.create({ ...base, configuration: { host: "h", database: "d", big: "x".repeat(70_000) } })
        )
        yield* invalidInput(instances.create({ ...base, instanceName: "a\u0000b" }))
        yield* invalidInput(instances.create({ ...base, instanceName: "x".repeat(5_000_000) }))
        yield* invalidInput(instances.create({ ...base, description: "\uD800" }))
        yield* invalidInput(instances.create({ ...base, connector: "c".repeat(10_000) }))
        const created = yield* instances.create(base)
        yield* invalidInput(instances.update(created.id, { configuration: { host: "h\u0000", database: "d" } }))
        yield* invalidInput(instances.update(created.id, { instanceName: "\uDFFFname" }))
        yield* invalidInput(instances.list({ connector: "\u0000" }))
      })
    )

    it.effect.prop(
      "a NUL or an unpaired surrogate anywhere in create's input is InvalidInput",
      [unsafeString, fc.constantFrom("instanceName", "description", "host", "database", "key")],
      ([bad, where]) =>
        Effect.gen(function* () {
          const instances = yield* ConnectorInstances
          const configuration: Record<string, unknown> = { host: "h", database: "d" }
          if (where === "host" || where === "database") configuration[where] = bad
          if (where === "key") configuration[bad] = "v"
          yield* invalidInput(
            instances.create({
              connector: "demo-db",
              instanceName: where === "instanceName" ? bad : `n-${unique++}`,
              description: where === "description" ? bad : null,
              configuration
            })
          )
        }),
      { fastCheck: { numRuns: 300 } }
    )

    it.effect.prop(
      "deep or wide JSON in configuration is a typed refusal, never a defect or a stack overflow",
      [fc.integer({ min: 9, max: 200_000 }), fc.integer({ min: 0, max: 3 })],
      ([size, shape]) =>
        Effect.gen(function* () {
          const instances = yield* ConnectorInstances
          const configuration =
            shape === 0
              ? nested(size)
              : shape === 1
                ? { host: "h", database: "d", list: Array(size).fill(1) }
                : shape === 2
                  ? {
                      host: "h",
                      database: "d",
                      ...Object.fromEntries(Array.from({ length: Math.min(size, 5000) }, (_, i) => [`k${i}`, i]))
                    }
                  : { host: "h", database: "d", text: "y".repeat(size) }
          const exit = yield* Effect.exit(
            instances.create({ connector: "demo-db", instanceName: `w-${unique++}`, configuration })
          )
          if (Exit.isFailure(exit)) {
            assert.isTrue(Cause.isFailType(exit.cause), Cause.pretty(exit.cause))
            if (Cause.isFailType(exit.cause)) assert.strictEqual(exit.cause.error._tag, "InvalidInput")
          } else {
            assert.isTrue(shape !== 0 && size <= 8192, "a large configuration was accepted")
          }
        }),
      { fastCheck: { numRuns: 200 } }
    )
  })
})
