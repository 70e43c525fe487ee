/**
 * Key rotation: after a new key is added to the keyring and made primary, `run` re-wraps every data
 * key still wrapped by another key. Payloads are not re-encrypted. Pages are read in id order from
 * the last id seen, and each page is written back in one statement in which every row is replaced
 * with a compare-and-set on its old key id, so `run` is idempotent, safe next to readers and
 * writers, and resumes where a crashed run stopped.
 *
 * Webhook subscription secrets (current and previous) are sealed by the same keyring, so `run`
 * re-wraps them too, after the credentials, in the same batches; a subscription's row is replaced
 * only while its secret version and key ids are those it was read with.
 *
 * @since 0.1.0
 */
import { CredentialRepository, type DomainError, type Ids, WebhookStore } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { aadOf, Envelope, type EnvelopeShape } from "./Envelope.js"
import { Keyring } from "./Keyring.js"

/**
 * Options of `run`: rows per batch (default 100), and what to do after each batch (progress).
 *
 * @since 0.1.0
 */
export interface RotationOptions {
  readonly batchSize?: number | undefined
  readonly onBatch?: ((progress: RotationProgress) => Effect.Effect<void>) | undefined
}

/**
 * How far a run is, after a batch. Credentials and webhook secrets are counted separately
 * (`rewrapped`, `raced`, `failed` count credential versions; `webhook*` count subscriptions);
 * `batches` counts both.
 *
 * @since 0.1.0
 */
export interface RotationProgress {
  readonly batches: number
  readonly rewrapped: number
  readonly raced: number
  readonly failed: number
  readonly webhookRewrapped: number
  readonly webhookRaced: number
  readonly webhookFailed: number
}

/**
 * What a run did. `raced` rows were re-wrapped by someone else between read and write (a later run
 * picks up any that are still under another key); `failed` rows could not be opened (corrupted, or
 * sealed under a key the ring lacks) and keep their old key.
 *
 * @since 0.1.0
 */
export interface RotationReport {
  readonly primary: string
  readonly rewrapped: number
  readonly raced: number
  readonly batches: number
  readonly failed: ReadonlyArray<{ readonly credentialId: string; readonly detail: string }>
  /** Webhook subscriptions whose secrets were re-wrapped. */
  readonly webhookRewrapped: number
  readonly webhookRaced: number
  /** Subscriptions whose secrets could not be opened; they keep their old key. */
  readonly webhookFailed: ReadonlyArray<{ readonly subscriptionId: string; readonly detail: string }>
}

/** A subscription's current and previous secrets re-wrapped, each under its own version's binding. */
const rewrapSecrets = (envelope: EnvelopeShape, record: WebhookStore.SubscriptionRecord) =>
  Effect.gen(function* () {
    const { previousSecret, subscription } = record
    const secret = yield* envelope.rewrap(
      record.secret,
      WebhookStore.secretBinding(subscription, subscription.secretVersion)
    )
    const previous =
      previousSecret === null
        ? null
        : yield* envelope.rewrap(
            previousSecret,
            WebhookStore.secretBinding(subscription, subscription.secretVersion - 1)
          )
    return {
      id: subscription.id,
      secretVersion: subscription.secretVersion,
      expectedKeyId: record.secret.keyId,
      secret,
      expectedPreviousKeyId: previousSecret?.keyId ?? null,
      previousSecret: previous
    } satisfies WebhookStore.SecretReplacement
  })

/**
 * Re-wraps, batch by batch, every stored data key not wrapped by the primary key: credential
 * versions first, then webhook subscription secrets.
 *
 * @since 0.1.0
 */
export const run: (
  options?: RotationOptions
) => Effect.Effect<
  RotationReport,
  DomainError.StorageError,
  Keyring | Envelope | CredentialRepository.CredentialRepository | WebhookStore.WebhookStore
