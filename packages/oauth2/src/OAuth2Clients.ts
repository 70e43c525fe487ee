/**
 * Where an instance's OAuth2 client is registered: the authorization server (an issuer to
 * discover, or explicit endpoints), the client id and secret, the default scopes and the redirect
 * URI for reconnect links.
 *
 * The host registers its OAuth2 apps per connector key (`layer({ connectors })`), with the client
 * secret from its own secret configuration. An instance may override the non-secret parts in its
 * configuration under `oauth2` (snake_case: `issuer`, `authorization_endpoint`, `token_endpoint`,
 * `client_id`, `scopes`, `token_endpoint_auth_method`, `redirect_uri`, `authorization_parameters`)
 * when its descriptor's configuration schema keeps that key. Client secrets never live in
 * configuration: a client-credentials token set carries its own `client_id` and `client_secret`
 * (see `TokenSet`), which win over the registration's.
 *
 * The host's client secret belongs to the host's endpoints. When an instance names endpoints of
 * its own (`issuer`, `authorization_endpoint`, `token_endpoint`), it must name its own `client_id`
 * too (else `InvalidConfiguration`, before any request), and the registration it gets carries no
 * client secret: the tenant's secret comes from its credential. The same holds when an instance
 * names a `client_id` other than the registration's. Tenant endpoints are still egress-checked.
 *
 * @since 0.1.0
 */
import { type ConnectorInstance, DomainError, OAuth2ClientConfiguration } from "@patchbay/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

const HttpUrl = Schema.String.pipe(
  Schema.filter((value) => {
    try {
      const url = new URL(value)
      if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an http or https URL"
      if (url.hash !== "") return "must not have a fragment"
      return true
    } catch {
      return "must be an absolute URL"
    }
  })
)

/**
 * How the client authenticates at the token endpoint.
 *
 * @since 0.1.0
 */
export const TokenEndpointAuthMethod = OAuth2ClientConfiguration.TokenEndpointAuthMethod
/** @since 0.1.0 */
export type TokenEndpointAuthMethod = typeof TokenEndpointAuthMethod.Type

/**
 * A who-am-I request: the account id of whoever the access token belongs to, read at a dotted
 * path (`data.user.id`; a number part indexes an array) of the endpoint's JSON answer. Used when the server sends no id token and
 * has no userinfo endpoint.
 *
 * @since 0.1.0
 */
export const IdentityEndpoint = Schema.Struct({
  method: Schema.optionalWith(Schema.Literal("GET", "POST"), { default: () => "GET" as const }),
  endpoint: HttpUrl,
  accountId: Schema.String.pipe(
    Schema.pattern(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, { message: () => "accountId must be a dotted path" })
  ),
  /** A JSON body to send (a GraphQL `{ viewer { id } }` query), as `application/json`. */
  body: Schema.optional(Schema.String)
})
/** @since 0.1.0 */
export type IdentityEndpoint = typeof IdentityEndpoint.Type

/**
 * A registered OAuth2 client. Either `issuer` (discovered through
 * `/.well-known/openid-configuration`, or RFC 8414 metadata with `discovery: "oauth2"`) or
 * `tokenEndpoint` (plus `authorizationEndpoint` for the authorization-code flow) is required.
 *
 * @since 0.1.0
 */
export class ClientRegistration extends Schema.Class<ClientRegistration>("@patchbay/oauth2/ClientRegistration")(
  Schema.Struct({
    issuer: Schema.optional(HttpUrl),
    discovery: Schema.optionalWith(Schema.Literal("oidc", "oauth2"), { default: () => "oidc" as const }),
    authorizationEndpoint: Schema.optional(HttpUrl),
    tokenEndpoint: Schema.optional(HttpUrl),
    /** The userinfo endpoint when the endpoints are explicit (a discovered server names its own). */
    userinfoEndpoint: Schema.optional(HttpUrl),
    /** Who signed in when there is neither an id token nor a userinfo endpoint. */
    identity: Schema.optional(IdentityEndpoint),
    /**
     * The refresh token's lifetime in seconds as the provider documents it, for responses without
     * `refresh_token_expires_in` (a catalog entry's `refreshToken.seconds`).
     */
    refreshTokenLifetime: Schema.optional(Schema.Int.pipe(Schema.positive())),
    clientId: Schema.String.pipe(Schema.nonEmptyString({ message: () => "client_id must not be empty" })),
    /** A `Redacted` (from the host's secret configuration) or a plain string, redacted on decoding. */
    clientSecret: Schema.optional(Schema.Union(Schema.RedactedFromSelf(Schema.String), Schema.Redacted(Schema.String))),
    tokenEndpointAuthMethod: Schema.optionalWith(TokenEndpointAuthMethod, {
      default: () => "client_secret_basic" as const
    }),
    scopes: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
    /** Where reconnect links send the person back; without one, `ReconnectRequired` has no URL. */
    redirectUri: Schema.optional(HttpUrl),
    /** Extra authorization request parameters (`prompt: "consent"`, `access_type: "offline"`). */
    authorizationParameters: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), {
      default: () => ({})
    })
  }).pipe(
    Schema.filter((c) =>
      c.issuer !== undefined || c.tokenEndpoint !== undefined ? true : "an issuer or a token endpoint is required"
    )
  )
) {}

