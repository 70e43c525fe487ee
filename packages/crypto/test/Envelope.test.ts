import { assert, describe, it } from "@effect/vitest"
import { Credential } from "@patchbay/core"
import { Cause, Effect, Exit, FastCheck as fc, Redacted } from "effect"
import * as Envelope from "../src/Envelope.js"
import { aad, credentialId, envelopeOf, freshKey, keyring, text, utf8 } from "./fixtures.js"

const k1 = freshKey()
const k2 = freshKey()
const envelope = envelopeOf({ k1, k2 }, "k1")
const secret = JSON.stringify({ username: "readonly_user", password: "s3cur3_p4ssw0rd-very-secret" })

/** The failure of an effect that must fail with CredentialCorrupted (never a defect, never success). */
const corrupted = <A>(effect: Effect.Effect<A, unknown>) =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(effect)
    assert.isTrue(Exit.isFailure(exit), "expected a failure, got plaintext")
    if (Exit.isSuccess(exit)) return undefined as never
    const failure = Cause.failureOption(exit.cause)
    assert.isTrue(failure._tag === "Some", `expected a typed failure, got ${Cause.pretty(exit.cause)}`)
    const error = (failure as { value: { _tag: string; detail: string; message: string } }).value
    assert.strictEqual(error._tag, "CredentialCorrupted")
    return error
  })

const flip = (bytes: Uint8Array, index: number) => {
  const copy = Uint8Array.from(bytes)
  copy[index] = copy[index]! ^ 0x01
  return copy
}

