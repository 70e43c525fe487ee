/**
 * What the OAuth2 refresh protocol records about one credential version, durably, so that every
 * process sees it: a refresh request that was about to be sent (and may have spent the refresh
 * token), transient failures and the back-off they earned, a refusal (`invalid_grant`) with the
 * reconnect URL handed out for it. Stored by `CredentialRepository` beside the version.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { SealedSecret } from "./Credential.js"
import { CredentialId, OrgId } from "./Ids.js"

/**
 * A reconnect URL handed out for a refused version, sealed (its `state` completes an
 * authorization), reused until `expiresAt` (when its pending authorization expires).
 *
 * @since 0.1.0
 */
export class ReconnectLink extends Schema.Class<ReconnectLink>("@patchbay/core/ReconnectLink")({
  sealed: SealedSecret,
  expiresAt: Schema.DateFromSelf
}) {}

/**
 * The refresh state of one credential version.
 *
 * @since 0.1.0
 */
export class CredentialRefreshState extends Schema.Class<CredentialRefreshState>(
  "@patchbay/core/CredentialRefreshState"
)({
  credentialId: CredentialId,
  orgId: OrgId,
  /** When a token request for this version was about to be sent, until its outcome was recorded. */
  attemptedAt: Schema.NullOr(Schema.DateFromSelf),
  /** Transient failures in a row. */
  failures: Schema.Int,
  /** No token request before this (back-off after transient failures). */
  retryAt: Schema.NullOr(Schema.DateFromSelf),
  /** When the authorization server refused this version's grant: it is never sent again. */
  refusedAt: Schema.NullOr(Schema.DateFromSelf),
  /** Why, as `ReconnectRequired.reason` reports it. */
  refusedReason: Schema.NullOr(Schema.String),
  /** The reconnect URL handed out for the refusal. */
  reconnect: Schema.NullOr(ReconnectLink)
}) {}

/**
 * The state of a version nothing was recorded for.
 *
 * @since 0.1.0
 */
export const empty = (orgId: OrgId, credentialId: CredentialId): CredentialRefreshState =>
  CredentialRefreshState.make({
    credentialId,
    orgId,
    attemptedAt: null,
    failures: 0,
    retryAt: null,
    refusedAt: null,
    refusedReason: null,
    reconnect: null
  })
