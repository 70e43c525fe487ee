/**
 * The bad-input property suite, run on every store (memory here, PGlite and PostgreSQL from the
 * packages that depend on those stores): every public API gets poisoned input — NUL characters,
 * lone surrogates, oversized text, JSON nested 10k levels deep or thousands of values wide, long id
 * lists, durations that are NaN, infinite, negative, strings or objects, invalid UUIDs, unknown
 * fields — and must answer a typed, non-retryable failure: never a success, a defect, a hang or a
 * retryable `StorageError` (PostgreSQL refuses NUL in text and lone surrogates in jsonb; those must
 * be caught while decoding).
 *
 * Each property counts every try and failure instead of stopping at the first, so a run reports
 * how many inputs of each class got a wrong answer.
 */
import { assert, describe, it } from "@effect/vitest"
import { Activities } from "@patchbay/activities"
import { PostgresConnector } from "@patchbay/connector-postgres"
import { Actor, ConnectorInstances } from "@patchbay/core"
import { CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { ConnectionTester } from "@patchbay/testers"
import { Cause, Effect, Exit, Layer, ManagedRuntime, Option, Schema, Sink } from "effect"
import * as fc from "fast-check"
import { afterAll } from "vitest"
import * as Patchbay from "../src/Patchbay.js"

/** What a property found: tries, and the first messages of its failures. */
export interface Tally {
  tries: number
  failures: number
  readonly examples: Array<string>
}

/** Tallies per API, printed by the suite and asserted empty. */
export const tallies = new Map<string, Tally>()

const tallyOf = (name: string): Tally => {
  let tally = tallies.get(name)
  if (tally === undefined) {
    tally = { tries: 0, failures: 0, examples: [] }
    tallies.set(name, tally)
  }
  return tally
}

/** The tags a poisoned input may fail with: refusals of the input, or "does not exist" for ids. */
const refusals = new Set([
  "InvalidInput",
  "ActivityRejected",
  "InstanceNotFound",
  "CredentialVersionNotFound",
  "BatchTooLarge"
])

/**
 * Why an outcome of poisoned input is wrong, or undefined when it is a typed, non-retryable
 * refusal.
 */
export const wrongOutcome = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (Exit.isSuccess(exit)) return "succeeded"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return `defect or interruption: ${Cause.pretty(exit.cause).slice(0, 300)}`
  const error = failure.value
  if (typeof error !== "object" || error === null || !("_tag" in error)) return "untyped failure"
  const tag = String(error._tag)
  const retryable = "retryable" in error ? error.retryable : undefined
  if (retryable !== false) {
    const message = "message" in error ? String(error.message).slice(0, 160) : ""
    return `${tag} is retryable (${String(retryable)}): ${message}`
  }
  if (!refusals.has(tag)) return `${tag} (expected a refusal of the input)`
  return undefined
}

/**
 * Why an outcome of valid input is wrong: a defect, an untyped failure, or a retryable one (a
 * `StorageError` the database raised for input the decoders let through). Success and typed,
 * non-retryable failures of any kind are right.
 */
export const storageSafe = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  const wrong = wrongOutcome(exit)
  return wrong === "succeeded" || wrong?.endsWith("(expected a refusal of the input)") ? undefined : wrong
}

/** The start of an input as JSON, for a failure's example. */
const show = (input: unknown): string => {
  try {
    return String(JSON.stringify(input, (_, v) => (typeof v === "bigint" ? `${v}n` : v))).slice(0, 160)
  } catch {
    return "(not JSON)"
  }
}

/**
 * Runs `property` over `runs` samples of `arbitrary` (a fixed seed), tallying under `name` every
 * input for which one of the calls the property makes has a wrong outcome.
 */
