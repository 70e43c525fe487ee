/**
 * Envelope encryption of credential payloads. Each version gets a fresh random 256-bit data key;
 * the payload is encrypted with AES-256-GCM under it (96-bit random nonce), and the data key is
 * itself encrypted with AES-256-GCM under the keyring's primary key. Both layers authenticate the
 * row they belong to, so a ciphertext copied onto another row does not open: envelope format 2
 * binds credential id, organization, instance, scope type and id, expiry and creation time;
 * format 1 (rows sealed before it) binds only credential id, instance and scope.
 *
 * The mutable state of a version (revocation, supersession) is authenticated by a state MAC:
 * HMAC-SHA256 under a key derived (HKDF-SHA256) from the version's own data key, so it needs the
 * keyring to forge, survives key rotation (re-wrapping keeps the data key) and never verifies on
 * another row.
 *
 * @since 0.1.0
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from "node:crypto"
import { Credential, DomainError } from "@patchbay/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { randomBytes } from "./internal/osRandom.js"
import { Keyring } from "./Keyring.js"

/**
 * What a ciphertext is bound to: the row it belongs to. With `orgId`, `expiresAt` and `createdAt`
 * all given, `seal` writes envelope format 2, which binds them too; without them, format 1.
 * `open` reads each format with the binding it was sealed with.
 *
 * @since 0.1.0
 */
export interface Aad {
  readonly credentialId: string
  readonly instanceId: string
  readonly scopeType: string
  readonly scopeId: string
  readonly orgId?: string | undefined
  readonly expiresAt?: Date | null | undefined
  readonly createdAt?: Date | undefined
}

/**
 * The binding of a stored credential version (format 2 when the organization, expiry and creation
 * time are given, as they are for every stored version).
 *
 * @since 0.1.0
 */
