import { assert, describe, it } from "@effect/vitest"
import { Effect, Ref } from "effect"
import * as RefreshLock from "../src/RefreshLock.js"

describe("RefreshLock.layerMemory", () => {
  it.live("excludes holders of one key and not of another", () =>
    Effect.gen(function* () {
      const lock = yield* RefreshLock.RefreshLock
      const inside = yield* Ref.make(0)
      const maxInside = yield* Ref.make(0)
      const critical = Effect.gen(function* () {
        const now = yield* Ref.updateAndGet(inside, (n) => n + 1)
        yield* Ref.update(maxInside, (m) => Math.max(m, now))
        yield* Effect.yieldNow()
        yield* Effect.sleep("1 millis")
        yield* Ref.update(inside, (n) => n - 1)
      })
      yield* Effect.all(
        Array.from({ length: 20 }, () => lock.withLock("credential-a", critical)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(yield* Ref.get(maxInside), 1)

      yield* Ref.set(maxInside, 0)
      yield* Effect.all(
        Array.from({ length: 20 }, (_, i) => lock.withLock(`credential-${i}`, critical)),
        { concurrency: "unbounded" }
      )
      assert.isAbove(yield* Ref.get(maxInside), 1)
    }).pipe(Effect.provide(RefreshLock.layerMemory))
  )

  it.live("releases the lock when the holder fails", () =>
    Effect.gen(function* () {
      const lock = yield* RefreshLock.RefreshLock
      const failed = yield* Effect.flip(lock.withLock("k", Effect.fail("boom" as const)))
      assert.strictEqual(failed, "boom")
      assert.strictEqual(yield* lock.withLock("k", Effect.succeed(1)).pipe(Effect.timeout("1 second")), 1)
    }).pipe(Effect.provide(RefreshLock.layerMemory))
  )
})
