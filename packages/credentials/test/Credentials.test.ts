import { randomBytes } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import {
  AuditLog,
  ConnectorInstances,
  ConnectorRegistry,
  CredentialRepository,
  DomainError,
  InstanceRepository,
  Transactions
} from "@patchbay/core"
import { Envelope, Fingerprint, Keyring } from "@patchbay/crypto"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import * as CredentialRefresher from "../src/CredentialRefresher.js"
import { CredentialResolver } from "../src/CredentialResolver.js"
import * as Credentials from "../src/Credentials.js"
import { CredentialVault } from "../src/CredentialVault.js"
import { admin, as, createInstance, databaseConnector, failure, oauthConnector, orgA } from "./fixtures.js"

const key = () => randomBytes(32).toString("base64")
const env = { PATCHBAY_KEYRING: `a:${key()},b:${key()}`, PATCHBAY_PRIMARY_KEY_ID: "b", PATCHBAY_FINGERPRINT_KEY: key() }

/** The services on memory ports, with the given credential repository and the crypto from `env`. */
const composed = (repository: Layer.Layer<CredentialRepository.CredentialRepository>) => {
  const ports = Layer.mergeAll(
    repository,
    InstanceRepository.layerMemory,
    AuditLog.layerMemory,
    ConnectorRegistry.layer([databaseConnector, oauthConnector]),
    Transactions.layerMemory
  )
  return Credentials.layer.pipe(
    Layer.provide(CredentialRefresher.layerNone),
    Layer.provideMerge(
      Layer.mergeAll(ConnectorInstances.layer.pipe(Layer.provideMerge(ports)), Credentials.layerCryptoConfig)
    ),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
  )
}

const failingInsert = Layer.effect(
  CredentialRepository.CredentialRepository,
  Effect.map(CredentialRepository.CredentialRepository, (repository) => ({
    ...repository,
    insert: () => Effect.fail(new DomainError.StorageError({ operation: "insert", detail: "disk full" }))
  }))
).pipe(Layer.provide(CredentialRepository.layerMemory))

describe("Credentials", () => {
  it.effect("composes on keys from configuration and verifies them at start", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const resolver = yield* CredentialResolver
      const instance = yield* createInstance("Analytics")
      const stored = yield* vault.create({
        instanceId: instance.id,
        scope: { type: "organization", id: orgA },
        credentials: { username: "reader", password: "from-config" }
      })
      const record = yield* (yield* CredentialRepository.CredentialRepository).get(stored.orgId, stored.id)
      assert.strictEqual(record._tag === "Some" ? record.value.sealed.keyId : "", "b")
      assert.strictEqual(Redacted.value((yield* resolver.resolve(instance)).secrets).password, "from-config")
      yield* Keyring.verify
      // A keyring without key b cannot open it, and says so at start.
      const missing = yield* failure(
        Keyring.verify.pipe(
          Effect.provide(Keyring.layer({ keys: [{ id: "a", key: Redacted.make(key()) }], primary: "a" }))
        )
      )
      assert.strictEqual(missing._tag, "MissingKey")
      assert.include(missing.message, "key b")
      // The services are what the layer exposes.
      yield* Envelope.Envelope
      yield* Fingerprint.Fingerprint
    }).pipe(as(admin), Effect.provide(composed(CredentialRepository.layerMemory)))
  )

  it.effect("leaves the instance as it was when storing the version fails", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const instances = yield* ConnectorInstances.ConnectorInstances
      const instance = yield* createInstance("Analytics")
      const error = yield* failure(
        vault.create({
          instanceId: instance.id,
          scope: { type: "organization", id: orgA },
          credentials: { username: "reader", password: "never-stored" }
        })
      )
      assert.strictEqual(error._tag, "StorageError")
      const after = yield* instances.getUsable(instance.id)
      assert.isFalse(after.hasCredentials)
      assert.isNull(after.accountFingerprint)
      // The account is not reserved: another instance may take it.
      const other = yield* createInstance("Other", { configuration: { host: "DB.internal", database: "analytics" } })
      const second = yield* failure(
        vault.create({
          instanceId: other.id,
          scope: { type: "organization", id: orgA },
          credentials: { username: "reader", password: "x" }
        })
      )
      assert.strictEqual(second._tag, "StorageError")
    }).pipe(as(admin), Effect.provide(composed(failingInsert)))
  )
})
