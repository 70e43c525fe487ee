/** The connector, the in-memory composition and small helpers the tests share. */
import { HttpApiDescriptor } from "@patchbay/connector-http"
import {
  Actor,
  AuditLog,
  type ConnectorDescriptor,
  ConnectorDriver,
  ConnectorInstances,
  ConnectorRegistry,
  CredentialRepository,
  EgressPolicy,
  Ids,
  InstanceRepository,
  PendingAuthorizationRepository,
  RefreshLock,
  Transactions
} from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Envelope, Fingerprint, Keyring } from "@patchbay/crypto"
import { Effect, Layer, Schema } from "effect"
import { OAuth2, OAuth2Clients } from "../../src/index.js"
import { appClient, redirectUri } from "./provider.js"

export const orgId = "0190a000-0000-7000-8000-00000000000a"
export const userId = "0190a000-0000-7000-8000-0000000000c1"

/** An API connected through OAuth2: the client settings in configuration, the token set as connector-http stores it. */
export const descriptor = {
  id: Ids.ConnectorId.make("00000000-0000-4000-8000-0000000000a2"),
  key: "oauth-api",
  name: "OAuth API",
  version: "1.0.0",
  authProfiles: ["oauth2_authorization_code", "oauth2_client_credentials"],
  operations: ["test_connection"],
  configuration: Schema.Struct({ oauth2: OAuth2Clients.InstanceClientConfiguration }),
  credentials: HttpApiDescriptor.OAuth2Credentials,
  secretFields: ["access_token", "refresh_token", "id_token", "client_secret"],
  accountFields: [],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor.ConnectorDescriptor

export const connector = ConnectorDriver.make(descriptor, {
  test: () => Effect.succeed("ok"),
  healthCheck: () => Effect.void
})

/**
 * The app registration: the host's issuer (the test provider's, known once it listens), client and
 * secret; scopes and authorization parameters come from each instance's configuration.
 */
export const clients = Layer.suspend(() =>
  OAuth2Clients.layer({
    connectors: {
      "oauth-api": {
        issuer: process.env.PATCHBAY_TEST_ISSUER,
        clientId: appClient.id,
        clientSecret: appClient.secret,
        redirectUri
      }
    }
  })
)

/** Core ports, crypto, instances and vault in memory. */
export const memoryBase = () => {
  const ports = Layer.mergeAll(
    CredentialRepository.layerMemory,
    InstanceRepository.layerMemory,
    AuditLog.layerMemory,
    PendingAuthorizationRepository.layerMemory,
    RefreshLock.layerMemory,
    Transactions.layerMemory,
    ConnectorRegistry.layer([connector])
  )
  const crypto = Layer.mergeAll(
    Envelope.layer.pipe(Layer.provideMerge(Keyring.layerEphemeral())),
    Fingerprint.layerEphemeral
  )
  return CredentialVault.layer.pipe(
    Layer.provideMerge(ConnectorInstances.layer),
    Layer.provideMerge(Layer.mergeAll(ports, crypto))
  )
}

/** The provider runs on 127.0.0.1: the egress policy must allow loopback. */
export const loopback = EgressPolicy.layer({ allowLoopback: true })

/** Everything in memory with OAuth2 and the refreshing resolver. */
export const memory = (options: OAuth2.Options = {}) =>
  OAuth2.layerWithResolver({ allowInsecureRequests: true, ...options }).pipe(
    Layer.provideMerge(memoryBase()),
    Layer.provide(Layer.merge(clients, loopback))
  )

/** The organization-level actor the tests act as. */
export const actor = Layer.succeed(Actor.Actor, Actor.ActorInfo.make({ orgId: Ids.OrgId.make(orgId) }))

/** Creates an OAuth2 instance on the host's registration (whose issuer is the provider's, `_issuer`). */
export const createInstance = (
  _issuer: string,
  authType: "oauth2_authorization_code" | "oauth2_client_credentials",
  name: string = authType
) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const view = yield* instances.create({
      connector: "oauth-api",
      instanceName: name,
      authType,
      configuration: {
        oauth2:
          authType === "oauth2_authorization_code"
            ? { scopes: ["openid", "offline_access"], authorization_parameters: { prompt: "consent" } }
            : {}
      }
    })
    return yield* instances.getInstance(view.id)
  })
