/**
 * The authorization-code flow with PKCE (S256) and a single-use state: the authorization URL and
 * its pending authorization (verifier sealed, stored under a hash of the state), the callback that
 * takes it once and exchanges the code, and the reconnect links a refused refresh hands out. A
 * pending authorization is stored with its audit event (`oauth2.authorization_started`) as one
 * unit of `Transactions`.
 *
 * @since 0.1.0
 */
import {
  ActivityError,
  Actor,
  AuditLog,
  type ConnectorInstance,
  ConnectorInstances,
  type Credential,
  CredentialRepository,
  CredentialScope,
  DomainError,
  InputBounds,
  PendingAuthorizationRepository,
  Transactions
} from "@patchbay/core"
import { CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { Envelope } from "@patchbay/crypto"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as oauth from "oauth4webapi"
import { AuthorizationServer, identityText, type TokenFailure } from "./AuthorizationServer.js"
import { checkWrite, now, requireAuthType, scopeFor } from "./internal/connect.js"
import { stateHash } from "./internal/hash.js"
import { ownerOf } from "./internal/owner.js"
import { nextTokenSet } from "./internal/tokenResponse.js"
import { OAuth2Clients } from "./OAuth2Clients.js"
import { AuthorizationDenied, AuthorizationStateRejected, InvalidCallback } from "./OAuth2Error.js"
import * as TokenSet from "./TokenSet.js"

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
  instanceId: InputBounds.boundedString(64),
  scope: Schema.optional(CredentialScope.CredentialScope),
  redirectUri: Schema.compose(InputBounds.boundedString(2_048), HttpUrl),
  scopes: Schema.optional(InputBounds.boundedArray(InputBounds.boundedString(256), 64))
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
  | TokenFailure

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
  | ActivityError.ReconnectRequired
  | TokenFailure

/**
 * Options of `make`.
 *
 * @since 0.1.0
 */
export interface Options {
  /** How long a started authorization may be completed (default 10 minutes). */
  readonly pendingTtl?: Duration.DurationInput | undefined
  /** The redirect URI of reconnect links when the client registration names none. */
  readonly reconnectRedirectUri?: string | undefined
}

/**
 * The flow's operations. `start`, `complete` and `completeAsOwner` are `OAuth2`'s
 * `startAuthorization`, `completeAuthorization` and `completeAuthorizationAsOwner`.
 *
 * @since 0.1.0
 */
export interface AuthorizationCode {
  readonly start: (
    input: typeof StartAuthorization.Encoded
  ) => Effect.Effect<AuthorizationStart, StartError, Actor.Actor>
  /** Completes as the current actor: same organization, allowed to write the stored scope. */
  readonly complete: (callbackUrl: string) => Effect.Effect<Credential.CredentialMetadata, CompleteError, Actor.Actor>
  /** Completes as the owner of the stored scope: the single-use state is the only proof. */
  readonly completeAsOwner: (callbackUrl: string) => Effect.Effect<Credential.CredentialMetadata, CompleteError>
  /**
   * A fresh authorization URL for an instance and scope whose refresh token was refused, at the
   * registration's redirect URI (or `reconnectRedirectUri`), with the expiry of its pending
   * authorization; `None` when neither is set or the authorization cannot be started.
   */
  readonly reconnectUrl: (
    instance: ConnectorInstance.ConnectorInstance,
    scope: CredentialScope.CredentialScope
  ) => Effect.Effect<Option.Option<AuthorizationStart>, never, Actor.Actor>
}

/**
 * What the flow is built on.
 *
 * @since 0.1.0
 */
export type Requirements =
  | AuthorizationServer
  | OAuth2Clients
  | Envelope.Envelope
  | PendingAuthorizationRepository.PendingAuthorizationRepository
  | AuditLog.AuditLog
  | Transactions.Transactions
  | CredentialVault.CredentialVault
  | CredentialRepository.CredentialRepository
  | ConnectorInstances.ConnectorInstances

const decodeStart = Schema.decodeUnknown(StartAuthorization, { errors: "all", onExcessProperty: "error" })
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The binding of a pending authorization's sealed verifier. */
const pendingAad = (hash: string, instanceId: string, scope: CredentialScope.CredentialScope): Envelope.Aad => ({
  credentialId: `pending-authorization:${hash}`,
  instanceId,
  scopeType: scope.type,
  scopeId: scope.id
})

/**
 * Builds the flow on its ports.
 *
 * @since 0.1.0
 */
export const make = (options: Options = {}): Effect.Effect<AuthorizationCode, never, Requirements> =>
  Effect.gen(function* () {
    const servers = yield* AuthorizationServer
    const clients = yield* OAuth2Clients
    const envelope = yield* Envelope.Envelope
    const pending = yield* PendingAuthorizationRepository.PendingAuthorizationRepository
    const audit = yield* AuditLog.AuditLog
    const transactions = yield* Transactions.Transactions
    const vault = yield* CredentialVault.CredentialVault
    const repository = yield* CredentialRepository.CredentialRepository
    const instances = yield* ConnectorInstances.ConnectorInstances
    const pendingTtlMillis = Duration.toMillis(Duration.decode(options.pendingTtl ?? "10 minutes"))

    /** The authorization URL for an instance and scope; stores the pending authorization. */
    const authorize = (
      instance: ConnectorInstance.ConnectorInstance,
      credentialScope: CredentialScope.CredentialScope,
      redirectUri: string,
      scopes: ReadonlyArray<string> | undefined
    ) =>
      Effect.gen(function* () {
        const registration = yield* clients.forInstance(instance)
        const server = yield* servers.server(registration)
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
        // The pending authorization and its audit event: both stored, or neither.
        yield* transactions.run(
          Effect.zipRight(
            pending.insert(
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
            ),
            AuditLog.record("oauth2.authorization_started", {
              instanceId: instance.id,
              details: {
                scopeType: credentialScope.type,
                scopeId: credentialScope.id,
                expiresAt: expiresAt.toISOString()
              }
            }).pipe(Effect.provideService(AuditLog.AuditLog, audit))
          )
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

    const start = Effect.fn("OAuth2.startAuthorization")(function* (input: typeof StartAuthorization.Encoded) {
      const actor = yield* Actor.Actor
      const request = yield* decodeStart(input).pipe(
        Effect.mapError((error) => DomainError.InvalidInput.fromParseError(error))
      )
      const instance = yield* instances.getUsable(request.instanceId)
      yield* requireAuthType(instance, "oauth2_authorization_code")
      const credentialScope = scopeFor(actor, request.scope)
      yield* checkWrite(actor, instance, credentialScope)
      return yield* authorize(instance, credentialScope, request.redirectUri, request.scopes)
    })

    /**
     * Takes the callback's pending authorization once, then exchanges the code and stores the
     * token set as `actorOf` says.
     */
    const completeWith = <R>(
      callbackUrl: string,
      actorOf: (
        authorization: PendingAuthorizationRepository.PendingAuthorization
      ) => Effect.Effect<Actor.ActorInfo, AuthorizationStateRejected, R>
    ) =>
      Effect.gen(function* () {
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
          return yield* new InvalidCallback({
            reason: "the callback URL is not the redirect URI the flow started with"
          })
        }
        const actor = yield* actorOf(authorization)
        return yield* Effect.gen(function* () {
          const instance = yield* instances.getInstance(authorization.instanceId)
          const registration = yield* clients.forInstance(instance)
          const endpoint = yield* servers.endpoint(registration, instance.connectorKey, registration)
          const params = yield* servers.validateCallback(endpoint, callback, state).pipe(
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
          const response = yield* servers.authorizationCode(endpoint, params, authorization.redirectUri, verifier)
          const identity = yield* servers.accountIdentity(endpoint, response)
          const accountIdentity = Option.match(identity, { onNone: () => null, onSome: identityText })
          // A reconnect must sign in as the account the instance reaches in this scope.
          const previous = yield* repository.newestValid(instance.orgId, instance.id, [authorization.scope], yield* now)
          if (Option.isSome(previous) && accountIdentity !== null) {
            const before = yield* CredentialResolver.open(envelope, previous.value).pipe(
              Effect.map((resolved): unknown => Redacted.value(resolved.secrets).account_identity),
              Effect.orElseSucceed(() => undefined)
            )
            if (typeof before === "string" && before !== accountIdentity) {
              return yield* new ActivityError.ReconnectRequired({
                instanceId: instance.id,
                instanceName: instance.instanceName,
                connector: instance.connectorKey,
                reason: "the sign-in was as a different account than the one this connection reaches",
                code: "different_account",
                action: "reconnect"
              })
            }
          }
          const tokens = nextTokenSet(response, undefined, yield* Clock.currentTimeMillis, {
            accountIdentity,
            refreshTokenLifetime: registration.refreshTokenLifetime
          })
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

    const complete = Effect.fn("OAuth2.completeAuthorization")(function* (callbackUrl: string) {
      return yield* completeWith(callbackUrl, (authorization) =>
        Effect.flatMap(Actor.Actor, (actor) =>
          actor.orgId === authorization.orgId
            ? Effect.succeed(actor)
            : Effect.fail(
                new AuthorizationStateRejected({ reason: "the authorization belongs to another organization" })
              )
        )
      )
    })

    const completeAsOwner = Effect.fn("OAuth2.completeAuthorizationAsOwner")(function* (callbackUrl: string) {
      return yield* completeWith(callbackUrl, (authorization) =>
        Effect.succeed(ownerOf(authorization.orgId, authorization.scope))
      )
    })

    const reconnectUrl = (instance: ConnectorInstance.ConnectorInstance, scope: CredentialScope.CredentialScope) =>
      Effect.gen(function* () {
        const registration = yield* Effect.option(clients.forInstance(instance))
        const redirectUri = Option.match(registration, {
          onNone: () => options.reconnectRedirectUri,
          onSome: (r) => r.redirectUri ?? options.reconnectRedirectUri
        })
        if (redirectUri === undefined) return Option.none<AuthorizationStart>()
        return yield* Effect.option(authorize(instance, scope, redirectUri, undefined))
      })

    return { start, complete, completeAsOwner, reconnectUrl } satisfies AuthorizationCode
  })
