/**
 * Ready-made compositions of the credential services.
 *
 * @since 0.1.0
 */
import {
  AuditLog,
  type ConnectorDriver,
  ConnectorInstances,
  ConnectorRegistry,
  CredentialRepository,
  type Idempotency,
  InstanceRepository,
  type LifecycleEvents,
  Transactions
} from "@patchbay/core"
import { Envelope, Fingerprint, Keyring } from "@patchbay/crypto"
import * as Layer from "effect/Layer"
import * as CredentialRefresher from "./CredentialRefresher.js"
import * as CredentialResolver from "./CredentialResolver.js"
import * as CredentialVault from "./CredentialVault.js"

/**
 * The vault and the resolver on their ports and a `CredentialRefresher` (`OAuth2.layer`, or
 * `CredentialRefresher.layerNone` for a host without OAuth2).
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<
  CredentialVault.CredentialVault | CredentialResolver.CredentialResolver,
  never,
  | CredentialRepository.CredentialRepository
  | ConnectorInstances.ConnectorInstances
  | ConnectorRegistry.ConnectorRegistry
  | AuditLog.AuditLog
  | Transactions.Transactions
  | Idempotency.IdempotencyKeys
  | Envelope.Envelope
  | Fingerprint.Fingerprint
  | LifecycleEvents.EventOutbox
  | CredentialRefresher.CredentialRefresher
> = Layer.mergeAll(CredentialVault.layer, CredentialResolver.layer)

/**
 * Envelope encryption and fingerprints on the keyring and fingerprint key from configuration
 * (`PATCHBAY_KEYRING`, `PATCHBAY_PRIMARY_KEY_ID`, `PATCHBAY_FINGERPRINT_KEY`), with the keyring
 * exposed for `Keyring.verify` and rotation.
 *
 * @since 0.1.0
 */
export const layerCryptoConfig = Layer.mergeAll(
  Envelope.layer.pipe(Layer.provideMerge(Keyring.layerConfig)),
  Fingerprint.layerConfig
)

/**
 * Everything in memory — core's memory ports, the instance lifecycle, an ephemeral keyring and
 * fingerprint key, the vault and the resolver — with every service exposed: for tests and
 * experiments. Credentials are used as stored unless a `refresher` is given (default
 * `CredentialRefresher.layerNone`).
 *
 * @since 0.1.0
 */
export const layerMemory = (
  connectors: ReadonlyArray<ConnectorDriver.Connector>,
  refresher: Layer.Layer<CredentialRefresher.CredentialRefresher> = CredentialRefresher.layerNone
) => {
  const ports = Layer.mergeAll(
    CredentialRepository.layerMemory,
    InstanceRepository.layerMemory,
    AuditLog.layerMemory,
    ConnectorRegistry.layer(connectors),
    Transactions.layerMemory
  )
  const crypto = Layer.mergeAll(
    Envelope.layer.pipe(Layer.provideMerge(Keyring.layerEphemeral())),
    Fingerprint.layerEphemeral
  )
  return layer.pipe(
    Layer.provide(refresher),
    Layer.provideMerge(Layer.mergeAll(ConnectorInstances.layer.pipe(Layer.provideMerge(ports)), crypto))
  )
}
