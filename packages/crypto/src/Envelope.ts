/**
 * Envelope encryption of credential payloads. Each version gets a fresh random 256-bit data key;
 * the payload is encrypted with AES-256-GCM under it (96-bit random nonce), and the data key is
 * itself encrypted with AES-256-GCM under the keyring's primary key. Both layers authenticate the
 * row they belong to (credential id, instance id, scope type, scope id), so a ciphertext copied
 * onto another row does not open.
 *
 * @since 0.1.0
 */
import { createCipheriv, createDecipheriv } from "node:crypto"
import { Credential, DomainError } from "@patchbay/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { randomBytes } from "./internal/osRandom.js"
import { Keyring } from "./Keyring.js"

/**
 * What a ciphertext is bound to: the row it belongs to.
 *
 * @since 0.1.0
 */
export interface Aad {
  readonly credentialId: string
  readonly instanceId: string
  readonly scopeType: string
  readonly scopeId: string
}

/**
 * The binding of a stored credential version.
 *
 * @since 0.1.0
 */
export const aadOf = (metadata: {
  readonly id: string
  readonly instanceId: string
  readonly scope: { readonly type: string; readonly id: string }
}): Aad => ({
  credentialId: metadata.id,
  instanceId: metadata.instanceId,
  scopeType: metadata.scope.type,
  scopeId: metadata.scope.id
})

/**
 * @since 0.1.0
 */
export interface EnvelopeShape {
  /** Encrypts a payload under a fresh data key wrapped by the primary key. */
  readonly seal: (plaintext: Redacted.Redacted<Uint8Array>, aad: Aad) => Effect.Effect<Credential.SealedSecret>
  /**
   * Decrypts a payload. Any change to the sealed bytes, the key id or the binding, and a key the
   * keyring lacks, fail with `CredentialCorrupted`.
   */
  readonly open: (
    sealed: Credential.SealedSecret,
    aad: Aad
  ) => Effect.Effect<Redacted.Redacted<Uint8Array>, DomainError.CredentialCorrupted>
  /**
   * Re-wraps the data key under the current primary key, leaving nonce and ciphertext as they are;
   * returns the input unchanged when it is already wrapped by the primary.
   */
  readonly rewrap: (
    sealed: Credential.SealedSecret,
    aad: Aad
  ) => Effect.Effect<Credential.SealedSecret, DomainError.CredentialCorrupted>
}

/**
 * @since 0.1.0
 */
export class Envelope extends Context.Tag("@patchbay/crypto/Envelope")<Envelope, EnvelopeShape>() {}

const algorithm = "aes-256-gcm"
const nonceLength = 12
const tagLength = 16
const dataKeyLength = 32
/** The first byte of a wrapped key names its format. */
const formatVersion = 1
const wrappedLength = 1 + nonceLength + dataKeyLength + tagLength
const trusted = { disableValidation: true } as const

/** The row's fields as one unambiguous JSON array, shared by both authenticated layers. */
const bindingOf = (aad: Aad): string => JSON.stringify([aad.credentialId, aad.instanceId, aad.scopeType, aad.scopeId])

/** What the payload layer authenticates: the format tag and the row. */
const payloadAad = (binding: string): Buffer => Buffer.from(`patchbay.payload.v1${binding}`)

/** What the key-wrapping layer authenticates: the format tag, the key id and the row. */
const wrapAad = (keyId: string, binding: string): Buffer =>
  Buffer.from(`patchbay.wrap.v1${JSON.stringify(keyId)}${binding}`)

const wrap = (kek: Uint8Array, keyId: string, dataKey: Uint8Array, binding: string): Uint8Array => {
  const nonce = randomBytes(nonceLength)
  const cipher = createCipheriv(algorithm, kek, nonce)
  cipher.setAAD(wrapAad(keyId, binding))
  const out = Buffer.allocUnsafe(wrappedLength)
  out[0] = formatVersion
  nonce.copy(out, 1)
  cipher.update(dataKey).copy(out, 1 + nonceLength)
  cipher.final()
  cipher.getAuthTag().copy(out, 1 + nonceLength + dataKeyLength)
  return out
}

