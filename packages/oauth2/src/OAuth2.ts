/**
 * OAuth2 for connector instances, as one layer: the `OAuth2` service a host calls to connect
 * instances (authorization code with PKCE, client credentials) and to sweep token sets, and the
 * `CredentialRefresher` that `CredentialResolver.layer` requires — the refresh protocol, and the
 * first client-credentials token on demand. Each flow lives in its own module:
 * `AuthorizationCode`, `ClientCredentials`, `RefreshProtocol`, `FirstToken`, `Sweep`; requests to
 * authorization servers go through `AuthorizationServer`, on the host's `EgressPolicy`.
 *
 * @since 0.1.0
 */
import {
  type Actor,
  type AuditLog,
  ConnectorInstances,
  type Credential,
  type CredentialRepository,
  type DomainError,
  type EgressPolicy,
  type LifecycleEvents,
  type PendingAuthorizationRepository,
  type RefreshLock,
  type Transactions
} from "@patchbay/core"
import { CredentialRefresher, CredentialResolver, CredentialVault } from "@patchbay/credentials"
import type { Envelope } from "@patchbay/crypto"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import * as AuthorizationCode from "./AuthorizationCode.js"
import * as AuthorizationServer from "./AuthorizationServer.js"
import * as ClientCredentials from "./ClientCredentials.js"
import type { OAuth2Clients } from "./OAuth2Clients.js"
import * as RefreshProtocol from "./RefreshProtocol.js"
import * as Sweep from "./Sweep.js"

/**
 * Options of `layer`.
 *
 * @since 0.1.0
 */
export interface Options extends AuthorizationServer.Options, AuthorizationCode.Options, RefreshProtocol.Options {}

/**
 * The OAuth2 operations a host calls: connect an instance (authorization code or client
 * credentials) and sweep an organization's token sets. Refresh is not among them: it happens
 * behind `CredentialResolver`, through the `CredentialRefresher` this module's `layer` provides.
 *
 * @since 0.1.0
 */
export interface OAuth2Shape {
  /**
   * Starts the authorization-code flow: the authorization URL (PKCE S256, random state); the
   * pending authorization — verifier sealed, scope, redirect URI — is stored under a hash of the
   * state until `pendingTtl` passes.
   */
  readonly startAuthorization: (
    input: typeof AuthorizationCode.StartAuthorization.Encoded
  ) => Effect.Effect<AuthorizationCode.AuthorizationStart, AuthorizationCode.StartError, Actor.Actor>
  /**
   * Completes the flow from the callback URL as the current `Actor` (of the same organization,
   * allowed to write the stored scope): the state is taken once (a replay fails with
   * `AuthorizationStateRejected`), the code exchanged, the token set stored as a new version for
   * the instance and scope, and the instance marked `active`.
   */
  readonly completeAuthorization: (
    callbackUrl: string
  ) => Effect.Effect<Credential.CredentialMetadata, AuthorizationCode.CompleteError, Actor.Actor>
  /**
   * `completeAuthorization` for a callback route without a session: acts as the owner of the scope
   * the authorization was started for (the single-use state is the only proof).
   */
  readonly completeAuthorizationAsOwner: (
    callbackUrl: string
  ) => Effect.Effect<Credential.CredentialMetadata, AuthorizationCode.CompleteError>
  /** Fetches a token with the client-credentials grant and stores it as a new version. */
  readonly connectClientCredentials: (
    input: typeof ClientCredentials.ConnectClientCredentials.Encoded
  ) => Effect.Effect<Credential.CredentialMetadata, ClientCredentials.ConnectError, Actor.Actor>
  /**
   * Refreshes the organization's OAuth2 token sets that expire within `withinMinutes`, and touches
   * those not refreshed for `idleHours`; one result per instance and scope, as they finish.
   */
  readonly sweep: (
    options: typeof Sweep.SweepOptions.Encoded
  ) => Stream.Stream<Sweep.SweepResult, DomainError.InvalidInput | DomainError.StorageError, Actor.Actor>
  /**
   * `CredentialVault.listExpiring` with a `reconnectUrl` on every refresh-token deadline of an
   * authorization-code instance (a fresh authorization at the registration's redirect URI, when
   * one can be started), so that people are warned — with the link — before the refresh token dies.
   */
  readonly listExpiring: (
    query: typeof CredentialVault.ListExpiring.Encoded
  ) => Effect.Effect<
    ReadonlyArray<CredentialVault.ExpiringCredential>,
    DomainError.InvalidInput | DomainError.StorageError,
    Actor.Actor
  >
}

