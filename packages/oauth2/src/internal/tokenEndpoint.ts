/**
 * The authorization server, through oauth4webapi: discovery (cached per issuer), the three token
 * requests Patchbay makes, and the mapping of every failure onto core's driver errors.
 */
import { DomainError, DriverError, type EgressPolicy } from "@patchbay/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as oauth from "oauth4webapi"
import type { ClientRegistration } from "../OAuth2Clients.js"

/** Anything a request to the authorization server may fail with. */
export type TokenFailure = DriverError.DriverError | DomainError.InvalidConfiguration | DomainError.EgressDenied

/** What a token request needs: the server's metadata, the client and how it authenticates. */
export interface Endpoint {
  readonly server: oauth.AuthorizationServer
  readonly client: oauth.Client
  readonly auth: oauth.ClientAuth
  readonly target: string
}

/** How requests to authorization servers are made: plain http allowed, timeout, egress policy. */
export interface Settings {
  readonly allowInsecureRequests: boolean
  readonly timeout: Duration.Duration
  readonly egress: Option.Option<EgressPolicy.EgressPolicyShape>
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const retryAfterMillis = (response: Response): number | undefined => {
  const header = response.headers.get("retry-after")
  if (header === null) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/** A 5xx or 429 answer, recognised before the body is parsed. */
const statusFailure = (target: string, response: Response): TokenFailure => {
  if (response.status !== 429) {
    return new DriverError.ProviderFailure({ target, status: response.status, detail: `HTTP ${response.status}` })
  }
  const after = retryAfterMillis(response)
  return new DriverError.RateLimited({ target, ...(after === undefined ? {} : { retryAfterMillis: after }) })
}

/** Maps an OAuth error response (RFC 6749 §5.2) onto a driver error. */
const fromErrorResponse = (
  target: string,
  error: { readonly status: number; readonly error: string; readonly error_description?: string | undefined }
): TokenFailure => {
  const detail = `${error.error}${error.error_description === undefined ? "" : `: ${error.error_description}`}`
  if (error.status >= 500) return new DriverError.ProviderFailure({ target, status: error.status, detail })
  if (error.status === 429) return new DriverError.RateLimited({ target })
  switch (error.error) {
    case "invalid_grant":
      return new DriverError.AuthFailed({ kind: "token_revoked", detail })
    case "invalid_client":
    case "unauthorized_client":
      return new DriverError.AuthFailed({ kind: "invalid_credentials", detail })
    case "invalid_scope":
    case "access_denied":
      return new DriverError.AuthFailed({ kind: "insufficient_permissions", detail })
    default:
      return new DriverError.RequestRejected({ target, status: error.status, detail })
  }
}

/** Maps whatever oauth4webapi or fetch threw. */
const classify = (target: string, error: unknown): TokenFailure => {
  if (error instanceof Response) return statusFailure(target, error)
  if (error instanceof oauth.ResponseBodyError) return fromErrorResponse(target, error)
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    // A 401 with a challenge: the client authentication failed (RFC 6749 §5.2 invalid_client).
    const parameters = error.cause[0]?.parameters
    return fromErrorResponse(target, {
      status: error.status,
      error: parameters?.error ?? (error.status === 401 ? "invalid_client" : "invalid_request"),
      error_description: parameters?.error_description
    })
  }
  if (error instanceof oauth.OperationProcessingError) {
    if (error.code === oauth.HTTP_REQUEST_FORBIDDEN || error.code === oauth.REQUEST_PROTOCOL_FORBIDDEN) {
      return new DomainError.InvalidConfiguration({ connector: target, detail: describe(error) })
    }
    return new DriverError.ProviderFailure({ target, detail: `unexpected response: ${describe(error)}` })
  }
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) {
    return new DriverError.TimedOut({ target, afterMillis: 0 })
  }
  if (error instanceof TypeError) {
    const cause = error.cause instanceof Error ? error.cause.message : describe(error)
    return new DriverError.Unreachable({ target, detail: cause })
  }
  return new DriverError.ProviderFailure({ target, detail: describe(error) })
}

/** The requests to authorization servers, sharing one discovery cache. */
export const make = (settings: Settings) => {
  const servers = new Map<string, oauth.AuthorizationServer>()
  const timeoutMillis = Duration.toMillis(settings.timeout)

  const checkEgress = (url: string) =>
    Option.match(settings.egress, {
      onNone: () => Effect.void,
      onSome: (egress) => Effect.asVoid(egress.check(new URL(url).hostname.replace(/^\[|\]$/g, "")))
    })

  /** One HTTP exchange with the server: egress-checked, timed out, failures classified. */
  const exchange = <A>(target: string, url: string, request: (signal: AbortSignal) => Promise<A>) =>
    checkEgress(url).pipe(
      Effect.zipRight(Effect.tryPromise({ try: request, catch: (error) => classify(target, error) })),
      Effect.timeoutFail({
        duration: settings.timeout,
        onTimeout: () => new DriverError.TimedOut({ target, afterMillis: timeoutMillis })
      })
    )

  const options = (signal: AbortSignal) => ({ signal, [oauth.allowInsecureRequests]: settings.allowInsecureRequests })

  /** The server's metadata: explicit endpoints as given, else discovered once per issuer. */
  const server = (registration: ClientRegistration): Effect.Effect<oauth.AuthorizationServer, TokenFailure> => {
    if (registration.tokenEndpoint !== undefined) {
      return Effect.succeed({
        issuer: registration.issuer ?? new URL(registration.tokenEndpoint).origin,
        token_endpoint: registration.tokenEndpoint,
        ...(registration.authorizationEndpoint === undefined
          ? {}
          : { authorization_endpoint: registration.authorizationEndpoint })
      })
    }
    const issuer = registration.issuer!
    const cacheKey = `${registration.discovery}:${issuer}`
    const cached = servers.get(cacheKey)
    if (cached !== undefined) return Effect.succeed(cached)
    const url = new URL(issuer)
    return exchange(issuer, issuer, async (signal) => {
      const response = await oauth.discoveryRequest(url, { ...options(signal), algorithm: registration.discovery })
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
      return { server: metadata, client: { client_id: client.clientId }, auth, target: metadata.token_endpoint }
    })

  /** Sends a token request and processes its response; 5xx and 429 are recognised before parsing. */
  const token = (
    endpoint: Endpoint,
    send: (signal: AbortSignal) => Promise<Response>,
    process: (response: Response) => Promise<oauth.TokenEndpointResponse>
  ): Effect.Effect<oauth.TokenEndpointResponse, TokenFailure> =>
    exchange(endpoint.target, endpoint.target, async (signal) => {
      const response = await send(signal)
      if (response.status >= 500 || response.status === 429) {
        await response.body?.cancel()
        throw response
      }
      return process(response)
    })

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
          options(signal)
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
          options(signal)
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
          options(signal)
        ),
      (response) => oauth.processClientCredentialsResponse(endpoint.server, endpoint.client, response)
    )

  /** The authorization response's parameters, checked (state, iss, error). */
  const validateCallback = (endpoint: Endpoint, callback: URL, state: string) =>
    Effect.try({
      try: () => oauth.validateAuthResponse(endpoint.server, endpoint.client, callback, state),
      catch: (error) => error
    })

  return { server, endpoint, authorizationCode, refresh, clientCredentials, validateCallback }
}
