/**
 * Bad input to any activity is `ActivityRejected` (not retryable) from decoding, before any
 * instance lookup or driver call: never a defect, a hang or a retryable error. The instances are
 * real and their peer address is closed, so an input that slipped past the bounds would reach the
 * driver and come back as a retryable `TransientFailure`.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Actor } from "@patchbay/core"
import { Cause, Effect, Exit, FastCheck as fc, Layer, Option, Sink } from "effect"
import * as Activities from "../src/Activities.js"
import { activitiesLayer, connect } from "./fixtures.js"

/** Text no bounded field accepts: NUL, unpaired surrogates, or far too long. */
const poisonText = fc.oneof(
  fc.string().map((s) => `${s}\u0000${s}`),
  fc.string().map((s) => `${s}\ud800${s}`),
  fc.string().map((s) => `\udc00${s}`),
  fc.constant("x".repeat(2_000_000))
)

/** Values of the wrong kind for a text field. */
const notText = fc.constantFrom<unknown>(Number.NaN, 42, { toString: "x" }, null, [[[[]]]])

/** Values of the wrong kind for a number field: NaN, infinity, strings, objects. */
const notNumber = fc.constantFrom<unknown>(Number.NaN, Number.POSITIVE_INFINITY, -1, "1000", { valueOf: 1000 }, null)

const poison = fc.oneof(poisonText, notText)

/** Poison for the long text fields (an email's body): NUL, unpaired surrogates, wrong kinds. */
const unsafeText = fc.oneof(
  fc.string().map((s) => `${s}\u0000${s}`),
  fc.string().map((s) => `${s}\ud800${s}`),
  notText
)

