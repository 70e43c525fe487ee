/**
 * The refresh sweep a host schedules: what it is asked to do and what it reports per instance and
 * scope. See `OAuth2.sweep`.
 *
 * @since 0.1.0
 */
import { ActivityError, CredentialScope, DomainError, DriverError, Ids } from "@patchbay/core"
import * as Schema from "effect/Schema"

/**
 * `withinMinutes`: refresh access tokens that expire within this many minutes. `idleHours`
 * (default 24): refresh ("touch") token sets not refreshed for this long, so that a rarely used
 * refresh token is exercised (and rotated) before the provider lets it die. `concurrency`
 * (default 4): instances refreshed at once.
 *
 * @since 0.1.0
 */
export class SweepOptions extends Schema.Class<SweepOptions>("@patchbay/oauth2/SweepOptions")({
  withinMinutes: Schema.Number.pipe(
    Schema.between(0, 10_080, { message: () => "withinMinutes must be between 0 and 10080 (a week)" })
  ),
  idleHours: Schema.optionalWith(
    Schema.Number.pipe(Schema.between(0, 8_760, { message: () => "idleHours must be between 0 and 8760 (a year)" })),
    { default: () => 24 }
  ),
  concurrency: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 64)), { default: () => 4 })
}) {}

/**
 * Why the sweep looked at a token set: its access token `expiring`, or the token set `idle`; `fresh`
 * when neither (nothing was done).
 *
 * @since 0.1.0
 */
export const SweepReason = Schema.Literal("expiring", "idle", "fresh")
/** @since 0.1.0 */
export type SweepReason = typeof SweepReason.Type

/**
 * `refreshed`: this sweep obtained a new token set; `current`: nothing was due after all (another
 * caller or process refreshed it meanwhile), no token request; `skipped`: nothing due, or nothing
 * that can be done (an authorization-code token set without a refresh token); `failed`: see `error`.
 *
 * @since 0.1.0
 */
export const SweepOutcome = Schema.Literal("refreshed", "current", "skipped", "failed")
/** @since 0.1.0 */
export type SweepOutcome = typeof SweepOutcome.Type

/**
 * Why one instance's refresh failed. `ReconnectRequired` means the instance is now
 * `reconnect_required`; the driver errors other than `AuthFailed` are transient.
 *
 * @since 0.1.0
 */
export const SweepFailure = Schema.Union(
  ActivityError.ReconnectRequired,
  DriverError.AuthFailed,
  DriverError.Unreachable,
  DriverError.TimedOut,
  DriverError.RateLimited,
  DriverError.ProviderFailure,
  DriverError.RequestRejected,
  DomainError.EgressDenied,
  DomainError.InvalidConfiguration,
  DomainError.CredentialCorrupted,
  DomainError.StorageError
)
/** @since 0.1.0 */
export type SweepFailure = typeof SweepFailure.Type

/**
 * What the sweep did for one instance and scope. `credentialId` and `accessTokenExpiresAt` describe
 * the current version afterwards.
 *
 * @since 0.1.0
 */
export class SweepResult extends Schema.Class<SweepResult>("@patchbay/oauth2/SweepResult")({
  instanceId: Ids.InstanceId,
  instanceName: Schema.String,
  connector: Schema.String,
  scope: CredentialScope.CredentialScope,
  reason: SweepReason,
  outcome: SweepOutcome,
  credentialId: Ids.CredentialId,
  accessTokenExpiresAt: Schema.NullOr(Schema.DateFromSelf),
  detail: Schema.optional(Schema.String),
  error: Schema.optional(SweepFailure)
}) {}
