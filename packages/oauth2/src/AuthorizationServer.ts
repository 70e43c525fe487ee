/**
 * The authorization servers Patchbay talks to, through oauth4webapi: discovery (cached per issuer),
 * the three token requests Patchbay makes (authorization code, refresh, client credentials) and
 * the authorization response check. Every request goes through oauth4webapi's `customFetch` to the
 * exact address the `EgressPolicy` approved for its host (a pinned lookup: no DNS-rebinding window)
 * and is bounded by a timeout; failures are core's driver errors, and the text an authorization
 * server sends back (`error_description`) is scrubbed of the client secret before it reaches one.
 *
 * @since 0.1.0
 */
import { DomainError, DriverError, EgressPolicy, SecretScrubber } from "@patchbay/core"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as oauth from "oauth4webapi"
import { pinnedFetch } from "./internal/pinnedFetch.js"
import { classify, type TokenFailure } from "./internal/tokenErrors.js"
import type { ClientRegistration, IdentityEndpoint } from "./OAuth2Clients.js"

/**
 * Anything a request to the authorization server may fail with.
 *
 * @since 0.1.0
 */
export type { TokenFailure }

/**
 * What a token request needs: the server's metadata, the client and how it authenticates.
 *
 * @since 0.1.0
 */
export interface Endpoint {
  readonly server: oauth.AuthorizationServer
  readonly client: oauth.Client
  readonly auth: oauth.ClientAuth
  readonly target: string
  /** Removes the client secret from the server's text (`error_description`). */
  readonly scrubber?: SecretScrubber.SecretScrubber | undefined
  /** The registration's who-am-I request. */
  readonly identity?: IdentityEndpoint | undefined
}

/**
 * A secret as client authentication sends it (RFC 6749 §2.3.1: form-encoded, also inside the Basic
 * header's base64), so that a server echoing that spelling is scrubbed too.
 */