/**
 * The non-secret client settings an instance's configuration may carry under `oauth2` (core's
 * `OAuth2ClientConfiguration`, which connector descriptors include in their schemas).
 *
 * @since 0.1.0
 */
export const InstanceClientConfiguration = OAuth2ClientConfiguration.OAuth2ClientConfiguration
/** @since 0.1.0 */
export type InstanceClientConfiguration = OAuth2ClientConfiguration.OAuth2ClientConfiguration

/**
 * Looks up the OAuth2 client an instance uses.
 *
 * @since 0.1.0
 */
export interface OAuth2ClientsShape {
  /** The client an instance uses, or `InvalidConfiguration` when none is registered or it is invalid. */
  readonly forInstance: (
    instance: ConnectorInstance.ConnectorInstance
  ) => Effect.Effect<ClientRegistration, DomainError.InvalidConfiguration>
}

/**
 * The registered OAuth2 clients.
 *
 * @since 0.1.0
 */
export class OAuth2Clients extends Context.Tag("@patchbay/oauth2/OAuth2Clients")<OAuth2Clients, OAuth2ClientsShape>() {}

/**
 * Options of `layer`.
 *
 * @since 0.1.0
 */
export interface Options {
  /** Registrations per connector key. */
  readonly connectors?: Readonly<Record<string, typeof ClientRegistration.Encoded>> | undefined
  /** The configuration key instances may override the registration under (default `oauth2`; `false`: none). */
  readonly configurationKey?: string | false | undefined
}

/** The configuration fields that name where requests go. */
const endpointFields = ["issuer", "authorization_endpoint", "token_endpoint"] as const

const decodeRegistration = Schema.decodeUnknown(ClientRegistration, { errors: "all", onExcessProperty: "error" })
const decodeInstance = Schema.decodeUnknown(InstanceClientConfiguration, { errors: "all" })

/**
 * Registrations per connector key, overridden per instance by its configuration's `oauth2` object.
 *
 * @since 0.1.0
 */
export const make = (options: Options = {}): OAuth2ClientsShape => {
  const key = options.configurationKey === undefined ? "oauth2" : options.configurationKey
  const invalid = (instance: ConnectorInstance.ConnectorInstance, detail: string) =>
    new DomainError.InvalidConfiguration({ connector: instance.connectorKey, detail: `OAuth2 client: ${detail}` })
  return OAuth2Clients.of({
    forInstance: (instance) =>
      Effect.gen(function* () {
        const base: Record<string, unknown> = { ...options.connectors?.[instance.connectorKey] }
        const raw = key === false ? undefined : instance.configuration[key]
        if (raw !== undefined) {
          const own = yield* decodeInstance(raw).pipe(
            Effect.mapError((e) => invalid(instance, ParseResult.TreeFormatter.formatErrorSync(e)))
          )
          const set = (field: string, value: unknown) => {
            if (value !== undefined) base[field] = value
          }
          const ownEndpoints = endpointFields.filter((field) => own[field] !== undefined)
          if (ownEndpoints.length > 0 && own.client_id === undefined) {
            return yield* invalid(
              instance,
              `${key}.${ownEndpoints.join(`, ${key}.`)} may be set only together with ${key}.client_id and the client's own secret in the credential`
            )
          }
          if (ownEndpoints.length > 0 || (own.client_id !== undefined && own.client_id !== base.clientId)) {
            // The host's secret never travels with a tenant's client or to a tenant's endpoint.
            delete base.clientSecret
          }
          if (ownEndpoints.length > 0) {
            // Endpoints come from the tenant as a whole: none of the host's stays mixed in, and the
            // host's who-am-I and documented lifetimes describe the host's provider, not the tenant's.
            delete base.issuer
            delete base.authorizationEndpoint
            delete base.tokenEndpoint
            delete base.userinfoEndpoint
            delete base.identity
            delete base.refreshTokenLifetime
          }
          set("issuer", own.issuer)
          set("discovery", own.discovery)
          set("authorizationEndpoint", own.authorization_endpoint)
          set("tokenEndpoint", own.token_endpoint)
          set("clientId", own.client_id)
          set("tokenEndpointAuthMethod", own.token_endpoint_auth_method)
          set("scopes", own.scopes)
          set("redirectUri", own.redirect_uri)
          set("authorizationParameters", own.authorization_parameters)
        }
        if (Object.keys(base).length === 0) {
          return yield* invalid(instance, `no client is registered for connector ${instance.connectorKey}`)
        }
        return yield* decodeRegistration(base).pipe(
          Effect.mapError((e) => invalid(instance, ParseResult.TreeFormatter.formatErrorSync(e)))
        )
      })
  })
}

/**
 * `make` as a layer.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<OAuth2Clients> => Layer.succeed(OAuth2Clients, make(options))
