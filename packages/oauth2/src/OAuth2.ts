/**
 * OAuth2 for connector instances: the authorization-code flow with PKCE (S256) and a single-use
 * state, the client-credentials grant, transparent refresh behind `CredentialResolver` that never
 * races, reconnect links, and a sweep a host schedules.
 *
 * Refresh protocol: a token set is refreshed when its access token expires within the skew
 * (default 60 s). Per credential (instance and scope) one refresh runs per process and every caller
 * shares it; across processes `RefreshLock.withLock` excludes, and the holder first re-reads the
 * newest version — when another process refreshed already, that version is used and no token
 * request is made. The new token set (rotated refresh token included) is written with
 * `CredentialVault.supersede` while the lock is held (with store-sql: in the lock's transaction).
 * A refused grant (`invalid_grant`, a rejected client) marks the instance `reconnect_required` and
 * fails with `ReconnectRequired`; a 5xx, 429, timeout or network failure keeps the old version,
 * which is still returned while its access token has not actually expired.
 *
 * @since 0.1.0
 */
import {
  ActivityError,
  Actor,
  ConnectorInstance,
  ConnectorInstances,
  type Credential,
  CredentialRepository,
  CredentialScope,
  DomainError,
  DriverError,
  EgressPolicy,
  Ids,
  PendingAuthorizationRepository,
  RefreshLock,
  type ResolvedCredential
} from "@patchbay/core"
import { CredentialRefresher, CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { Envelope } from "@patchbay/crypto"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as oauth from "oauth4webapi"
import { stateHash } from "./internal/hash.js"
import * as Secrets from "./internal/secrets.js"
import * as SingleFlight from "./internal/singleFlight.js"
import * as TokenEndpoint from "./internal/tokenEndpoint.js"
import { OAuth2Clients } from "./OAuth2Clients.js"
import { AuthorizationDenied, AuthorizationStateRejected, InvalidCallback } from "./OAuth2Error.js"
import { SweepOptions, type SweepReason, SweepResult } from "./Sweep.js"
import * as TokenSet from "./TokenSet.js"

/**
 * Options of `layer`.
 *
 * @since 0.1.0
 */
export interface Options {
  /** Refresh when the access token expires within this (default 60 seconds). */
  readonly skew?: Duration.DurationInput | undefined
  /** How long a started authorization may be completed (default 10 minutes). */
  readonly pendingTtl?: Duration.DurationInput | undefined
  /** Longest one request to the authorization server may take (default 10 seconds). */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Allow `http:` authorization servers (tests, a local provider). Default false. */
  readonly allowInsecureRequests?: boolean | undefined
  /** The redirect URI of reconnect links when the client registration names none. */
  readonly reconnectRedirectUri?: string | undefined
}

const HttpUrl = Schema.String.pipe(
  Schema.filter((value) => {
    try {
      const url = new URL(value)
      if (url.protocol !== "https:" && url.protocol !== "http:") return "redirectUri must be an http or https URL"
      return url.hash === "" ? true : "redirectUri must not have a fragment"
    } catch {
      return "redirectUri must be an absolute URL"
    }
  })
)

/**
 * Input of `startAuthorization`: the instance, the credential scope the token set will be stored
 * in (default: the actor's organization), the redirect URI of the callback, and the OAuth2 scopes
 * (default: the client registration's).
 *
 * @since 0.1.0
 */
export class StartAuthorization extends Schema.Class<StartAuthorization>("@patchbay/oauth2/StartAuthorization")({
  instanceId: Schema.String,
  scope: Schema.optional(CredentialScope.CredentialScope),
  redirectUri: HttpUrl,
  scopes: Schema.optional(Schema.Array(Schema.String))
}) {}

/**
 * Where to send the person, and until when the authorization may be completed.
 *
 * @since 0.1.0
 */
export interface AuthorizationStart {
  readonly url: string
  readonly expiresAt: Date
}

/**
 * Input of `connectClientCredentials`: the instance, the credential scope (default: the actor's
 * organization), the client (default: the registration's) and the OAuth2 scopes.
 *
 * @since 0.1.0
 */
export class ConnectClientCredentials extends Schema.Class<ConnectClientCredentials>(
  "@patchbay/oauth2/ConnectClientCredentials"
)({
  instanceId: Schema.String,
  scope: Schema.optional(CredentialScope.CredentialScope),
  clientId: Schema.optional(Schema.String.pipe(Schema.nonEmptyString())),
  clientSecret: Schema.optional(Schema.Union(Schema.RedactedFromSelf(Schema.String), Schema.Redacted(Schema.String))),
  scopes: Schema.optional(Schema.Array(Schema.String))
}) {}

/**
 * Failures of `startAuthorization`.
 *
 * @since 0.1.0
 */
export type StartError =
  | DomainError.InvalidInput
  | DomainError.InstanceNotFound
  | DomainError.InstanceDisabled
  | DomainError.ScopeForbidden
  | DomainError.StorageError
  | TokenEndpoint.TokenFailure

/**
 * Failures of `completeAuthorization`.
 *
 * @since 0.1.0
 */
export type CompleteError =
  | InvalidCallback
  | AuthorizationStateRejected
  | AuthorizationDenied
  | DomainError.CredentialCorrupted
  | CredentialVault.CreateError
  | TokenEndpoint.TokenFailure

/**
 * Failures of `connectClientCredentials`.
 *
 * @since 0.1.0
 */
export type ConnectError = DomainError.InstanceDisabled | CredentialVault.CreateError | TokenEndpoint.TokenFailure

/**
 * The OAuth2 operations: connect an instance (authorization code or client credentials), keep its
 * token set fresh for the resolver, and sweep an organization's token sets.
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
    input: typeof StartAuthorization.Encoded
  ) => Effect.Effect<AuthorizationStart, StartError, Actor.Actor>
  /**
   * Completes the flow from the callback URL: the state is taken once (a replay fails with
   * `AuthorizationStateRejected`), the code exchanged, the token set stored as a new version for the
   * instance and scope, and the instance marked `active`. Acts as the current `Actor` when one is
   * provided (it must be of the same organization), else as the owner of the stored scope.
   */
  readonly completeAuthorization: (callbackUrl: string) => Effect.Effect<Credential.CredentialMetadata, CompleteError>
  /** Fetches a token with the client-credentials grant and stores it as a new version. */
  readonly connectClientCredentials: (
    input: typeof ConnectClientCredentials.Encoded
  ) => Effect.Effect<Credential.CredentialMetadata, ConnectError, Actor.Actor>
  /**
   * The resolver's hook: `resolved` as is while its access token is fresh (a clock read and a
   * comparison), else the refreshed credential.
   */
  readonly ensureFresh: (
    instance: ConnectorInstance.ConnectorInstance,
    resolved: ResolvedCredential.ResolvedCredential
  ) => Effect.Effect<ResolvedCredential.ResolvedCredential, CredentialRefresher.RefreshError, Actor.Actor>
  /**
   * The resolver's hook when an instance has no token set: the first client-credentials token,
   * fetched on demand when the registration holds a client secret; `None` otherwise.
   */
  readonly obtain: (
    instance: ConnectorInstance.ConnectorInstance
  ) => Effect.Effect<
    Option.Option<ResolvedCredential.ResolvedCredential>,
    CredentialRefresher.RefreshError,
    Actor.Actor
  >
  /**
   * Refreshes the organization's OAuth2 token sets that expire within `withinMinutes`, and touches
   * those not refreshed for `idleHours`; one result per instance and scope, as they finish.
   */
  readonly sweep: (
    options: typeof SweepOptions.Encoded
  ) => Stream.Stream<SweepResult, DomainError.InvalidInput | DomainError.StorageError, Actor.Actor>
}