/**
 * The OAuth2 service.
 *
 * @since 0.1.0
 */
export class OAuth2 extends Context.Tag("@patchbay/oauth2/OAuth2")<OAuth2, OAuth2Shape>() {}

/**
 * What `layer` is built on: the core ports, the instance lifecycle, the vault, crypto's
 * `Envelope`, the registered clients, and the `EgressPolicy` every request to an authorization
 * server is checked against.
 *
 * @since 0.1.0
 */
export type Requirements =
  | CredentialRepository.CredentialRepository
  | Envelope.Envelope
  | CredentialVault.CredentialVault
  | ConnectorInstances.ConnectorInstances
  | PendingAuthorizationRepository.PendingAuthorizationRepository
  | AuditLog.AuditLog
  | Transactions.Transactions
  | RefreshLock.RefreshLock
  | OAuth2Clients
  | EgressPolicy.EgressPolicy
  | LifecycleEvents.EventOutbox

/**
 * The `OAuth2` service and the `CredentialRefresher` (the refresh protocol and the first
 * client-credentials token), sharing one discovery cache and one single flight per credential.
 * Refreshes run in fibers of the layer's scope: an interrupted caller never abandons a refresh
 * whose rotated token must still be stored.
 *
 * @since 0.1.0
 */
export const layer = (
  options: Options = {}
): Layer.Layer<OAuth2 | CredentialRefresher.CredentialRefresher, never, Requirements> =>
  Layer.scopedContext(
    Effect.gen(function* () {
      const authorizationCode = yield* AuthorizationCode.make(options)
      const clientCredentials = yield* ClientCredentials.make
      const protocol = yield* RefreshProtocol.make(options, authorizationCode.reconnectUrl)
      const sweep = yield* Sweep.make(protocol)
      const vault = yield* CredentialVault.CredentialVault
      const instances = yield* ConnectorInstances.ConnectorInstances
      const listExpiring = Effect.fn("OAuth2.listExpiring")(function* (
        query: typeof CredentialVault.ListExpiring.Encoded
      ) {
        const items = yield* vault.listExpiring(query)
        return yield* Effect.forEach(items, (item) =>
          Effect.gen(function* () {
            if (item.kind !== "refresh_token") return item
            const instance = yield* Effect.option(instances.getInstance(item.instanceId))
            if (Option.isNone(instance) || instance.value.authType !== "oauth2_authorization_code") return item
            const start = yield* authorizationCode.reconnectUrl(instance.value, item.scope)
            return Option.match(start, {
              onNone: () => item,
              onSome: ({ url }) => CredentialVault.ExpiringCredential.make({ ...item, reconnectUrl: url })
            })
          })
        )
      })
      return Context.make(
        OAuth2,
        OAuth2.of({
          startAuthorization: authorizationCode.start,
          completeAuthorization: authorizationCode.complete,
          completeAuthorizationAsOwner: authorizationCode.completeAsOwner,
          connectClientCredentials: clientCredentials.connect,
          sweep,
          listExpiring
        })
      ).pipe(
        Context.add(
          CredentialRefresher.CredentialRefresher,
          CredentialRefresher.CredentialRefresher.of({ refresh: protocol.refresh, obtain: protocol.obtain })
        )
      )
    })
  ).pipe(Layer.provide(AuthorizationServer.layer(options)))

/**
 * `layer` with the `CredentialResolver` built on its refresher: what a host composes instead of
 * `CredentialResolver.layer`.
 *
 * @since 0.1.0
 */
export const layerWithResolver = (
  options: Options = {}
): Layer.Layer<
  OAuth2 | CredentialRefresher.CredentialRefresher | CredentialResolver.CredentialResolver,
  never,
  Requirements
> => CredentialResolver.layer.pipe(Layer.provideMerge(layer(options)))
