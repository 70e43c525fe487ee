/**
 * Masked views of credentials: identifying fields in clear, secret fields masked. Computed once
 * when a version is written, so showing a credential never decrypts it.
 *
 * @since 0.1.0
 */
import type { ConnectorDescriptor } from "@patchbay/core"
import type * as Redacted from "effect/Redacted"
import { value as reveal } from "effect/Redacted"

/**
 * What every masked value starts with.
 *
 * @since 0.1.0
 */
export const bullets = "••••••••"

/** Secrets shorter than this show no suffix at all. */
const minimumForSuffix = 20
/** The longest suffix ever shown. */
const suffixLength = 4
/** Non-secret values are cut to this many characters. */
const maxShown = 200

/**
 * Field names treated as secret even when a descriptor forgets to list them.
 *
 * @since 0.1.0
 */
export const secretLike = /pass|secret|token|private|api_?key|apikey|credential|signature/i

/** Fields whose values are passwords: never a suffix, whatever their length. */
const passwordLike = /pass|pin$/i

/**
 * A secret value's mask: the bullets alone, or for a string of at least 20 characters (an API key,
 * a token) the bullets and its last 4 characters. Passwords (`suffix: false`) never show a suffix.
 * Neither the length nor more of the value shows.
 *
 * @since 0.1.0
 */
export const maskSecret = (value: unknown, options: { readonly suffix?: boolean } = {}): string =>
  options.suffix !== false && typeof value === "string" && value.length >= minimumForSuffix
    ? `${bullets}${value.slice(-suffixLength)}`
    : bullets

/** Strings, numbers and booleans in clear (cut to 200 characters); structures never, as they may nest secrets. */
const show = (value: unknown): string => {
  if (Array.isArray(value)) return "[…]"
  if (typeof value === "object") return "{…}"
  const text = String(value)
  return text.length > maxShown ? `${text.slice(0, maxShown)}…` : text
}

/**
 * Whether a credential field is masked: listed in the descriptor's `secretFields`, or not an
 * account field and named like a secret (`password`, `token`, `api_key`, …).
 *
 * @since 0.1.0
 */
export const isSecretField = (descriptor: ConnectorDescriptor.ConnectorDescriptor, field: string): boolean =>
  descriptor.secretFields.includes(field) || (!descriptor.accountFields.includes(field) && secretLike.test(field))

/**
 * The masked view of credential plaintext (encoded form): one string per field, null and absent
 * fields left out.
 *
 * @since 0.1.0
 */
export const mask = (
  descriptor: ConnectorDescriptor.ConnectorDescriptor,
  credentials: Redacted.Redacted<Readonly<Record<string, unknown>>>
): Record<string, string> => {
  const plaintext = reveal(credentials)
  const masked: Record<string, string> = {}
  for (const field of Object.keys(plaintext).sort()) {
    const value = plaintext[field]
    if (value === null || value === undefined) continue
    masked[field] = isSecretField(descriptor, field)
      ? maskSecret(value, { suffix: !passwordLike.test(field) })
      : show(value)
  }
  return masked
}
