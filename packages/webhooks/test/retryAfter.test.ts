/**
 * `Retry-After` on a 429 or 503: the next attempt is due no earlier than the receiver asked, up to
 * `retryAfterMax`; a malformed, negative or past value, or one on another status, leaves the usual
 * backoff. Time is the `TestClock`'s (set to the wall clock once, so the receiver on 127.0.0.1
 * accepts the signatures' timestamps); assertions are on the stored rows.
 */
import { assert, describe, it } from "@effect/vitest"
import { EgressPolicy, WebhookStore } from "@patchbay/core"
import { Credentials } from "@patchbay/credentials"
import { Clock, Effect, Layer, Option, TestClock } from "effect"
import { WebhookSubscriptions, WebhookWorker } from "../src/index.js"
import * as RetryAfter from "../src/internal/retryAfter.js"
import { as, connector, lifeOfAnInstance } from "./support/fixtures.js"
import { Receiver } from "./support/receiver.js"

const orgA = "0190a000-0000-7000-8000-00000000000a"

const stack = WebhookSubscriptions.layer.pipe(
  Layer.provideMerge(WebhookStore.layerMemory),
  Layer.provideMerge(EgressPolicy.layer({ allowLoopback: true })),
  Layer.provideMerge(Credentials.layerMemory([connector]))
)

/** A receiver answering the first attempt with `status` and `headers`, then 204. */
const receiverAnswering = (status: number, headers: Readonly<Record<string, string>>) =>
  Effect.gen(function* () {
    const receiver = yield* Receiver.make((_, seen) => (seen === 0 ? status : 204))
    receiver.headers = (_, seen) => (seen === 0 ? headers : {})
    const created = yield* Effect.flatMap(WebhookSubscriptions.WebhookSubscriptions, (s) =>
      s.create({ url: receiver.url, eventTypes: ["instance.created"] })
    ).pipe(as(orgA))
    receiver.secrets = [created.secret]
    return receiver
  })

/** The one delivery, after its first attempt. */
const firstAttempt = (options: WebhookWorker.WorkerOptions) =>
  Effect.gen(function* () {
    yield* lifeOfAnInstance(orgA, "retry-after")
    assert.strictEqual(yield* WebhookWorker.drain(options), 1)
    const [row] = yield* Effect.flatMap(WebhookSubscriptions.WebhookSubscriptions, (s) => s.deliveries()).pipe(as(orgA))
    assert.strictEqual(row!.status, "pending")
    assert.strictEqual(row!.attempts, 1)
    return { row: row!, delay: row!.nextAttemptAt.getTime() - row!.updatedAt.getTime() }
  })

/** The TestClock at the wall clock's current whole second. */
const atWallClock = TestClock.setTime(Math.floor(Date.now() / 1000) * 1000)

const immediate = { backoffBase: "0 millis" } as const

describe("Retry-After", () => {
  it.effect("429 with delay-seconds: not claimed before the time asked, then delivered with the same id", () =>
    Effect.gen(function* () {
      yield* atWallClock
      const receiver = yield* receiverAnswering(429, { "Retry-After": "120" })
      const { row, delay } = yield* firstAttempt(immediate)
      assert.strictEqual(row.lastStatus, 429)
      assert.strictEqual(delay, 120_000)
      assert.strictEqual(yield* WebhookWorker.drain(immediate), 0)
      yield* TestClock.adjust("119999 millis")
      assert.strictEqual(yield* WebhookWorker.drain(immediate), 0)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* WebhookWorker.drain(immediate), 1)
      assert.deepStrictEqual(
        receiver.received.map((r) => [r.deliveryId, r.status]),
        [
          [row.id, 429],
          [row.id, 204]
        ]
      )
      const [delivered] = yield* Effect.flatMap(WebhookSubscriptions.WebhookSubscriptions, (s) => s.deliveries()).pipe(
        as(orgA)
      )
      assert.strictEqual(delivered!.status, "delivered")
      assert.strictEqual(delivered!.attempts, 2)
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  it.effect("503 with an HTTP-date: due at that date", () =>
    Effect.gen(function* () {
      yield* atWallClock
      const due = new Date((yield* Clock.currentTimeMillis) + 300_000)
      yield* receiverAnswering(503, { "Retry-After": due.toUTCString() })
      const { row, delay } = yield* firstAttempt(immediate)
      assert.strictEqual(delay, 300_000)
      assert.strictEqual(row.nextAttemptAt.getTime(), due.getTime())
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  it.effect("a wait longer than retryAfterMax is cut to it", () =>
    Effect.gen(function* () {
      yield* atWallClock
      yield* receiverAnswering(429, { "Retry-After": String(10 * 365 * 86_400) })
      const { delay } = yield* firstAttempt({ ...immediate, retryAfterMax: "10 minutes" })
      assert.strictEqual(delay, 600_000)
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  it.effect("by default the wait is cut to backoffMax", () =>
    Effect.gen(function* () {
      yield* atWallClock
      yield* receiverAnswering(503, { "Retry-After": "999999" })
      const { delay } = yield* firstAttempt({ ...immediate, backoffMax: "20 minutes" })
      assert.strictEqual(delay, 1_200_000)
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  for (const [name, status, value] of [
    ["a negative value", 429, "-5"],
    ["garbage", 503, "soon"],
    ["a date already past", 429, "Sun, 06 Nov 1994 08:49:37 GMT"],
    ["a Retry-After on a 500", 500, "3600"]
  ] as const) {
    it.effect(`${name} leaves the usual backoff`, () =>
      Effect.gen(function* () {
        yield* atWallClock
        yield* receiverAnswering(status, { "Retry-After": value })
        const { delay, row } = yield* firstAttempt({ backoffBase: "10 seconds" })
        assert.strictEqual(row.lastStatus, status)
        assert.isAtLeast(delay, 5_000)
        assert.isAtMost(delay, 10_000)
      }).pipe(Effect.scoped, Effect.provide(stack))
    )
  }
})

describe("RetryAfter.delay", () => {
  const now = new Date("2026-12-01T12:00:00.000Z")
  it("reads delay-seconds and the three HTTP-date formats", () => {
    assert.deepStrictEqual(RetryAfter.delay(" 30 ", now), Option.some(30_000))
    assert.deepStrictEqual(RetryAfter.delay("Tue, 01 Dec 2026 12:01:00 GMT", now), Option.some(60_000))
    assert.deepStrictEqual(RetryAfter.delay("Tuesday, 01-Dec-26 12:02:00 GMT", now), Option.some(120_000))
    assert.deepStrictEqual(RetryAfter.delay("Tue Dec  1 12:03:00 2026", now), Option.some(180_000))
  })
  it("refuses what is not one", () => {
    for (const value of [
      undefined,
      "",
      "0",
      "-1",
      "1.5",
      "1e3",
      "tomorrow",
      "Tue, 01 Dec 2026 12:01:00 +0100",
      "Tue, 31 Feb 2026 12:01:00 GMT",
      "2026-12-01T12:01:00Z",
      "Tue, 01 Dec 2026 11:59:00 GMT"
    ]) {
      assert.isTrue(Option.isNone(RetryAfter.delay(value, now)), String(value))
    }
  })
})
