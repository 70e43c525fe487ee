/**
 * Failures of the authorization-code flow's callback. Token endpoint failures are core's
 * `DriverError`s; a refresh the person must fix is core's `ReconnectRequired`.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The callback URL is not one this flow can complete: unparsable, without `state` or `code`, or
 * not at the redirect URI the authorization was started with.
 *
 * @since 0.1.0
 */
export class InvalidCallback extends Schema.TaggedError<InvalidCallback>("@patchbay/oauth2/InvalidCallback")(
  "InvalidCallback",
  { reason: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return `The OAuth2 callback cannot be completed: ${this.reason}`
  }
}

/**
 * The callback's `state` names no pending authorization: unknown, expired, or already used. A
 * state works once, so a replayed callback always ends here.
 *
 * @since 0.1.0
 */
export class AuthorizationStateRejected extends Schema.TaggedError<AuthorizationStateRejected>(
  "@patchbay/oauth2/AuthorizationStateRejected"
)("AuthorizationStateRejected", { reason: Schema.String }) {
  readonly retryable = false
  override get message(): string {
    return `The OAuth2 authorization cannot be completed: ${this.reason}; start the connection again`
  }
}

/**
 * The authorization server answered the authorization request with an error (`access_denied`
 * when the person declined, …).
 *
 * @since 0.1.0
 */
export class AuthorizationDenied extends Schema.TaggedError<AuthorizationDenied>(
  "@patchbay/oauth2/AuthorizationDenied"
)("AuthorizationDenied", { error: Schema.String, description: Schema.optional(Schema.String) }) {
  readonly retryable = false
  override get message(): string {
    return `The authorization server refused the authorization (${this.error}${this.description === undefined ? "" : `: ${this.description}`})`
  }
}
