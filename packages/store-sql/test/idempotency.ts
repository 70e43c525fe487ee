/**
 * The idempotency-key contract of instance creates and credential stores, on the services over a
 * store under test. `contract` runs it inside its store's layer, so it covers core's memory
 * layers, PGlite and PostgreSQL alike.
 */
import { assert, describe, type Vitest } from "@effect/vitest"
import {
  Actor,
  AuditLog,
  type ConnectorDescriptor,
  ConnectorDriver,
  ConnectorInstances,
  ConnectorRegistry,
  DomainError,
  Ids,
  InstanceRepository,
  Transactions
} from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Envelope, Fingerprint, Keyring } from "@patchbay/crypto"
import { Clock, Effect, FiberRef, Layer, Schema } from "effect"
import type { SqlStore } from "../src/index.js"

/** The connector of the idempotency cases: a database with host and username as the account. */
export const descriptor = {
  id: Ids.ConnectorId.make("00000000-0000-4000-8000-0000000001d1"),
  key: "idempotent-db",
  name: "Idempotency test database",
  version: "1.0.0",
  authProfiles: ["database_password"],
  operations: ["test_connection"],
  configuration: Schema.Struct({ host: Schema.String }),
  credentials: Schema.Struct({ username: Schema.String, password: Schema.Redacted(Schema.String) }),
  secretFields: ["password"],
  accountFields: ["host", "username"],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor.ConnectorDescriptor

const connector = ConnectorDriver.make(descriptor, { test: () => Effect.succeed("ok"), healthCheck: () => Effect.void })

/** The instance lifecycle and the vault over the store in context. */
export const services = CredentialVault.layer.pipe(
  Layer.provideMerge(ConnectorInstances.layer),
  Layer.provideMerge(
    Layer.mergeAll(
      ConnectorRegistry.layer([connector]),
      Envelope.layer.pipe(Layer.provideMerge(Keyring.layerEphemeral())),
      Fingerprint.layerEphemeral
    )
  )
)

/** A fresh organization's actor. */
const newActor = Effect.map(Ids.make(Ids.OrgId), (orgId) => Actor.ActorInfo.make({ orgId }))

const createInstance = (name: string, idempotencyKey?: string) =>
  Effect.flatMap(ConnectorInstances.ConnectorInstances, (instances) =>
    instances.create({
      connector: descriptor.key,
      instanceName: name,
      configuration: { host: "db.internal" },
      ...(idempotencyKey === undefined ? {} : { idempotencyKey })
    })
  )

const createdEvents = (orgId: Ids.OrgId) =>
  Effect.flatMap(AuditLog.AuditLog, (audit) => audit.list(orgId, { action: "instance.created", limit: 100 }))

const instancesOf = (orgId: Ids.OrgId) =>
  Effect.flatMap(InstanceRepository.InstanceRepository, (repository) => repository.list(orgId, { limit: 100 }))

/**
 * The services again, on the same ports and keys but on a `Transactions` that loses every answer
 * after COMMIT: the unit is committed and the caller is told `StorageError` — the ambiguous
 * failure that keys exist for.
 */
const afterLostCommit = <A, E, R>(use: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const transactions = yield* Transactions.Transactions
    // Only the outermost unit commits; a unit inside it (one service calling another) just joins.
    const inUnit = FiberRef.unsafeMake(false)
    const lost = Transactions.Transactions.of({
      run: (effect) =>
        FiberRef.getWith(inUnit, (nested) =>
          nested
            ? transactions.run(effect)
            : transactions
                .run(Effect.locally(effect, inUnit, true))
                .pipe(
                  Effect.zipRight(
                    Effect.fail(
                      new DomainError.StorageError({ operation: "test", detail: "connection lost after COMMIT" })
                    )
                  )
                )
        )
    })
    const lossy = CredentialVault.layer.pipe(
      Layer.provideMerge(ConnectorInstances.layer),
      Layer.provide(Layer.succeed(Transactions.Transactions, lost))
    )
    return yield* Effect.provide(use, lossy)
  })

/** The live clock moved `millis` ahead. */
const ahead = (millis: number): Clock.Clock => {
  const live = Clock.make()
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => live.unsafeCurrentTimeMillis() + millis,
    currentTimeMillis: Effect.sync(() => live.unsafeCurrentTimeMillis() + millis),
    unsafeCurrentTimeNanos: () => live.unsafeCurrentTimeNanos() + BigInt(millis) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => live.unsafeCurrentTimeNanos() + BigInt(millis) * 1_000_000n),
    sleep: live.sleep
  }
}