/** Throws when authentication fails: callers turn that into `CredentialCorrupted`. */
const unwrap = (kek: Uint8Array, keyId: string, wrapped: Uint8Array, binding: string): Buffer => {
  const decipher = createDecipheriv(algorithm, kek, wrapped.subarray(1, 1 + nonceLength), { authTagLength: tagLength })
  decipher.setAAD(wrapAad(keyId, binding))
  decipher.setAuthTag(wrapped.subarray(1 + nonceLength + dataKeyLength))
  const dataKey = decipher.update(wrapped.subarray(1 + nonceLength, 1 + nonceLength + dataKeyLength))
  decipher.final()
  return dataKey
}

/**
 * Options of `fromKeyring` and `layerWith`.
 *
 * @since 0.1.0
 */
export interface EnvelopeOptions {
  /**
   * How many data keys `open` keeps unwrapped (default 1024; 0 turns the cache off); when full,
   * the cache is emptied and refills with the keys in use. A hit saves one AES-GCM operation on the resolver's hot path. Entries
   * are keyed by key id, wrapped key and binding, so a changed or moved row never hits; they hold
   * nothing the key-encryption keys in the same process would not reveal.
   */
  readonly dataKeyCache?: number | undefined
}

/**
 * Envelope encryption with the given keyring's keys.
 *
 * @since 0.1.0
 */
