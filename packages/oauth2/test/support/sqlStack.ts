/** The same composition on PostgreSQL (store-sql's layerPg), for the parent test and its child processes. */
import { ConnectorInstances, ConnectorRegistry } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Envelope, Fingerprint, Keyring } from "@patchbay/crypto"
import { SqlStore } from "@patchbay/store-sql"
import { Layer, Redacted } from "effect"
import { OAuth2 } from "../../src/index.js"
import { clients, connector, loopback } from "./stack.js"

export interface SqlStackOptions {
  readonly url: string
  /** Base64 of the 32-byte keyring key every process shares. */
  readonly key: string
  /** Base64 of the 32-byte fingerprint key. */
  readonly fingerprintKey: string
  readonly migrate: boolean
}

export const sqlStack = (options: SqlStackOptions) => {
  const ports = Layer.mergeAll(
    SqlStore.layerPg({ url: Redacted.make(options.url), maxConnections: 4, migrate: options.migrate }),
    ConnectorRegistry.layer([connector])
  )
  const crypto = Layer.mergeAll(
    Envelope.layer.pipe(
      Layer.provideMerge(Keyring.layer({ keys: [{ id: "k1", key: Redacted.make(options.key) }], primary: "k1" }))
    ),
    Fingerprint.layer({ key: Redacted.make(options.fingerprintKey) })
  )
  const base = CredentialVault.layer.pipe(
    Layer.provideMerge(ConnectorInstances.layer),
    Layer.provideMerge(Layer.mergeAll(ports, crypto))
  )
  return OAuth2.layerWithResolver({ allowInsecureRequests: true }).pipe(
    Layer.provideMerge(base),
    Layer.provide(Layer.merge(clients, loopback))
  )
}
