import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Option, Schema } from "effect"
import * as Idempotency from "../src/Idempotency.js"
import * as Ids from "../src/Ids.js"
import * as Transactions from "../src/Transactions.js"

const decodeKey = Schema.decodeUnknownEither(Idempotency.IdempotencyKey)

describe("Idempotency", () => {
  it("keys are 1 to 255 printable ASCII characters", () => {
    for (const good of ["a", " x ", "run-42/step-3", "~".repeat(255)]) {
      assert.isTrue(Either.isRight(decodeKey(good)), good)
    }
    for (const bad of ["", "k".repeat(256), "tab\t", "line\n", "nul\u0000", "é", "\ud800", 42, null]) {
      assert.isTrue(Either.isLeft(decodeKey(bad)), JSON.stringify(bad))
    }
  })

  it("a fingerprint ignores key order and undefined fields, and tells operations and values apart", () => {
    const request = { name: "a", configuration: { port: 5432, host: "db" }, at: new Date(0), gone: undefined }
    const same = Idempotency.fingerprint("op", {
      at: new Date(0),
      configuration: { host: "db", port: 5432 },
      name: "a"
    })
    assert.strictEqual(Idempotency.fingerprint("op", request), same)
    assert.match(same, /^v1:[A-Za-z0-9_-]{43}$/)
    assert.notStrictEqual(Idempotency.fingerprint("other", request), same)
    assert.notStrictEqual(
      Idempotency.fingerprint("op", { ...request, configuration: { host: "db", port: "5432" } }),
      same
    )
    assert.notStrictEqual(Idempotency.fingerprint("op", { ...request, at: new Date(1) }), same)
  })

  it.effect("a claim and its result are undone with a failed unit of the memory transactions", () =>
    Effect.gen(function* () {
      const keys = yield* Idempotency.IdempotencyKeys
      const transactions = yield* Transactions.Transactions
      const at = new Date()
      const claim: Idempotency.Claim = {
        orgId: yield* Ids.make(Ids.OrgId),
        operation: "test",
        key: Idempotency.IdempotencyKey.make("k"),
        fingerprint: "f1",
        at,
        expiresAt: new Date(at.getTime() + 1000)
      }
      const failed = yield* Effect.exit(
        transactions.run(
          Effect.zipRight(
            Effect.zipRight(keys.claim(claim), keys.complete(claim, { id: 1 })),
            Effect.fail("write failed" as const)
          )
        )
      )
      assert.isTrue(failed._tag === "Failure")
      assert.isTrue(Option.isNone(yield* transactions.run(keys.claim({ ...claim, fingerprint: "f2" }))))
      yield* transactions.run(keys.complete({ ...claim, fingerprint: "f2" }, { id: 2 }))
      assert.deepStrictEqual(yield* keys.claim(claim), Option.some({ fingerprint: "f2", result: { id: 2 } }))
      // Past its expiry the record no longer counts.
      const later = new Date(at.getTime() + 1000)
      assert.isTrue(Option.isNone(yield* keys.claim({ ...claim, at: later, expiresAt: new Date(later.getTime() + 1) })))
    }).pipe(Effect.provide([Idempotency.layerMemory, Transactions.layerMemory]))
  )
})