/**
 * The OAuth2 service.
 *
 * @since 0.1.0
 */
export class OAuth2 extends Context.Tag("@patchbay/oauth2/OAuth2")<OAuth2, OAuth2Shape>() {}

/** A token set as read from the store. */
type Current = ResolvedCredential.ResolvedCredential

/** What one shared refresh ended with. */
type Outcome =
  | { readonly _tag: "Refreshed"; readonly current: Current }
  | { readonly _tag: "Current"; readonly current: Current }
  | { readonly _tag: "Transient"; readonly error: Transient; readonly kept: Current }

type Transient = DriverError.Unreachable | DriverError.TimedOut | DriverError.RateLimited | DriverError.ProviderFailure

const isTransient = (error: { readonly _tag: string }): error is Transient =>
  error._tag === "Unreachable" ||
  error._tag === "TimedOut" ||
  error._tag === "RateLimited" ||
  error._tag === "ProviderFailure"

const isOAuth2 = (instance: { readonly authType: string }) =>
  instance.authType === "oauth2_authorization_code" || instance.authType === "oauth2_client_credentials"

const grantOf = (instance: ConnectorInstance.ConnectorInstance): TokenSet.Grant =>
  instance.authType === "oauth2_client_credentials" ? "client_credentials" : "authorization_code"

