import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as Ids from "../src/Ids.js"

describe("Ids.make", () => {
  it.effect("makes valid UUIDv7s that sort in creation order, also while the clock stands still", () =>
    Effect.gen(function* () {
      const ids = yield* Effect.all(Array.from({ length: 5000 }, () => Ids.make(Ids.InstanceId)))
      assert.isTrue(ids.every(Schema.is(Ids.InstanceId)))
      assert.isTrue(ids.every((id) => id[14] === "7"))
      assert.deepStrictEqual([...ids].sort(), ids)
      assert.strictEqual(new Set(ids).size, ids.length)
    })
  )
})
