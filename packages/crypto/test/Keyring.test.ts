import { randomBytes } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { CredentialRepository } from "@patchbay/core"
import { ConfigProvider, Effect, Either, Layer, Option, Redacted } from "effect"
import * as Keyring from "../src/Keyring.js"
import { aad, credentialId, envelopeOf, freshKey, newCredential, utf8 } from "./fixtures.js"

const fromEnv = (env: Record<string, string>) =>
  Effect.gen(function* () {
    return yield* Keyring.Keyring
  }).pipe(
    Effect.provide(Keyring.layerConfig),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.either
  )

describe("Keyring", () => {
  it.effect("reads ids, keys and the primary from configuration", () =>
    Effect.gen(function* () {
      const k1 = freshKey()
      const k2 = randomBytes(32).toString("base64url")
      const result = yield* fromEnv({ PATCHBAY_KEYRING: ` old:${k1} , new:${k2}`, PATCHBAY_PRIMARY_KEY_ID: "new" })
      assert.isTrue(Either.isRight(result))
      const keyring = Either.getOrThrow(result)
      assert.strictEqual(keyring.primary, "new")
      assert.deepStrictEqual(keyring.ids, ["old", "new"])
      const key = Option.getOrThrow(keyring.key("old"))
      assert.deepStrictEqual(Buffer.from(Redacted.value(key)).toString("base64"), k1)
      assert.isTrue(Option.isNone(keyring.key("other")))
      assert.notInclude(String(key), k1)
    })
  )

  it.effect("refuses keys that are not 32 bytes, naming the id and never the material", () =>
    Effect.gen(function* () {
      const short = randomBytes(31).toString("base64")
      const result = yield* fromEnv({ PATCHBAY_KEYRING: `k1:${freshKey()},k2:${short}`, PATCHBAY_PRIMARY_KEY_ID: "k1" })
      assert.isTrue(Either.isLeft(result))
      const message = String(Either.getLeft(result).pipe(Option.getOrThrow))
      assert.include(message, "PATCHBAY_KEYRING")
      assert.include(message, "key k2 must be 32 bytes")
      assert.notInclude(message, short)
    })
  )

  it.effect("refuses a primary outside the ring, duplicates, bad ids and bad base64", () =>
    Effect.gen(function* () {
      const key = freshKey()
      const cases: Array<[Record<string, string>, string]> = [
        [{ PATCHBAY_KEYRING: `k1:${key}`, PATCHBAY_PRIMARY_KEY_ID: "k2" }, "primary key id k2"],
        [{ PATCHBAY_KEYRING: `k1:${key},k1:${freshKey()}`, PATCHBAY_PRIMARY_KEY_ID: "k1" }, "appears twice"],
        [{ PATCHBAY_KEYRING: `k 1:${key}`, PATCHBAY_PRIMARY_KEY_ID: "k 1" }, "not a valid key id"],
        [{ PATCHBAY_KEYRING: "k1:not*base64", PATCHBAY_PRIMARY_KEY_ID: "k1" }, "key k1 is not base64"],
        [{ PATCHBAY_KEYRING: key, PATCHBAY_PRIMARY_KEY_ID: "k1" }, "id:base64"],
        [{ PATCHBAY_KEYRING: "", PATCHBAY_PRIMARY_KEY_ID: "k1" }, "holds no key"],
        [{ PATCHBAY_KEYRING: `k1:${key}` }, "PATCHBAY_PRIMARY_KEY_ID"]
      ]
      for (const [env, expected] of cases) {
        const result = yield* fromEnv(env)
        assert.isTrue(Either.isLeft(result), expected)
        assert.include(String(Either.getLeft(result).pipe(Option.getOrThrow)), expected)
      }
    })
  )

  it.effect("layer refuses invalid keys with InvalidKeyring", () =>
    Effect.gen(function* () {
      const result = yield* Effect.either(
        Layer.build(Keyring.layer({ keys: [{ id: "k1", key: Redacted.make(new Uint8Array(16)) }], primary: "k1" }))
      )
      assert.isTrue(Either.isLeft(result))
      const error = Option.getOrThrow(Either.getLeft(result))
      assert.strictEqual(error._tag, "InvalidKeyring")
      assert.include(error.message, "got 16")
    }).pipe(Effect.scoped)
  )

  it.effect("verify names every key id that stored credentials need and the ring lacks", () =>
    Effect.gen(function* () {
      const repository = yield* CredentialRepository.CredentialRepository
      const k0 = freshKey()
      const k1 = freshKey()
      for (const [n, keyId, key] of [
        [1, "k0", k0],
        [2, "k1", k1],
        [3, "k1", k1]
      ] as const) {
        const sealed = yield* envelopeOf({ [keyId]: key }, keyId).seal(utf8("x"), aad(credentialId(n)))
        yield* repository.insert(newCredential(credentialId(n), sealed))
      }
      const verify = (keys: Record<string, string>, primary: string) =>
        Keyring.verify.pipe(
          Effect.provide(
            Keyring.layer({
              keys: Object.entries(keys).map(([id, key]) => ({ id, key: Redacted.make(key) })),
              primary
            })
          ),
          Effect.either
        )
      const lacking = yield* verify({ k1 }, "k1")
      assert.isTrue(Either.isLeft(lacking))
      const error = Option.getOrThrow(Either.getLeft(lacking))
      assert.strictEqual(error._tag, "MissingKey")
      assert.deepStrictEqual(error._tag === "MissingKey" ? error.keyIds : [], ["k0"])
      assert.include(error.message, "k0")
      const none = yield* verify({ k2: freshKey() }, "k2")
      assert.deepStrictEqual(
        Either.getLeft(none).pipe(Option.map((e) => (e._tag === "MissingKey" ? e.keyIds : []))),
        Option.some(["k0", "k1"])
      )
      assert.isTrue(Either.isRight(yield* verify({ k0, k1 }, "k1")))
    }).pipe(Effect.provide(CredentialRepository.layerMemory))
  )
})
