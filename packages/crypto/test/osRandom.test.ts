import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Envelope from "../src/Envelope.js"
import { randomBytes } from "../src/internal/osRandom.js"
import { aad, credentialId, envelopeOf, freshKey, utf8 } from "./fixtures.js"

describe("random bytes", () => {
  it("come from the operating system on every call, never twice the same", () => {
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const bytes = randomBytes(12)
      assert.strictEqual(bytes.length, 12)
      seen.add(bytes.toString("hex"))
    }
    assert.strictEqual(seen.size, 2000)
    const big = randomBytes(100_000)
    assert.strictEqual(big.length, 100_000)
    assert.isAbove(new Set(big).size, 250)
  })

  it.effect("every seal has its own data key and nonce", () =>
    Effect.gen(function* () {
      const envelope: Envelope.EnvelopeShape = envelopeOf({ k1: freshKey() }, "k1")
      const nonces = new Set<string>()
      const wrapped = new Set<string>()
      for (let i = 0; i < 500; i++) {
        const sealed = yield* envelope.seal(utf8("same plaintext"), aad(credentialId(1)))
        nonces.add(Buffer.from(sealed.nonce).toString("hex"))
        wrapped.add(Buffer.from(sealed.wrappedKey).toString("hex"))
      }
      assert.strictEqual(nonces.size, 500)
      assert.strictEqual(wrapped.size, 500)
    })
  )
})