const formEncoded = (secret: string) =>
  encodeURIComponent(secret)
    .replace(/[-_.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+")

const isEgressFailure = (error: unknown): error is DomainError.EgressDenied | DriverError.Unreachable =>
  error instanceof DomainError.EgressDenied || error instanceof DriverError.Unreachable

/** A failure whose text came from the server, with the client's secrets removed. */
const scrubFailure = (failure: TokenFailure, scrubber: SecretScrubber.SecretScrubber | undefined): TokenFailure => {
  if (scrubber === undefined || scrubber.secrets === 0 || !("detail" in failure) || failure.detail === undefined) {
    return failure
  }
  const detail = scrubber.scrub(failure.detail)
  if (detail === failure.detail) return failure
  switch (failure._tag) {
    case "AuthFailed":
      return new DriverError.AuthFailed({ ...failure, detail })
    case "ProviderFailure":
      return new DriverError.ProviderFailure({ ...failure, detail })
    case "RequestRejected":
      return new DriverError.RequestRejected({ ...failure, detail })
    case "Unreachable":
      return new DriverError.Unreachable({ ...failure, detail })
    case "InvalidConfiguration":
      return new DomainError.InvalidConfiguration({ ...failure, detail })
    default:
      return failure
  }
}

/**
 * Options of `layer`.
 *
 * @since 0.1.0
 */
export interface Options {
  /** Longest one request to the authorization server may take (default 10 seconds). */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Allow `http:` authorization servers (tests, a local provider). Default false. */
  readonly allowInsecureRequests?: boolean | undefined
}

/**
 * @since 0.1.0
 */
export interface AuthorizationServerShape {
  /** The server's metadata: explicit endpoints as given, else discovered once per issuer. */
  readonly server: (registration: ClientRegistration) => Effect.Effect<oauth.AuthorizationServer, TokenFailure>
  /** The token endpoint of a registration, with the client id and secret to use. */
  readonly endpoint: (
    registration: ClientRegistration,
    connector: string,
    client: { readonly clientId: string; readonly clientSecret?: Redacted.Redacted<string> | undefined }
  ) => Effect.Effect<Endpoint, TokenFailure>
  /** Exchanges an authorization code (with its PKCE verifier). */
  readonly authorizationCode: (
    endpoint: Endpoint,
    callback: URLSearchParams,
    redirectUri: string,
    verifier: Redacted.Redacted<string>
  ) => Effect.Effect<oauth.TokenEndpointResponse, TokenFailure>
  /** The refresh-token grant. */
  readonly refresh: (
    endpoint: Endpoint,
    refreshToken: Redacted.Redacted<string>
  ) => Effect.Effect<oauth.TokenEndpointResponse, TokenFailure>
  /** The client-credentials grant. */
  readonly clientCredentials: (
    endpoint: Endpoint,
    scopes: ReadonlyArray<string>
  ) => Effect.Effect<oauth.TokenEndpointResponse, TokenFailure>
  /**
   * Who signed in, from a code exchange's response: the validated id token's issuer and subject,
   * else the userinfo endpoint's subject (under the server's issuer), else the account id the
   * registration's who-am-I endpoint answers; `None` when there is none of the three.
   */
  readonly accountIdentity: (
    endpoint: Endpoint,
    response: oauth.TokenEndpointResponse
  ) => Effect.Effect<Option.Option<AccountIdentity>, TokenFailure>
  /** The authorization response's parameters, checked (state, iss, error). */
  readonly validateCallback: (
    endpoint: Endpoint,
    callback: URL,
    state: string
  ) => Effect.Effect<URLSearchParams, unknown>
}

/**
 * An account at an authorization server: the issuer and the subject it names the account by.
 *
 * @since 0.1.0
 */
export interface AccountIdentity {
  readonly issuer: string
  readonly subject: string
  /** Where the subject was read: the id token or userinfo (`oidc`, the default) or a who-am-I endpoint. */
  readonly source?: "oidc" | "who_am_i" | undefined
}

/**
 * The stored form of an account identity (the token set's `account_identity`): canonical JSON of
 * its parts, so that no separator inside an issuer or subject can make two accounts agree.
 *
 * @since 0.1.0
 */
export const identityText = (identity: AccountIdentity): string =>
  JSON.stringify([identity.source ?? "oidc", identity.issuer, identity.subject])

/**
 * The value at a dotted path of a JSON answer (a number part indexes an array: `data.0.id`), when
 * it is a non-empty string or a finite number.
 */
const accountIdAt = (body: unknown, path: string): string | undefined => {
  let value: unknown = body
  for (const part of path.split(".")) {
    if (Array.isArray(value)) value = /^\d+$/.test(part) ? value[Number(part)] : undefined
    else if (typeof value === "object" && value !== null) value = (value as Record<string, unknown>)[part]
    else return undefined
  }
  if (typeof value === "number" && Number.isFinite(value)) return String(value)
  return typeof value === "string" && value !== "" ? value : undefined
}

/**
 * The identity of a client-credentials token: the client id at its token endpoint.
 *
 * @since 0.1.0
 */
export const clientIdentityText = (tokenEndpoint: string, clientId: string): string =>
  JSON.stringify(["client", tokenEndpoint, clientId])

/**
 * @since 0.1.0
 */
export class AuthorizationServer extends Context.Tag("@patchbay/oauth2/AuthorizationServer")<
  AuthorizationServer,
  AuthorizationServerShape
>() {}

/**
 * The requests to authorization servers on an egress policy, sharing one discovery cache.
 *
 * @since 0.1.0
 */
export const make = (egress: EgressPolicy.EgressPolicyShape, options: Options = {}): AuthorizationServerShape => {
  const servers = new Map<string, oauth.AuthorizationServer>()
  const allowInsecureRequests = options.allowInsecureRequests ?? false
  const timeout = Duration.decode(options.requestTimeout ?? "10 seconds")
  const timeoutMillis = Duration.toMillis(timeout)

  const fetch = pinnedFetch(egress)

  /** One HTTP exchange with the server: pinned by the egress policy, timed out, failures classified and scrubbed. */
  const exchange = <A>(
    target: string,
    request: (signal: AbortSignal) => Promise<A>,
    scrubber?: SecretScrubber.SecretScrubber
  ) =>
    Effect.tryPromise({
      try: request,
      catch: (error): TokenFailure => (isEgressFailure(error) ? error : scrubFailure(classify(target, error), scrubber))
    }).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () => new DriverError.TimedOut({ target, afterMillis: timeoutMillis })
      })
    )

  const requestOptions = (signal: AbortSignal) => ({
    signal,
    [oauth.allowInsecureRequests]: allowInsecureRequests,
    [oauth.customFetch]: fetch
  })

  /** The server's metadata: explicit endpoints as given, else discovered once per issuer. */
  const server = (registration: ClientRegistration): Effect.Effect<oauth.AuthorizationServer, TokenFailure> => {
    if (registration.tokenEndpoint !== undefined) {
      return Effect.succeed({
        issuer: registration.issuer ?? new URL(registration.tokenEndpoint).origin,
        token_endpoint: registration.tokenEndpoint,
        ...(registration.authorizationEndpoint === undefined
          ? {}
          : { authorization_endpoint: registration.authorizationEndpoint }),
        ...(registration.userinfoEndpoint === undefined ? {} : { userinfo_endpoint: registration.userinfoEndpoint })
      })
    }
    const issuer = registration.issuer!
    const cacheKey = `${registration.discovery}:${issuer}`
    const cached = servers.get(cacheKey)
    if (cached !== undefined) return Effect.succeed(cached)
    const url = new URL(issuer)
    return exchange(issuer, async (signal) => {
      const response = await oauth.discoveryRequest(url, {
        ...requestOptions(signal),
        algorithm: registration.discovery
      })
      return oauth.processDiscoveryResponse(url, response)
    }).pipe(
      Effect.map((discovered) => {
        const merged: oauth.AuthorizationServer = {
          ...discovered,
          ...(registration.authorizationEndpoint === undefined
            ? {}
            : { authorization_endpoint: registration.authorizationEndpoint })
        }
        servers.set(cacheKey, merged)
        return merged
      })
    )
  }

  /** The endpoint for a registration, with the client id and secret to use (a token set's own win). */
  const endpoint = (
    registration: ClientRegistration,
    connector: string,
    client: { readonly clientId: string; readonly clientSecret?: Redacted.Redacted<string> | undefined }
  ): Effect.Effect<Endpoint, TokenFailure> =>
    Effect.gen(function* () {
      const metadata = yield* server(registration)
      if (metadata.token_endpoint === undefined) {
        return yield* new DomainError.InvalidConfiguration({
          connector,
          detail: `OAuth2 client: ${metadata.issuer} advertises no token endpoint`
        })
      }
      const method = registration.tokenEndpointAuthMethod
      if (method !== "none" && client.clientSecret === undefined) {
        return yield* new DomainError.InvalidConfiguration({
          connector,
          detail: `OAuth2 client: ${method} needs a client secret and none is registered`
        })
      }
      const secret = client.clientSecret === undefined ? "" : Redacted.value(client.clientSecret)
      const auth =
        method === "none"
          ? oauth.None()
          : method === "client_secret_post"
            ? oauth.ClientSecretPost(secret)
            : oauth.ClientSecretBasic(secret)
      return {
        server: metadata,
        client: { client_id: client.clientId },
        auth,
        target: metadata.token_endpoint,
        scrubber: SecretScrubber.make({
          secrets: client.clientSecret === undefined ? [] : [secret, formEncoded(secret)],
          identities: [client.clientId]
        }),
        identity: registration.identity
      }
    })

  /** Sends a token request and processes its response; 5xx and 429 are recognised before parsing. */
  const token = (
    endpoint: Endpoint,
    send: (signal: AbortSignal) => Promise<Response>,
    process: (response: Response) => Promise<oauth.TokenEndpointResponse>
  ): Effect.Effect<oauth.TokenEndpointResponse, TokenFailure> =>
    exchange(
      endpoint.target,
      async (signal) => {
        const response = await send(signal)
        if (response.status >= 500 || response.status === 429) {
          await response.body?.cancel()
          throw response
        }
        return process(response)
      },
      endpoint.scrubber
    )

  const authorizationCode = (
    endpoint: Endpoint,
    callback: URLSearchParams,
    redirectUri: string,
    verifier: Redacted.Redacted<string>
  ) =>
    token(
      endpoint,
      (signal) =>
        oauth.authorizationCodeGrantRequest(
          endpoint.server,
          endpoint.client,
          endpoint.auth,
          callback,
          redirectUri,
          Redacted.value(verifier),
          requestOptions(signal)
        ),
      (response) => oauth.processAuthorizationCodeResponse(endpoint.server, endpoint.client, response)
    )

  const refresh = (endpoint: Endpoint, refreshToken: Redacted.Redacted<string>) =>
    token(
      endpoint,
      (signal) =>
        oauth.refreshTokenGrantRequest(
          endpoint.server,
          endpoint.client,
          endpoint.auth,
          Redacted.value(refreshToken),
          requestOptions(signal)
        ),
      (response) => oauth.processRefreshTokenResponse(endpoint.server, endpoint.client, response)
    )

  const clientCredentials = (endpoint: Endpoint, scopes: ReadonlyArray<string>) =>
    token(
      endpoint,
      (signal) =>
        oauth.clientCredentialsGrantRequest(
          endpoint.server,
          endpoint.client,
          endpoint.auth,
          scopes.length === 0 ? {} : { scope: scopes.join(" ") },
          requestOptions(signal)
        ),
      (response) => oauth.processClientCredentialsResponse(endpoint.server, endpoint.client, response)
    )

  /** The account id the registration's who-am-I endpoint answers for an access token. */
  const whoAmI = (
    endpoint: Endpoint,
    identity: IdentityEndpoint,
    accessToken: string
  ): Effect.Effect<Option.Option<AccountIdentity>, TokenFailure> => {
    const target = identity.endpoint
    return exchange(
      target,
      async (signal) => {
        const response = await oauth
          .protectedResourceRequest(
            accessToken,
            identity.method,
            new URL(target),
            new Headers({
              accept: "application/json",
              ...(identity.body === undefined ? {} : { "content-type": "application/json" })
            }),
            identity.body,
            requestOptions(signal)
          )
          .catch((error: unknown) => {
            // A refusal with a `WWW-Authenticate` challenge is an answer about the token.
            if (error instanceof oauth.WWWAuthenticateChallengeError) return error.response
            throw error
          })
        if (response.status >= 500 || response.status === 429) {
          await response.body?.cancel()
          throw response
        }
        if (!response.ok) {
          await response.body?.cancel()
          return { status: response.status, body: undefined }
        }
        return { status: response.status, body: (await response.json()) as unknown }
      },
      SecretScrubber.make({ secrets: [accessToken], identities: [] })
    ).pipe(
      Effect.flatMap((answer): Effect.Effect<Option.Option<AccountIdentity>, TokenFailure> => {
        const { status, body } = answer
        if (status === 401 || status === 403) {
          return new DriverError.AuthFailed({
            kind: status === 401 ? "invalid_credentials" : "insufficient_permissions",
            detail: `the who-am-I endpoint ${target} refused the new access token (HTTP ${status})`
          })
        }
        if (status >= 300) return new DriverError.ProviderFailure({ target, status, detail: `HTTP ${status}` })
        const subject = accountIdAt(body, identity.accountId)
        if (subject === undefined) {
          return new DomainError.InvalidConfiguration({
            connector: target,
            detail: `OAuth2 client: the who-am-I answer of ${target} has no account id at ${identity.accountId}`
          })
        }
        return Effect.succeedSome({ issuer: endpoint.server.issuer, subject, source: "who_am_i" as const })
      })
    )
  }

  const accountIdentity = (
    endpoint: Endpoint,
    response: oauth.TokenEndpointResponse
  ): Effect.Effect<Option.Option<AccountIdentity>, TokenFailure> => {
    const claims = oauth.getValidatedIdTokenClaims(response)
    if (claims !== undefined) return Effect.succeedSome({ issuer: claims.iss, subject: claims.sub })
    const userinfo = endpoint.server.userinfo_endpoint
    if (userinfo === undefined) {
      return endpoint.identity === undefined
        ? Effect.succeedNone
        : whoAmI(endpoint, endpoint.identity, response.access_token)
    }
    return exchange(
      userinfo,
      async (signal) =>
        oauth.processUserInfoResponse(
          endpoint.server,
          endpoint.client,
          oauth.skipSubjectCheck,
          await oauth.userInfoRequest(endpoint.server, endpoint.client, response.access_token, requestOptions(signal))
        ),
      endpoint.scrubber
    ).pipe(Effect.map((info) => Option.some({ issuer: endpoint.server.issuer, subject: info.sub })))
  }

  /** The authorization response's parameters, checked (state, iss, error). */
  const validateCallback = (endpoint: Endpoint, callback: URL, state: string) =>
    Effect.try({
      try: () => oauth.validateAuthResponse(endpoint.server, endpoint.client, callback, state),
      catch: (error) => error
    })

  return AuthorizationServer.of({
    server,
    endpoint,
    authorizationCode,
    refresh,
    clientCredentials,
    accountIdentity,
    validateCallback
  })
}

/**
 * The authorization servers on the `EgressPolicy` in context.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<AuthorizationServer, never, EgressPolicy.EgressPolicy> =>
  Layer.effect(
    AuthorizationServer,
    Effect.map(EgressPolicy.EgressPolicy, (egress) => make(egress, options))
  )
