/**
 * The refresh protocol, as the `CredentialRefresher` behind `CredentialResolver`: a token set is
 * refreshed when its access token expires within the skew (default 60 s, never earlier than half
 * the token's lifetime). Per credential (instance and scope):
 *
 * 1. one refresh runs per process, and every caller shares it (single flight);
 * 2. across processes `RefreshLock.withLock` excludes;
 * 3. under the lock the newest version is re-read — when another process refreshed already, that
 *    version is used and no token request is made;
 * 4. the attempt is recorded durably (`CredentialRepository.putRefreshState`) before the token
 *    request is sent, and the new token set (rotated refresh token included) is stored with
 *    `CredentialVault.supersede` the moment it arrives, each committed on its own (store-sql runs
 *    the guarded effect outside the lock's transaction).
 *
 * While the access token stays valid beyond the floor (default 10 s, at most half the refresh
 * window), a due resolution returns it at once and the refresh runs in the background, in the
 * layer's scope (stale-while-revalidate); callers wait only for a token that has expired or nearly.
 *
 * A refused grant (`invalid_grant`, a rejected client) marks the version refused in the store and
 * the instance `reconnect_required`, and fails with `ReconnectRequired` (with a reconnect URL for the
 * authorization-code flow, kept sealed beside the refusal and handed out again while its pending
 * authorization is valid). Later resolutions of that version fail at once and send nothing. When the
 * version's previous attempt never recorded an outcome (its process died, or the request timed out),
 * the refresh token may have been spent; a refusal then says so (`refresh_interrupted`).
 *
 * A 5xx, 429, timeout or network failure keeps the old version, which is still returned while its
 * access token has not actually expired, and backs off per version across processes (1 s, doubling,
 * at most 5 minutes by default): during the back-off nobody sends a token request. An instance
 * with no token set gets its first one from `FirstToken`.
 *
 * @since 0.1.0
 */
import {
  ActivityError,
  type Actor,
  type ConnectorInstance,
  ConnectorInstances,
  CredentialRefreshState,
  CredentialRepository,
  type CredentialScope,
  DomainError,
  DriverError,
  LifecycleEvents,
  PatchbayMetrics,
  RefreshLock,
  type ResolvedCredential,
  Transactions
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
import type { AuthorizationStart } from "./AuthorizationCode.js"
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
  /**
   * A due resolution returns the current token at once, refreshing in the background, while it is
   * valid for longer than this (default 10 seconds; at most half the refresh window); within it,
   * callers wait for the refresh.
   */
  readonly floor?: Duration.DurationInput | undefined
  /** The first back-off after a transient refresh failure, doubled per failure (default 1 second). */
  readonly retryBase?: Duration.DurationInput | undefined
  /** The longest back-off (default 5 minutes). */
  readonly retryMax?: Duration.DurationInput | undefined
}

/**
 * Where a refused authorization-code refresh sends the person: a fresh authorization URL for the
 * instance and scope, with the expiry of its pending authorization, when one can be made.
 *
 * @since 0.1.0
 */
export type ReconnectUrl = (
  instance: ConnectorInstance.ConnectorInstance,
  scope: CredentialScope.CredentialScope
) => Effect.Effect<Option.Option<AuthorizationStart>, never, Actor.Actor>

/**
 * The `ReconnectRequired.code` of a refusal that follows an interrupted refresh (its `reason`
 * starts with it too): the refresh token may have been spent by a process that died before
 * storing its successor. Any other refused refresh is `refresh_refused`; refused client
 * credentials are `credentials_rejected`.
 *
 * @since 0.1.0
 */
export const refreshInterrupted = "refresh_interrupted" satisfies ActivityError.ReconnectCode

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
  | Transactions.Transactions
  | LifecycleEvents.EventOutbox

const isTransient = (error: { readonly _tag: string }): error is Transient =>
  error._tag === "Unreachable" ||
  error._tag === "TimedOut" ||
  error._tag === "RateLimited" ||
  error._tag === "ProviderFailure"

const grantOf = (instance: ConnectorInstance.ConnectorInstance): TokenSet.Grant =>
  instance.authType === "oauth2_client_credentials" ? "client_credentials" : "authorization_code"

const expiresAtOf = (current: Current) => TokenSet.expiresAtMillis(Redacted.value(current.secrets))

