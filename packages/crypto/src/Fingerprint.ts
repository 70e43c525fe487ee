/**
 * Account fingerprints: a keyed HMAC-SHA256 of the fields that identify an external account (the
 * descriptor's `accountFields`, from configuration and credentials), canonicalised so that
 * spellings of the same account agree. Stored per instance and unique per connector type and
 * organization; without the fingerprint key they reveal nothing about the account.
 *
 * @since 0.1.0
 */
import { createHmac } from "node:crypto"
import type { ConnectorDescriptor } from "@patchbay/core"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { randomBytes } from "./internal/osRandom.js"
import { decodeKey, InvalidKeyring } from "./Keyring.js"

/**
 * The values an account is identified by: the instance's stored configuration and the credential
 * plaintext in its encoded form.
 *
 * @since 0.1.0
 */
export interface AccountValues {
  readonly configuration: Readonly<Record<string, unknown>>
  readonly credentials: Redacted.Redacted<Readonly<Record<string, unknown>>>
}

/**
 * @since 0.1.0
 */
export interface FingerprintShape {
  /**
   * The account's fingerprint (`v1:` and 43 characters of base64url), or null when the descriptor
   * names no account fields or none of them has a value.
   */
  readonly account: (
    descriptor: ConnectorDescriptor.ConnectorDescriptor,
    values: AccountValues
  ) => Effect.Effect<string | null>
}

/**
 * @since 0.1.0
 */
export class Fingerprint extends Context.Tag("@patchbay/crypto/Fingerprint")<Fingerprint, FingerprintShape>() {}

/** Field names whose values are host names: compared case-insensitively, without a trailing dot. */
const hostField = /(host|hostname|domain|server)$/i
/** Field names whose values are e-mail addresses: compared case-insensitively. */
const emailField = /e-?mail$/i

const canonicalValue = (field: string, value: unknown): unknown => {
  if (value === null || value === undefined) return null
  if (typeof value === "string") {
    const text = value.normalize("NFKC").trim()
    if (hostField.test(field)) return text.toLowerCase().replace(/\.$/, "")
    if (emailField.test(field)) return text.toLowerCase()
    return text
  }
  if (typeof value === "number") return Object.is(value, -0) ? "0" : String(value)
  if (typeof value === "bigint" || typeof value === "boolean") return String(value)
  if (Array.isArray(value)) return value.map((item) => canonicalValue(field, item))
  if (typeof value === "object") {
    return Object.keys(value)
      .sort()
      .map((key) => [key, canonicalValue(key, (value as Record<string, unknown>)[key])])
  }
  return String(value)
}

/**
 * The credential field that states who signed in (an OAuth2 token set's account: issuer and
 * subject, or token endpoint and client id). A descriptor that lists it among its `accountFields`
 * is fingerprinted by it alone whenever the credentials hold it, so that two accounts at one base
 * URL differ; `null` states that the account is unknown, and an unknown account never clashes.
 *
 * @since 0.1.0
 */
export const accountIdentityField = "account_identity"

/**
 * The canonical text that is fingerprinted: the connector id and the account fields in name order,
 * each value trimmed and NFKC-normalised, numbers and booleans as strings (`5432` = `"5432"`), host
 * fields (`…host`, `…domain`, `…server`) lower-cased without a trailing dot, e-mail fields
 * lower-cased. Credential values win over configuration values of the same name. Null when no
 * account field has a value. Credentials holding {@link accountIdentityField} (when the descriptor
 * lists it) are identified by that value alone, or by nothing when it is null.
 *
 * @since 0.1.0
 */
export const canonical = (
  descriptor: ConnectorDescriptor.ConnectorDescriptor,
  values: {
    readonly configuration: Readonly<Record<string, unknown>>
    readonly credentials: Readonly<Record<string, unknown>>
  }
): string | null => {
  if (
    descriptor.accountFields.includes(accountIdentityField) &&
    Object.hasOwn(values.credentials, accountIdentityField)
  ) {
    const identity = canonicalValue(accountIdentityField, values.credentials[accountIdentityField])
    if (identity === null || identity === "") return null
    return JSON.stringify(["patchbay.account.v1", descriptor.id, [[accountIdentityField, identity]]])
  }
  const fields = [...new Set(descriptor.accountFields)].sort()
  const entries = fields.map((field) => {
    const raw = Object.hasOwn(values.credentials, field) ? values.credentials[field] : values.configuration[field]
    return [field, canonicalValue(field, raw)] as const
  })
  if (entries.every(([, value]) => value === null || value === "")) return null
  return JSON.stringify(["patchbay.account.v1", descriptor.id, entries])
}

/**
 * Fingerprints under the given HMAC key.
 *
 * @since 0.1.0
 */
export const fromKey = (key: Redacted.Redacted<Uint8Array>): FingerprintShape => {
  const material = Redacted.value(key)
  return Fingerprint.of({
    account: (descriptor, values) =>
      Effect.sync(() => {
        const text = canonical(descriptor, {
          configuration: values.configuration,
          credentials: Redacted.value(values.credentials)
        })
        return text === null ? null : `v1:${createHmac("sha256", material).update(text).digest("base64url")}`
      })
  })
}

/**
 * Fingerprints under an explicit key (32 bytes, raw or base64).
 *
 * @since 0.1.0
 */
export const layer = (options: {
  readonly key: Redacted.Redacted<Uint8Array | string>
}): Layer.Layer<Fingerprint, InvalidKeyring> =>
  Layer.effect(
    Fingerprint,
    Effect.suspend(() =>
      Either.match(decodeKey("fingerprint", Redacted.value(options.key)), {
        onLeft: (detail) => Effect.fail(new InvalidKeyring({ detail })),
        onRight: (bytes) => Effect.succeed(fromKey(Redacted.make(bytes)))
      })
    )
  )

/**
 * The fingerprint key from configuration: `PATCHBAY_FINGERPRINT_KEY` (base64 of 32 bytes, read as a
 * redacted value). It must differ from every keyring key and never change: a new key gives every
 * account a new fingerprint, so duplicates stored before the change go unnoticed.
 *
 * @since 0.1.0
 */
export const config: Config.Config<FingerprintShape> = Config.redacted("PATCHBAY_FINGERPRINT_KEY").pipe(
  Config.mapOrFail((key) =>
    Either.match(decodeKey("fingerprint", Redacted.value(key)), {
      onLeft: (detail) => Either.left(ConfigError.InvalidData(["PATCHBAY_FINGERPRINT_KEY"], detail)),
      onRight: (bytes) => Either.right(fromKey(Redacted.make(bytes)))
    })
  )
)

/**
 * Fingerprints with the key from configuration (see `config`).
 *
 * @since 0.1.0
 */
export const layerConfig: Layer.Layer<Fingerprint, ConfigError.ConfigError> = Layer.effect(Fingerprint, config)

/**
 * Fingerprints under a fresh random key, for tests.
 *
 * @since 0.1.0
 */
export const layerEphemeral: Layer.Layer<Fingerprint> = Layer.sync(Fingerprint, () =>
  fromKey(Redacted.make<Uint8Array>(randomBytes(32)))
)
