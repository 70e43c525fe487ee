/**
 * The keyring: key-encryption keys (KEKs) with ids, one of them primary. New data keys are wrapped
 * by the primary; older keys stay in the ring until rotation has re-wrapped every data key they
 * sealed.
 *
 * @since 0.1.0
 */
import { CredentialRepository, type DomainError } from "@patchbay/core"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { randomBytes } from "./internal/osRandom.js"

/**
 * Length in bytes of every key-encryption key (AES-256).
 *
 * @since 0.1.0
 */
export const keyLength = 32

/**
 * A key id: 1–64 characters of letters, digits, `.`, `_` and `-`. Stored with every credential.
 *
 * @since 0.1.0
 */
export const KeyId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9._-]{1,64}$/, {
    message: () => "a key id is 1 to 64 characters of letters, digits, '.', '_' and '-'"
  })
)

/**
 * The keyring's configuration is unusable: a malformed id, a key that is not 32 bytes, a duplicate
 * id, or a primary that is not in the ring. The message never contains key material.
 *
 * @since 0.1.0
 */
export class InvalidKeyring extends Schema.TaggedError<InvalidKeyring>("@patchbay/crypto/InvalidKeyring")(
  "InvalidKeyring",
  { detail: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return `Invalid keyring: ${this.detail}`
  }
}

/**
 * Stored credentials are sealed under keys the keyring does not hold. Found at start-up by
 * `verify`, so a missing key never surprises an activity later.
 *
 * @since 0.1.0
 */
export class MissingKey extends Schema.TaggedError<MissingKey>("@patchbay/crypto/MissingKey")("MissingKey", {
  keyIds: Schema.Array(Schema.String)
}) {
  readonly retryable = false
  override get message(): string {
    return `Stored credentials are sealed under key${this.keyIds.length === 1 ? "" : "s"} ${this.keyIds.join(", ")}, which the keyring does not hold; add ${this.keyIds.length === 1 ? "it" : "them"} to the keyring (PATCHBAY_KEYRING)`
  }
}

/**
 * @since 0.1.0
 */
export interface KeyringShape {
  /** The id of the key that wraps new data keys. */
  readonly primary: string
  /** Every key id in the ring, primary included. */
  readonly ids: ReadonlyArray<string>
  /** A key's material, if the ring holds it. */
  readonly key: (id: string) => Option.Option<Redacted.Redacted<Uint8Array>>
}

/**
 * @since 0.1.0
 */
export class Keyring extends Context.Tag("@patchbay/crypto/Keyring")<Keyring, KeyringShape>() {}

/**
 * One key of a keyring: its id and 32 bytes of material, raw or base64 (standard or URL-safe).
 *
 * @since 0.1.0
 */
export interface KeyInput {
  readonly id: string
  readonly key: Redacted.Redacted<Uint8Array | string>
}

/**
 * Options of `build` and `layer`.
 *
 * @since 0.1.0
 */
export interface KeyringOptions {
  readonly keys: ReadonlyArray<KeyInput>
  readonly primary: string
}

const isKeyId = Schema.is(KeyId)
const base64 = /^[A-Za-z0-9+/_-]+={0,2}$/

/**
 * Decodes key material: raw bytes or base64 of exactly 32 bytes. The error names the key by `name`
 * (an id or a position), never the material.
 *
 * @since 0.1.0
 */
export const decodeKey = (name: string, material: Uint8Array | string): Either.Either<Uint8Array, string> => {
  let bytes: Uint8Array
  if (typeof material === "string") {
    const text = material.trim()
    if (!base64.test(text)) return Either.left(`key ${name} is not base64`)
    bytes = Buffer.from(text, text.includes("-") || text.includes("_") ? "base64url" : "base64")
  } else {
    bytes = material
  }
  return bytes.length === keyLength
    ? Either.right(Uint8Array.from(bytes))
    : Either.left(`key ${name} must be ${keyLength} bytes (base64 of 32 random bytes), got ${bytes.length}`)
}

/** Key ids up to this length are shown in messages; a longer one could be misplaced key material. */
const shownIdLength = 16

/** How a message names a key: its id when that cannot be key material, else its position. */
const nameOf = (id: string, index: number): string => (isKeyId(id) && id.length <= shownIdLength ? id : `#${index + 1}`)

/**
 * Builds a keyring, checking every id and key and that the primary is in the ring. Messages name
 * keys by id (or by position, when the id is malformed or long enough to be key material) and
 * never contain key material.
 *
 * @since 0.1.0
 */
