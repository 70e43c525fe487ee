import { randomBytes } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, FastCheck as fc, Option } from "effect"
import * as Keyring from "../src/Keyring.js"

const fromEnv = (env: Record<string, string>) =>
  Keyring.Keyring.pipe(
    Effect.provide(Keyring.layerConfig),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.either
  )

/** Every 12-character window of the material: a message holding any of them quotes key material. */
const windows = (material: string) =>
  Array.from({ length: Math.max(1, material.length - 11) }, (_, i) => material.slice(i, i + 12))

/** Key material: 16 to 64 random bytes (a key is 32), as base64, base64url or hex. */
const material = fc
  .tuple(fc.integer({ min: 16, max: 64 }), fc.constantFrom("base64", "base64url", "hex"))
  .map(([length, encoding]) => randomBytes(length).toString(encoding as BufferEncoding))

/** Ways a person misplaces key material in `PATCHBAY_KEYRING` and `PATCHBAY_PRIMARY_KEY_ID`. */
const misplaced = fc.tuple(material, fc.integer({ min: 0, max: 7 })).map(([key, shape]) => {
  const good = randomBytes(32).toString("base64")
  const envs: Array<Record<string, string>> = [
    { PATCHBAY_KEYRING: `${key}:k1`, PATCHBAY_PRIMARY_KEY_ID: "k1" },
    { PATCHBAY_KEYRING: `k1:${key}`, PATCHBAY_PRIMARY_KEY_ID: "k1" },
    { PATCHBAY_KEYRING: `k1:${good}`, PATCHBAY_PRIMARY_KEY_ID: key },
    { PATCHBAY_KEYRING: `k1:${good},${key}`, PATCHBAY_PRIMARY_KEY_ID: "k1" },
    { PATCHBAY_KEYRING: `k1:${good},k 2:${key}`, PATCHBAY_PRIMARY_KEY_ID: "k1" },
    { PATCHBAY_KEYRING: `${key}:${key}`, PATCHBAY_PRIMARY_KEY_ID: key },
    { PATCHBAY_KEYRING: `k1 ${key}`, PATCHBAY_PRIMARY_KEY_ID: "k1" },
    { PATCHBAY_KEYRING: `k1:${key}*`, PATCHBAY_PRIMARY_KEY_ID: "k1" }
  ]
  return { key, env: envs[shape]! }
})

describe("a refused keyring never quotes key material", () => {
  it.effect.prop(
    "PATCHBAY_KEYRING and PATCHBAY_PRIMARY_KEY_ID with misplaced material",
    [misplaced],
    ([{ env, key }]) =>
      Effect.gen(function* () {
        const result = yield* fromEnv(env)
        if (Either.isRight(result)) return
        const message = String(Option.getOrThrow(Either.getLeft(result)))
        assert.include(message, "PATCHBAY_KEYRING")
        if (key.length >= 12) for (const window of windows(key)) assert.notInclude(message, window)
      }),
    { fastCheck: { numRuns: 400 } }
  )

  it.effect("names a misplaced key by position", () =>
    Effect.gen(function* () {
      const key = randomBytes(32).toString("base64url")
      const result = yield* fromEnv({ PATCHBAY_KEYRING: `${key}:k1`, PATCHBAY_PRIMARY_KEY_ID: "k1" })
      const message = String(Option.getOrThrow(Either.getLeft(result)))
      assert.include(message, "key #1")
      assert.notInclude(message, key)
    })
  )
})
