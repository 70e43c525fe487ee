/**
 * The extension point through which `@patchbay/oauth2` refreshes tokens transparently: when a
 * `CredentialRefresher` is in the context of `CredentialResolver.layer`, every resolution of an
 * OAuth2 instance passes through it.
 *
 * @since 0.1.0
 */
import type { ActivityError, Actor, ConnectorInstance, DomainError, DriverError } from "@patchbay/core"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { ResolvedCredential } from "./CredentialResolver.js"

/**
 * Why a refresh failed: the token endpoint's answer (`AuthFailed` with `invalid_grant` means the
 * person must reconnect; `Unreachable`, `TimedOut`, 5xx are transient), a token response that does
 * not decode, a newer version that does not decrypt, or storage. A refresher that already knows
 * the person must act (the refresh token was refused) fails with `ReconnectRequired` itself,
 * carrying a reconnect URL.
 *
 * @since 0.1.0
 */
export type RefreshError =
  | ActivityError.ReconnectRequired
  | DomainError.CredentialCorrupted
  | DriverError.DriverError
  | DomainError.EgressDenied
  | DomainError.InvalidConfiguration
  | DomainError.StorageError

/**
 * @since 0.1.0
 */
export interface CredentialRefresherShape {
  /**
   * Returns `resolved` as is when its token is fresh enough, else a refreshed credential (stored
   * as a new version). Called on the hot path: it must return at once when nothing is due.
   */
  readonly refresh: (
    instance: ConnectorInstance.ConnectorInstance,
    resolved: ResolvedCredential
  ) => Effect.Effect<ResolvedCredential, RefreshError, Actor.Actor>
  /**
   * A first credential for an instance that has none, when one can be fetched without a person
   * (OAuth2 client credentials with a registered client secret); `None` otherwise. Called only when
   * resolution found no valid version.
   */
  readonly obtain?: (
    instance: ConnectorInstance.ConnectorInstance
  ) => Effect.Effect<Option.Option<ResolvedCredential>, RefreshError, Actor.Actor>
}

/**
 * @since 0.1.0
 */
export class CredentialRefresher extends Context.Tag("@patchbay/credentials/CredentialRefresher")<
  CredentialRefresher,
  CredentialRefresherShape
>() {}
