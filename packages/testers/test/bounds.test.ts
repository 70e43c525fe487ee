/** Bad bulk ids and timeouts are InvalidInput (not retryable), never a defect or a hang. */
import { assert, describe, it } from "@effect/vitest"
import { Actor } from "@patchbay/core"
import { Credentials } from "@patchbay/credentials"
import { Cause, Effect, Exit, FastCheck as fc, Layer, Option } from "effect"
import * as ConnectionTester from "../src/ConnectionTester.js"

const TestLayer = ConnectionTester.layer.pipe(
  Layer.provideMerge(Credentials.layerMemory([])),
  Layer.provideMerge(Actor.layer({ orgId: "0190a000-0000-7000-8000-00000000000a" }))
)

const badId = fc.oneof(
  fc.string().map((s) => `${s}\u0000`),
  fc.string().map((s) => `\ud800${s}`),
  fc.constant("x".repeat(100_000)),
  fc.constantFrom<unknown>(42, null, {}, [])
)
const badTimeout = fc.constantFrom<unknown>(Number.NaN, Number.POSITIVE_INFINITY, -1, "soon", {}, { millis: 5 }, [1])

describe("bounds", () => {
  it.effect.prop(
    "a bad id or timeout in a bulk operation is InvalidInput, not retryable",
    [
      fc.oneof(
        badId.map((id) => ({ id })),
        badTimeout.map((timeout) => ({ timeout }))
      )
    ],
    ([bad]) =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const request = {
          instanceIds: ["0190c000-0000-7000-8000-000000000001", ...("id" in bad ? [bad.id] : [])],
          action: "health_check",
          ...("timeout" in bad ? { timeout: bad.timeout } : {})
        }
        const exit = yield* Effect.exit(tester.bulkOperation(request as never))
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) {
          assert.isFalse(Cause.isDie(exit.cause))
          const error = Cause.failureOption(exit.cause)
          assert.isTrue(Option.isSome(error) && error.value._tag === "InvalidInput" && error.value.retryable === false)
        }
      }).pipe(Effect.provide(TestLayer)),
    { fastCheck: { numRuns: 200 } }
  )
})
