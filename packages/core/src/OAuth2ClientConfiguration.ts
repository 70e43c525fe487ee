/**
 * The non-secret OAuth2 client settings an instance's configuration may carry under `oauth2`,
 * overriding the host's registration for its connector (a tenant's own issuer or client id).
 * Connector descriptors that support OAuth2 include it in their configuration schema;
 * `@patchbay/oauth2` reads it. Client secrets never go here: they are credentials.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * How the client authenticates at the token endpoint.
 *
 * @since 0.1.0
 */
export const TokenEndpointAuthMethod = Schema.Literal("client_secret_basic", "client_secret_post", "none")
/** @since 0.1.0 */
export type TokenEndpointAuthMethod = typeof TokenEndpointAuthMethod.Type

/**
 * @since 0.1.0
 */
export const OAuth2ClientConfiguration = Schema.Struct({
  issuer: Schema.optional(Schema.String),
  discovery: Schema.optional(Schema.Literal("oidc", "oauth2")),
  authorization_endpoint: Schema.optional(Schema.String),
  token_endpoint: Schema.optional(Schema.String),
  client_id: Schema.optional(Schema.String),
  token_endpoint_auth_method: Schema.optional(TokenEndpointAuthMethod),
  scopes: Schema.optional(Schema.Array(Schema.String)),
  redirect_uri: Schema.optional(Schema.String),
  authorization_parameters: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
})
/** @since 0.1.0 */
export type OAuth2ClientConfiguration = typeof OAuth2ClientConfiguration.Type