/**
 * The actor a background write acts as: the owner of the credential's scope (the organization, the
 * workspace, the user or the agent), so the vault's write rule holds.
 *
 * @since 0.1.0
 */
export const ownerOf = (orgId: Ids.OrgId, scope: CredentialScope.CredentialScope): Actor.ActorInfo => {
  switch (scope.type) {
    case "organization":
      return Actor.ActorInfo.make({ orgId })
    case "workspace":
      return Actor.ActorInfo.make({ orgId, workspaceId: Ids.WorkspaceId.make(scope.id) })
    case "user":
      return Actor.ActorInfo.make({ orgId, userId: Ids.UserId.make(scope.id) })
    case "agent":
      return Actor.ActorInfo.make({ orgId, agentId: Ids.AgentId.make(scope.id) })
  }
}

const invalidInput = (error: ParseResult.ParseError) => DomainError.InvalidInput.fromParseError(error)
const decodeStart = Schema.decodeUnknown(StartAuthorization, { errors: "all", onExcessProperty: "error" })
const decodeConnect = Schema.decodeUnknown(ConnectClientCredentials, { errors: "all", onExcessProperty: "error" })
const decodeSweep = Schema.decodeUnknown(SweepOptions, { errors: "all", onExcessProperty: "error" })
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const now = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))

/** The binding of a pending authorization's sealed verifier. */
const pendingAad = (hash: string, instanceId: string, scope: CredentialScope.CredentialScope): Envelope.Aad => ({
  credentialId: `pending-authorization:${hash}`,
  instanceId,
  scopeType: scope.type,
  scopeId: scope.id
})

/** The token set to store after a token response: a missing refresh token or scope keeps the old one. */
const nextTokenSet = (
  response: oauth.TokenEndpointResponse,
  previous: Readonly<Record<string, unknown>> | undefined,
  nowMillis: number,
  client: { readonly clientId?: string | undefined; readonly clientSecret?: string | undefined }
): TokenSet.TokenSet => {
  const keep = (name: string) => {
    const value = previous?.[name]
    return typeof value === "string" ? value : undefined
  }
  const set: Record<string, string | number> = { access_token: response.access_token, token_type: response.token_type }
  const refreshToken = response.refresh_token ?? keep("refresh_token")
  if (refreshToken !== undefined) set.refresh_token = refreshToken
  if (typeof response.expires_in === "number") set.expires_at = Math.floor(nowMillis / 1000) + response.expires_in
  const scope = response.scope ?? keep("scope")
  if (scope !== undefined) set.scope = scope
  const idToken = response.id_token ?? keep("id_token")
  if (idToken !== undefined) set.id_token = idToken
  const clientId = client.clientId ?? keep("client_id")
  if (clientId !== undefined) set.client_id = clientId
  const clientSecret = client.clientSecret ?? keep("client_secret")
  if (clientSecret !== undefined) set.client_secret = clientSecret
  return set as TokenSet.TokenSet
}

/**
 * The ports and services the OAuth2 service is built on (`EgressPolicy` is used when present).
 *
 * @since 0.1.0
 */
export type Requirements =
  | CredentialRepository.CredentialRepository
  | Envelope.Envelope
  | CredentialVault.CredentialVault
  | ConnectorInstances.ConnectorInstances
  | PendingAuthorizationRepository.PendingAuthorizationRepository
  | RefreshLock.RefreshLock
  | OAuth2Clients

/**
 * Builds the service on its ports. Refreshes run in fibers of the current scope (the layer's), so
 * an interrupted caller never abandons a refresh whose rotated token must still be stored.
 *
 * @since 0.1.0
 */
