/**
 * The three outcomes an activity may fail with. Workflows branch on these tags: only
 * `TransientFailure` is worth a retry.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * What the person must do to make a connection work again: sign in again (OAuth) or store new
 * credentials.
 *
 * @since 0.1.0
 */
export const ReconnectAction = Schema.Literal("reconnect", "replace_credentials")
/** @since 0.1.0 */
export type ReconnectAction = typeof ReconnectAction.Type

/**
 * Why a connection needs a person, as a code to branch on (`reason` says it in words):
 * the credentials were rejected, the token expired or was revoked, there is no credential, it
 * expired, it cannot be opened, the authorization server refused the refresh token, or refused it
 * after an earlier refresh was interrupted (that refresh may have spent the token), or a reconnect
 * signed in as a different account than the one the instance reaches.
 *
 * @since 0.1.0
 */
export const ReconnectCode = Schema.Literal(
  "credentials_rejected",
  "token_expired",
  "token_revoked",
  "credential_missing",
  "credential_expired",
  "credential_unreadable",
  "refresh_refused",
  "refresh_interrupted",
  "different_account"
)
/** @since 0.1.0 */
export type ReconnectCode = typeof ReconnectCode.Type

/**
 * The connection's credentials no longer work (rejected, expired, revoked, missing). Never
 * retried: the instance is marked `reconnect_required` until someone acts. `code` says why
 * (`credentials_rejected` when the constructor is not told).
 *
 * @since 0.1.0
 */
export class ReconnectRequired extends Schema.TaggedError<ReconnectRequired>("@patchbay/core/ReconnectRequired")(
  "ReconnectRequired",
  {
    instanceId: Schema.String,
    instanceName: Schema.String,
    connector: Schema.String,
    reason: Schema.String,
    code: Schema.optionalWith(ReconnectCode, { default: () => "credentials_rejected" }),
    action: ReconnectAction,
    reconnectUrl: Schema.optional(Schema.String)
  }
) {
  readonly retryable = false
  override get message(): string {
    const todo =
      this.action === "reconnect"
        ? this.reconnectUrl === undefined
          ? "reconnect it"
          : `reconnect it at ${this.reconnectUrl}`
        : "store new credentials for it"
    return `Connection "${this.instanceName}" (${this.connector}) needs attention: ${this.reason}. Please ${todo}.`
  }
}

/**
 * A failure that may pass: unreachable, timed out, rate limited, a provider error. `retryAfterMillis`
 * is the provider's hint when it gave one.
 *
 * @since 0.1.0
 */
export class TransientFailure extends Schema.TaggedError<TransientFailure>("@patchbay/core/TransientFailure")(
  "TransientFailure",
  {
    instanceId: Schema.String,
    reason: Schema.String,
    retryAfterMillis: Schema.optional(Schema.Number)
  }
) {
  readonly retryable = true
  override get message(): string {
    return `Temporary failure on instance ${this.instanceId}: ${this.reason}; it is safe to retry`
  }
}

/**
 * The request cannot succeed as it is: bad input, a disabled instance, a forbidden scope, a
 * permission the account lacks.
 *
 * @since 0.1.0
 */
export class ActivityRejected extends Schema.TaggedError<ActivityRejected>("@patchbay/core/ActivityRejected")(
  "ActivityRejected",
  { instanceId: Schema.String, reason: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return `Rejected on instance ${this.instanceId}: ${this.reason}`
  }
}

/**
 * Any activity failure.
 *
 * @since 0.1.0
 */
export const ActivityError = Schema.Union(ReconnectRequired, TransientFailure, ActivityRejected)
/** @since 0.1.0 */
export type ActivityError = typeof ActivityError.Type
