/**
 * The first token of a client-credentials instance, obtained on demand: when an instance has no
 * token set and its registration holds a client secret, the first resolution fetches one and
 * stores it at organization scope — once for all concurrent callers (single flight) and processes
 * (the `RefreshLock`, then a re-read: another process may have stored it already).
 *
 * @since 0.1.0
 */
import {
  type Actor,
  type ConnectorInstance,
  CredentialRepository,
  CredentialScope,
  DomainError,
  DriverError,
  RefreshLock,
  type ResolvedCredential
} from "@patchbay/core"
import { type CredentialRefresher, CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { Envelope } from "@patchbay/crypto"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { AuthorizationServer, clientIdentityText } from "./AuthorizationServer.js"
import { now } from "./internal/connect.js"
import { refreshKey } from "./internal/refreshKey.js"
import * as SingleFlight from "./internal/singleFlight.js"
import { nextTokenSet } from "./internal/tokenResponse.js"
import { OAuth2Clients } from "./OAuth2Clients.js"
import * as TokenSet from "./TokenSet.js"

/**
 * `CredentialRefresher.obtain` for OAuth2: the first client-credentials token, or `None` when the
 * instance cannot get one without a person.
 *
 * @since 0.1.0
 */
export type Obtain = CredentialRefresher.CredentialRefresherShape["obtain"]

/**
 * What obtaining is built on.
 *
 * @since 0.1.0
 */
export type Requirements =
  | AuthorizationServer
  | OAuth2Clients
  | CredentialRepository.CredentialRepository
  | Envelope.Envelope
  | CredentialVault.CredentialVault
  | RefreshLock.RefreshLock

/**
 * Builds `obtain`; its token requests run in fibers of the current scope, so an interrupted caller
 * never abandons a token that must still be stored.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<Obtain, never, Requirements | Scope.Scope> = Effect.gen(function* () {
  const servers = yield* AuthorizationServer
  const clients = yield* OAuth2Clients
  const repository = yield* CredentialRepository.CredentialRepository
  const envelope = yield* Envelope.Envelope
  const vault = yield* CredentialVault.CredentialVault
  const lock = yield* RefreshLock.RefreshLock
  const flights = SingleFlight.make<
    Option.Option<ResolvedCredential.ResolvedCredential>,
    CredentialRefresher.RefreshError
  >(yield* Effect.scope)

  const fetchFirst = (instance: ConnectorInstance.ConnectorInstance, scope: CredentialScope.CredentialScope) =>
    Effect.gen(function* () {
      const registration = yield* Effect.option(clients.forInstance(instance))
      if (Option.isNone(registration) || registration.value.clientSecret === undefined) return Option.none()
      const stored = yield* repository.newestValid(instance.orgId, instance.id, [scope], yield* now)
      if (Option.isSome(stored)) return Option.some(yield* CredentialResolver.open(envelope, stored.value))
      const { clientId, clientSecret, scopes } = registration.value
      const endpoint = yield* servers.endpoint(registration.value, instance.connectorKey, { clientId, clientSecret })
      const response = yield* servers.clientCredentials(endpoint, scopes)
      const tokens = nextTokenSet(response, undefined, yield* Clock.currentTimeMillis, {
        accountIdentity: clientIdentityText(endpoint.target, clientId)
      })
      const metadata = yield* vault
        .create({
          instanceId: instance.id,
          scope,
          credentials: tokens,
          labels: TokenSet.labels("client_credentials", tokens)
        })
        .pipe(
          Effect.catchTags({
            // The provider answered a token that cannot be stored (NUL, unpaired surrogates, too
            // large): its answer is bad, and asking again gets the same answer.
            InvalidInput: (error) =>
              new DriverError.RequestRejected({
                target: endpoint.target,
                detail: `the token response cannot be stored: ${error.detail}`
              }),
            InstanceNotFound: Effect.die,
            ConnectorNotFound: Effect.die,
            ScopeForbidden: Effect.die,
            // Another instance of this connector already reaches the registration's client: the
            // host's client is one account, and this instance needs a client of its own.
            DuplicateAccount: (error) =>
              new DomainError.InvalidConfiguration({
                connector: instance.connectorKey,
                detail: `instance ${error.existingInstanceId} already connects with this OAuth2 client; connect this one with a client of its own`
              })
          })
        )
      const record = yield* repository.get(instance.orgId, metadata.id)
      if (Option.isNone(record)) {
        return yield* new DomainError.StorageError({ operation: "OAuth2.obtain", detail: "the version disappeared" })
      }
      return Option.some(yield* CredentialResolver.open(envelope, record.value))
    })

  return (
    instance: ConnectorInstance.ConnectorInstance
  ): Effect.Effect<
    Option.Option<ResolvedCredential.ResolvedCredential>,
    CredentialRefresher.RefreshError,
    Actor.Actor
  > => {
    if (instance.authType !== "oauth2_client_credentials") return Effect.succeedNone
    const scope = CredentialScope.CredentialScope.make({ type: "organization", id: instance.orgId })
    const key = refreshKey(instance, scope)
    return flights.run(key, lock.withLock(key, fetchFirst(instance, scope)))
  }
})