export const make = (options: Options = {}): Effect.Effect<OAuth2Shape, never, Requirements | Scope.Scope> =>
  Effect.gen(function* () {
    const repository = yield* CredentialRepository.CredentialRepository
    const envelope = yield* Envelope.Envelope
    const vault = yield* CredentialVault.CredentialVault
    const instances = yield* ConnectorInstances.ConnectorInstances
    const pending = yield* PendingAuthorizationRepository.PendingAuthorizationRepository
    const lock = yield* RefreshLock.RefreshLock
    const clients = yield* OAuth2Clients
    const egress = yield* Effect.serviceOption(EgressPolicy.EgressPolicy)
    const scope = yield* Effect.scope

    const skewMillis = Duration.toMillis(Duration.decode(options.skew ?? "60 seconds"))
    const pendingTtlMillis = Duration.toMillis(Duration.decode(options.pendingTtl ?? "10 minutes"))
    const endpoints = TokenEndpoint.make({
      allowInsecureRequests: options.allowInsecureRequests ?? false,
      timeout: Duration.decode(options.requestTimeout ?? "10 seconds"),
      egress
    })
    const flights = SingleFlight.make<Outcome, CredentialRefresher.RefreshError>(scope)
    const firstFlights = SingleFlight.make<Option.Option<Current>, CredentialRefresher.RefreshError>(scope)

    const resolveScope = (actor: Actor.ActorInfo, given: CredentialScope.CredentialScope | undefined) =>
      given ?? CredentialScope.CredentialScope.make({ type: "organization", id: actor.orgId })

    const checkWrite = (
      actor: Actor.ActorInfo,
      instance: ConnectorInstance.ConnectorInstance,
      credentialScope: CredentialScope.CredentialScope
    ) =>
      CredentialVault.mayWrite(actor, instance, credentialScope)
        ? Effect.void
        : Effect.fail(new DomainError.ScopeForbidden({ scope: credentialScope.key }))

    const requireAuthType = (instance: ConnectorInstance.ConnectorInstance, authType: string) =>
      instance.authType === authType
        ? Effect.void
        : Effect.fail(
            new DomainError.InvalidConfiguration({
              connector: instance.connectorKey,
              detail: `instance "${instance.instanceName}" uses ${instance.authType}, not ${authType}`
            })
          )

    // --- authorization code -------------------------------------------------------------------

    /** The authorization URL for an instance and scope; stores the pending authorization. */
    const authorize = (
      instance: ConnectorInstance.ConnectorInstance,
      credentialScope: CredentialScope.CredentialScope,
      redirectUri: string,
      scopes: ReadonlyArray<string> | undefined
    ) =>
      Effect.gen(function* () {
        const registration = yield* clients.forInstance(instance)
        const server = yield* endpoints.server(registration)
        if (server.authorization_endpoint === undefined) {
          return yield* new DomainError.InvalidConfiguration({
            connector: instance.connectorKey,
            detail: `OAuth2 client: ${server.issuer} advertises no authorization endpoint`
          })
        }
        const verifier = oauth.generateRandomCodeVerifier()
        const challenge = yield* Effect.promise(() => oauth.calculatePKCECodeChallenge(verifier))
        const state = oauth.generateRandomState()
        const hash = stateHash(state)
        const at = yield* now
        const expiresAt = new Date(at.getTime() + pendingTtlMillis)
        const sealed = yield* envelope.seal(
          Redacted.make(encoder.encode(verifier)),
          pendingAad(hash, instance.id, credentialScope)
        )
        yield* pending.insert(
          PendingAuthorizationRepository.PendingAuthorization.make({
            stateHash: hash,
            orgId: instance.orgId,
            instanceId: instance.id,
            scope: credentialScope,
            redirectUri,
            sealed,
            createdAt: at,
            expiresAt
          })
        )
        const url = new URL(server.authorization_endpoint)
        for (const [name, value] of Object.entries(registration.authorizationParameters)) {
          url.searchParams.set(name, value)
        }
        url.searchParams.set("response_type", "code")
        url.searchParams.set("client_id", registration.clientId)
        url.searchParams.set("redirect_uri", redirectUri)
        const requested = scopes ?? registration.scopes
        if (requested.length > 0) url.searchParams.set("scope", requested.join(" "))
        url.searchParams.set("state", state)
        url.searchParams.set("code_challenge", challenge)
        url.searchParams.set("code_challenge_method", "S256")
        return { url: url.href, expiresAt } satisfies AuthorizationStart
      })

    const startAuthorization = Effect.fn("OAuth2.startAuthorization")(function* (
      input: typeof StartAuthorization.Encoded
    ) {
      const actor = yield* Actor.Actor
      const request = yield* decodeStart(input).pipe(Effect.mapError(invalidInput))
      const instance = yield* instances.getUsable(request.instanceId)
      yield* requireAuthType(instance, "oauth2_authorization_code")
      const credentialScope = resolveScope(actor, request.scope)
      yield* checkWrite(actor, instance, credentialScope)
      return yield* authorize(instance, credentialScope, request.redirectUri, request.scopes)
    })

    const completeAuthorization = Effect.fn("OAuth2.completeAuthorization")(function* (callbackUrl: string) {
      const callback = yield* Effect.try({
        try: () => new URL(callbackUrl),
        catch: () => new InvalidCallback({ reason: "the callback URL is not an absolute URL" })
      })
      const state = callback.searchParams.get("state")
      if (state === null || state === "") {
        return yield* new InvalidCallback({ reason: "the callback URL has no state parameter" })
      }
      const hash = stateHash(state)
      const found = yield* pending.take(hash, yield* now)
      if (Option.isNone(found)) {
        return yield* new AuthorizationStateRejected({ reason: "the state is unknown, expired or already used" })
      }
      const authorization = found.value
      const expected = new URL(authorization.redirectUri)
      if (callback.origin !== expected.origin || callback.pathname !== expected.pathname) {
        return yield* new InvalidCallback({ reason: "the callback URL is not the redirect URI the flow started with" })
      }
      const ambient = yield* Effect.serviceOption(Actor.Actor)
      if (Option.isSome(ambient) && ambient.value.orgId !== authorization.orgId) {
        return yield* new AuthorizationStateRejected({ reason: "the authorization belongs to another organization" })
      }
      const actor = Option.getOrElse(ambient, () => ownerOf(authorization.orgId, authorization.scope))
      return yield* Effect.gen(function* () {
        const instance = yield* instances.getInstance(authorization.instanceId)
        const registration = yield* clients.forInstance(instance)
        const endpoint = yield* endpoints.endpoint(registration, instance.connectorKey, registration)
        const params = yield* endpoints.validateCallback(endpoint, callback, state).pipe(
          Effect.mapError((error) =>
            error instanceof oauth.AuthorizationResponseError
              ? new AuthorizationDenied({
                  error: error.error,
                  ...(error.error_description === undefined ? {} : { description: error.error_description })
                })
              : new InvalidCallback({ reason: error instanceof Error ? error.message : String(error) })
          )
        )
        const plaintext = yield* envelope.open(
          authorization.sealed,
          pendingAad(hash, authorization.instanceId, authorization.scope)
        )
        const verifier = Redacted.make(decoder.decode(Redacted.value(plaintext)))
        const response = yield* endpoints.authorizationCode(endpoint, params, authorization.redirectUri, verifier)
        const tokens = nextTokenSet(response, undefined, yield* Clock.currentTimeMillis, {})
        const metadata = yield* vault.create({
          instanceId: instance.id,
          scope: authorization.scope,
          credentials: tokens,
          labels: TokenSet.labels("authorization_code", tokens)
        })
        yield* instances.setStatus(instance.id, "active", "OAuth2 authorization completed")
        return metadata
      }).pipe(Effect.provideService(Actor.Actor, actor))
    })

    // --- client credentials -------------------------------------------------------------------

    const connectClientCredentials = Effect.fn("OAuth2.connectClientCredentials")(function* (
      input: typeof ConnectClientCredentials.Encoded
    ) {
      const actor = yield* Actor.Actor
      const request = yield* decodeConnect(input).pipe(Effect.mapError(invalidInput))
      const instance = yield* instances.getUsable(request.instanceId)
      yield* requireAuthType(instance, "oauth2_client_credentials")
      const credentialScope = resolveScope(actor, request.scope)
      yield* checkWrite(actor, instance, credentialScope)
      const registration = yield* clients.forInstance(instance)
      const clientId = request.clientId ?? registration.clientId
      const clientSecret = request.clientSecret ?? registration.clientSecret
      const endpoint = yield* endpoints.endpoint(registration, instance.connectorKey, { clientId, clientSecret })
      const response = yield* endpoints.clientCredentials(endpoint, request.scopes ?? registration.scopes)
      const tokens = nextTokenSet(response, undefined, yield* Clock.currentTimeMillis, {
        // The client is stored with the token set only when it is the instance's own.
        clientId: request.clientId,
        clientSecret: request.clientSecret === undefined ? undefined : Redacted.value(request.clientSecret)
      })
      const metadata = yield* vault.create({
        instanceId: instance.id,
        scope: credentialScope,
        credentials: tokens,
        labels: TokenSet.labels("client_credentials", tokens)
      })
      yield* instances.setStatus(instance.id, "active", "OAuth2 client credentials stored")
      return metadata
    })

    // --- refresh --------------------------------------------------------------------------------

    /** The newest valid version of the same instance and scope, opened; `seen` when it is still the newest. */
    const reread = (instance: ConnectorInstance.ConnectorInstance, seen: Current) =>
      Effect.gen(function* () {
        const found = yield* repository.newestValid(instance.orgId, instance.id, [seen.metadata.scope], yield* now)
        if (Option.isNone(found) || found.value.metadata.id === seen.metadata.id) return seen
        return (yield* CredentialResolver.open(envelope, found.value)) satisfies Current
      })

    /** One token request for a stored token set: refresh grant, or client credentials again. */
    const requestTokens = (instance: ConnectorInstance.ConnectorInstance, current: Current) =>
      Effect.gen(function* () {
        const registration = yield* clients.forInstance(instance)
        const ownSecret = Secrets.field(current.secrets, "client_secret")
        const endpoint = yield* endpoints.endpoint(registration, instance.connectorKey, {
          clientId: Secrets.field(current.secrets, "client_id") ?? registration.clientId,
          clientSecret: ownSecret === undefined ? registration.clientSecret : Redacted.make(ownSecret)
        })
        if (instance.authType === "oauth2_client_credentials") {
          const granted = Secrets.field(current.secrets, "scope")
          return yield* endpoints.clientCredentials(
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
        return yield* endpoints.refresh(endpoint, Redacted.make(refreshToken))
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
        let reconnectUrl: string | undefined
        if (!clientCredentials) {
          const registration = yield* Effect.option(clients.forInstance(instance))
          const redirectUri = Option.match(registration, {
            onNone: () => options.reconnectRedirectUri,
            onSome: (r) => r.redirectUri ?? options.reconnectRedirectUri
          })
          if (redirectUri !== undefined) {
            const started = yield* Effect.option(authorize(instance, current.metadata.scope, redirectUri, undefined))
            reconnectUrl = Option.getOrUndefined(Option.map(started, (s) => s.url))
          }
        }
        return yield* new ActivityError.ReconnectRequired({
          instanceId: instance.id,
          instanceName: instance.instanceName,
          connector: instance.connectorKey,
          reason,
          action: clientCredentials ? "replace_credentials" : "reconnect",
          ...(reconnectUrl === undefined ? {} : { reconnectUrl })
        })
      })

    const dueWithin =
      (windowMillis: number) =>
      (current: Current, nowMillis: number): boolean => {
        const expiresAt = TokenSet.expiresAtMillis(Redacted.value(current.secrets))
        return expiresAt !== undefined && expiresAt - windowMillis <= nowMillis
      }
    const expired = dueWithin(0)

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
    const dueForResolve = (current: Current, nowMillis: number): boolean => {
      const at = refreshAt(current)
      return at !== undefined && at <= nowMillis
    }

    /**
     * The refresh protocol for one credential: shared in process, locked across processes, the
     * newest version re-read under the lock and refreshed only if `due` still says so.
     */
    const refreshSlot = (
      instance: ConnectorInstance.ConnectorInstance,
      seen: Current,
      due: (current: Current, nowMillis: number) => boolean
    ): Effect.Effect<Outcome, CredentialRefresher.RefreshError, Actor.Actor> => {
      const key = `oauth2:${instance.orgId}:${instance.id}:${seen.metadata.scope.type}:${seen.metadata.scope.id}`
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
              const tokens = nextTokenSet(response.right, Redacted.value(current.secrets), at, {})
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

    const refreshResolved = (
      instance: ConnectorInstance.ConnectorInstance,
      resolved: Current
    ): Effect.Effect<Current, CredentialRefresher.RefreshError, Actor.Actor> =>
      Effect.flatMap(refreshSlot(instance, resolved, dueForResolve), (outcome) => {
        if (outcome._tag !== "Transient") return Effect.succeed(outcome.current)
        return Effect.flatMap(Clock.currentTimeMillis, (at) => {
          const expiresAt = TokenSet.expiresAtMillis(Redacted.value(outcome.kept.secrets))
          return expiresAt !== undefined && expiresAt > at
            ? Effect.as(
                Effect.logWarning("OAuth2 refresh failed; the current access token is still valid").pipe(
                  Effect.annotateLogs({ instanceId: instance.id, error: outcome.error.message })
                ),
                outcome.kept
              )
            : Effect.fail(outcome.error)
        })
      })

    const ensureFresh = (
      instance: ConnectorInstance.ConnectorInstance,
      resolved: Current
    ): Effect.Effect<Current, CredentialRefresher.RefreshError, Actor.Actor> => {
      const due = refreshAt(resolved)
      if (due === undefined || !isOAuth2(instance)) return Effect.succeed(resolved)
      return Effect.flatMap(Clock.currentTimeMillis, (at) =>
        due > at ? Effect.succeed(resolved) : refreshResolved(instance, resolved)
      )
    }

    /**
     * The resolver's hook for an instance with no token set yet: a client-credentials instance
     * whose registration holds a client secret gets its first token on demand, stored at
     * organization scope — once across callers (single flight) and processes (the lock, then a
     * re-read: another process may have stored it already).
     */
    const obtain = (
      instance: ConnectorInstance.ConnectorInstance
    ): Effect.Effect<Option.Option<Current>, CredentialRefresher.RefreshError, Actor.Actor> => {
      if (instance.authType !== "oauth2_client_credentials") return Effect.succeedNone
      const scope = CredentialScope.CredentialScope.make({ type: "organization", id: instance.orgId })
      const key = `oauth2:${instance.orgId}:${instance.id}:${scope.type}:${scope.id}`
      const fetchFirst = Effect.gen(function* () {
        const registration = yield* Effect.option(clients.forInstance(instance))
        if (Option.isNone(registration) || registration.value.clientSecret === undefined) return Option.none()
        const stored = yield* repository.newestValid(instance.orgId, instance.id, [scope], yield* now)
        if (Option.isNone(stored)) {
          const { clientId, clientSecret, scopes } = registration.value
          const endpoint = yield* endpoints.endpoint(registration.value, instance.connectorKey, {
            clientId,
            clientSecret
          })
          const response = yield* endpoints.clientCredentials(endpoint, scopes)
          const tokens = nextTokenSet(response, undefined, yield* Clock.currentTimeMillis, {})
          const metadata = yield* vault
            .create({
              instanceId: instance.id,
              scope,
              credentials: tokens,
              labels: TokenSet.labels("client_credentials", tokens)
            })
            .pipe(
              Effect.catchTags({
                InvalidInput: Effect.die,
                InstanceNotFound: Effect.die,
                ConnectorNotFound: Effect.die,
                ScopeForbidden: Effect.die,
                DuplicateAccount: Effect.die
              })
            )
          const record = yield* repository.get(instance.orgId, metadata.id)
          if (Option.isNone(record)) {
            return yield* new DomainError.StorageError({
              operation: "OAuth2.obtain",
              detail: "the version disappeared"
            })
          }
          return Option.some(yield* CredentialResolver.open(envelope, record.value))
        }
        return Option.some(yield* CredentialResolver.open(envelope, stored.value))
      })
      return firstFlights.run(key, lock.withLock(key, fetchFirst))
    }

    // --- sweep ----------------------------------------------------------------------------------

    /** The organization's enabled OAuth2 instances, page by page. */
    const oauth2Instances = Stream.paginateChunkEffect(undefined as Ids.InstanceId | undefined, (cursor) =>
      instances.list({ limit: 200, ...(cursor === undefined ? {} : { cursor }) }).pipe(
        Effect.catchTags({ InvalidInput: Effect.die, ConnectorNotFound: Effect.die }),
        Effect.map(
          (page) =>
            [
              Chunk.fromIterable(page.items.filter((view) => view.isEnabled && isOAuth2(view))),
              Option.fromNullable(page.nextCursor)
            ] as const
        )
      )
    )

    const sweepOne = (
      instance: ConnectorInstance.ConnectorInstance,
      metadata: Credential.CredentialMetadata,
      settings: SweepOptions,
      nowMillis: number
    ): Effect.Effect<SweepResult> => {
      const base = {
        instanceId: instance.id,
        instanceName: instance.instanceName,
        connector: instance.connectorKey,
        scope: metadata.scope
      }
      return Effect.gen(function* () {
        const owner = ownerOf(instance.orgId, metadata.scope)
        const result = (
          reason: SweepReason,
          outcome: SweepResult["outcome"],
          current: Current,
          extra: { readonly detail?: string; readonly error?: SweepResult["error"] } = {}
        ) => {
          const expiresAt = TokenSet.expiresAtMillis(Redacted.value(current.secrets))
          return SweepResult.make({
            ...base,
            reason,
            outcome,
            credentialId: current.metadata.id,
            accessTokenExpiresAt: expiresAt === undefined ? null : new Date(expiresAt),
            ...extra
          })
        }
        const record = yield* repository.get(instance.orgId, metadata.id)
        if (Option.isNone(record)) {
          return yield* new DomainError.StorageError({ operation: "OAuth2.sweep", detail: "the version disappeared" })
        }
        const seen: Current = yield* CredentialResolver.open(envelope, record.value)
        const windowMillis = settings.withinMinutes * 60_000
        const expiring = dueWithin(windowMillis)(seen, nowMillis)
        const idle = nowMillis - metadata.createdAt.getTime() >= settings.idleHours * 3_600_000
        if (!expiring && !idle) return result("fresh", "skipped", seen)
        const reason: SweepReason = expiring ? "expiring" : "idle"
        if (
          instance.authType === "oauth2_authorization_code" &&
          Secrets.field(seen.secrets, "refresh_token") === undefined
        ) {
          return result(reason, "skipped", seen, {
            detail: "no refresh token was issued; the person must reconnect when the access token expires"
          })
        }
        const due = expiring ? dueWithin(windowMillis) : (current: Current) => current.metadata.id === seen.metadata.id
        const outcome = yield* refreshSlot(instance, seen, due).pipe(Effect.provideService(Actor.Actor, owner))
        switch (outcome._tag) {
          case "Refreshed":
            return result(reason, "refreshed", outcome.current)
          case "Current":
            return result(reason, "current", outcome.current)
          case "Transient":
            return result(reason, "failed", outcome.kept, { error: outcome.error })
        }
      }).pipe(
        Effect.catchAll((error) =>
          Effect.succeed(
            SweepResult.make({
              ...base,
              reason: "expiring",
              outcome: "failed",
              credentialId: metadata.id,
              accessTokenExpiresAt: null,
              error
            })
          )
        )
      )
    }

    const sweep = (input: typeof SweepOptions.Encoded) =>
      Stream.unwrap(
        Effect.gen(function* () {
          const settings = yield* decodeSweep(input).pipe(Effect.mapError(invalidInput))
          const at = yield* Clock.currentTimeMillis
          return oauth2Instances.pipe(
            Stream.mapEffect((view) => Effect.option(instances.getInstance(view.id))),
            Stream.filterMap((found) => found),
            Stream.mapEffect((instance) =>
              Effect.map(repository.list(instance.orgId, instance.id), (versions) => {
                const heads = new Map<string, Credential.CredentialMetadata>()
                for (const version of versions) {
                  if (version.revokedAt !== null || heads.has(version.scope.key)) continue
                  heads.set(version.scope.key, version)
                }
                return [...heads.values()]
                  .filter((v) => v.isValidAt(new Date(at)))
                  .map((metadata) => ({ instance, metadata }))
              })
            ),
            Stream.flattenIterables,
            Stream.mapEffect(({ instance, metadata }) => sweepOne(instance, metadata, settings, at), {
              concurrency: settings.concurrency,
              unordered: true
            })
          )
        })
      ).pipe(Stream.withSpan("OAuth2.sweep"))

    return OAuth2.of({
      startAuthorization,
      completeAuthorization,
      connectClientCredentials,
      ensureFresh,
      obtain,
      sweep
    })
  })

/**
 * The service as a layer; its refreshes live as long as the layer.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<OAuth2, never, Requirements> =>
  Layer.scoped(OAuth2, make(options))

/**
 * The `CredentialRefresher` that `CredentialResolver.layer` picks up: every resolution of an OAuth2
 * instance passes through `ensureFresh`.
 *
 * @since 0.1.0
 */
export const layerRefresher: Layer.Layer<CredentialRefresher.CredentialRefresher, never, OAuth2> = Layer.effect(
  CredentialRefresher.CredentialRefresher,
  Effect.map(OAuth2, (oauth2) =>
    CredentialRefresher.CredentialRefresher.of({ refresh: oauth2.ensureFresh, obtain: oauth2.obtain })
  )
)

/**
 * The OAuth2 service and a `CredentialResolver` that refreshes through it, on the ports and the
 * vault: what a host composes instead of `CredentialResolver.layer`.
 *
 * @since 0.1.0
 */
export const layerWithResolver = (
  options: Options = {}
): Layer.Layer<OAuth2 | CredentialResolver.CredentialResolver, never, Requirements> =>
  CredentialResolver.layer.pipe(Layer.provide(layerRefresher), Layer.provideMerge(layer(options)))