const expired = dueWithin(0)

/** A refusal recorded for a version, with the reconnect URL when one was handed out. */
interface Refusal {
  readonly reason: string
  readonly code: ActivityError.ReconnectCode
  readonly url: Option.Option<string>
}

/** The reason and code of a version's recorded refusal. */
const recordedRefusal = (
  instance: ConnectorInstance.ConnectorInstance,
  state: CredentialRefreshState.CredentialRefreshState
): Omit<Refusal, "url"> => {
  const reason = state.refusedReason ?? "the authorization server refused the grant"
  const code: ActivityError.ReconnectCode =
    instance.authType === "oauth2_client_credentials"
      ? "credentials_rejected"
      : reason.startsWith(`${refreshInterrupted}:`)
        ? refreshInterrupted
        : "refresh_refused"
  return { reason, code }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * Builds the protocol. Runs are forked into the current scope (the layer's), so an interrupted
 * caller never abandons a refresh whose rotated token must still be stored, and background
 * refreshes end with the layer.
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
    const transactions = yield* Transactions.Transactions
    const outbox = yield* LifecycleEvents.EventOutbox
    /** `credential.refresh_failed` for `current`, with a reason code (never the provider's text). */
    const emitFailed = (instance: ConnectorInstance.ConnectorInstance, current: Current, reason: string) =>
      LifecycleEvents.emit({
        _tag: "credential.refresh_failed",
        orgId: instance.orgId,
        instanceId: instance.id,
        connectorKey: instance.connectorKey,
        credentialId: current.metadata.id,
        reason
      }).pipe(Effect.provideService(LifecycleEvents.EventOutbox, outbox))
    const obtain = yield* FirstToken.make
    const scope = yield* Effect.scope
    const flights = SingleFlight.make<Outcome, CredentialRefresher.RefreshError>(scope)
    const millis = (input: Duration.DurationInput | undefined, fallback: Duration.DurationInput) =>
      Duration.toMillis(Duration.decode(input ?? fallback))
    const skewMillis = millis(options.skew, "60 seconds")
    const floorMillis = millis(options.floor, "10 seconds")
    const retryBaseMillis = millis(options.retryBase, "1 second")
    const retryMaxMillis = millis(options.retryMax, "5 minutes")

    /** The newest valid version of the same instance and scope, opened; `seen` when it is still the newest. */
    const reread = (instance: ConnectorInstance.ConnectorInstance, seen: Current) =>
      Effect.gen(function* () {
        const found = yield* repository.newestValid(instance.orgId, instance.id, [seen.metadata.scope], yield* now)
        if (Option.isNone(found) || found.value.metadata.id === seen.metadata.id) return seen
        return yield* CredentialResolver.open(envelope, found.value)
      })

    const stateOf = (current: Current) =>
      Effect.map(repository.refreshState(current.metadata.orgId, current.metadata.id), (found) =>
        Option.getOrElse(found, () => CredentialRefreshState.empty(current.metadata.orgId, current.metadata.id))
      )

    const put = (
      state: CredentialRefreshState.CredentialRefreshState,
      change: Partial<Omit<CredentialRefreshState.CredentialRefreshState, "credentialId" | "orgId">>
    ) => {
      const next = CredentialRefreshState.CredentialRefreshState.make({ ...state, ...change })
      return Effect.as(repository.putRefreshState(next), next)
    }

    /** One token request for a stored token set: refresh grant, or client credentials again. */
    const requestTokens = (instance: ConnectorInstance.ConnectorInstance, current: Current) =>
      Effect.gen(function* () {
        const registration = yield* clients.forInstance(instance)
        const ownSecret = Secrets.field(current.secrets, "client_secret")
        const clientId = Secrets.field(current.secrets, "client_id") ?? registration.clientId
        // A secret goes only with its own client: the token set's own, or the registration's for the
        // registration's client id. A token set of another client without its secret gets none.
        const clientSecret =
          ownSecret !== undefined
            ? Redacted.make(ownSecret)
            : clientId === registration.clientId
              ? registration.clientSecret
              : undefined
        const endpoint = yield* servers.endpoint(registration, instance.connectorKey, { clientId, clientSecret })
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

    const aad = (current: Current) => Envelope.aadOf(current.metadata)

    /** The reconnect URL recorded for a refused version, while its pending authorization is valid. */
    const recordedUrl = (current: Current, state: CredentialRefreshState.CredentialRefreshState, at: number) => {
      const link = state.reconnect
      if (link === null || link.expiresAt.getTime() <= at) return Effect.succeedNone
      return envelope.open(link.sealed, aad(current)).pipe(
        Effect.map((plain) => Option.some(decoder.decode(Redacted.value(plain)))),
        // A link sealed under a key the keyring no longer holds is replaced.
        Effect.catchTag("CredentialCorrupted", () => Effect.succeedNone)
      )
    }

    /**
     * The refusal of a version, with its reconnect URL: the recorded one while valid, else a fresh
     * one recorded beside the refusal. Runs under the lock, so one is made across processes.
     */
    const refusalOf = (
      instance: ConnectorInstance.ConnectorInstance,
      current: Current,
      state: CredentialRefreshState.CredentialRefreshState
    ) =>
      Effect.gen(function* () {
        const refused = recordedRefusal(instance, state)
        if (instance.authType === "oauth2_client_credentials")
          return { ...refused, url: Option.none() } satisfies Refusal
        const at = yield* Clock.currentTimeMillis
        const recorded = yield* recordedUrl(current, state, at)
        if (Option.isSome(recorded)) return { ...refused, url: recorded } satisfies Refusal
        const started = yield* reconnectUrl(instance, current.metadata.scope)
        if (Option.isNone(started)) return { ...refused, url: Option.none() } satisfies Refusal
        const sealed = yield* envelope.seal(Redacted.make(encoder.encode(started.value.url)), aad(current))
        yield* put(state, {
          reconnect: CredentialRefreshState.ReconnectLink.make({ sealed, expiresAt: started.value.expiresAt })
        })
        return { ...refused, url: Option.some(started.value.url) } satisfies Refusal
      })

    const reconnectRequired = (instance: ConnectorInstance.ConnectorInstance, refusal: Refusal) =>
      new ActivityError.ReconnectRequired({
        instanceId: instance.id,
        instanceName: instance.instanceName,
        connector: instance.connectorKey,
        reason: refusal.reason,
        code: refusal.code,
        action: instance.authType === "oauth2_client_credentials" ? "replace_credentials" : "reconnect",
        ...(Option.isSome(refusal.url) ? { reconnectUrl: refusal.url.value } : {})
      })

    /** Why a refused grant needs a person, distinct after an interrupted attempt. */
    const refusedReason = (
      instance: ConnectorInstance.ConnectorInstance,
      error: DriverError.AuthFailed,
      interrupted: boolean
    ) =>
      instance.authType === "oauth2_client_credentials"
        ? `the authorization server refused the client credentials (${error.detail})`
        : interrupted
          ? `${refreshInterrupted}: an earlier refresh was interrupted before its result was stored, so the refresh token may have been spent, and the authorization server refused it (${error.detail})`
          : `the authorization server refused the refresh token (${error.detail})`

    /** The error a caller gets while refreshes of a version back off. */
    const backingOff = (
      instance: ConnectorInstance.ConnectorInstance,
      state: CredentialRefreshState.CredentialRefreshState,
      at: number
    ) =>
      new DriverError.RateLimited({
        target: `the token endpoint of ${instance.connectorKey} (Patchbay backs off after ${state.failures} failed refreshes)`,
        retryAfterMillis: Math.max(0, (state.retryAt?.getTime() ?? at) - at)
      })

    /** The back-off after the `failures`-th transient failure in a row. */
    const backoffMillis = (failures: number, error: Transient) => {
      const doubled = Math.min(retryMaxMillis, retryBaseMillis * 2 ** Math.min(30, Math.max(0, failures - 1)))
      return error._tag === "RateLimited" && error.retryAfterMillis !== undefined
        ? Math.max(doubled, Math.min(retryMaxMillis, error.retryAfterMillis))
        : doubled
    }

    /**
     * When a resolution refreshes: `skew` before expiry, but never earlier than half the token's
     * lifetime (counted from the version's creation), so a provider whose tokens live shorter than
     * the skew does not get a token request on every resolution.
     */
    const refreshAt = (current: Current): number | undefined => {
      const expiresAt = expiresAtOf(current)
      if (expiresAt === undefined) return undefined
      const lifetime = expiresAt - current.metadata.createdAt.getTime()
      return expiresAt - Math.min(skewMillis, Math.max(0, lifetime / 2))
    }
    const dueForResolve: Due = (current, nowMillis) => {
      const at = refreshAt(current)
      return at !== undefined && at <= nowMillis
    }
    /** Whether a due token is still valid beyond the floor (at most half its refresh window). */
    const servable = (current: Current, nowMillis: number) => {
      const expiresAt = expiresAtOf(current)
      const at = refreshAt(current)
      if (expiresAt === undefined || at === undefined) return false
      return expiresAt - Math.min(floorMillis, (expiresAt - at) / 2) > nowMillis
    }

    type Locked =
      | { readonly _tag: "Current"; readonly current: Current }
      | { readonly _tag: "Refreshed"; readonly current: Current }
      | { readonly _tag: "Backoff"; readonly current: Current; readonly error: DriverError.RateLimited }
      | { readonly _tag: "Refused"; readonly refusal: Refusal; readonly fresh: boolean }
      | { readonly _tag: "Failed"; readonly current: Current; readonly error: CredentialRefresher.RefreshError }

    /** Under the lock: re-read, check the recorded state, record the attempt, send, store. */
    const attempt = (instance: ConnectorInstance.ConnectorInstance, seen: Current, due: Due) =>
      Effect.gen(function* () {
        const current = yield* reread(instance, seen)
        const state = yield* stateOf(current)
        if (state.refusedAt !== null) {
          return { _tag: "Refused", refusal: yield* refusalOf(instance, current, state), fresh: false } as Locked
        }
        const at = yield* Clock.currentTimeMillis
        // Another caller or process wrote a newer version since `seen` was read: use it unless
        // its access token has actually expired.
        const changed = current.metadata.id !== seen.metadata.id
        if (changed ? !expired(current, at) : !due(current, at)) return { _tag: "Current", current } as Locked
        if (state.retryAt !== null && state.retryAt.getTime() > at) {
          return { _tag: "Backoff", current, error: backingOff(instance, state, at) } as Locked
        }
        // The previous attempt never recorded an outcome: its refresh token may have been spent.
        const interrupted = state.attemptedAt !== null
        const attempted = yield* put(state, { attemptedAt: new Date(at) })
        const response = yield* Effect.either(requestTokens(instance, current))
        if (Either.isRight(response)) {
          const tokens = nextTokenSet(response.right, Redacted.value(current.secrets), at)
          // Stored at once; the old version keeps its attempt mark should this write fail.
          return { _tag: "Refreshed", current: yield* store(instance, current, tokens) } as Locked
        }
        const error = response.left
        const failedAt = yield* Clock.currentTimeMillis
        if (error._tag === "AuthFailed") {
          const refused = yield* transactions.run(
            Effect.tap(
              put(attempted, {
                attemptedAt: null,
                refusedAt: new Date(failedAt),
                refusedReason: refusedReason(instance, error, interrupted)
              }),
              (state) => emitFailed(instance, current, recordedRefusal(instance, state).code)
            )
          )
          return { _tag: "Refused", refusal: yield* refusalOf(instance, current, refused), fresh: true } as Locked
        }
        if (isTransient(error)) {
          const failures = state.failures + 1
          yield* transactions.run(
            Effect.zipRight(
              put(attempted, {
                // A timeout or a broken connection may have reached the server: the token may be spent.
                attemptedAt: error._tag === "TimedOut" || error._tag === "Unreachable" ? attempted.attemptedAt : null,
                failures,
                retryAt: new Date(failedAt + backoffMillis(failures, error))
              }),
              emitFailed(instance, current, error._tag)
            )
          )
        }
        return { _tag: "Failed", current, error } as Locked
      })

    const run = (
      instance: ConnectorInstance.ConnectorInstance,
      seen: Current,
      due: Due
    ): Effect.Effect<Outcome, CredentialRefresher.RefreshError, Actor.Actor> => {
      const key = refreshKey(instance, seen.metadata.scope)
      return flights.run(
        key,
        Effect.gen(function* () {
          const locked = yield* lock.withLock(key, attempt(instance, seen, due))
          switch (locked._tag) {
            case "Current":
            case "Refreshed":
              return locked
            case "Backoff":
              return { _tag: "Transient", error: locked.error, kept: locked.current } as const
            case "Refused": {
              if (locked.fresh) {
                // The refusal is recorded already: a failure to mark the instance does not hide it.
                yield* instances.setStatus(instance.id, "reconnect_required", locked.refusal.reason).pipe(
                  Effect.catchTag("InstanceNotFound", () => Effect.void),
                  Effect.catchAll((error) =>
                    Effect.logWarning("the instance could not be marked reconnect_required").pipe(
                      Effect.annotateLogs({ instanceId: instance.id, error: error.message })
                    )
                  )
                )
              }
              return yield* reconnectRequired(instance, locked.refusal)
            }
            case "Failed": {
              const error = locked.error
              if (isTransient(error)) return { _tag: "Transient", error, kept: locked.current } as const
              return yield* Effect.fail(error)
            }
          }
        }).pipe(
          Effect.tapBoth({
            onSuccess: (outcome) =>
              PatchbayMetrics.recordRefresh(
                instance.connectorKey,
                outcome._tag === "Refreshed" ? "refreshed" : outcome._tag === "Current" ? "current" : "transient"
              ),
            onFailure: (error) =>
              PatchbayMetrics.recordRefresh(
                instance.connectorKey,
                error._tag === "ReconnectRequired" ? "refused" : "failed"
              )
          }),
          Effect.withSpan("OAuth2.refresh", { attributes: { instanceId: instance.id } })
        )
      )
    }

    /** The kept version while its access token is valid, else the transient failure. */
    const keptOr = (instance: ConnectorInstance.ConnectorInstance, kept: Current, error: Transient) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) => {
        const expiresAt = expiresAtOf(kept)
        return expiresAt === undefined || expiresAt <= at
          ? Effect.fail(error)
          : Effect.as(
              Effect.logWarning("OAuth2 refresh failed; the current access token is still valid").pipe(
                Effect.annotateLogs({ instanceId: instance.id, error: error.message })
              ),
              kept
            )
      })

    /** A due resolution that waits: the run's version, or the kept one while its access token is still valid. */
    const refreshDue = (instance: ConnectorInstance.ConnectorInstance, resolved: Current) =>
      Effect.flatMap(run(instance, resolved, dueForResolve), (outcome) =>
        outcome._tag === "Transient" ? keptOr(instance, outcome.kept, outcome.error) : Effect.succeed(outcome.current)
      )

    /** Starts the run in the layer's scope without waiting for it; its failure is recorded, not raised. */
    const revalidate = (instance: ConnectorInstance.ConnectorInstance, resolved: Current) =>
      run(instance, resolved, dueForResolve).pipe(
        Effect.catchAll((error) =>
          Effect.logDebug("OAuth2 background refresh failed").pipe(
            Effect.annotateLogs({ instanceId: instance.id, error: error.message })
          )
        ),
        Effect.forkIn(scope),
        Effect.asVoid
      )

    const refresh = (
      instance: ConnectorInstance.ConnectorInstance,
      resolved: Current
    ): Effect.Effect<Current, CredentialRefresher.RefreshError, Actor.Actor> => {
      const dueAt = isOAuth2(instance) ? refreshAt(resolved) : undefined
      if (dueAt === undefined) return Effect.succeed(resolved)
      return Effect.flatMap(Clock.currentTimeMillis, (at) => {
        if (dueAt > at) return Effect.succeed(resolved)
        return Effect.gen(function* () {
          // Due: what was recorded about this version decides before any request.
          const state = yield* stateOf(resolved)
          if (state.refusedAt !== null) {
            const url = yield* recordedUrl(resolved, state, at)
            // Without a valid reconnect URL, the run makes one (under the lock, once).
            if (Option.isSome(url) || instance.authType === "oauth2_client_credentials") {
              return yield* reconnectRequired(instance, { ...recordedRefusal(instance, state), url })
            }
            return yield* refreshDue(instance, resolved)
          }
          if (state.retryAt !== null && state.retryAt.getTime() > at) {
            return yield* keptOr(instance, resolved, backingOff(instance, state, at))
          }
          if (servable(resolved, at)) {
            yield* revalidate(instance, resolved)
            return resolved
          }
          return yield* refreshDue(instance, resolved)
        })
      })
    }

    return { refresh, obtain, run } satisfies RefreshProtocol
  })
