/** The composition the tests share: an HTTP API connector, the vault, OAuth2 and the monitors, on any store. */
import { randomBytes, randomUUID } from "node:crypto"
import { HttpApiDescriptor, HttpConnector } from "@patchbay/connector-http"
import {
  Actor,
  AuditLog,
  ConnectorInstances,
  ConnectorRegistry,
  CredentialRepository,
  EgressPolicy,
  HealthHistory,
  type Idempotency,
  Ids,
  InstanceRepository,
  type LifecycleEvents,
  MonitorClaims,
  PendingAuthorizationRepository,
  RefreshLock,
  Transactions
} from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Envelope, Fingerprint, Keyring } from "@patchbay/crypto"
import { OAuth2, OAuth2Clients } from "@patchbay/oauth2"
import { SqlStore } from "@patchbay/store-sql"
import { Effect, Layer, Redacted } from "effect"
import { ExpiryMonitor, HealthMonitor, Monitors, SweepMonitor } from "../../src/index.js"

/** What every store layer gives the stack. */
export type Store =
  | InstanceRepository.InstanceRepository
  | Idempotency.IdempotencyKeys
  | CredentialRepository.CredentialRepository
  | AuditLog.AuditLog
  | LifecycleEvents.EventOutbox
  | PendingAuthorizationRepository.PendingAuthorizationRepository
  | RefreshLock.RefreshLock
  | Transactions.Transactions
  | HealthHistory.HealthHistory
  | MonitorClaims.MonitorClaims

/** A fresh in-memory store. */
export const memoryStore = (): Layer.Layer<Store> =>
  Layer.mergeAll(
    InstanceRepository.layerMemory,
    CredentialRepository.layerMemory,
    AuditLog.layerMemory,
    PendingAuthorizationRepository.layerMemory,
    RefreshLock.layerMemory,
    Transactions.layerMemory,
    HealthHistory.layerMemory,
    MonitorClaims.layerMemory
  )

/** Longer than any test may run: the tests check what happens, never how fast. */
const unbounded = "10 minutes"

/** A store on the shared PostgreSQL with a pool of its own (one "process"). */
export const pgStore = (url: string) =>
  SqlStore.layerPg({
    url: Redacted.make(url),
    maxConnections: 3,
    connectTimeout: unbounded,
    poolTimeout: unbounded,
    operationTimeout: unbounded,
    lockTimeout: unbounded
  })

/** Keys every runner shares, so that each decrypts what another stored. */
const keys = { key: randomBytes(32).toString("base64"), fingerprint: randomBytes(32).toString("base64") }

const loopback = EgressPolicy.layer({ allowLoopback: true })

const registry = Layer.unwrapEffect(
  Effect.map(HttpConnector.connector(HttpApiDescriptor.httpApi), (connector) => ConnectorRegistry.layer([connector]))
).pipe(Layer.provide(loopback))

const crypto = Layer.mergeAll(
  Envelope.layer.pipe(
    Layer.provideMerge(Keyring.layer({ keys: [{ id: "k1", key: Redacted.make(keys.key) }], primary: "k1" }))
  ),
  Fingerprint.layer({ key: Redacted.make(keys.fingerprint) })
)

/** The client secret of the registration: it must never appear in an event. */
export const clientSecret = "client-secret-must-not-leak"

export interface StackOptions {
  readonly orgId: string
  /** Where the token endpoint is (the API server's `/token`). */
  readonly apiUrl: string
  readonly health?: typeof HealthMonitor.HealthOptions.Encoded
  readonly expiry?: typeof ExpiryMonitor.ExpiryOptions.Encoded
}

/** Everything a runner process composes, on `store`. */
export const stack = <E>(store: Layer.Layer<Store, E>, options: StackOptions) => {
  const clients = OAuth2Clients.layer({
    connectors: {
      "http-api": { tokenEndpoint: `${options.apiUrl}/token`, clientId: "patchbay", clientSecret }
    }
  })
  const base = CredentialVault.layer.pipe(
    Layer.provideMerge(ConnectorInstances.layer),
    Layer.provideMerge(Layer.mergeAll(store, registry, crypto))
  )
  const oauth2 = OAuth2.layerWithResolver({ allowInsecureRequests: true, requestTimeout: unbounded }).pipe(
    Layer.provideMerge(base),
    Layer.provide(Layer.merge(clients, loopback))
  )
  const monitors = Layer.mergeAll(
    HealthMonitor.layer(options.health ?? { everyMinutes: 5 }),
    ExpiryMonitor.layer(options.expiry ?? {}),
    SweepMonitor.layer({ everyMinutes: 5, sweep: { withinMinutes: 10 } })
  ).pipe(Layer.provide(Monitors.organizations([options.orgId])))
  return monitors.pipe(Layer.provideMerge(oauth2))
}

/** The organization's administrator. */
export const admin = (orgId: string) =>
  Layer.succeed(Actor.Actor, Actor.ActorInfo.make({ orgId: Ids.OrgId.make(orgId) }))

/** A fresh organization id per test, so tests on one database never see each other's rows. */
export const newOrgId = (): string => randomUUID()

/** Creates an HTTP API instance whose health check is `GET /health` on the API server, with an API key. */
export const createApiInstance = (orgId: string, apiUrl: string, name: string) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const vault = yield* CredentialVault.CredentialVault
    const view = yield* instances.create({
      connector: "http-api",
      instanceName: name,
      authType: "api_key",
      configuration: {
        base_url: apiUrl,
        test_endpoint: { method: "GET", path: "/health", expect_status: 200 }
      }
    })
    yield* vault.create({
      instanceId: view.id,
      scope: { type: "organization", id: orgId },
      credentials: { api_key: `key-of-${name}` }
    })
    return view
  })