const deepParam = (depth: number): unknown => {
  let value: unknown = 1
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

type Call = (
  activities: Activities.ActivitiesShape,
  input: Record<string, unknown>
) => Effect.Effect<unknown, unknown, Actor.Actor>

interface Case {
  readonly call: string
  readonly input: Record<string, unknown>
}

const cases = (ids: { readonly http: string; readonly sms: string }): fc.Arbitrary<Case> => {
  const query = { sql: "SELECT 1", params: [] as Array<unknown> }
  const email = { to: ["a@example.com"], subject: "s", text: "t" }
  const sms = { to: "+15551234567", body: "hi" }
  const file = { path: "/files/a" }
  const on = (call: string, instanceId: string, base: Record<string, unknown>, field: string, bad = poison) =>
    bad.map((value): Case => ({ call, input: { instanceId, ...base, [field]: value } }))
  return fc.oneof(
    on("runQuery", ids.http, query, "instanceId"),
    on("runQuery", ids.http, query, "sql"),
    on("runQuery", ids.http, query, "reason"),
    on("runQuery", ids.http, query, "timeoutMillis", notNumber),
    poisonText.map((p): Case => ({ call: "runQuery", input: { instanceId: ids.http, ...query, params: [1, p] } })),
    fc.constant<Case>({ call: "runQuery", input: { instanceId: ids.http, ...query, params: [deepParam(100)] } }),
    fc.constant<Case>({
      call: "runQuery",
      input: { instanceId: ids.http, ...query, params: Array.from({ length: 10_001 }, () => 1) }
    }),
    on("executeDdl", ids.http, { sql: "CREATE TABLE t (x int)", confirm: false }, "sql"),
    on("getSchema", ids.http, {}, "schemas"),
    poisonText.map((p): Case => ({ call: "getSchema", input: { instanceId: ids.http, schemas: ["public", p] } })),
    on("sendEmail", ids.http, email, "subject"),
    on("sendEmail", ids.http, email, "text", unsafeText),
    on("sendEmail", ids.http, email, "html", unsafeText),
    poisonText.map((p): Case => ({ call: "sendEmail", input: { instanceId: ids.http, ...email, to: [`${p}@x.io`] } })),
    poisonText.map(
      (p): Case => ({
        call: "sendEmail",
        input: { instanceId: ids.http, ...email, attachments: [{ filename: p, content: "aGk=" }] }
      })
    ),
    on("sendSms", ids.sms, sms, "body"),
    on("sendSms", ids.sms, sms, "from"),
    on("sendSms", ids.sms, sms, "to"),
    on("fetchFile", ids.http, file, "path"),
    poisonText.map((p): Case => ({ call: "fetchFile", input: { instanceId: ids.http, path: `/files/${p}` } })),
    on("fetchFile", ids.http, file, "maxBytes", notNumber),
    on("fetchFile", ids.http, file, "timeoutMillis", notNumber)
  )
}

const calls: Record<string, Call> = {
  runQuery: (a, i) => a.runQuery(i as never),
  executeDdl: (a, i) => a.executeDdl(i as never),
  getSchema: (a, i) => a.getSchema(i as never),
  sendEmail: (a, i) => a.sendEmail(i as never),
  sendSms: (a, i) => a.sendSms(i as never),
  fetchFile: (a, i) => a.fetchFile(i as never, Sink.drain)
}

/** Instances whose peer is a closed port on 127.0.0.1. */
const setup = Effect.gen(function* () {
  const base = "http://127.0.0.1:1"
  const http = yield* connect(
    "http-api",
    "bounded http",
    { base_url: base, timeout_ms: 5000 },
    { token: "tok-abcdef" },
    "bearer"
  )
  const sms = yield* connect(
    "twilio-sms",
    "bounded sms",
    { base_url: base, sms_from: "+15550000000", timeout_ms: 5000 },
    { username: "AC1", password: "tok-abcdef" }
  )
  return { http, sms }
})

describe("bad input to activities", () => {
  it.effect(
    "is ActivityRejected from decoding: no defect, no retryable error (300 inputs)",
    () =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const ids = yield* setup
        const inputs = fc.sample(cases(ids), { numRuns: 300, seed: 13 })
        const failures: Array<string> = []
        for (const { call, input } of inputs) {
          const exit = yield* Effect.exit(calls[call]!(activities, input))
          const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
          const ok =
            Option.isSome(error) &&
            (error.value as { readonly _tag?: string })._tag === "ActivityRejected" &&
            (error.value as { readonly retryable?: boolean }).retryable === false &&
            String((error.value as { readonly reason?: string }).reason).startsWith("Invalid input")
          if (!ok)
            failures.push(
              `${call} ${Object.keys(input).join(",")}: ${Exit.isFailure(exit) ? Cause.pretty(exit.cause).slice(0, 200) : "succeeded"}`
            )
        }
        assert.strictEqual(inputs.length, 300)
        assert.deepStrictEqual(failures.slice(0, 5), [])
      }).pipe(Effect.provide(Layer.fresh(activitiesLayer()))),
    { timeout: 300_000 }
  )

  it.effect.prop(
    "any string as SQL, reason or SMS body ends in a typed answer, never a defect",
    [fc.string({ unit: "binary", maxLength: 64 }), fc.constantFrom("runQuery", "sendSms", "fetchFile")],
    ([text, call]) =>
      Effect.gen(function* () {
        const activities = yield* Activities.Activities
        const input =
          call === "runQuery"
            ? { instanceId: "0190c000-0000-7000-8000-000000000001", sql: text }
            : call === "sendSms"
              ? { instanceId: "0190c000-0000-7000-8000-000000000001", to: "+15551234567", body: text }
              : { instanceId: "0190c000-0000-7000-8000-000000000001", path: `/${text}` }
        const exit = yield* Effect.exit(calls[call]!(activities, input))
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) {
          assert.isFalse(Cause.isDie(exit.cause))
          const error = Cause.failureOption(exit.cause)
          assert.isTrue(Option.isSome(error))
          if (Option.isSome(error))
            assert.strictEqual((error.value as { readonly _tag: string })._tag, "ActivityRejected")
        }
      }).pipe(Effect.provide(activitiesLayer())),
    { fastCheck: { numRuns: 200 } }
  )
})
