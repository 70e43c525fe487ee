/**
 * The pool's admission (`internal/admission.ts`) without a database: permits, the wait bound on
 * the test clock, nesting, and interruption.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, TestClock } from "effect"
import * as Admission from "../src/internal/admission.js"

/** Holds a permit of `admission` until `release` completes; `inside` completes once it holds it. */
const holder = (admission: Admission.Admission) =>
  Effect.gen(function* () {
    const inside = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    const fiber = yield* Effect.fork(
      admission.admit("hold", Effect.zipRight(Deferred.succeed(inside, undefined), Deferred.await(release)))
    )
    yield* Deferred.await(inside)
    return { fiber, release: Deferred.succeed(release, undefined) }
  })

describe("Admission", () => {
  it.effect("lets as many operations in as there are connections; the next waits, then fails typed at the bound", () =>
    Effect.gen(function* () {
      const admission = Admission.bounded(2, "2 seconds")
      const a = yield* holder(admission)
      const b = yield* holder(admission)
      const waiting = yield* Effect.fork(Effect.either(admission.admit("third", Effect.succeed("ran"))))
      yield* TestClock.adjust("1999 millis")
      assert.isNull(waiting.unsafePoll())
      yield* TestClock.adjust("1 millis")
      const result = yield* Fiber.join(waiting)
      assert.isTrue(result._tag === "Left" && result.left._tag === "StorageError")
      if (result._tag === "Left") {
        assert.strictEqual(result.left.operation, "third")
        assert.include(
          result.left.message,
          "pool exhausted: none of its 2 connections came free within 2s (poolTimeout)"
        )
        assert.isTrue(result.left.retryable)
      }
      yield* a.release
      yield* b.release
      yield* Fiber.join(a.fiber)
      yield* Fiber.join(b.fiber)
    })
  )

  it.effect("hands a freed permit to a waiter, and runs nested operations on the permit already held", () =>
    Effect.gen(function* () {
      const admission = Admission.bounded(1, "2 seconds")
      const a = yield* holder(admission)
      const waiting = yield* Effect.fork(admission.admit("second", Effect.succeed("ran")))
      yield* a.release
      assert.strictEqual(yield* Fiber.join(waiting), "ran")
      // With one connection, an operation inside an admitted one must not wait for a second permit.
      const nested = admission.admit("outer", admission.admit("inner", Effect.succeed("nested")))
      assert.strictEqual(yield* nested, "nested")
      // `released` opts out: inside a held permit it queues like any other operation.
      const queued = yield* Effect.fork(
        Effect.either(admission.admit("outer", Admission.released(admission.admit("inner", Effect.void))))
      )
      yield* TestClock.adjust("2 seconds")
      const result = yield* Fiber.join(queued)
      assert.isTrue(result._tag === "Left" && result.left._tag === "StorageError")
    })
  )

  it.effect("an interrupted waiter or holder gives nothing away: the permit comes back", () =>
    Effect.gen(function* () {
      const admission = Admission.bounded(1, "10 seconds")
      const a = yield* holder(admission)
      const waiting = yield* Effect.fork(admission.admit("waiter", Effect.succeed("never")))
      yield* Effect.yieldNow()
      const interrupted = yield* Fiber.interrupt(waiting)
      assert.isTrue(Exit.isInterrupted(interrupted))
      // The holder is interrupted too, while it holds the permit.
      assert.isTrue(Exit.isInterrupted(yield* Fiber.interrupt(a.fiber)))
      assert.strictEqual(yield* admission.admit("after", Effect.succeed("free")), "free")
    })
  )
})
