/**
 * The workspace runs a patched `effect` (patches/effect@3.22.4.patch): `Effect.async` forgets the
 * fiber's resume once it has been called, so that a finished fiber and its result are not kept
 * through young-generation GCs (docs/benchmarks.md). These tests pin that the patch keeps the
 * semantics every driver relies on: the first resume wins, later ones are ignored, whether the
 * register resumes synchronously or later, and interruption still runs the canceler.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"

describe("Effect.async (patched)", () => {
  it.effect("a synchronous resume is delivered, and a second one ignored", () =>
    Effect.gen(function* () {
      const value = yield* Effect.async<number>((resume) => {
        resume(Effect.succeed(1))
        resume(Effect.succeed(2))
      })
      assert.strictEqual(value, 1)
    })
  )

  it.live("a later resume is delivered once; calls after it change nothing", () =>
    Effect.gen(function* () {
      let calls = 0
      const value = yield* Effect.async<number, string>((resume) => {
        setImmediate(() => {
          calls++
          resume(Effect.succeed(1))
          resume(Effect.fail("too late"))
          setImmediate(() => resume(Effect.succeed(3)))
        })
      })
      yield* Effect.sleep("5 millis")
      assert.strictEqual(value, 1)
      assert.strictEqual(calls, 1)
    })
  )

  it.live("the same effect value runs twice with fresh state", () =>
    Effect.gen(function* () {
      let next = 0
      const once = Effect.async<number>((resume) => {
        const value = ++next
        setImmediate(() => resume(Effect.succeed(value)))
      })
      assert.deepStrictEqual(yield* Effect.all([once, once]), [1, 2])
    })
  )

  it.live("interruption runs the canceler and a resume after it is ignored", () =>
    Effect.gen(function* () {
      const cancelled = yield* Deferred.make<void>()
      let resumeLater: ((effect: Effect.Effect<number>) => void) | undefined
      const fiber = yield* Effect.fork(
        Effect.async<number>((resume) => {
          resumeLater = resume
          return Deferred.succeed(cancelled, undefined)
        })
      )
      yield* Effect.yieldNow()
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      assert.isTrue(yield* Deferred.isDone(cancelled))
      resumeLater?.(Effect.succeed(1))
      assert.isTrue(Exit.isInterrupted(yield* Fiber.await(fiber)))
    })
  )
})
