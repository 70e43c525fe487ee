import { assert, describe, it } from "@effect/vitest"
import { CredentialRepository, DomainError, type Ids, InstanceRepository, WebhookStore } from "@patchbay/core"
import { Effect, Exit, Layer, Option } from "effect"
import * as Envelope from "../src/Envelope.js"
import { Keyring } from "../src/Keyring.js"
import * as Rotation from "../src/Rotation.js"
import { aad, credentialId, envelopeOf, freshKey, keyring, newCredential, orgId, text, utf8 } from "./fixtures.js"

const k1 = freshKey()
const k2 = freshKey()
const count = 25

/** The repository, failing every batch write after the first `after` (a process dying mid-run). */
const crashingAfter = (repository: CredentialRepository.CredentialRepositoryShape, after: number) => {
  let calls = 0
  return CredentialRepository.CredentialRepository.of({
    ...repository,
    replaceSealedBatch: (...args) =>
      Effect.suspend(() =>
        ++calls > after
          ? Effect.fail(new DomainError.StorageError({ operation: "replaceSealedBatch", detail: "connection lost" }))
          : repository.replaceSealedBatch(...args)
      )
  })
}

/** Both stores Rotation reads, in memory. */
const stores = Layer.mergeAll(
  CredentialRepository.layerMemory,
  WebhookStore.layerMemory.pipe(Layer.provide(InstanceRepository.layerMemory))
)

const rotate = (
  repository: CredentialRepository.CredentialRepositoryShape,
  keys: Record<string, string>,
  primary: string,
  batchSize: number
) =>
  Rotation.run({ batchSize }).pipe(
    Effect.provideService(Keyring, keyring(keys, primary)),
    Effect.provideService(Envelope.Envelope, envelopeOf(keys, primary)),
    Effect.provideService(CredentialRepository.CredentialRepository, repository)
  )

/** A stored version, which must exist. */
const getRecord = (repository: CredentialRepository.CredentialRepositoryShape, id: Ids.CredentialId) =>
  repository.get(orgId, id).pipe(Effect.map(Option.getOrThrow))

/** Opens every stored version with `envelope` and returns the plaintexts in id order. */
const readAll = (repository: CredentialRepository.CredentialRepositoryShape, envelope: Envelope.EnvelopeShape) =>
  Effect.forEach(
    Array.from({ length: count }, (_, i) => credentialId(i + 1)),
    (id) =>
      Effect.gen(function* () {
        const stored = yield* getRecord(repository, id)
        return text(yield* envelope.open(stored.sealed, aad(id)))
      })
  )

const expected = Array.from({ length: count }, (_, i) => `secret number ${i + 1}`)