export const check = <A, R>(
  name: string,
  arbitrary: fc.Arbitrary<A>,
  runs: number,
  property: (input: A) => Effect.Effect<unknown, unknown, R> | ReadonlyArray<Effect.Effect<unknown, unknown, R>>,
  outcome: (exit: Exit.Exit<unknown, unknown>) => string | undefined = wrongOutcome
): Effect.Effect<Tally, never, R> =>
  Effect.gen(function* () {
    const tally = tallyOf(name)
    const inputs = fc.sample(arbitrary, { numRuns: runs, seed: 13 })
    for (const input of inputs) {
      tally.tries++
      const calls = property(input)
      let wrong: string | undefined
      for (const call of Array.isArray(calls) ? calls : [calls]) {
        wrong ??= outcome(yield* Effect.exit(call as Effect.Effect<unknown, unknown, R>))
      }
      if (wrong !== undefined) {
        tally.failures++
        if (tally.examples.length < 3) tally.examples.push(`${wrong} — input ${show(input)}`)
      }
    }
    return tally
  })

// ---------------------------------------------------------------------------------------------
// Poison

const ascii = fc.string({ unit: "grapheme-ascii", maxLength: 12 })

/** A string holding a NUL character or a lone surrogate, or one character longer than `max` (or much longer). */
export const poisonText = (max: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.tuple(ascii, ascii).map(([a, b]) => `${a}\u0000${b}`),
    fc.tuple(ascii, ascii).map(([a, b]) => `${a}\ud800${b}`),
    fc.tuple(ascii, ascii).map(([a, b]) => `${a}\udc00${b}`),
    fc.tuple(ascii, ascii).map(([a, b]) => `${a}\udbff`.concat(b)),
    fc.integer({ min: max + 1, max: max + 4_096 }).map((n) => "x".repeat(n))
  )

/** An object or array nested `levels` deep, built without recursion. */
export const nested = (levels: number, array: boolean): unknown => {
  let value: unknown = "leaf"
  for (let i = 0; i < levels; i++) value = array ? [value] : { k: value }
  return value
}

/** JSON that breaks `maxDepth` (up to 10k levels), holds too many values, a long string, a NUL or a lone surrogate. */
export const poisonJson = (maxDepth: number, maxStringLength: number): fc.Arbitrary<Record<string, unknown>> =>
  fc.oneof(
    fc
      .tuple(fc.integer({ min: maxDepth, max: 10_000 }), fc.boolean())
      .map(([n, array]) => ({ deep: nested(n, array) })),
    fc
      .integer({ min: 2_001, max: 6_000 })
      .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`key${i}`, i]))),
    fc.integer({ min: 2_001, max: 20_000 }).map((n) => ({ list: Array.from({ length: n }, () => 1) })),
    fc.constant({ long: "y".repeat(maxStringLength + 1) }),
    poisonText(maxStringLength).map((text) => ({ value: text })),
    poisonText(128).map((text) => ({ [text]: "value" })),
    fc.constant({ nested: { list: ["ok", "a\u0000b"] } }),
    fc.constant({ nan: Number.NaN }),
    fc.constant({ infinite: Number.POSITIVE_INFINITY })
  )

/** Strings that are not UUIDs, UUIDs with a NUL or lone surrogate, and other kinds of values. */
export const badUuid: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.uuid().map((u) => `${u}\u0000`),
  fc.uuid().map((u) => `\ud800${u}`),
  fc.uuid().map((u) => `${u}x`),
  fc.uuid().map((u) => u.slice(1)),
  fc.constantFrom(null, 42, {}, [], true, "00000000-0000-0000-0000-00000000000g"),
  poisonText(64)
)

/** Durations no API accepts: NaN, infinities, negatives, beyond ten years, unreadable strings, objects. */
export const badDuration: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -1,
    -0.5,
    1e20,
    Number.MAX_VALUE,
    "NaN millis",
    "Infinity seconds",
    "-5 seconds",
    "soon",
    "",
    "10 fortnights",
    "\u0000",
    {},
    { millis: 5 },
    null,
    true,
    -1n
  ),
  fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
  fc
    .string({ maxLength: 20 })
    .filter((s) => !/^\s*\d+(\.\d+)?\s+(nanos?|micros?|millis?|seconds?|minutes?|hours?|days?|weeks?)\s*$/.test(s))
)

/** An input with one unknown field added. */
const withUnknownField = <A extends object>(base: A) =>
  fc
    .tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }))
    .filter(([key]) => !(key in base) && key !== "__proto__")
    .map(([key, value]) => ({ ...base, [key]: value }))

// ---------------------------------------------------------------------------------------------
// The stack under test

