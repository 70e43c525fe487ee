import { HttpApiDescriptor, HttpConnector } from "@patchbay/connector-http"
import { SmtpConnector } from "@patchbay/connector-smtp"
import { Actor, type ConnectorDriver, ConnectorInstances, EgressPolicy } from "@patchbay/core"
import { Credentials, CredentialVault } from "@patchbay/credentials"
import { Effect, Layer } from "effect"
import * as Activities from "../src/Activities.js"

export const orgId = "0190a000-0000-7000-8000-00000000000a"

/** The SMTP and HTTP connectors, allowed to reach 127.0.0.1. */
export const connectors = Effect.runSync(
  Effect.all([
    SmtpConnector.connector,
    HttpConnector.connector(HttpApiDescriptor.httpApi),
    HttpConnector.connector(HttpApiDescriptor.twilioSms)
  ]).pipe(Effect.provide(EgressPolicy.layer({ allowLoopback: true })))
)

/** Activities on memory stores with the given connectors, as an actor of `orgId`. */
export const activitiesLayer = (list: ReadonlyArray<ConnectorDriver.Connector> = connectors) =>
  Activities.layer.pipe(Layer.provideMerge(Credentials.layerMemory(list)), Layer.provideMerge(Actor.layer({ orgId })))

/** Creates an instance and, when `credentials` are given, an organization credential for it. */
export const connect = (
  connector: string,
  instanceName: string,
  configuration: Record<string, unknown>,
  credentials?: Record<string, unknown>,
  authType?: string
) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const vault = yield* CredentialVault.CredentialVault
    const instance = yield* instances.create({
      connector,
      instanceName,
      configuration,
      ...(authType ? { authType: authType as never } : {})
    })
    if (credentials !== undefined) {
      yield* vault.create({ instanceId: instance.id, scope: { type: "organization", id: orgId }, credentials })
    }
    return instance.id
  })

/** Stores a new organization credential version for an instance. */
export const rotate = (instanceId: string, credentials: Record<string, unknown>) =>
  Effect.flatMap(CredentialVault.CredentialVault, (vault) =>
    vault.create({ instanceId, scope: { type: "organization", id: orgId }, credentials })
  )