/** The idempotency cases, on the store that `it` provides. */
export const idempotency = (it: Vitest.MethodsNonLive<SqlStore.Services, true>): void => {
  it.layer(services)((it) => {
    describe("idempotency keys", () => {
      it.effect("a retry after success returns the first instance, though its name is now taken", () =>
        Effect.gen(function* () {
          const actor = yield* Actor.Actor
          const first = yield* createInstance("Warehouse", "create-warehouse-1")
          const again = yield* createInstance("Warehouse", "create-warehouse-1")
          assert.deepStrictEqual(again, first)
          assert.strictEqual((yield* Effect.flip(createInstance("Warehouse")))._tag, "NameTaken")
          assert.deepStrictEqual(
            (yield* instancesOf(actor.orgId)).map((i) => i.id),
            [first.id]
          )
          assert.strictEqual((yield* createdEvents(actor.orgId)).length, 1)
        }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
      )

      it.effect("the key with another request is IdempotencyKeyReused, not retryable, and writes nothing", () =>
        Effect.gen(function* () {
          const actor = yield* Actor.Actor
          const first = yield* createInstance("Alpha", "key-a")
          const error = yield* Effect.flip(createInstance("Beta", "key-a"))
          assert.strictEqual(error._tag, "IdempotencyKeyReused")
          if (error._tag === "IdempotencyKeyReused") {
            assert.isFalse(error.retryable)
            assert.strictEqual(error.idempotencyKey, "key-a")
            assert.strictEqual(error.operation, ConnectorInstances.createOperation)
          }
          assert.deepStrictEqual(
            (yield* instancesOf(actor.orgId)).map((i) => i.id),
            [first.id]
          )
        }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
      )

      it.effect("keys are decoded at the boundary: empty, too long or unprintable is InvalidInput", () =>
        Effect.gen(function* () {
          for (const key of ["", "k".repeat(256), "tab\there", "nul\u0000", "é"]) {
            const error = yield* Effect.flip(createInstance(`bad key ${key.length}`, key))
            assert.strictEqual(error._tag, "InvalidInput", JSON.stringify(key))
          }
          assert.strictEqual((yield* createInstance("long key", "k".repeat(255))).instanceName, "long key")
        }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
      )

      it.effect("concurrent creates with one key from several fibers: one row, and every caller gets it", () =>
        Effect.gen(function* () {
          const actor = yield* Actor.Actor
          const results = yield* Effect.all(
            Array.from({ length: 8 }, () => createInstance("Raced", "race-key")),
            { concurrency: "unbounded" }
          )
          const [first] = results
          for (const result of results) assert.deepStrictEqual(result, first)
          assert.strictEqual((yield* instancesOf(actor.orgId)).length, 1)
          assert.strictEqual((yield* createdEvents(actor.orgId)).length, 1)
        }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
      )

      it.effect("a key of one organization is unknown to another", () =>
        Effect.gen(function* () {
          const a = yield* newActor
          const b = yield* newActor
          const inA = yield* createInstance("Shared name", "shared-key").pipe(Effect.provideService(Actor.Actor, a))
          const inB = yield* createInstance("Shared name", "shared-key").pipe(Effect.provideService(Actor.Actor, b))
          assert.notStrictEqual(inB.id, inA.id)
          assert.deepStrictEqual(
            (yield* instancesOf(b.orgId)).map((i) => i.id),
            [inB.id]
          )
          // And the other organization's different request under the key is no reuse either.
          const other = yield* createInstance("Other name", "shared-key").pipe(
            Effect.provideService(Actor.Actor, yield* newActor)
          )
          assert.strictEqual(other.instanceName, "Other name")
        })
      )

      it.effect("a failed create records no key: the key is free for the next request", () =>
        Effect.gen(function* () {
          yield* createInstance("Taken")
          assert.strictEqual((yield* Effect.flip(createInstance("Taken", "failed-key")))._tag, "NameTaken")
          // Had the failed call kept the key, this different request would be IdempotencyKeyReused.
          const created = yield* createInstance("Free", "failed-key")
          assert.strictEqual(created.instanceName, "Free")
          assert.deepStrictEqual(yield* createInstance("Free", "failed-key"), created)
        }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
      )

      it.effect("committed but answered with StorageError: the retry returns what was committed", () =>
        Effect.gen(function* () {
          const actor = yield* Actor.Actor
          const lost = yield* Effect.flip(afterLostCommit(createInstance("Ambiguous", "ambiguous-key")))
          assert.strictEqual(lost._tag, "StorageError")
          const [committed] = yield* instancesOf(actor.orgId)
          assert.isDefined(committed)
          const retried = yield* createInstance("Ambiguous", "ambiguous-key")
          assert.strictEqual(retried.id, committed!.id)
          assert.strictEqual((yield* instancesOf(actor.orgId)).length, 1)
          // Without a key the retry is refused as a clash with its own first attempt.
          assert.strictEqual((yield* Effect.flip(createInstance("Ambiguous")))._tag, "NameTaken")
        }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
      )

      it.effect("credential stores: a retry returns the first version; other values under the key are refused", () =>
        Effect.gen(function* () {
          const actor = yield* Actor.Actor
          const vault = yield* CredentialVault.CredentialVault
          const instance = yield* createInstance("Store target", "instance-key")
          const request = {
            instanceId: instance.id,
            scope: { type: "organization" as const, id: actor.orgId },
            credentials: { username: "app", password: "first secret" },
            labels: { purpose: "reporting" },
            idempotencyKey: "store-key"
          }
          const first = yield* vault.create(request)
          assert.deepStrictEqual(yield* vault.create(request), first)
          assert.deepStrictEqual(
            (yield* vault.list(instance.id)).map((v) => v.id),
            [first.id]
          )
          // The same values in another key order are the same request.
          const reordered = { ...request, credentials: { password: "first secret", username: "app" } }
          assert.deepStrictEqual(yield* vault.create(reordered), first)
          for (const password of ["another secret", "first secret ", "First secret"]) {
            const reused = yield* Effect.flip(vault.create({ ...request, credentials: { username: "app", password } }))
            assert.strictEqual(reused._tag, "IdempotencyKeyReused", password)
          }
          const relabelled = yield* Effect.flip(vault.create({ ...request, labels: { purpose: "billing" } }))
          assert.strictEqual(relabelled._tag, "IdempotencyKeyReused")
          // The same key names another operation's request independently.
          const other = yield* createInstance("Store key as instance key", "store-key")
          assert.strictEqual(other.instanceName, "Store key as instance key")
          assert.strictEqual((yield* vault.list(instance.id)).length, 1)
        }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
      )

      it.effect("credential stores committed but answered with StorageError: the retry returns that version", () =>
        Effect.gen(function* () {
          const actor = yield* Actor.Actor
          const vault = yield* CredentialVault.CredentialVault
          const instance = yield* createInstance("Ambiguous store")
          const request = {
            instanceId: instance.id,
            scope: { type: "organization" as const, id: actor.orgId },
            credentials: { username: "ambiguous", password: "s3cret" },
            idempotencyKey: "ambiguous-store"
          }
          const lost = yield* Effect.flip(
            afterLostCommit(Effect.flatMap(CredentialVault.CredentialVault, (lossy) => lossy.create(request)))
          )
          assert.strictEqual(lost._tag, "StorageError")
          const [committed] = yield* vault.list(instance.id)
          const retried = yield* vault.create(request)
          assert.deepStrictEqual(retried, committed)
          assert.strictEqual((yield* vault.list(instance.id)).length, 1)
        }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
      )

      // Last: its clock lies a day ahead, so claims made then sweep every key recorded before.
      it.effect("a key expires after the retention period: then it is a new request", () =>
        Effect.gen(function* () {
          const first = yield* createInstance("Expiring", "expiring-key")
          const day = 24 * 60 * 60 * 1000
          const almost = yield* createInstance("Expiring", "expiring-key").pipe(Effect.withClock(ahead(day - 60_000)))
          assert.strictEqual(almost.id, first.id)
          const expired = yield* Effect.flip(
            createInstance("Expiring", "expiring-key").pipe(Effect.withClock(ahead(day + 60_000)))
          )
          assert.strictEqual(expired._tag, "NameTaken")
          // Another request under the expired key is no reuse.
          const fresh = yield* createInstance("Expiring again", "expiring-key").pipe(
            Effect.withClock(ahead(day + 120_000))
          )
          assert.strictEqual(fresh.instanceName, "Expiring again")
        }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
      )
    })
  })
}