/** The organization every property of the suite acts in. */
export const orgId = "0190a000-0000-7000-8000-0000000000b1"
const workspaceId = "0190a000-0000-7000-8000-0000000000b2"
const userId = "0190a000-0000-7000-8000-0000000000b3"

/** A PostgreSQL configuration whose server is a closed port on 127.0.0.1 (nothing valid reaches a peer). */
const configuration = { host: "127.0.0.1", port: 1, database: "nowhere", ssl_mode: "disable" }

/** The whole preset on `store`, with the PostgreSQL connector and ephemeral keys. */
export const stack = <E>(store: Layer.Layer<Patchbay.StoreServices, E>) =>
  Patchbay.layer({
    store,
    connectors: [PostgresConnector.connector],
    keys: "ephemeral",
    egress: { allowLoopback: true }
  })

let names = 0
const uniqueName = () => `property-${Date.now().toString(36)}-${names++}`

/** Loosens an arbitrary input to a parameter's declared type: the point is to pass what the type forbids. */
const loose = <A>(value: unknown): A => value as A

/**
 * Defines the bad-input properties for `store`, `runs` samples per property (fewer on a real
 * database).
 */
export const badInputSuite = <E>(name: string, store: Layer.Layer<Patchbay.StoreServices, E>, runs: number) =>
  describe(`bad input on ${name}`, () => {
    const runtime = ManagedRuntime.make(stack(store))
    const actor = Schema.decodeSync(Actor.ActorInfo)({ orgId, workspaceId, userId })
    const run = <A, Err>(effect: Effect.Effect<A, Err, Actor.Actor | Patchbay.Services>) =>
      runtime.runPromise(Effect.provideService(effect, Actor.Actor, actor))

    /** A live instance and credential to aim poisoned updates, lists and activities at. */
    const fixture = Effect.gen(function* () {
      const instances = yield* ConnectorInstances.ConnectorInstances
      const vault = yield* CredentialVault.CredentialVault
      const instance = yield* instances.create({ connector: "postgres", instanceName: uniqueName(), configuration })
      const credential = yield* vault.create({
        instanceId: instance.id,
        scope: { type: "organization", id: orgId },
        credentials: { username: uniqueName(), password: "a-password" },
        expiresAt: new Date(Date.now() + 86_400_000)
      })
      return { instanceId: instance.id, credentialId: credential.id }
    })

    const report = (names: ReadonlyArray<string>) => {
      const rows = names.map((n) => {
        const t = tallyOf(n)
        return { n, tries: t.tries, failures: t.failures, examples: t.examples }
      })
      console.log(`[bad input on ${name}] ${JSON.stringify(rows.map(({ examples: _, ...r }) => r))}`)
      assert.deepStrictEqual(
        rows.map((row) => ({ api: row.n, examples: row.examples })),
        rows.map((row) => ({ api: row.n, examples: [] }))
      )
    }

    it("instances: create, update, enable/disable, get, list, delete", { timeout: 600_000 }, async () => {
      const names = [`${name} create`, `${name} update`, `${name} get/delete`, `${name} list`]
      await run(
        Effect.gen(function* () {
          const instances = yield* ConnectorInstances.ConnectorInstances
          const { instanceId } = yield* fixture
          const base = () => ({ connector: "postgres", instanceName: uniqueName(), configuration })
          yield* check(
            names[0]!,
            fc.oneof(
              poisonText(255).map((t) => ({ ...base(), instanceName: t })),
              poisonText(2000).map((t) => ({ ...base(), description: t })),
              poisonText(255).map((t) => ({ ...base(), connector: t })),
              badUuid.map((w) => ({ ...base(), workspaceId: w })),
              poisonJson(8, 8_192).map((c) => ({ ...base(), configuration: { ...configuration, extra: c } })),
              poisonJson(8, 8_192).map((c) => ({ ...base(), configuration: c })),
              poisonText(32).map((t) => ({ ...base(), authType: t })),
              fc.constant(null).map(() => withUnknownField(base())),
              fc.constantFrom(null, 1, "x", [], undefined).map((v) => v)
            ),
            runs,
            (input) => instances.create(loose(input))
          )
          yield* check(
            names[1]!,
            fc.oneof(
              poisonText(255).map((t) => ({ instanceName: t })),
              poisonText(2000).map((t) => ({ description: t })),
              poisonJson(8, 8_192).map((c) => ({ configuration: { ...configuration, extra: c } })),
              fc.constantFrom("true", 1, 0, null, {}, []).map((v) => ({ isEnabled: v })),
              fc.constant(null).map(() => withUnknownField({ isEnabled: true })),
              fc.constantFrom(null, 1, "x")
            ),
            runs,
            (patch) => instances.update(instanceId, loose(patch))
          )
          yield* check(names[2]!, badUuid, runs, (id) => [
            instances.get(loose(id)),
            instances.update(loose(id), { isEnabled: false }),
            instances.delete(loose(id))
          ])
          yield* check(
            names[3]!,
            fc.oneof(
              poisonText(255).map((t) => ({ connector: t })),
              badUuid.map((w) => ({ workspaceId: w })),
              badUuid.map((c) => ({ cursor: c })),
              fc
                .constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 201, 1e9, 2.5, "10", null)
                .map((l) => ({ limit: l })),
              poisonText(32).map((s) => ({ status: s })),
              fc.constantFrom("yes", 1, null).map((e) => ({ isEnabled: e })),
              fc.constant(null).map(() => withUnknownField({ limit: 5 })),
              fc.constantFrom(1, "x", [], true)
            ),
            runs,
            (query) => instances.list(loose(query))
          )
        })
      )
      report(names)
    })

    it("credentials: store, list, revoke, list expiring, resolve", { timeout: 600_000 }, async () => {
      const names = [
        `${name} vault.create`,
        `${name} vault.list/revoke`,
        `${name} vault.listExpiring`,
        `${name} resolve`
      ]
      await run(
        Effect.gen(function* () {
          const vault = yield* CredentialVault.CredentialVault
          const instances = yield* ConnectorInstances.ConnectorInstances
          const resolver = yield* CredentialResolver.CredentialResolver
          const { instanceId } = yield* fixture
          const scope = { type: "organization", id: orgId }
          const credentials = { username: uniqueName(), password: "a-password" }
          const base = { instanceId, scope, credentials }
          yield* check(
            names[0]!,
            fc.oneof(
              badUuid.map((id) => ({ ...base, instanceId: id })),
              poisonText(32).map((t) => ({ ...base, scope: { type: t, id: orgId } })),
              badUuid.map((id) => ({ ...base, scope: { type: "organization", id } })),
              poisonText(65_536).map((p) => ({ ...base, credentials: { ...credentials, password: p } })),
              poisonJson(8, 65_536).map((c) => ({ ...base, credentials: { ...credentials, extra: c } })),
              poisonJson(4, 2_048).map((labels) => ({ ...base, labels })),
              fc
                .constantFrom(
                  "not a date",
                  "",
                  Number.NaN,
                  Number.POSITIVE_INFINITY,
                  1e15,
                  {},
                  new Date(Number.NaN),
                  "2001-01-01T00:00:00Z",
                  "\u0000",
                  []
                )
                .map((expiresAt) => ({ ...base, expiresAt })),
              fc.constant(null).map(() => withUnknownField(base)),
              fc.constantFrom(null, 1, "x", [])
            ),
            runs,
            (input) => vault.create(loose(input))
          )
          yield* check(names[1]!, badUuid, runs, (id) => [vault.list(loose(id)), vault.revoke(loose(id))])
          yield* check(
            names[2]!,
            fc.oneof(
              fc
                .constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, 3651, 1e300, "7", null, {}, [])
                .map((daysAhead) => ({ daysAhead })),
              fc.constant(null).map(() => withUnknownField({ daysAhead: 7 })),
              fc.constantFrom(null, 1, "x", [])
            ),
            runs,
            (query) => vault.listExpiring(loose(query))
          )
          const instance = yield* instances.getInstance(instanceId)
          yield* check(
            names[3]!,
            fc.oneof(
              poisonText(32).map((t) => ({ scope: { type: t, id: orgId } })),
              badUuid.map((id) => ({ scope: { type: "organization", id } })),
              fc.constantFrom(null, 1, "x").map((scope) => ({ scope }))
            ),
            runs,
            (options) => resolver.resolve(instance, loose(options))
          )
        })
      )
      report(names)
    })

    it("test connection, health check, bulk operation", { timeout: 600_000 }, async () => {
      const names = [`${name} testConnection/healthCheck`, `${name} bulkOperation`]
      await run(
        Effect.gen(function* () {
          const tester = yield* ConnectionTester.ConnectionTester
          const { instanceId } = yield* fixture
          yield* check(
            names[0]!,
            fc.oneof(
              badUuid.map((id) => ({ id, options: {} })),
              badDuration.map((timeout) => ({ id: instanceId, options: { timeout } })),
              poisonText(32).map((t) => ({ id: instanceId, options: { scope: { type: t, id: orgId } } })),
              badUuid.map((id) => ({ id: instanceId, options: { scope: { type: "organization", id } } }))
            ),
            runs,
            ({ id, options }) => [
              tester.testConnection(loose(id), loose(options)),
              tester.healthCheck(loose(id), loose(options)),
              tester.refreshCredentials(loose(id), loose(options))
            ]
          )
          const uuid = fc.uuid({ version: 7 })
          yield* check(
            names[1]!,
            fc.oneof(
              fc
                .array(uuid, { minLength: 51, maxLength: 5_000 })
                .map((ids) => ({ instanceIds: ids, action: "health_check" })),
              fc
                .tuple(fc.array(uuid, { maxLength: 10 }), badUuid)
                .map(([ids, bad]) => ({ instanceIds: [...ids, bad], action: "health_check" })),
              badDuration.map((timeout) => ({ instanceIds: [instanceId], action: "test_connection", timeout })),
              poisonText(32).map((action) => ({ instanceIds: [instanceId], action })),
              fc.constantFrom(null, "x", 1, {}).map((ids) => ({ instanceIds: ids, action: "health_check" })),
              fc.constant(null).map(() => withUnknownField({ instanceIds: [instanceId], action: "health_check" }))
            ),
            runs,
            (request) => tester.bulkOperation(loose(request))
          )
        })
      )
      report(names)
    })

    it("activities: run query, send email, fetch file, send sms", { timeout: 600_000 }, async () => {
      const names = [`${name} runQuery`, `${name} sendEmail`, `${name} fetchFile`, `${name} sendSms`]
      await run(
        Effect.gen(function* () {
          const activities = yield* Activities.Activities
          const { instanceId } = yield* fixture
          yield* check(
            names[0]!,
            fc.oneof(
              fc.integer({ min: 1_048_577, max: 1_100_000 }).map((n) => ({ instanceId, sql: "S".repeat(n) })),
              poisonText(1_048_576).map((sql) => ({ instanceId, sql: `SELECT '${sql}'` })),
              fc.constant({ instanceId, sql: "" }),
              fc.tuple(fc.integer({ min: 17, max: 10_000 }), fc.boolean()).map(([n, array]) => ({
                instanceId,
                sql: "SELECT $1",
                params: [nested(n, array)]
              })),
              poisonText(1_048_576).map((p) => ({ instanceId, sql: "SELECT $1", params: [p] })),
              fc.constant({ instanceId, sql: "SELECT 1", params: Array.from({ length: 10_001 }, () => 1) }),
              badUuid.map((id) => ({ instanceId: id, sql: "SELECT 1" })),
              fc.constantFrom(null, 1, [], {}).map((sql) => ({ instanceId, sql }))
            ),
            runs,
            (input) => activities.runQuery(loose(input))
          )
          yield* check(
            names[1]!,
            fc.oneof(
              poisonText(4_096).map((subject) => ({ instanceId, to: ["a@example.com"], subject, text: "t" })),
              poisonText(320).map((to) => ({ instanceId, to: [to], subject: "s", text: "t" })),
              fc.constant({
                instanceId,
                to: Array.from({ length: 1_001 }, (_, i) => `u${i}@example.com`),
                subject: "s",
                text: "t"
              }),
              poisonText(255).map((filename) => ({
                instanceId,
                to: ["a@example.com"],
                subject: "s",
                text: "t",
                attachments: [{ filename, content: "x" }]
              })),
              badUuid.map((id) => ({ instanceId: id, to: ["a@example.com"], subject: "s", text: "t" }))
            ),
            runs,
            (input) => activities.sendEmail(loose(input))
          )
          yield* check(
            names[2]!,
            fc.oneof(
              poisonText(8_192).map((path) => ({ instanceId, path })),
              badUuid.map((id) => ({ instanceId: id, path: "/file" })),
              fc.constantFrom(null, 1, {}).map((path) => ({ instanceId, path }))
            ),
            runs,
            (input) => activities.fetchFile(loose(input), Sink.drain)
          )
          yield* check(
            names[3]!,
            fc.oneof(
              poisonText(1_600).map((body) => ({ instanceId, to: "+15550100", body })),
              poisonText(32).map((to) => ({ instanceId, to, body: "hello" })),
              badUuid.map((id) => ({ instanceId: id, to: "+15550100", body: "hello" }))
            ),
            runs,
            (input) => activities.sendSms(loose(input))
          )
        })
      )
      report(names)
    })

    it("valid input at the bounds: success or a typed, non-retryable refusal", { timeout: 600_000 }, async () => {
      const names = [`${name} extremes: instances`, `${name} extremes: credentials`]
      await run(
        Effect.gen(function* () {
          const instances = yield* ConnectorInstances.ConnectorInstances
          const vault = yield* CredentialVault.CredentialVault
          const { instanceId } = yield* fixture
          const edgeText = (max: number) =>
            fc.oneof(
              fc.constant("é".repeat(max)),
              fc.constant("\u{1F600}".repeat(Math.floor(max / 2))),
              fc.constant("\u{10FFFF}\uFFFE\uFEFF\u2028".repeat(Math.floor(max / 5))),
              fc
                .string({ unit: "binary", maxLength: Math.min(max, 64) })
                .filter((t) => t.trim().length > 0 && !t.includes("\u0000"))
            )
          const wide = (maxDepth: number, stringLength: number) =>
            fc.oneof(
              fc.constant(nested(maxDepth - 2, false)),
              fc.constant({ long: "z".repeat(stringLength) }),
              fc.constant({ numbers: [Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -0, 2 ** 53 + 1] })
            )
          yield* check(
            names[0]!,
            fc.oneof(
              edgeText(255).map((instanceName) => ({ connector: "postgres", instanceName, configuration })),
              edgeText(2000).map((description) => ({
                connector: "postgres",
                instanceName: uniqueName(),
                description,
                configuration
              })),
              wide(8, 8_192).map((extra) => ({
                connector: "postgres",
                instanceName: uniqueName(),
                configuration: { ...configuration, extra }
              })),
              fc.uuid().map((workspaceId) => ({
                connector: "postgres",
                instanceName: uniqueName(),
                workspaceId,
                configuration
              }))
            ),
            Math.ceil(runs / 2),
            (input) => [
              instances.create(input),
              instances.list({ limit: 200 }),
              instances.update(instanceId, { description: input.instanceName })
            ],
            storageSafe
          )
          yield* check(
            names[1]!,
            fc.oneof(
              fc
                .constantFrom<unknown>(
                  new Date(8.64e15),
                  "+275760-09-13T00:00:00.000Z",
                  "9999-12-31T23:59:59.999Z",
                  new Date(Date.now() + 1)
                )
                .map((expiresAt) => ({ expiresAt })),
              wide(4, 2_048).map((labels) => ({ labels })),
              edgeText(2_048).map((text) => ({ labels: { [text.slice(0, 128)]: text } })),
              edgeText(65_536).map((password) => ({ password }))
            ),
            Math.ceil(runs / 2),
            (input) => {
              const { password, ...rest }: { readonly password?: unknown } = loose(input)
              return [
                vault.create(
                  loose({
                    instanceId,
                    scope: { type: "organization", id: orgId },
                    credentials: { username: uniqueName(), password: password ?? "a-password" },
                    ...rest
                  })
                ),
                vault.list(instanceId),
                vault.listExpiring({ daysAhead: 3650 })
              ]
            },
            storageSafe
          )
        })
      )
      report(names)
    })

    afterAll(() => runtime.dispose())
  })