export const build = (options: KeyringOptions): Either.Either<KeyringShape, InvalidKeyring> => {
  const keys = new Map<string, Redacted.Redacted<Uint8Array>>()
  const names: Array<string> = []
  const fail = (detail: string) => Either.left(new InvalidKeyring({ detail }))
  if (options.keys.length === 0) return fail("it holds no key")
  for (const [index, { id, key }] of options.keys.entries()) {
    const name = nameOf(id, index)
    if (!isKeyId(id)) return fail(`the id of key ${name} is not a valid key id (1-64 of A-Z a-z 0-9 . _ -)`)
    if (keys.has(id)) return fail(`key id ${name} appears twice`)
    const decoded = decodeKey(name, Redacted.value(key))
    if (Either.isLeft(decoded)) return fail(decoded.left)
    keys.set(id, Redacted.make(decoded.right))
    names.push(name)
  }
  if (!keys.has(options.primary)) {
    const primary = isKeyId(options.primary) && options.primary.length <= shownIdLength ? `${options.primary} ` : ""
    return fail(`the primary key id ${primary}is not one of the ring's keys (${names.join(", ")})`)
  }
  return Either.right(
    Keyring.of({
      primary: options.primary,
      ids: [...keys.keys()],
      key: (id) => Option.fromNullable(keys.get(id))
    })
  )
}

/**
 * A keyring from explicit keys.
 *
 * @since 0.1.0
 */
export const layer = (options: KeyringOptions): Layer.Layer<Keyring, InvalidKeyring> =>
  Layer.effect(
    Keyring,
    Effect.suspend(() => build(options))
  )

/**
 * Parses the `id:base64,id:base64` form of a keyring. Whitespace around entries is ignored.
 *
 * @since 0.1.0
 */
export const parseKeyList = (text: string): Either.Either<ReadonlyArray<KeyInput>, string> => {
  const keys: Array<KeyInput> = []
  for (const entry of text.split(",")) {
    const trimmed = entry.trim()
    if (trimmed === "") continue
    const colon = trimmed.indexOf(":")
    if (colon <= 0) return Either.left(`entry ${keys.length + 1} is not of the form id:base64`)
    keys.push({ id: trimmed.slice(0, colon).trim(), key: Redacted.make(trimmed.slice(colon + 1).trim()) })
  }
  return Either.right(keys)
}

/**
 * The keyring's configuration: `PATCHBAY_KEYRING` (`id:base64,id:base64`, read as a redacted
 * value) and `PATCHBAY_PRIMARY_KEY_ID`. Anything invalid is a `ConfigError` naming the variable
 * and the key id, never the material.
 *
 * @since 0.1.0
 */
export const config: Config.Config<KeyringShape> = Config.all({
  keys: Config.redacted("PATCHBAY_KEYRING"),
  primary: Config.string("PATCHBAY_PRIMARY_KEY_ID")
}).pipe(
  Config.mapOrFail(({ keys, primary }) => {
    const parsed = parseKeyList(Redacted.value(keys))
    if (Either.isLeft(parsed)) return Either.left(ConfigError.InvalidData(["PATCHBAY_KEYRING"], parsed.left))
    return Either.mapLeft(build({ keys: parsed.right, primary }), (error) =>
      ConfigError.InvalidData(["PATCHBAY_KEYRING"], error.message)
    )
  })
)

/**
 * A keyring read from configuration (see `config`).
 *
 * @since 0.1.0
 */
export const layerConfig: Layer.Layer<Keyring, ConfigError.ConfigError> = Layer.effect(Keyring, config)

/**
 * A keyring of one fresh random key, for tests and throw-away experiments: whatever it sealed is
 * unreadable after the process ends.
 *
 * @since 0.1.0
 */
export const layerEphemeral = (id = "ephemeral"): Layer.Layer<Keyring> =>
  Layer.sync(Keyring, () => {
    const key = Redacted.make<Uint8Array>(randomBytes(keyLength))
    return Keyring.of({ primary: id, ids: [id], key: (wanted) => (wanted === id ? Option.some(key) : Option.none()) })
  })

/**
 * Checks at start-up that every key id referenced by stored credentials is in the ring; fails with
 * `MissingKey` naming the ids that are not.
 *
 * @since 0.1.0
 */
export const verify: Effect.Effect<
  void,
  MissingKey | DomainError.StorageError,
  Keyring | CredentialRepository.CredentialRepository
> = Effect.gen(function* () {
  const keyring = yield* Keyring
  const repository = yield* CredentialRepository.CredentialRepository
  const referenced = yield* repository.keyIds
  const missing = referenced.filter((id) => Option.isNone(keyring.key(id))).sort()
  if (missing.length > 0) return yield* new MissingKey({ keyIds: missing })
}).pipe(Effect.withSpan("Keyring.verify"))

/**
 * `verify` as a layer: compose it into the host's start-up so the application does not start with
 * an incomplete keyring.
 *
 * @since 0.1.0
 */
export const layerVerify = Layer.effectDiscard(verify)
