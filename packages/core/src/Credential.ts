/**
 * Stored credentials: metadata anyone permitted may see, and the sealed secret only the vault
 * opens. A credential is write-once: a change is a new version of the same (instance, scope).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { CredentialScope } from "./CredentialScope.js"
import { CredentialId, InstanceId, OrgId } from "./Ids.js"

/**
 * An envelope: the payload encrypted under a fresh data key (AES-256-GCM, `nonce`, `ciphertext`
 * with its tag), and that data key wrapped by the key-encryption key `keyId`.
 *
 * @since 0.1.0
 */
export class SealedSecret extends Schema.Class<SealedSecret>("@patchbay/core/SealedSecret")({
  keyId: Schema.String,
  wrappedKey: Schema.Uint8ArrayFromSelf,
  nonce: Schema.Uint8ArrayFromSelf,
  ciphertext: Schema.Uint8ArrayFromSelf
}) {}

/**
 * Free-form, non-secret labels the caller attaches (`label`, `created_for`, …).
 *
 * @since 0.1.0
 */
export const CredentialLabels = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * The label holding when a version's refresh token dies (seconds since the epoch, a JSON number),
 * set by @patchbay/oauth2; `CredentialRepository.listExpiring` reads it.
 *
 * @since 0.1.0
 */
export const refreshTokenDeadlineLabel = "refresh_token_expires_at"

/**
 * A version's refresh-token deadline from its labels, or null when it has none (or not a finite number).
 *
 * @since 0.1.0
 */
export const refreshTokenDeadline = (labels: Readonly<Record<string, unknown>>): Date | null => {
  const value = labels[refreshTokenDeadlineLabel]
  return typeof value === "number" && Number.isFinite(value) && Math.abs(value) <= 8.64e12
    ? new Date(value * 1000)
    : null
}

/**
 * Everything about a credential version except its secret: safe to show and to log. `masked`
 * holds the view of each field (identifying fields in clear, secret fields masked), computed when
 * the version was written so views never decrypt.
 *
 * @since 0.1.0
 */
export class CredentialMetadata extends Schema.Class<CredentialMetadata>("@patchbay/core/CredentialMetadata")({
  id: CredentialId,
  orgId: OrgId,
  instanceId: InstanceId,
  scope: CredentialScope,
  version: Schema.Int,
  labels: CredentialLabels,
  masked: Schema.Record({ key: Schema.String, value: Schema.String }),
  accountFingerprint: Schema.NullOr(Schema.String),
  expiresAt: Schema.NullOr(Schema.DateFromSelf),
  revokedAt: Schema.NullOr(Schema.DateFromSelf),
  createdAt: Schema.DateFromSelf,
  /** The version written after this one in the same instance and scope, once there is one. */
  supersededBy: Schema.optionalWith(Schema.NullOr(CredentialId), { default: () => null })
}) {
  /** Neither revoked nor expired at `now`. */
  isValidAt(now: Date): boolean {
    return this.revokedAt === null && (this.expiresAt === null || this.expiresAt.getTime() > now.getTime())
  }
}

/**
 * A stored credential version: metadata and sealed secret.
 *
 * @since 0.1.0
 */
export class CredentialRecord extends Schema.Class<CredentialRecord>("@patchbay/core/CredentialRecord")({
  metadata: CredentialMetadata,
  sealed: SealedSecret,
  /**
   * The keyed MAC over the version's authenticated state (`authenticatedState`), written with every
   * legitimate change of that state; null for versions stored before state was authenticated.
   */
  stateMac: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
}) {}

const millis = (date: Date | null): number | null => (date === null ? null : date.getTime())

/**
 * The part of a version's metadata that decides whether and where it may be used, as one
 * unambiguous text: what the state MAC authenticates. It covers the immutable binding (id,
 * organization, instance, scope, version number, expiry, creation) and the mutable state
 * (revocation, the version that superseded it); labels, masked views and the account fingerprint
 * decide nothing and are not covered.
 *
 * @since 0.1.0
 */
export const authenticatedState = (metadata: CredentialMetadata): string =>
  JSON.stringify([
    "patchbay.credential-state.v1",
    metadata.id,
    metadata.orgId,
    metadata.instanceId,
    metadata.scope.type,
    metadata.scope.id,
    metadata.version,
    millis(metadata.expiresAt),
    metadata.createdAt.getTime(),
    millis(metadata.revokedAt),
    metadata.supersededBy
  ])
