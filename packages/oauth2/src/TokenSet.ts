/**
 * The token set as Patchbay stores it: one credential version per token set, in the shape of
 * `@patchbay/connector-http`'s `OAuth2Credentials` (encoded form). `expires_at` is the access
 * token's expiry in seconds since the epoch; `client_id` and `client_secret`, when present, are the
 * client the token set belongs to (client credentials) and are carried into every new version.
 * `account_identity` says who signed in (null: unknown) and `refresh_token_expires_at` (seconds
 * since the epoch) when the refresh token dies; both are carried into every new version.
 * `refresh_token_lifetime` (seconds) is the provider's documented lifetime, from the client
 * registration: a rotated refresh token gets that deadline when the provider announces none.
 *
 * @since 0.1.0
 */
import { Credential } from "@patchbay/core"
import * as Schema from "effect/Schema"

/**
 * The stored token set (encoded: secrets as plain strings inside the credential's `Redacted`).
 *
 * @since 0.1.0
 */
export const TokenSet = Schema.Struct({
  access_token: Schema.String,
  token_type: Schema.optional(Schema.String),
  refresh_token: Schema.optional(Schema.String),
  expires_at: Schema.optional(Schema.Union(Schema.Number, Schema.String)),
  scope: Schema.optional(Schema.String),
  id_token: Schema.optional(Schema.String),
  client_id: Schema.optional(Schema.String),
  client_secret: Schema.optional(Schema.String),
  account_identity: Schema.optional(Schema.NullOr(Schema.String)),
  refresh_token_expires_at: Schema.optional(Schema.Number),
  refresh_token_lifetime: Schema.optional(Schema.Number)
})
/** @since 0.1.0 */
export type TokenSet = typeof TokenSet.Type

/**
 * Which grant produced a token set; stored in the version's labels as `oauth2_grant`.
 *
 * @since 0.1.0
 */
export const Grant = Schema.Literal("authorization_code", "client_credentials")
/** @since 0.1.0 */
export type Grant = typeof Grant.Type

/**
 * The access token's expiry in epoch milliseconds, read from a stored token set's `expires_at`
 * (seconds since the epoch, or an ISO 8601 string); `undefined` when unknown. No decoding: this
 * runs on every resolution.
 *
 * @since 0.1.0
 */
export const expiresAtMillis = (secrets: Readonly<Record<string, unknown>>): number | undefined => {
  const value = secrets.expires_at
  if (typeof value === "number") return Number.isFinite(value) ? value * 1000 : undefined
  if (typeof value === "string") {
    const parsed = Date.parse(value)
    return Number.isNaN(parsed) ? undefined : parsed
  }
  return undefined
}

/**
 * The non-secret labels written with every token version: the grant and the access token's
 * expiry, so that listings can show them without decrypting.
 *
 * @since 0.1.0
 */
export const labels = (grant: Grant, tokens: TokenSet): Record<string, unknown> => {
  const expiresAt = expiresAtMillis(tokens)
  return {
    oauth2_grant: grant,
    access_token_expires_at: expiresAt === undefined ? null : new Date(expiresAt).toISOString(),
    ...(tokens.scope === undefined ? {} : { oauth2_scope: tokens.scope }),
    ...(tokens.refresh_token_expires_at === undefined
      ? {}
      : { [Credential.refreshTokenDeadlineLabel]: tokens.refresh_token_expires_at })
  }
}