describe("Rotation", () => {
  it.effect("re-wraps every data key in batches, survives a crash, and reads keep working throughout", () =>
    Effect.gen(function* () {
      const repository = yield* CredentialRepository.CredentialRepository
      const old = envelopeOf({ k1 }, "k1")
      for (let i = 1; i <= count; i++) {
        const sealed = yield* old.seal(utf8(`secret number ${i}`), aad(credentialId(i)))
        yield* repository.insert(newCredential(credentialId(i), sealed))
      }
      const payloads = new Map<string, Uint8Array>()
      for (let i = 1; i <= count; i++) {
        payloads.set(credentialId(i), (yield* getRecord(repository, credentialId(i))).sealed.ciphertext)
      }

      // Step 1: add k2 as primary; rotation crashes after one batch of 5 rows.
      const both = envelopeOf({ k1, k2 }, "k2")
      const crashed = yield* Effect.exit(rotate(crashingAfter(repository, 1), { k1, k2 }, "k2", 5))
      assert.isTrue(Exit.isFailure(crashed))
      assert.deepStrictEqual([...(yield* repository.keyIds)].sort(), ["k1", "k2"])
      assert.deepStrictEqual(yield* readAll(repository, both), expected)
      assert.deepStrictEqual(
        yield* Rotation.retirable.pipe(
          Effect.provideService(Keyring, keyring({ k1, k2 }, "k2")),
          Effect.provideService(CredentialRepository.CredentialRepository, repository)
        ),
        []
      )

      // Step 2: the run resumes where it stopped.
      const resumed = yield* rotate(repository, { k1, k2 }, "k2", 5)
      assert.strictEqual(resumed.rewrapped, count - 5)
      assert.deepStrictEqual(resumed.failed, [])
      assert.deepStrictEqual(yield* repository.keyIds, ["k2"])

      // Step 3: k1 can go; everything opens with k2 alone and the payloads never changed.
      assert.deepStrictEqual(
        yield* Rotation.retirable.pipe(
          Effect.provideService(Keyring, keyring({ k1, k2 }, "k2")),
          Effect.provideService(CredentialRepository.CredentialRepository, repository)
        ),
        ["k1"]
      )
      assert.deepStrictEqual(yield* readAll(repository, envelopeOf({ k2 }, "k2")), expected)
      for (let i = 1; i <= count; i++) {
        const record = yield* getRecord(repository, credentialId(i))
        assert.strictEqual(record.sealed.ciphertext, payloads.get(credentialId(i)))
      }

      // Step 4: idempotent.
      const again = yield* rotate(repository, { k1, k2 }, "k2", 5)
      assert.strictEqual(again.rewrapped, 0)
      assert.strictEqual(again.batches, 0)
    }).pipe(Effect.provide(stores))
  )

  it.effect("reports rows it cannot open instead of looping on them", () =>
    Effect.gen(function* () {
      const repository = yield* CredentialRepository.CredentialRepository
      const old = envelopeOf({ k1 }, "k1")
      for (let i = 1; i <= 3; i++) {
        const sealed = yield* old.seal(utf8(`secret ${i}`), aad(credentialId(i)))
        // Row 2 is stored under the binding of another row: it can never be opened.
        yield* repository.insert(newCredential(credentialId(i === 2 ? 99 : i), sealed))
      }
      const report = yield* rotate(repository, { k1, k2 }, "k2", 1)
      assert.strictEqual(report.rewrapped, 2)
      assert.deepStrictEqual(
        report.failed.map((f) => f.credentialId),
        [credentialId(99)]
      )
      assert.deepStrictEqual([...(yield* repository.keyIds)].sort(), ["k1", "k2"])
    }).pipe(Effect.provide(stores))
  )

  it.effect("re-wraps webhook secrets (current and previous), counted apart; a secret rotated meanwhile is raced", () =>
    Effect.gen(function* () {
      const webhooks = yield* WebhookStore.WebhookStore
      const old = envelopeOf({ k1 }, "k1")
      const at = new Date("2026-01-01T00:00:00Z")
      const subscription = (n: number, secretVersion: number) =>
        WebhookStore.Subscription.make({
          id: WebhookStore.SubscriptionId.make(`0190a000-0000-7000-8000-0000000000${n.toString().padStart(2, "0")}`),
          orgId,
          url: "https://hooks.example/in",
          eventTypes: null,
          enabled: true,
          secretVersion,
          previousSecretUntil: secretVersion > 1 ? new Date("2030-01-01T00:00:00Z") : null,
          createdAt: at,
          updatedAt: at
        })
      const seal = (s: WebhookStore.Subscription, version: number) =>
        old.seal(utf8(`whsec_${s.id}_${version}`), WebhookStore.secretBinding(s, version))
      const plain = subscription(1, 1)
      const rotated = subscription(2, 2)
      const racing = subscription(3, 1)
      yield* webhooks.create(
        WebhookStore.SubscriptionRecord.make({
          subscription: plain,
          secret: yield* seal(plain, 1),
          previousSecret: null
        })
      )
      yield* webhooks.create(
        WebhookStore.SubscriptionRecord.make({
          subscription: rotated,
          secret: yield* seal(rotated, 2),
          previousSecret: yield* seal(rotated, 1)
        })
      )
      yield* webhooks.create(
        WebhookStore.SubscriptionRecord.make({
          subscription: racing,
          secret: yield* seal(racing, 1),
          previousSecret: null
        })
      )
      assert.deepStrictEqual(
        yield* Rotation.missingWebhookKeys.pipe(Effect.provideService(Keyring, keyring({ k2 }, "k2"))),
        ["k1"]
      )

      // The third subscription's secret is rotated (under k1) between the batch's read and its write.
      const racingStore = WebhookStore.WebhookStore.of({
        ...webhooks,
        replaceSealedBatch: (replacements) =>
          Effect.gen(function* () {
            if (replacements.some((r) => r.id === racing.id)) {
              yield* webhooks.rotate(
                orgId,
                racing.id,
                {
                  version: 2,
                  secret: yield* seal(racing, 2),
                  previousSecret: yield* seal(racing, 1),
                  previousSecretUntil: new Date("2030-01-01T00:00:00Z")
                },
                at
              )
            }
            return yield* webhooks.replaceSealedBatch(replacements)
          })
      })
      const batches: Array<Rotation.RotationProgress> = []
      const report = yield* Rotation.run({
        batchSize: 2,
        onBatch: (progress) => Effect.sync(() => batches.push(progress))
      }).pipe(
        Effect.provideService(Keyring, keyring({ k1, k2 }, "k2")),
        Effect.provideService(Envelope.Envelope, envelopeOf({ k1, k2 }, "k2")),
        Effect.provideService(WebhookStore.WebhookStore, racingStore)
      )
      assert.deepStrictEqual(
        [report.rewrapped, report.webhookRewrapped, report.webhookRaced, report.webhookFailed.length, report.batches],
        [0, 2, 1, 0, 2]
      )
      assert.deepStrictEqual(
        batches.map((b) => [b.webhookRewrapped, b.webhookRaced]),
        [
          [2, 0],
          [2, 1]
        ]
      )
      // The raced row kept what the concurrent rotation wrote; a second run re-wraps it.
      const again = yield* rotate(yield* CredentialRepository.CredentialRepository, { k1, k2 }, "k2", 2)
      assert.strictEqual(again.webhookRewrapped, 1)
      assert.deepStrictEqual(yield* webhooks.keyIds, ["k2"])

      const only = envelopeOf({ k2 }, "k2")
      for (const [s, versions] of [
        [plain, [1]],
        [rotated, [2, 1]],
        [subscription(3, 2), [2, 1]]
      ] as const) {
        const record = Option.getOrThrow(yield* webhooks.get(orgId, s.id))
        const sealed = [record.secret, ...(record.previousSecret === null ? [] : [record.previousSecret])]
        assert.strictEqual(sealed.length, versions.length)
        for (const [i, version] of versions.entries()) {
          const opened = yield* only.open(sealed[i]!, WebhookStore.secretBinding(record.subscription, version))
          assert.strictEqual(text(opened), `whsec_${s.id}_${version}`)
        }
      }
      assert.deepStrictEqual(
        yield* Rotation.missingWebhookKeys.pipe(Effect.provideService(Keyring, keyring({ k2 }, "k2"))),
        []
      )
    }).pipe(Effect.provide(stores))
  )
})
