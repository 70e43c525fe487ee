/**
 * Patchbay in one layer: the store, keys, egress policy and connectors a host chooses, composed
 * with the instance lifecycle, the vault, the resolver, the connection tester, the activities and
 * the in-process lifecycle `Events`, in the order their requirements impose. The store's ports
 * include what `@patchbay/monitors` is built on (`HealthHistory`, `MonitorClaims`).
 *
 * ```ts
 * const PatchbayLive = Patchbay.layer({
 *   store: PgliteStore.layer({ dataDir: "./patchbay-data" }),
 *   connectors: [PostgresConnector.connector, SmtpConnector.connector],
 *   keys: "config"
 * })
 * ```
 *
 * @since 0.1.0
 */
import { Activities } from "@patchbay/activities"
import {
  AuditLog,
  type ConnectorDriver,
  ConnectorInstances,
  ConnectorRegistry,
  CredentialRepository,
  type DomainError,
  EgressPolicy,
  HealthHistory,
  type Idempotency,
  InstanceRepository,
  LifecycleEvents,
  MonitorClaims,
  PendingAuthorizationRepository,
  RefreshLock,
  Transactions,
  WebhookStore
} from "@patchbay/core"
import { CredentialRefresher, CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { Envelope, Fingerprint, Keyring } from "@patchbay/crypto"
import { ConnectionTester } from "@patchbay/testers"
import { WebhookSubscriptions } from "@patchbay/webhooks"
import type * as ConfigError from "effect/ConfigError"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"

/**
 * The ports a store provides: `PgliteStore.layer()` (embedded), `SqlStore.layerPg()` (PostgreSQL)
 * or `layerMemory` (tests).
 *
 * @since 0.1.0
 */
export type StoreServices =
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
  | WebhookStore.WebhookStore

/**
 * Core's memory ports as a store: nothing survives the process. For tests and experiments.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<StoreServices> = Layer.mergeAll(
  // Webhook deliveries fan out from the same outbox the instance lifecycle writes to.
  WebhookStore.layerMemory.pipe(Layer.provideMerge(InstanceRepository.layerMemory)),
  CredentialRepository.layerMemory,
  AuditLog.layerMemory,
  PendingAuthorizationRepository.layerMemory,
  RefreshLock.layerMemory,
  Transactions.layerMemory,
  HealthHistory.layerMemory,
  MonitorClaims.layerMemory
)

/**
 * The key material: `Keyring` (envelope encryption) and `Fingerprint` (account identity).
 *
 * @since 0.1.0
 */
export type KeyServices = Keyring.Keyring | Fingerprint.Fingerprint

/**
 * Where the keys come from. `"config"` reads `PATCHBAY_KEYRING`, `PATCHBAY_PRIMARY_KEY_ID` and
 * `PATCHBAY_FINGERPRINT_KEY`; `"ephemeral"` draws fresh random keys, so whatever this process seals
 * is unreadable after it ends (tests, demos); a layer brings the host's own.
 *
 * @since 0.1.0
 */
export type Keys<E = never> = "config" | "ephemeral" | Layer.Layer<KeyServices, E>

/**
 * The services a refresher is built on: everything but the resolver, the tester and the
 * activities (`OAuth2.layer` needs the store's ports, `Envelope`, `ConnectorInstances` and
 * `CredentialVault`).
 *
 * @since 0.1.0
 */
export type Foundation =
  | StoreServices
  | KeyServices
  | Envelope.Envelope
  | EgressPolicy.EgressPolicy
  | ConnectorRegistry.ConnectorRegistry
  | ConnectorInstances.ConnectorInstances
  | CredentialVault.CredentialVault

/**
 * Everything the preset provides, so a host can use any service the layers build.
 *
 * @since 0.1.0
 */
export type Services =
  | Foundation
  | CredentialRefresher.CredentialRefresher
  | CredentialResolver.CredentialResolver
  | ConnectionTester.ConnectionTester
  | Activities.Activities
  | LifecycleEvents.Events
  | WebhookSubscriptions.WebhookSubscriptions

/**
 * @since 0.1.0
 */
export interface Options<StoreE, ConnectorE, KeysE, RefresherOut, RefresherE> {
  /** The store: `PgliteStore.layer()`, `SqlStore.layerPg()`, or `layerMemory`. */
  readonly store: Layer.Layer<StoreServices, StoreE>
  /** The installed connectors, e.g. `PostgresConnector.connector`; they connect through `egress`. */
  readonly connectors: ReadonlyArray<
    | ConnectorDriver.Connector
    | Effect.Effect<ConnectorDriver.Connector, ConnectorE, EgressPolicy.EgressPolicy | Scope.Scope>
  >
  /** Where the keys come from (no default: ephemeral keys lose every credential on restart). */
  readonly keys: Keys<KeysE>
  /**
   * Which addresses connections may reach: `"config"` (default) reads `PATCHBAY_EGRESS_*`, options
   * state them (`{ allowLoopback: true }` for a database on 127.0.0.1).
   */
  readonly egress?: "config" | EgressPolicy.EgressOptions | undefined
  /**
   * What the resolver asks before it hands out a credential. Default
   * `CredentialRefresher.layerNone`: credentials are used as stored. A host with OAuth2 passes
   * `@patchbay/oauth2`'s refresher (and may expose more services from the same layer, such as
   * `OAuth2`); it is built on the `Foundation`.
   */
  readonly refresher?: Layer.Layer<CredentialRefresher.CredentialRefresher | RefresherOut, RefresherE, Foundation>
}

/**
 * Why the preset cannot start: the store's and the connectors' own failures, configuration
 * (`keys: "config"`, `egress: "config"`), and a keyring that lacks a key stored credentials name.
 *
 * @since 0.1.0
 */
export type StartError<StoreE, ConnectorE, KeysE, RefresherE> =
  | StoreE
  | ConnectorE
  | KeysE
  | RefresherE
  | ConfigError.ConfigError
  | Keyring.MissingKey
  | DomainError.StorageError

const keysLayer = <E>(keys: Keys<E>): Layer.Layer<KeyServices, E | ConfigError.ConfigError> => {
  if (keys === "config") return Layer.merge(Keyring.layerConfig, Fingerprint.layerConfig)
  if (keys === "ephemeral") return Layer.merge(Keyring.layerEphemeral(), Fingerprint.layerEphemeral)
  return keys
}

const egressLayer = (
  egress: "config" | EgressPolicy.EgressOptions | undefined
): Layer.Layer<EgressPolicy.EgressPolicy, ConfigError.ConfigError> =>
  egress === undefined || egress === "config" ? EgressPolicy.layerConfig : EgressPolicy.layer(egress)

/**
 * Patchbay from nothing: the store, keys, egress policy and connectors, then the instance
 * lifecycle, the vault, the refresher, the resolver, the connection tester, the activities and
 * `Events` (publish the outbox to in-process subscribers with `LifecycleEvents.relay`) and
 * `WebhookSubscriptions`. Every service is exposed. Webhooks are delivered by a worker the host
 * runs on these services: `WebhookWorker.layer(Schedule.spaced("5 seconds"))` from
 * `@patchbay/webhooks`, provided with this layer, in one process or several. At start it migrates the store (as the store layer does) and checks that
 * the keyring holds every key stored credentials name. Build it once (a `ManagedRuntime`, or the
 * host's main layer) and provide the `Actor` per request.
 *
 * @since 0.1.0
 */
export const layer = <StoreE, ConnectorE = never, KeysE = never, RefresherOut = never, RefresherE = never>(
  options: Options<StoreE, ConnectorE, KeysE, RefresherOut, RefresherE>
): Layer.Layer<Services | RefresherOut, StartError<StoreE, ConnectorE, KeysE, RefresherE>> => {
  const crypto = Envelope.layer.pipe(Layer.provideMerge(keysLayer(options.keys)))
  // Connectors that hold resources (connection pools) live as long as this layer.
  const registry = Layer.scopedContext(Layer.build(ConnectorRegistry.layer(options.connectors))).pipe(
    Layer.provideMerge(egressLayer(options.egress))
  )
  const ports = Keyring.layerVerify.pipe(Layer.provideMerge(Layer.mergeAll(options.store, crypto, registry)))
  const foundation = CredentialVault.layer.pipe(Layer.provideMerge(ConnectorInstances.layer), Layer.provideMerge(ports))
  // Without a refresher option, RefresherOut and RefresherE keep their `never` defaults.
  const refresher =
    options.refresher ??
    (CredentialRefresher.layerNone as Layer.Layer<
      CredentialRefresher.CredentialRefresher | RefresherOut,
      RefresherE,
      Foundation
    >)
  return Layer.mergeAll(
    Activities.layer,
    ConnectionTester.layer,
    LifecycleEvents.layer,
    WebhookSubscriptions.layer
  ).pipe(Layer.provideMerge(CredentialResolver.layer), Layer.provideMerge(refresher), Layer.provideMerge(foundation))
}
