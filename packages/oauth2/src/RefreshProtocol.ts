/**
 * The refresh protocol, as the `CredentialRefresher` behind `CredentialResolver`: a token set is
 * refreshed when its access token expires within the skew (default 60 s, never earlier than half
 * the token's lifetime). Per credential (instance and scope):
 *
 * 1. one refresh runs per process, and every caller shares it (single flight);
 * 2. across processes `RefreshLock.withLock` excludes;
 * 3. under the lock the newest version is re-read — when another process refreshed already, that
 *    version is used and no token request is made;
 * 4. the token request is sent, and the new token set (rotated refresh token included) is stored
 *    with `CredentialVault.supersede` while the lock is held (with store-sql: in the lock's
 *    transaction).
 *
 * A refused grant (`invalid_grant`, a rejected client) marks the instance `reconnect_required` and
 * fails with `ReconnectRequired` (with a reconnect URL for the authorization-code flow); a 5xx, 429,
 * timeout or network failure keeps the old version, which is still returned while its access token
 * has not actually expired. An instance with no token set gets its first one from `FirstToken`.
 *
 * @since 0.1.0
 */
import {
  ActivityError,
  type Actor,
  type ConnectorInstance,
  ConnectorInstances,
  CredentialRepository,
  type CredentialScope,
  DomainError,
  DriverError,
  RefreshLock,
  type ResolvedCredential
} from "@patchbay/core"
import { type CredentialRefresher, CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { Envelope } from "@patchbay/crypto"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { AuthorizationServer } from "./AuthorizationServer.js"
import * as FirstToken from "./FirstToken.js"
import { now } from "./internal/connect.js"
import { isOAuth2, refreshKey } from "./internal/refreshKey.js"
import * as Secrets from "./internal/secrets.js"
import * as SingleFlight from "./internal/singleFlight.js"
import { nextTokenSet } from "./internal/tokenResponse.js"
import { OAuth2Clients } from "./OAuth2Clients.js"
import * as TokenSet from "./TokenSet.js"

type Current = ResolvedCredential.ResolvedCredential

/**
 * A failure that keeps the current version: the token endpoint may answer next time.
 *
 * @since 0.1.0
 */
export type Transient =
  | DriverError.Unreachable
  | DriverError.TimedOut
  | DriverError.RateLimited
  | DriverError.ProviderFailure

/**
 * What one run of the protocol ended with: a new version stored, the current version kept (nothing
 * was due after all, or another caller or process refreshed it), or a transient failure with the
 * version kept.
 *
 * @since 0.1.0
 */
export type Outcome =
  | { readonly _tag: "Refreshed"; readonly current: Current }
  | { readonly _tag: "Current"; readonly current: Current }
  | { readonly _tag: "Transient"; readonly error: Transient; readonly kept: Current }

/**
 * When a run refreshes: `due(current, nowMillis)` on the newest version under the lock.
 *
 * @since 0.1.0
 */
export type Due = (current: Current, nowMillis: number) => boolean

/**
 * Due when the access token expires within `windowMillis` (0: has expired).
 *
 * @since 0.1.0
 */
export const dueWithin =
  (windowMillis: number): Due =>
  (current, nowMillis) => {
    const expiresAt = TokenSet.expiresAtMillis(Redacted.value(current.secrets))
    return expiresAt !== undefined && expiresAt - windowMillis <= nowMillis
  }

/**
 * The protocol: the `CredentialRefresher` operations, and `run` for the sweep.
 *
 * @since 0.1.0
 */
export interface RefreshProtocol extends CredentialRefresher.CredentialRefresherShape {
  /** One run for a credential last seen as `seen`: shared in process, locked across processes. */
  readonly run: (
    instance: ConnectorInstance.ConnectorInstance,
    seen: Current,
    due: Due
  ) => Effect.Effect<Outcome, CredentialRefresher.RefreshError, Actor.Actor>
}

/**
 * Options of `make`.
 *
 * @since 0.1.0
 */
export interface Options {
  /** Refresh when the access token expires within this (default 60 seconds). */
  readonly skew?: Duration.DurationInput | undefined
}

/**
 * Where a refused authorization-code refresh sends the person: a fresh authorization URL for the
 * instance and scope, when one can be made.
 *
 * @since 0.1.0
 */
export type ReconnectUrl = (
  instance: ConnectorInstance.ConnectorInstance,
  scope: CredentialScope.CredentialScope
) => Effect.Effect<Option.Option<string>>

/**
 * What the protocol is built on.
 *
 * @since 0.1.0
 */
export type Requirements =
  | FirstToken.Requirements
  | AuthorizationServer
  | OAuth2Clients
  | CredentialRepository.CredentialRepository
  | Envelope.Envelope
  | CredentialVault.CredentialVault
  | ConnectorInstances.ConnectorInstances
  | RefreshLock.RefreshLock

const isTransient = (error: { readonly _tag: string }): error is Transient =>
  error._tag === "Unreachable" ||
  error._tag === "TimedOut" ||
  error._tag === "RateLimited" ||
  error._tag === "ProviderFailure"

const grantOf = (instance: ConnectorInstance.ConnectorInstance): TokenSet.Grant =>
  instance.authType === "oauth2_client_credentials" ? "client_credentials" : "authorization_code"

const expired = dueWithin(0)

/**
 * Builds the protocol. Runs are forked into the current scope (the layer's), so an interrupted
 * caller never abandons a refresh whose rotated token must still be stored.
 *
 * @since 0.1.0
 */
export const make = (
  options: Options,
  reconnectUrl: ReconnectUrl
): Effect.Effect<RefreshProtocol, never, Requirements | Scope.Scope> =>
  Effect.gen(function* () {
    const servers = yield* AuthorizationServer
    const clients = yield* OAuth2Clients
    const repository = yield* CredentialRepository.CredentialRepository
    const envelope = yield* Envelope.Envelope
    const vault = yield* CredentialVault.CredentialVault
    const instances = yield* ConnectorInstances.ConnectorInstances
    const lock = yield* RefreshLock.RefreshLock
    const obtain = yield* FirstToken.make
    const flights = SingleFlight.make<Outcome, CredentialRefresher.RefreshError>(yield* Effect.scope)
    const skewMillis = Duration.toMillis(Duration.decode(options.skew ?? "60 seconds"))

    /** The newest valid version of the same instance and scope, opened; `seen` when it is still the newest. */
    const reread = (instance: ConnectorInstance.ConnectorInstance, seen: Current) =>
      Effect.gen(function* () {
        const found = yield* repository.newestValid(instance.orgId, instance.id, [seen.metadata.scope], yield* now)
        if (Option.isNone(found) || found.value.metadata.id === seen.metadata.id) return seen
        return yield* CredentialResolver.open(envelope, found.value)
      })

    /** One token request for a stored token set: refresh grant, or client credentials again. */
    const requestTokens = (instance: ConnectorInstance.ConnectorInstance, current: Current) =>
      Effect.gen(function* () {
        const registration = yield* clients.forInstance(instance)
        const ownSecret = Secrets.field(current.secrets, "client_secret")
        const endpoint = yield* servers.endpoint(registration, instance.connectorKey, {
          clientId: Secrets.field(current.secrets, "client_id") ?? registration.clientId,
          clientSecret: ownSecret === undefined ? registration.clientSecret : Redacted.make(ownSecret)
        })
        if (instance.authType === "oauth2_client_credentials") {
          const granted = Secrets.field(current.secrets, "scope")
          return yield* servers.clientCredentials(
            endpoint,
            granted === undefined ? registration.scopes : granted.split(" ")
          )
        }
        const refreshToken = Secrets.field(current.secrets, "refresh_token")
        if (refreshToken === undefined) {
          return yield* new DriverError.AuthFailed({
            kind: "token_expired",
            detail: "the access token expires and the authorization server issued no refresh token"
          })
        }
        return yield* servers.refresh(endpoint, Redacted.make(refreshToken))
      })

    /** Stores a refreshed token set as the next version of `current`'s instance and scope. */
    const store = (instance: ConnectorInstance.ConnectorInstance, current: Current, tokens: TokenSet.TokenSet) =>
      vault
        .supersede(current.metadata, {
          credentials: tokens,
          labels: { ...current.metadata.labels, ...TokenSet.labels(grantOf(instance), tokens) },
          reason: "token_refresh"
        })
        .pipe(
          Effect.catchIf(
            (error): error is Exclude<typeof error, DomainError.StorageError | DomainError.InvalidConfiguration> =>
              error._tag !== "StorageError" && error._tag !== "InvalidConfiguration",
            (error) =>
              Effect.fail(
                new DomainError.InvalidConfiguration({
                  connector: instance.connectorKey,
                  detail: `the refreshed token set could not be stored: ${error.message}`
                })
              )
          ),
          Effect.map((metadata): Current => ({ metadata, secrets: Redacted.make(tokens) }))
        )

    /** Marks the instance and fails with `ReconnectRequired`, with a fresh authorization URL when possible. */
    const reconnect = (
      instance: ConnectorInstance.ConnectorInstance,
      current: Current,
      error: DriverError.AuthFailed
    ) =>
      Effect.gen(function* () {
        const clientCredentials = instance.authType === "oauth2_client_credentials"
        const reason = clientCredentials
          ? `the authorization server refused the client credentials (${error.detail})`
          : `the authorization server refused the refresh token (${error.detail})`
        yield* instances
          .setStatus(instance.id, "reconnect_required", reason)
          .pipe(Effect.catchTag("InstanceNotFound", () => Effect.void))
        const url = clientCredentials ? Option.none<string>() : yield* reconnectUrl(instance, current.metadata.scope)
        return yield* new ActivityError.ReconnectRequired({
          instanceId: instance.id,
          instanceName: instance.instanceName,
          connector: instance.connectorKey,
          reason,
          action: clientCredentials ? "replace_credentials" : "reconnect",
          ...(Option.isSome(url) ? { reconnectUrl: url.value } : {})
        })
      })

    /**
     * When a resolution refreshes: `skew` before expiry, but never earlier than half the token's
     * lifetime (counted from the version's creation), so a provider whose tokens live shorter than
     * the skew does not get a token request on every resolution.
     */
    const refreshAt = (current: Current): number | undefined => {
      const expiresAt = TokenSet.expiresAtMillis(Redacted.value(current.secrets))
      if (expiresAt === undefined) return undefined
      const lifetime = expiresAt - current.metadata.createdAt.getTime()
      return expiresAt - Math.min(skewMillis, Math.max(0, lifetime / 2))
    }
    const dueForResolve: Due = (current, nowMillis) => {
      const at = refreshAt(current)
      return at !== undefined && at <= nowMillis
    }

    const run = (
      instance: ConnectorInstance.ConnectorInstance,
      seen: Current,
      due: Due
    ): Effect.Effect<Outcome, CredentialRefresher.RefreshError, Actor.Actor> => {
      const key = refreshKey(instance, seen.metadata.scope)
      return flights.run(
        key,
        Effect.gen(function* () {
          const locked = yield* lock.withLock(
            key,
            Effect.gen(function* () {
              const current = yield* reread(instance, seen)
              const at = yield* Clock.currentTimeMillis
              // Another caller or process wrote a newer version since `seen` was read: use it
              // unless its access token has actually expired.
              const changed = current.metadata.id !== seen.metadata.id
              if (changed ? !expired(current, at) : !due(current, at)) return { _tag: "Current", current } as const
              const response = yield* Effect.either(requestTokens(instance, current))
              if (Either.isLeft(response)) return { _tag: "Failed", error: response.left, current } as const
              const tokens = nextTokenSet(response.right, Redacted.value(current.secrets), at)
              return { _tag: "Refreshed", current: yield* store(instance, current, tokens) } as const
            })
          )
          if (locked._tag !== "Failed") return locked
          const error = locked.error
          if (isTransient(error)) return { _tag: "Transient", error, kept: locked.current } as const
          if (error._tag === "AuthFailed") return yield* reconnect(instance, locked.current, error)
          return yield* Effect.fail(error)
        }).pipe(Effect.withSpan("OAuth2.refresh", { attributes: { instanceId: instance.id } }))
      )
    }

    /** A due resolution: the run's version, or the kept one while its access token is still valid. */
    const refreshDue = (instance: ConnectorInstance.ConnectorInstance, resolved: Current) =>
      Effect.flatMap(run(instance, resolved, dueForResolve), (outcome) => {
        if (outcome._tag !== "Transient") return Effect.succeed(outcome.current)
        return Effect.flatMap(Clock.currentTimeMillis, (at) => {
          const expiresAt = TokenSet.expiresAtMillis(Redacted.value(outcome.kept.secrets))
          return expiresAt === undefined || expiresAt <= at
            ? Effect.fail(outcome.error)
            : Effect.as(
                Effect.logWarning("OAuth2 refresh failed; the current access token is still valid").pipe(
                  Effect.annotateLogs({ instanceId: instance.id, error: outcome.error.message })
                ),
                outcome.kept
              )
        })
      })

    const refresh = (
      instance: ConnectorInstance.ConnectorInstance,
      resolved: Current
    ): Effect.Effect<Current, CredentialRefresher.RefreshError, Actor.Actor> => {
      const due = isOAuth2(instance) ? refreshAt(resolved) : undefined
      if (due === undefined) return Effect.succeed(resolved)
      return Effect.flatMap(Clock.currentTimeMillis, (at) =>
        due > at ? Effect.succeed(resolved) : refreshDue(instance, resolved)
      )
    }

    return { refresh, obtain, run } satisfies RefreshProtocol
  })
