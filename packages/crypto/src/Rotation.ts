/**
 * Key rotation: after a new key is added to the keyring and made primary, `run` re-wraps every data
 * key still wrapped by another key. Payloads are not re-encrypted. Pages are read in id order from
 * the last id seen, and each page is written back in one statement in which every row is replaced
 * with a compare-and-set on its old key id, so `run` is idempotent, safe next to readers and
 * writers, and resumes where a crashed run stopped.
 *
 * @since 0.1.0
 */
import { CredentialRepository, type DomainError, type Ids } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { aadOf, Envelope } from "./Envelope.js"
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
 * How far a run is, after a batch.
 *
 * @since 0.1.0
 */
export interface RotationProgress {
  readonly batches: number
  readonly rewrapped: number
  readonly raced: number
  readonly failed: number
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
}

/**
 * Re-wraps, batch by batch, every stored data key not wrapped by the primary key.
 *
 * @since 0.1.0
 */
export const run: (
  options?: RotationOptions
) => Effect.Effect<
  RotationReport,
  DomainError.StorageError,
  Keyring | Envelope | CredentialRepository.CredentialRepository
> = Effect.fn("Rotation.run")(function* (options?: RotationOptions) {
  const keyring = yield* Keyring
  const envelope = yield* Envelope
  const repository = yield* CredentialRepository.CredentialRepository
  const batchSize = Math.max(1, Math.floor(options?.batchSize ?? 100))
  const failed = new Map<string, string>()
  let rewrapped = 0
  let raced = 0
  let batches = 0
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
    if (options?.onBatch) yield* options.onBatch({ batches, rewrapped, raced, failed: failed.size })
  }
  return {
    primary: keyring.primary,
    rewrapped,
    raced,
    batches,
    failed: [...failed].map(([credentialId, detail]) => ({ credentialId, detail }))
  }
})

/**
 * The keys that no stored credential references any more, primary excepted: they may leave the
 * keyring.
 *
 * @since 0.1.0
 */
export const retirable: Effect.Effect<
  ReadonlyArray<string>,
  DomainError.StorageError,
  Keyring | CredentialRepository.CredentialRepository
> = Effect.gen(function* () {
  const keyring = yield* Keyring
  const used = new Set(yield* (yield* CredentialRepository.CredentialRepository).keyIds)
  return keyring.ids.filter((id) => id !== keyring.primary && !used.has(id))
})