> = Effect.fn("Rotation.run")(function* (options?: RotationOptions) {
  const keyring = yield* Keyring
  const envelope = yield* Envelope
  const repository = yield* CredentialRepository.CredentialRepository
  const webhooks = yield* WebhookStore.WebhookStore
  const batchSize = Math.max(1, Math.floor(options?.batchSize ?? 100))
  const failed = new Map<string, string>()
  let rewrapped = 0
  let raced = 0
  let batches = 0
  const webhookFailed = new Map<string, string>()
  let webhookRewrapped = 0
  let webhookRaced = 0
  const progress = (): RotationProgress => ({
    batches,
    rewrapped,
    raced,
    failed: failed.size,
    webhookRewrapped,
    webhookRaced,
    webhookFailed: webhookFailed.size
  })
  // Pages in id order from the last id seen, so each batch costs the same from start to end.
  let after: Ids.CredentialId | undefined
  while (true) {
    const batch = yield* repository.sealedWithOtherKey(keyring.primary, batchSize, after)
    if (batch.length === 0) break
    batches++
    after = batch[batch.length - 1]!.metadata.id
    const replacements: Array<CredentialRepository.SealedReplacement> = []
    for (const record of batch) {
      const id = record.metadata.id
      const next = yield* Effect.either(envelope.rewrap(record.sealed, aadOf(record.metadata)))
      if (Either.isLeft(next)) failed.set(id, next.left.detail)
      else replacements.push({ id, expectedKeyId: record.sealed.keyId, sealed: next.right })
    }
    // One write per batch; a row someone else re-wrapped meanwhile is not replaced (raced).
    const replaced = (yield* repository.replaceSealedBatch(replacements)).length
    rewrapped += replaced
    raced += replacements.length - replaced
    yield* Effect.annotateCurrentSpan({ batches, rewrapped })
    if (options?.onBatch) yield* options.onBatch(progress())
  }
  let afterSubscription: WebhookStore.SubscriptionId | undefined
  while (true) {
    const batch = yield* webhooks.sealedWithOtherKey(keyring.primary, batchSize, afterSubscription)
    if (batch.length === 0) break
    batches++
    afterSubscription = batch[batch.length - 1]!.subscription.id
    const replacements: Array<WebhookStore.SecretReplacement> = []
    for (const record of batch) {
      const next = yield* Effect.either(rewrapSecrets(envelope, record))
      if (Either.isLeft(next)) webhookFailed.set(record.subscription.id, next.left.detail)
      else replacements.push(next.right)
    }
    const replaced = (yield* webhooks.replaceSealedBatch(replacements)).length
    webhookRewrapped += replaced
    webhookRaced += replacements.length - replaced
    yield* Effect.annotateCurrentSpan({ batches, webhookRewrapped })
    if (options?.onBatch) yield* options.onBatch(progress())
  }
  return {
    primary: keyring.primary,
    rewrapped,
    raced,
    batches,
    failed: [...failed].map(([credentialId, detail]) => ({ credentialId, detail })),
    webhookRewrapped,
    webhookRaced,
    webhookFailed: [...webhookFailed].map(([subscriptionId, detail]) => ({ subscriptionId, detail }))
  }
})

/**
 * The keys that no stored credential or webhook secret references any more, primary excepted:
 * they may leave the keyring.
 *
 * @since 0.1.0
 */
export const retirable: Effect.Effect<
  ReadonlyArray<string>,
  DomainError.StorageError,
  Keyring | CredentialRepository.CredentialRepository | WebhookStore.WebhookStore
> = Effect.gen(function* () {
  const keyring = yield* Keyring
  const used = new Set([
    ...(yield* (yield* CredentialRepository.CredentialRepository).keyIds),
    ...(yield* (yield* WebhookStore.WebhookStore).keyIds)
  ])
  return keyring.ids.filter((id) => id !== keyring.primary && !used.has(id))
})

/**
 * The keys that seal stored webhook secrets but that the keyring does not hold: deliveries of
 * those subscriptions fail until the keys come back.
 *
 * @since 0.1.0
 */
export const missingWebhookKeys: Effect.Effect<
  ReadonlyArray<string>,
  DomainError.StorageError,
  Keyring | WebhookStore.WebhookStore
> = Effect.gen(function* () {
  const held = new Set((yield* Keyring).ids)
  return (yield* (yield* WebhookStore.WebhookStore).keyIds).filter((id) => !held.has(id))
})
