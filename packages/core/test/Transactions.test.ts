import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import * as AuditLog from "../src/AuditLog.js"
import * as ConnectorInstancesModule from "../src/ConnectorInstances.js"
import { ConnectorInstances } from "../src/ConnectorInstances.js"
import * as ConnectorRegistry from "../src/ConnectorRegistry.js"
import { SealedSecret } from "../src/Credential.js"
import * as CredentialRepository from "../src/CredentialRepository.js"
import { CredentialScope } from "../src/CredentialScope.js"
import { StorageError } from "../src/DomainError.js"
import * as Ids from "../src/Ids.js"
import * as InstanceRepository from "../src/InstanceRepository.js"
import * as Transactions from "../src/Transactions.js"
import { actorLayer, demoConnector, memoryLayer, orgA } from "./fixtures.js"

const configuration = { host: "db.internal", database: "analytics" }
const inOrgA = Layer.merge(memoryLayer, actorLayer(orgA))
const boom = new StorageError({ operation: "test", detail: "boom" })

const snapshot = Effect.gen(function* () {
  const repository = yield* InstanceRepository.InstanceRepository
  const audit = yield* AuditLog.AuditLog
  return {
    instances: (yield* repository.list(Ids.OrgId.make(orgA), { limit: 100 })).map((i) => `${i.id}:${i.instanceName}`),
    events: (yield* audit.list(Ids.OrgId.make(orgA), { limit: 100 })).map((e) => e.id)
  }
})

describe("Transactions.layerMemory", () => {
  it.layer(inOrgA)((it) => {
    it.effect("a failed unit leaves memory as it was: inserts, updates, deletes and audit events", () =>
      Effect.gen(function* () {
        const instances = yield* ConnectorInstances
        const transactions = yield* Transactions.Transactions
        const kept = yield* instances.create({ connector: "demo-db", instanceName: "kept", configuration })
        const doomed = yield* instances.create({ connector: "demo-db", instanceName: "doomed", configuration })
        const before = yield* snapshot
        const exit = yield* Effect.exit(
          transactions.run(
            Effect.gen(function* () {
              yield* instances.create({ connector: "demo-db", instanceName: "new", configuration })
              yield* instances.update(kept.id, { instanceName: "renamed", isEnabled: false })
              yield* instances.delete(doomed.id)
              // A nested unit joins the enclosing one: its writes go when the outer unit fails.
              yield* transactions.run(instances.setStatus(kept.id, "reconnect_required", "test"))
              return yield* boom
            })
          )
        )
        assert.isTrue(exit._tag === "Failure")
        assert.deepStrictEqual(yield* snapshot, before)
        const restored = yield* instances.get(kept.id)
        assert.strictEqual(restored.instanceName, "kept")
        assert.strictEqual(restored.isEnabled, true)
        assert.strictEqual(restored.status, kept.status)
        assert.strictEqual((yield* instances.get(doomed.id)).instanceName, "doomed")
      })
    )

    it.effect("an interrupted unit is undone as well", () =>
      Effect.gen(function* () {
        const instances = yield* ConnectorInstances
        const transactions = yield* Transactions.Transactions
        const before = yield* snapshot
        const exit = yield* Effect.exit(
          transactions.run(
            Effect.zipRight(
              instances.create({ connector: "demo-db", instanceName: "interrupted", configuration }),
              Effect.interrupt
            )
          )
        )
        assert.isTrue(exit._tag === "Failure")
        assert.deepStrictEqual(yield* snapshot, before)
      })
    )
  })

  it.effect("a create whose audit event cannot be written leaves no instance behind", () =>
    Effect.gen(function* () {
      const failingAudit = Layer.succeed(
        AuditLog.AuditLog,
        AuditLog.AuditLog.of({ append: () => Effect.fail(boom), list: () => Effect.succeed([]) })
      )
      const ports = Layer.mergeAll(
        InstanceRepository.layerMemory,
        failingAudit,
        ConnectorRegistry.layer([demoConnector]),
        Transactions.layerMemory
      )
      yield* Effect.gen(function* () {
        const instances = yield* ConnectorInstances
        const repository = yield* InstanceRepository.InstanceRepository
        const error = yield* Effect.flip(
          instances.create({ connector: "demo-db", instanceName: "lost", configuration })
        )
        assert.strictEqual(error._tag, "StorageError")
        assert.deepStrictEqual(yield* repository.list(Ids.OrgId.make(orgA), { limit: 10 }), [])
      }).pipe(
        Effect.provide(Layer.mergeAll(ConnectorInstancesModule.layer.pipe(Layer.provideMerge(ports)), actorLayer(orgA)))
      )
    })
  )

  it.effect("a failed unit takes back a stored credential version and a revocation", () =>
    Effect.gen(function* () {
      const repository = yield* CredentialRepository.CredentialRepository
      const transactions = yield* Transactions.Transactions
      const orgId = Ids.OrgId.make(orgA)
      const instanceId = yield* Ids.make(Ids.InstanceId)
      const version = (id: Ids.CredentialId) =>
        repository.insert({
          metadata: {
            id,
            orgId,
            instanceId,
            scope: CredentialScope.make({ type: "organization", id: orgA }),
            labels: {},
            masked: {},
            accountFingerprint: null,
            expiresAt: null,
            revokedAt: null,
            createdAt: new Date(0)
          },
          sealed: SealedSecret.make({
            keyId: "k",
            wrappedKey: new Uint8Array(1),
            nonce: new Uint8Array(1),
            ciphertext: new Uint8Array(1)
          })
        })
      const first = yield* version(yield* Ids.make(Ids.CredentialId))
      const exit = yield* Effect.exit(
        transactions.run(
          Effect.gen(function* () {
            yield* version(yield* Ids.make(Ids.CredentialId))
            yield* repository.revoke(orgId, first.metadata.id, new Date(1))
            return yield* boom
          })
        )
      )
      assert.isTrue(exit._tag === "Failure")
      const versions = yield* repository.list(orgId, instanceId)
      assert.deepStrictEqual(
        versions.map((v) => [v.id, v.version, v.revokedAt]),
        [[first.metadata.id, 1, null]]
      )
      const stored = yield* repository.get(orgId, first.metadata.id)
      assert.isTrue(Option.isSome(stored) && stored.value.metadata.revokedAt === null)
    }).pipe(Effect.provide(Layer.merge(CredentialRepository.layerMemory, Transactions.layerMemory)))
  )
})