export const fromKeyring = (keyring: Keyring["Type"], options: EnvelopeOptions = {}): EnvelopeShape => {
  const cacheSize = Math.max(0, Math.floor(options.dataKeyCache ?? 1024))
  /** Unwrapped data keys by key id, wrapped key and binding. */
  const cache = new Map<string, { readonly keyId: string; readonly binding: string; readonly key: Buffer }>()
  const keks = new Map<string, Uint8Array>()
  for (const id of keyring.ids) {
    const key = keyring.key(id)
    if (key._tag === "Some") keks.set(id, Redacted.value(key.value))
  }
  const primaryId = keyring.primary
  const primary = keks.get(primaryId)!

  const corrupted = (aad: Aad, detail: string) =>
    Either.left(new DomainError.CredentialCorrupted({ credentialId: aad.credentialId, detail }))

  /** The data key of a sealed secret, after checking its shape and key id. */
  const dataKeyOf = (
    sealed: Credential.SealedSecret,
    aad: Aad,
    binding: string
  ): Either.Either<Buffer, DomainError.CredentialCorrupted> => {
    const kek = keks.get(sealed.keyId)
    if (kek === undefined) return corrupted(aad, `sealed under key ${sealed.keyId}, which the keyring does not hold`)
    const wrapped = sealed.wrappedKey
    if (wrapped.length !== wrappedLength || wrapped[0] !== formatVersion) {
      return corrupted(aad, "unknown envelope format")
    }
    try {
      return Either.right(unwrap(kek, sealed.keyId, wrapped, binding))
    } catch {
      return corrupted(aad, "the data key failed authentication")
    }
  }

  const open = (
    sealed: Credential.SealedSecret,
    aad: Aad
  ): Either.Either<Redacted.Redacted<Uint8Array>, DomainError.CredentialCorrupted> => {
    const wrapped = sealed.wrappedKey
    if (
      sealed.nonce.length !== nonceLength ||
      sealed.ciphertext.length < tagLength ||
      wrapped.length !== wrappedLength ||
      wrapped[0] !== formatVersion
    ) {
      return corrupted(aad, "unknown envelope format")
    }
    const binding = bindingOf(aad)
    // Keyed by the wrapped key (unique per version: it holds a random nonce and a tag); the key id
    // and binding are compared on a hit, so a moved or relabelled row never uses a cached key.
    const cacheKey =
      cacheSize === 0 ? "" : Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength).toString("latin1")
    const entry = cacheSize === 0 ? undefined : cache.get(cacheKey)
    let dataKey =
      entry !== undefined && entry.keyId === sealed.keyId && entry.binding === binding ? entry.key : undefined
    if (dataKey === undefined) {
      const unwrapped = dataKeyOf(sealed, aad, binding)
      if (Either.isLeft(unwrapped)) return Either.left(unwrapped.left)
      dataKey = unwrapped.right
      if (cacheSize > 0) {
        // Emptied when full rather than evicted one by one: deleting from the front of a Map
        // leaves holes that make every later eviction slower.
        if (cache.size >= cacheSize) {
          for (const cached of cache.values()) cached.key.fill(0)
          cache.clear()
        }
        cache.set(cacheKey, { keyId: sealed.keyId, binding, key: dataKey })
      }
    }
    try {
      const decipher = createDecipheriv(algorithm, dataKey, sealed.nonce, { authTagLength: tagLength })
      decipher.setAAD(payloadAad(binding))
      const split = sealed.ciphertext.length - tagLength
      decipher.setAuthTag(sealed.ciphertext.subarray(split))
      const plaintext = decipher.update(sealed.ciphertext.subarray(0, split))
      decipher.final()
      return Either.right(Redacted.make<Uint8Array>(plaintext))
    } catch {
      return corrupted(aad, "the payload failed authentication")
    } finally {
      if (cacheSize === 0) dataKey.fill(0)
    }
  }

  const seal = (plaintext: Redacted.Redacted<Uint8Array>, aad: Aad): Credential.SealedSecret => {
    const dataKey = randomBytes(dataKeyLength)
    const nonce = randomBytes(nonceLength)
    const binding = bindingOf(aad)
    const cipher = createCipheriv(algorithm, dataKey, nonce)
    cipher.setAAD(payloadAad(binding))
    const body = cipher.update(Redacted.value(plaintext))
    cipher.final()
    const ciphertext = Buffer.concat([body, cipher.getAuthTag()])
    const wrappedKey = wrap(primary, primaryId, dataKey, binding)
    dataKey.fill(0)
    return new Credential.SealedSecret({ keyId: primaryId, wrappedKey, nonce, ciphertext }, trusted)
  }

  const rewrap = (
    sealed: Credential.SealedSecret,
    aad: Aad
  ): Either.Either<Credential.SealedSecret, DomainError.CredentialCorrupted> => {
    if (sealed.keyId === primaryId) return Either.right(sealed)
    const binding = bindingOf(aad)
    const dataKey = dataKeyOf(sealed, aad, binding)
    if (Either.isLeft(dataKey)) return Either.left(dataKey.left)
    const wrappedKey = wrap(primary, primaryId, dataKey.right, binding)
    dataKey.right.fill(0)
    return Either.right(
      new Credential.SealedSecret(
        { keyId: primaryId, wrappedKey, nonce: sealed.nonce, ciphertext: sealed.ciphertext },
        trusted
      )
    )
  }

  return Envelope.of({
    seal: (plaintext, aad) => Effect.sync(() => seal(plaintext, aad)),
    open: (sealed, aad) => Effect.suspend(() => open(sealed, aad)),
    rewrap: (sealed, aad) => Effect.suspend(() => rewrap(sealed, aad))
  })
}

/**
 * Envelope encryption with the keys of the `Keyring`.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<Envelope, never, Keyring> = Layer.effect(
  Envelope,
  Effect.map(Keyring, (keyring) => fromKeyring(keyring))
)

/**
 * Envelope encryption with the keys of the `Keyring` and the given options.
 *
 * @since 0.1.0
 */
export const layerWith = (options: EnvelopeOptions): Layer.Layer<Envelope, never, Keyring> =>
  Layer.effect(
    Envelope,
    Effect.map(Keyring, (keyring) => fromKeyring(keyring, options))
  )
