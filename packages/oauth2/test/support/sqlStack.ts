/**
 * The same composition on PostgreSQL (store-sql's layerPg), for the parent test and its child
 * processes. Every time bound (opening a connection, waiting for one of the pool's, an operation,
 * the refresh lock, a request to the authorization server) is longer than the tests' own timeout:
 * 25 concurrent resolves on a pool of 4 in processes that share two busy cores can queue past the
 * defaults (5 and 10 seconds), and a bound that fires turns a slow machine into a wrong outcome.
 * The tests check what the protocol does, never how fast.
 */
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

/** Longer than any test of the file may run. */
const unbounded = "10 minutes"

export const sqlStack = (options: SqlStackOptions) => {
  const ports = Layer.mergeAll(
    SqlStore.layerPg({
      url: Redacted.make(options.url),
      maxConnections: 4,
      migrate: options.migrate,
      connectTimeout: unbounded,
      poolTimeout: unbounded,
      operationTimeout: unbounded,
      lockTimeout: unbounded
    }),
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
  return OAuth2.layerWithResolver({ allowInsecureRequests: true, requestTimeout: unbounded }).pipe(
    Layer.provideMerge(base),
    Layer.provide(Layer.merge(clients, loopback))
  )
}
