/**
 * Retention: `WebhookWorker.prune` (and `run`, once per `pruneInterval`) deletes delivered rows
 * after `deliveredRetention` and dead letters after `deadRetention`, on the memory layers; time is
 * the `TestClock`'s (set to the wall clock once, so the receiver accepts the signatures).
 */
import { assert, describe, it } from "@effect/vitest"
import { EgressPolicy, WebhookStore } from "@patchbay/core"
import { Credentials } from "@patchbay/credentials"
import { Chunk, Clock, Duration, Effect, Fiber, Layer, Schedule, TestClock } from "effect"
import { WebhookSubscriptions, WebhookWorker } from "../src/index.js"
import { as, connector, lifeOfAnInstance } from "./support/fixtures.js"
import { Receiver } from "./support/receiver.js"

const orgA = "0190a000-0000-7000-8000-00000000000a"

const stack = WebhookSubscriptions.layer.pipe(
  Layer.provideMerge(WebhookStore.layerMemory),
  Layer.provideMerge(EgressPolicy.layer({ allowLoopback: true })),
  Layer.provideMerge(Credentials.layerMemory([connector]))
)

const statuses = Effect.flatMap(WebhookSubscriptions.WebhookSubscriptions, (s) => s.deliveries()).pipe(
  Effect.map((rows) => rows.map((row) => row.status).sort()),
  as(orgA)
)

/** Three delivered rows (one receiver accepts) and three dead letters (the other refuses). */
const delivered3dead3 = Effect.gen(function* () {
  yield* TestClock.setTime(Date.now())
  for (const receiver of [yield* Receiver.make(() => 204), yield* Receiver.make(() => 500)]) {
    const created = yield* Effect.flatMap(WebhookSubscriptions.WebhookSubscriptions, (s) =>
      s.create({ url: receiver.url })
    ).pipe(as(orgA))
    receiver.secrets = [created.secret]
  }
  yield* lifeOfAnInstance(orgA, "kept")
  assert.strictEqual(yield* WebhookWorker.drain({ maxAttempts: 1 }), 6)
  assert.deepStrictEqual(yield* statuses, ["dead", "dead", "dead", "delivered", "delivered", "delivered"])
})

describe("retention", () => {
  it.effect("delivered rows go after 7 days, dead letters after 30 (the defaults)", () =>
    Effect.gen(function* () {
      yield* delivered3dead3
      yield* TestClock.adjust("7 days")
      assert.strictEqual(yield* WebhookWorker.prune(), 0)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* WebhookWorker.prune(), 3)
      assert.deepStrictEqual(yield* statuses, ["dead", "dead", "dead"])
      yield* TestClock.adjust(Duration.subtract(Duration.days(23), Duration.millis(1)))
      assert.strictEqual(yield* WebhookWorker.prune(), 0)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* WebhookWorker.prune(), 3)
      assert.deepStrictEqual(yield* statuses, [])
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  it.effect("an infinite retention keeps that kind forever", () =>
    Effect.gen(function* () {
      yield* delivered3dead3
      yield* TestClock.adjust("3650 days")
      assert.strictEqual(yield* WebhookWorker.prune({ deadRetention: Duration.infinity }), 3)
      assert.deepStrictEqual(yield* statuses, ["dead", "dead", "dead"])
      assert.strictEqual(
        yield* WebhookWorker.prune({ deliveredRetention: Duration.infinity, deadRetention: Duration.infinity }),
        0
      )
      assert.strictEqual(yield* WebhookWorker.prune({ deliveredRetention: "1 hour" }), 3)
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  it.effect("run prunes on its first step, then at most once per pruneInterval", () =>
    Effect.gen(function* () {
      yield* delivered3dead3
      const options = { deliveredRetention: "1 hour", deadRetention: "1 hour", pruneInterval: "1 day" } as const
      // Two steps, 2 hours apart: the first prunes (nothing is an hour old yet), the second finds
      // every row past its retention but the interval not elapsed.
      const running = yield* Effect.fork(
        WebhookWorker.run(Schedule.recurs(1).pipe(Schedule.addDelay(() => Duration.hours(2))), options)
      )
      // Each of the three loops waits for its second step (the TestClock lists every sleep).
      const secondStep = (yield* Clock.currentTimeMillis) + Duration.toMillis(Duration.hours(2))
      yield* Effect.yieldNow().pipe(
        Effect.zipRight(TestClock.sleeps()),
        Effect.repeat({ until: (sleeps) => Chunk.size(Chunk.filter(sleeps, (at) => at === secondStep)) === 3 })
      )
      yield* TestClock.adjust("2 hours")
      yield* Fiber.join(running)
      assert.strictEqual((yield* statuses).length, 6)
      // Another process (or a restarted one) prunes on its first step.
      yield* WebhookWorker.run(Schedule.recurs(0), options)
      assert.deepStrictEqual(yield* statuses, [])
    }).pipe(Effect.scoped, Effect.provide(stack))
  )
})
