/**
 * What `CredentialResolver` asks before it hands out a credential: refresh it when it is due (an
 * OAuth2 access token near expiry), or obtain a first one when none is stored and none needs a
 * person. `CredentialResolver.layer` requires one: `@patchbay/oauth2`'s `OAuth2.layer` provides
 * the refresh protocol, `layerNone` serves hosts without OAuth2.
 *
 * @since 0.1.0
 */
import type {
  ActivityError,
  Actor,
  ConnectorInstance,
  DomainError,
  DriverError,
  ResolvedCredential
} from "@patchbay/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"

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
   * Returns `resolved` as is when nothing is due, else a refreshed credential (stored as a new
   * version). Called on every resolution: it must return at once when nothing is due.
   */
  readonly refresh: (
    instance: ConnectorInstance.ConnectorInstance,
    resolved: ResolvedCredential.ResolvedCredential
  ) => Effect.Effect<ResolvedCredential.ResolvedCredential, RefreshError, Actor.Actor>
  /**
   * A first credential for an instance that has none, when one can be fetched without a person
   * (OAuth2 client credentials with a registered client secret); `None` otherwise. Called only when
   * resolution found no valid version.
   */
  readonly obtain: (
    instance: ConnectorInstance.ConnectorInstance
  ) => Effect.Effect<Option.Option<ResolvedCredential.ResolvedCredential>, RefreshError, Actor.Actor>
}

/**
 * @since 0.1.0
 */
export class CredentialRefresher extends Context.Tag("@patchbay/credentials/CredentialRefresher")<
  CredentialRefresher,
  CredentialRefresherShape
>() {}

/**
 * The refresher of a host without OAuth2: every credential is used as stored, and an instance
 * without one stays without one.
 *
 * @since 0.1.0
 */
export const none: CredentialRefresherShape = CredentialRefresher.of({
  refresh: (_instance, resolved) => Effect.succeed(resolved),
  obtain: () => Effect.succeedNone
})

/**
 * `none` as a layer.
 *
 * @since 0.1.0
 */
export const layerNone: Layer.Layer<CredentialRefresher> = Layer.succeed(CredentialRefresher, none)
