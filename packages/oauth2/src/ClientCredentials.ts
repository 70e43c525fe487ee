/**
 * The client-credentials grant: an instance connected with a client of its own (or the host's
 * registered one) gets a token fetched and stored as a new version.
 *
 * @since 0.1.0
 */
import { Actor, ConnectorInstances, type Credential, CredentialScope, DomainError, InputBounds } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { AuthorizationServer, clientIdentityText, type TokenFailure } from "./AuthorizationServer.js"
import { checkWrite, requireAuthType, scopeFor } from "./internal/connect.js"
import { nextTokenSet } from "./internal/tokenResponse.js"
import { OAuth2Clients } from "./OAuth2Clients.js"
import * as TokenSet from "./TokenSet.js"

/**
 * Input of `connectClientCredentials`: the instance, the credential scope (default: the actor's
 * organization), the client (default: the registration's) and the OAuth2 scopes.
 *
 * @since 0.1.0
 */
export class ConnectClientCredentials extends Schema.Class<ConnectClientCredentials>(
  "@patchbay/oauth2/ConnectClientCredentials"
)({
  instanceId: InputBounds.boundedString(64),
  scope: Schema.optional(CredentialScope.CredentialScope),
  clientId: Schema.optional(InputBounds.boundedString(512).pipe(Schema.nonEmptyString())),
  clientSecret: Schema.optional(
    Schema.Union(
      Schema.RedactedFromSelf(InputBounds.boundedString(8192)),
      Schema.Redacted(InputBounds.boundedString(8192))
    )
  ),
  scopes: Schema.optional(InputBounds.boundedArray(InputBounds.boundedString(256), 64))
}) {}

/**
 * Failures of `connectClientCredentials`.
 *
 * @since 0.1.0
 */
export type ConnectError = DomainError.InstanceDisabled | CredentialVault.CreateError | TokenFailure

/**
 * The grant's operation: `OAuth2`'s `connectClientCredentials`.
 *
 * @since 0.1.0
 */
export interface ClientCredentials {
  readonly connect: (
    input: typeof ConnectClientCredentials.Encoded
  ) => Effect.Effect<Credential.CredentialMetadata, ConnectError, Actor.Actor>
}

/**
 * What the grant is built on.
 *
 * @since 0.1.0
 */
export type Requirements =
  | AuthorizationServer
  | OAuth2Clients
  | CredentialVault.CredentialVault
  | ConnectorInstances.ConnectorInstances

const decodeConnect = Schema.decodeUnknown(ConnectClientCredentials, { errors: "all", onExcessProperty: "error" })

/**
 * Builds the grant on its services.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<ClientCredentials, never, Requirements> = Effect.gen(function* () {
  const servers = yield* AuthorizationServer
  const clients = yield* OAuth2Clients
  const vault = yield* CredentialVault.CredentialVault
  const instances = yield* ConnectorInstances.ConnectorInstances

  const connect = Effect.fn("OAuth2.connectClientCredentials")(function* (
    input: typeof ConnectClientCredentials.Encoded
  ) {
    const actor = yield* Actor.Actor
    const request = yield* decodeConnect(input).pipe(
      Effect.mapError((error) => DomainError.InvalidInput.fromParseError(error))
    )
    const instance = yield* instances.getUsable(request.instanceId)
    yield* requireAuthType(instance, "oauth2_client_credentials")
    const credentialScope = scopeFor(actor, request.scope)
    yield* checkWrite(actor, instance, credentialScope)
    const registration = yield* clients.forInstance(instance)
    const clientId = request.clientId ?? registration.clientId
    // The registration's secret goes only with the registration's own client.
    const clientSecret =
      request.clientSecret ?? (clientId === registration.clientId ? registration.clientSecret : undefined)
    const endpoint = yield* servers.endpoint(registration, instance.connectorKey, { clientId, clientSecret })
    const response = yield* servers.clientCredentials(endpoint, request.scopes ?? registration.scopes)
    const tokens = nextTokenSet(response, undefined, yield* Clock.currentTimeMillis, {
      // The client is stored with the token set only when it is the instance's own.
      clientId: request.clientId,
      clientSecret: request.clientSecret === undefined ? undefined : Redacted.value(request.clientSecret),
      accountIdentity: clientIdentityText(endpoint.target, clientId)
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

  return { connect } satisfies ClientCredentials
})