describe("Envelope", () => {
  it.effect("seals and opens under the row's binding", () =>
    Effect.gen(function* () {
      const sealed = yield* envelope.seal(utf8(secret), aad(credentialId(1)))
      assert.strictEqual(sealed.keyId, "k1")
      assert.strictEqual(sealed.nonce.length, 12)
      assert.strictEqual(sealed.wrappedKey.length, 61)
      assert.strictEqual(sealed.ciphertext.length, Buffer.byteLength(secret) + 16)
      assert.isFalse(Buffer.from(sealed.ciphertext).includes(Buffer.from("s3cur3")))
      assert.strictEqual(text(yield* envelope.open(sealed, aad(credentialId(1)))), secret)
    })
  )

  it.effect("uses a fresh data key and nonce for every version", () =>
    Effect.gen(function* () {
      const a = yield* envelope.seal(utf8(secret), aad(credentialId(1)))
      const b = yield* envelope.seal(utf8(secret), aad(credentialId(1)))
      assert.notDeepEqual(a.nonce, b.nonce)
      assert.notDeepEqual(a.wrappedKey, b.wrappedKey)
      assert.notDeepEqual(a.ciphertext, b.ciphertext)
    })
  )

  it.effect("fails with CredentialCorrupted when any byte of wrapped key, nonce or ciphertext changes", () =>
    Effect.gen(function* () {
      const binding = aad(credentialId(2))
      const sealed = yield* envelope.seal(utf8(secret), binding)
      let checked = 0
      for (const field of ["wrappedKey", "nonce", "ciphertext"] as const) {
        for (let i = 0; i < sealed[field].length; i++) {
          const tampered = Credential.SealedSecret.make({ ...sealed, [field]: flip(sealed[field], i) })
          const error = yield* corrupted(envelope.open(tampered, binding))
          assert.strictEqual(error.message.includes("s3cur3"), false)
          checked++
        }
      }
      assert.strictEqual(checked, 61 + 12 + Buffer.byteLength(secret) + 16)
    })
  )

  it.effect("still refuses tampering and moved rows once the data key is cached", () =>
    Effect.gen(function* () {
      const binding = aad(credentialId(11))
      const sealed = yield* envelope.seal(utf8(secret), binding)
      assert.strictEqual(text(yield* envelope.open(sealed, binding)), secret)
      for (const field of ["nonce", "ciphertext"] as const) {
        for (let i = 0; i < sealed[field].length; i += 7) {
          yield* corrupted(
            envelope.open(Credential.SealedSecret.make({ ...sealed, [field]: flip(sealed[field], i) }), binding)
          )
        }
      }
      yield* corrupted(envelope.open(sealed, aad(credentialId(12))))
      yield* corrupted(envelope.open(Credential.SealedSecret.make({ ...sealed, keyId: "k2" }), binding))
      assert.strictEqual(text(yield* envelope.open(sealed, binding)), secret)
    })
  )

  it.effect("works the same without the data-key cache, and evicts beyond its size", () =>
    Effect.gen(function* () {
      for (const size of [0, 2]) {
        const small = Envelope.fromKeyring(keyring({ k1, k2 }, "k1"), { dataKeyCache: size })
        const sealed = yield* Effect.forEach([1, 2, 3, 4], (n) => small.seal(utf8(`secret ${n}`), aad(credentialId(n))))
        for (let round = 0; round < 2; round++) {
          for (const [i, s] of sealed.entries()) {
            assert.strictEqual(text(yield* small.open(s, aad(credentialId(i + 1)))), `secret ${i + 1}`)
          }
        }
        yield* corrupted(small.open(sealed[0]!, aad(credentialId(2))))
      }
    })
  )

  it.effect("refuses a ciphertext copied onto another row, or mixed from two rows", () =>
    Effect.gen(function* () {
      const a = yield* envelope.seal(utf8("secret of row A"), aad(credentialId(3)))
      const b = yield* envelope.seal(utf8("secret of row B"), aad(credentialId(4)))
      yield* corrupted(envelope.open(a, aad(credentialId(4))))
      yield* corrupted(
        envelope.open(
          Credential.SealedSecret.make({ ...b, ciphertext: a.ciphertext, nonce: a.nonce }),
          aad(credentialId(4))
        )
      )
      yield* corrupted(
        envelope.open(Credential.SealedSecret.make({ ...b, wrappedKey: a.wrappedKey }), aad(credentialId(4)))
      )
      assert.strictEqual(text(yield* envelope.open(b, aad(credentialId(4)))), "secret of row B")
    })
  )

  it.effect("binds instance id, scope type and scope id too", () =>
    Effect.gen(function* () {
      const binding = aad(credentialId(5))
      const sealed = yield* envelope.seal(utf8(secret), binding)
      yield* corrupted(envelope.open(sealed, { ...binding, instanceId: "0190a000-0000-7000-8000-0000000000b2" }))
      yield* corrupted(envelope.open(sealed, { ...binding, scopeType: "workspace" }))
      yield* corrupted(envelope.open(sealed, { ...binding, scopeId: "0190a000-0000-7000-8000-0000000000c9" }))
    })
  )

  it.effect("refuses a relabelled or unknown key id, and truncated or empty parts", () =>
    Effect.gen(function* () {
      const binding = aad(credentialId(6))
      const sealed = yield* envelope.seal(utf8(secret), binding)
      yield* corrupted(envelope.open(Credential.SealedSecret.make({ ...sealed, keyId: "k2" }), binding))
      const unknown = yield* corrupted(envelope.open(Credential.SealedSecret.make({ ...sealed, keyId: "k9" }), binding))
      assert.include(unknown.detail, "k9")
      for (const field of ["wrappedKey", "nonce", "ciphertext"] as const) {
        yield* corrupted(
          envelope.open(Credential.SealedSecret.make({ ...sealed, [field]: new Uint8Array(0) }), binding)
        )
        yield* corrupted(
          envelope.open(Credential.SealedSecret.make({ ...sealed, [field]: sealed[field].subarray(1) }), binding)
        )
      }
    })
  )

  it.effect("rewraps the data key under the new primary without touching the payload", () =>
    Effect.gen(function* () {
      const binding = aad(credentialId(7))
      const sealed = yield* envelope.seal(utf8(secret), binding)
      const rotated = envelopeOf({ k1, k2 }, "k2")
      const rewrapped = yield* rotated.rewrap(sealed, binding)
      assert.strictEqual(rewrapped.keyId, "k2")
      assert.deepStrictEqual(rewrapped.nonce, sealed.nonce)
      assert.deepStrictEqual(rewrapped.ciphertext, sealed.ciphertext)
      assert.notDeepEqual(rewrapped.wrappedKey, sealed.wrappedKey)
      assert.strictEqual(yield* rotated.rewrap(rewrapped, binding), rewrapped)
      const onlyK2 = envelopeOf({ k2 }, "k2")
      assert.strictEqual(text(yield* onlyK2.open(rewrapped, binding)), secret)
      const missing = yield* corrupted(onlyK2.open(sealed, binding))
      assert.include(missing.detail, "k1")
      yield* corrupted(rotated.rewrap(sealed, aad(credentialId(8))))
    })
  )

  it.effect.prop(
    "random secrets round-trip exactly",
    [fc.uint8Array({ maxLength: 4096 }), fc.uuid(), fc.constantFrom("organization", "workspace", "user", "agent")],
    ([bytes, scopeId, scopeType]) =>
      Effect.gen(function* () {
        const binding: Envelope.Aad = { ...aad(credentialId(9)), scopeId, scopeType }
        const sealed = yield* envelope.seal(Redacted.make<Uint8Array>(Uint8Array.from(bytes)), binding)
        const opened = Redacted.value(yield* envelope.open(sealed, binding))
        assert.deepStrictEqual(Uint8Array.from(opened), bytes)
      }),
    { fastCheck: { numRuns: 200 } }
  )

  it.effect.prop("random strings round-trip exactly", [fc.string({ unit: "binary", maxLength: 512 })], ([value]) =>
    Effect.gen(function* () {
      const sealed = yield* envelope.seal(utf8(value), aad(credentialId(10)))
      assert.strictEqual(text(yield* envelope.open(sealed, aad(credentialId(10)))), value)
    })
  )
})
