/**
 * Failures reported by an external system, as every driver maps its library's errors onto them.
 * The mapping tables per driver are in docs/errors.md.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Why the external system refused the credentials.
 *
 * @since 0.1.0
 */
export const AuthFailureKind = Schema.Literal(
  "invalid_credentials",
  "token_expired",
  "token_revoked",
  "insufficient_permissions"
)
/** @since 0.1.0 */
export type AuthFailureKind = typeof AuthFailureKind.Type

/**
 * The system refused the credentials (wrong password, expired or revoked token) or their
 * permissions. Retrying with the same credentials cannot succeed.
 *
 * @since 0.1.0
 */
export class AuthFailed extends Schema.TaggedError<AuthFailed>("@patchbay/core/AuthFailed")("AuthFailed", {
  kind: AuthFailureKind,
  detail: Schema.String
}) {
  /** @since 0.1.0 */
  readonly retryable = false
  override get message(): string {
    return `Authentication failed (${this.kind}): ${this.detail}`
  }
}

/**
 * The system could not be reached: connection refused, host unknown, connection reset.
 *
 * @since 0.1.0
 */
export class Unreachable extends Schema.TaggedError<Unreachable>("@patchbay/core/Unreachable")("Unreachable", {
  target: Schema.String,
  detail: Schema.String
}) {
  /** @since 0.1.0 */
  readonly retryable = true
  override get message(): string {
    return `${this.target} is unreachable: ${this.detail}. Check the host, the port and that the server is running.`
  }
}

/**
 * The system did not answer in time.
 *
 * @since 0.1.0
 */
export class TimedOut extends Schema.TaggedError<TimedOut>("@patchbay/core/TimedOut")("TimedOut", {
  target: Schema.String,
  afterMillis: Schema.Number
}) {
  /** @since 0.1.0 */
  readonly retryable = true
  override get message(): string {
    return `${this.target} did not answer within ${this.afterMillis} ms`
  }
}

/**
 * The system asked us to slow down; `retryAfterMillis` comes from its Retry-After when it sent one.
 *
 * @since 0.1.0
 */
export class RateLimited extends Schema.TaggedError<RateLimited>("@patchbay/core/RateLimited")("RateLimited", {
  target: Schema.String,
  retryAfterMillis: Schema.optional(Schema.Number)
}) {
  /** @since 0.1.0 */
  readonly retryable = true
  override get message(): string {
    return this.retryAfterMillis === undefined
      ? `${this.target} is rate limiting requests`
      : `${this.target} is rate limiting requests; retry after ${Math.ceil(this.retryAfterMillis / 1000)} s`
  }
}

/**
 * The system failed on its side (HTTP 5xx, a server error).
 *
 * @since 0.1.0
 */
export class ProviderFailure extends Schema.TaggedError<ProviderFailure>("@patchbay/core/ProviderFailure")(
  "ProviderFailure",
  { target: Schema.String, status: Schema.optional(Schema.Number), detail: Schema.String }
) {
  /** @since 0.1.0 */
  readonly retryable = true
  override get message(): string {
    return `${this.target} failed${this.status === undefined ? "" : ` with status ${this.status}`}: ${this.detail}`
  }
}

/**
 * The system rejected the request itself (bad SQL, an invalid recipient, HTTP 4xx other than
 * 401/403/429). Retrying the same request cannot succeed.
 *
 * @since 0.1.0
 */
export class RequestRejected extends Schema.TaggedError<RequestRejected>("@patchbay/core/RequestRejected")(
  "RequestRejected",
  { target: Schema.String, status: Schema.optional(Schema.Union(Schema.Number, Schema.String)), detail: Schema.String }
) {
  /** @since 0.1.0 */
  readonly retryable = false
  override get message(): string {
    return `${this.target} rejected the request: ${this.detail}`
  }
}

/**
 * Any failure a driver reports.
 *
 * @since 0.1.0
 */
export const DriverError = Schema.Union(
  AuthFailed,
  Unreachable,
  TimedOut,
  RateLimited,
  ProviderFailure,
  RequestRejected
)
/** @since 0.1.0 */
export type DriverError = typeof DriverError.Type