export const aadOf = (metadata: {
  readonly id: string
  readonly instanceId: string
  readonly scope: { readonly type: string; readonly id: string }
  readonly orgId?: string | undefined
  readonly expiresAt?: Date | null | undefined
  readonly createdAt?: Date | undefined
}): Aad => ({
  credentialId: metadata.id,
  instanceId: metadata.instanceId,
  scopeType: metadata.scope.type,
  scopeId: metadata.scope.id,
  orgId: metadata.orgId,
  expiresAt: metadata.expiresAt,
  createdAt: metadata.createdAt
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
  /**
   * The state MAC of `state` (see `Credential.authenticatedState`) for the version sealed as
   * `sealed`: keyed by its data key, so only the keyring's holder computes it.
   */
  readonly stateMac: (
    sealed: Credential.SealedSecret,
    aad: Aad,
    state: string
  ) => Effect.Effect<string, DomainError.CredentialCorrupted>
  /**
   * Checks a stored state MAC; fails with `CredentialCorrupted` when it does not match `state`,
   * and when it is missing from a version sealed in format 2 (only format 1 versions, stored before
   * state was authenticated, may have none).
   */
  readonly verifyState: (
    sealed: Credential.SealedSecret,
    aad: Aad,
    state: string,
    mac: string | null
  ) => Effect.Effect<void, DomainError.CredentialCorrupted>
}

/**
 * @since 0.1.0
 */
export class Envelope extends Context.Tag("@patchbay/crypto/Envelope")<Envelope, EnvelopeShape>() {}

const algorithm = "aes-256-gcm"
const nonceLength = 12
const tagLength = 16
const dataKeyLength = 32
/**
 * The first byte of a wrapped key names its format, and with it the binding both layers
 * authenticate. The byte itself is not under a tag, but each format's binding text starts with its
 * own tag, so a row relabelled from one format to the other fails authentication.
 */
type Format = 1 | 2
const currentFormat: Format = 2
const wrappedLength = 1 + nonceLength + dataKeyLength + tagLength
const trusted = { disableValidation: true } as const
const stateMacPrefix = "v1:"
/** The HKDF info of the state MAC key, derived from a version's data key. */
const macInfo = Buffer.from("patchbay.state-mac.v1")

const formatOf = (wrapped: Uint8Array): Format | undefined =>
  wrapped.length !== wrappedLength ? undefined : wrapped[0] === 1 ? 1 : wrapped[0] === 2 ? 2 : undefined

const millis = (date: Date | null | undefined): number | null | undefined =>
  date === null || date === undefined ? date : date.getTime()

/**
 * The row's fields as one unambiguous JSON array, shared by both authenticated layers; undefined
 * when a format 2 binding lacks a field.
 */
const bindingOf = (aad: Aad, format: Format): string | undefined => {
  if (format === 1) return JSON.stringify([aad.credentialId, aad.instanceId, aad.scopeType, aad.scopeId])
  if (aad.orgId === undefined || aad.expiresAt === undefined || aad.createdAt === undefined) return undefined
  return `v2${JSON.stringify([aad.credentialId, aad.orgId, aad.instanceId, aad.scopeType, aad.scopeId, millis(aad.expiresAt), millis(aad.createdAt)])}`
}

/** The format `seal` writes for a binding: 2 when every field of it is given. */
const sealFormat = (aad: Aad): Format =>
  aad.orgId !== undefined && aad.expiresAt !== undefined && aad.createdAt !== undefined ? currentFormat : 1

/** What the payload layer authenticates: the format tag and the row. */
const payloadAad = (binding: string): Buffer => Buffer.from(`patchbay.payload.v1${binding}`)

/** What the key-wrapping layer authenticates: the format tag, the key id and the row. */
const wrapAad = (keyId: string, binding: string): Buffer =>
  Buffer.from(`patchbay.wrap.v1${JSON.stringify(keyId)}${binding}`)

const wrap = (kek: Uint8Array, keyId: string, dataKey: Uint8Array, binding: string, format: Format): Uint8Array => {
  const nonce = randomBytes(nonceLength)
  const cipher = createCipheriv(algorithm, kek, nonce)
  cipher.setAAD(wrapAad(keyId, binding))
  const out = Buffer.allocUnsafe(wrappedLength)
  out[0] = format
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
  /** Unwrapped data keys (and state MAC keys derived from them) by key id, wrapped key and binding. */
  const cache = new Map<
    string,
    {
      readonly keyId: string
      readonly binding: string
      readonly key: Buffer
      macKey: Buffer | undefined
      /** The last state and MAC that verified under this key (state, NUL, MAC). */
      verified: string | undefined
    }
  >()
  const keks = new Map<string, Uint8Array>()
  for (const id of keyring.ids) {
    const key = keyring.key(id)
    if (key._tag === "Some") keks.set(id, Redacted.value(key.value))
  }
  const primaryId = keyring.primary
  const primary = keks.get(primaryId)!

  const corrupted = (aad: Aad, detail: string) =>
    Either.left(new DomainError.CredentialCorrupted({ credentialId: aad.credentialId, detail }))

  /** The data key of a sealed secret, after checking its key id. */
  const dataKeyOf = (
    sealed: Credential.SealedSecret,
    aad: Aad,
    binding: string
  ): Either.Either<Buffer, DomainError.CredentialCorrupted> => {
    const kek = keks.get(sealed.keyId)
    if (kek === undefined) return corrupted(aad, `sealed under key ${sealed.keyId}, which the keyring does not hold`)
    try {
      return Either.right(unwrap(kek, sealed.keyId, sealed.wrappedKey, binding))
    } catch {
      return corrupted(aad, "the data key failed authentication")
    }
  }

  /** The format and binding of a sealed secret, after checking its shape. */
  const bindingFor = (
    sealed: Credential.SealedSecret,
    aad: Aad
  ): Either.Either<{ readonly format: Format; readonly binding: string }, DomainError.CredentialCorrupted> => {
    const format = formatOf(sealed.wrappedKey)
    if (format === undefined) return corrupted(aad, "unknown envelope format")
    const binding = bindingOf(aad, format)
    if (binding === undefined) return corrupted(aad, "the binding of a format 2 envelope is incomplete")
    return Either.right({ format, binding })
  }

  /**
   * The cached entry of a sealed secret's data key, unwrapping it on a miss. Keyed by the wrapped
   * key (unique per version: it holds a random nonce and a tag); the key id and binding are
   * compared on a hit, so a moved or relabelled row never uses a cached key. With the cache off,
   * the entry is the caller's to wipe.
   */
  const entryOf = (sealed: Credential.SealedSecret, aad: Aad, binding: string) => {
    const wrapped = sealed.wrappedKey
    const cacheKey =
      cacheSize === 0 ? "" : Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength).toString("latin1")
    const entry = cacheSize === 0 ? undefined : cache.get(cacheKey)
    if (entry !== undefined && entry.keyId === sealed.keyId && entry.binding === binding) return Either.right(entry)
    const unwrapped = dataKeyOf(sealed, aad, binding)
    if (Either.isLeft(unwrapped)) return Either.left(unwrapped.left)
    const fresh = {
      keyId: sealed.keyId,
      binding,
      key: unwrapped.right,
      macKey: undefined as Buffer | undefined,
      verified: undefined as string | undefined
    }
    if (cacheSize > 0) {
      // Emptied when full rather than evicted one by one: deleting from the front of a Map
      // leaves holes that make every later eviction slower.
      if (cache.size >= cacheSize) {
        for (const cached of cache.values()) {
          cached.key.fill(0)
          cached.macKey?.fill(0)
        }
        cache.clear()
      }
      cache.set(cacheKey, fresh)
    }
    return Either.right(fresh)
  }

  const wipe = (entry: { readonly key: Buffer; readonly macKey: Buffer | undefined }) => {
    if (cacheSize === 0) {
      entry.key.fill(0)
      entry.macKey?.fill(0)
    }
  }

  const open = (
    sealed: Credential.SealedSecret,
    aad: Aad
  ): Either.Either<Redacted.Redacted<Uint8Array>, DomainError.CredentialCorrupted> => {
    if (sealed.nonce.length !== nonceLength || sealed.ciphertext.length < tagLength) {
      return corrupted(aad, "unknown envelope format")
    }
    const bound = bindingFor(sealed, aad)
    if (Either.isLeft(bound)) return Either.left(bound.left)
    const entry = entryOf(sealed, aad, bound.right.binding)
    if (Either.isLeft(entry)) return Either.left(entry.left)
    try {
      const decipher = createDecipheriv(algorithm, entry.right.key, sealed.nonce, { authTagLength: tagLength })
      decipher.setAAD(payloadAad(bound.right.binding))
      const split = sealed.ciphertext.length - tagLength
      decipher.setAuthTag(sealed.ciphertext.subarray(split))
      const plaintext = decipher.update(sealed.ciphertext.subarray(0, split))
      decipher.final()
      return Either.right(Redacted.make<Uint8Array>(plaintext))
    } catch {
      return corrupted(aad, "the payload failed authentication")
    } finally {
      wipe(entry.right)
    }
  }

  const seal = (plaintext: Redacted.Redacted<Uint8Array>, aad: Aad): Credential.SealedSecret => {
    const format = sealFormat(aad)
    const binding = bindingOf(aad, format)!
    const dataKey = randomBytes(dataKeyLength)
    const nonce = randomBytes(nonceLength)
    const cipher = createCipheriv(algorithm, dataKey, nonce)
    cipher.setAAD(payloadAad(binding))
    const body = cipher.update(Redacted.value(plaintext))
    cipher.final()
    const ciphertext = Buffer.concat([body, cipher.getAuthTag()])
    const wrappedKey = wrap(primary, primaryId, dataKey, binding, format)
    dataKey.fill(0)
    return new Credential.SealedSecret({ keyId: primaryId, wrappedKey, nonce, ciphertext }, trusted)
  }

  const rewrap = (
    sealed: Credential.SealedSecret,
    aad: Aad
  ): Either.Either<Credential.SealedSecret, DomainError.CredentialCorrupted> => {
    if (sealed.keyId === primaryId) return Either.right(sealed)
    const bound = bindingFor(sealed, aad)
    if (Either.isLeft(bound)) return Either.left(bound.left)
    const dataKey = dataKeyOf(sealed, aad, bound.right.binding)
    if (Either.isLeft(dataKey)) return Either.left(dataKey.left)
    const wrappedKey = wrap(primary, primaryId, dataKey.right, bound.right.binding, bound.right.format)
    dataKey.right.fill(0)
    return Either.right(
      new Credential.SealedSecret(
        { keyId: primaryId, wrappedKey, nonce: sealed.nonce, ciphertext: sealed.ciphertext },
        trusted
      )
    )
  }

  /** The state MAC of `state` under the MAC key of a data key's cache entry. */
  const macWith = (entry: { readonly key: Buffer; macKey: Buffer | undefined }, state: string): Buffer => {
    const macKey = entry.macKey ?? Buffer.from(hkdfSync("sha256", entry.key, Buffer.alloc(0), macInfo, 32))
    if (cacheSize > 0) entry.macKey = macKey
    const mac = createHmac("sha256", macKey).update(state).digest()
    wipe({ key: entry.key, macKey })
    return mac
  }

  const stateMac = (
    sealed: Credential.SealedSecret,
    aad: Aad,
    state: string
  ): Either.Either<string, DomainError.CredentialCorrupted> => {
    const bound = bindingFor(sealed, aad)
    if (Either.isLeft(bound)) return Either.left(bound.left)
    const entry = entryOf(sealed, aad, bound.right.binding)
    if (Either.isLeft(entry)) return Either.left(entry.left)
    return Either.right(`${stateMacPrefix}${macWith(entry.right, state).toString("base64url")}`)
  }

  const verifyState = (
    sealed: Credential.SealedSecret,
    aad: Aad,
    state: string,
    stored: string | null
  ): Either.Either<void, DomainError.CredentialCorrupted> => {
    const bound = bindingFor(sealed, aad)
    if (Either.isLeft(bound)) return Either.left(bound.left)
    const entry = entryOf(sealed, aad, bound.right.binding)
    if (Either.isLeft(entry)) return Either.left(entry.left)
    if (stored === null) {
      wipe(entry.right)
      return bound.right.format === 1 ? Either.void : corrupted(aad, "the version's state is not authenticated")
    }
    // The resolver's hot path: the state and MAC this data key last verified need no second HMAC.
    const seen = `${state}\u0000${stored}`
    if (entry.right.verified === seen) return Either.void
    const computed = macWith(entry.right, state)
    const given = stored.startsWith(stateMacPrefix)
      ? Buffer.from(stored.slice(stateMacPrefix.length), "base64url")
      : Buffer.alloc(0)
    if (given.length !== computed.length || !timingSafeEqual(given, computed)) {
      return corrupted(aad, "the version's state failed authentication")
    }
    if (cacheSize > 0) entry.right.verified = seen
    return Either.void
  }

  return Envelope.of({
    seal: (plaintext, aad) => Effect.sync(() => seal(plaintext, aad)),
    open: (sealed, aad) => Effect.suspend(() => open(sealed, aad)),
    rewrap: (sealed, aad) => Effect.suspend(() => rewrap(sealed, aad)),
    stateMac: (sealed, aad, state) => Effect.suspend(() => stateMac(sealed, aad, state)),
    verifyState: (sealed, aad, state, mac) => Effect.suspend(() => verifyState(sealed, aad, state, mac))
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
