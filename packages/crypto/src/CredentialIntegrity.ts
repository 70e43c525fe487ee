/**
 * Integrity of stored credential metadata. A version's envelope binds its immutable metadata (see
 * `Envelope`); its state — the binding again, the version number, the revocation and the version
 * that superseded it — carries a keyed MAC (`Envelope.stateMac`) that every legitimate write
 * recomputes and every read that decides use checks. A database write that un-revokes a version,
 * clears or redirects its supersession, extends its expiry, renumbers it or moves it to another
 * scope fails closed with `CredentialCorrupted`.
 *
 * @since 0.1.0
 */
import { Credential, type CredentialRepository, DomainError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import { aadOf, type EnvelopeShape } from "./Envelope.js"

/** What a write stores when the version it changes does not verify: a MAC that never does. */
const unverifiable = "invalid"

/**
 * Checks a stored version's state MAC: `CredentialCorrupted` when its state was changed outside
 * Patchbay, or when it lacks a MAC although its envelope is of the authenticated format.
 *
 * @since 0.1.0
 */
export const verify = (
  envelope: EnvelopeShape,
  record: Credential.CredentialRecord
): Effect.Effect<void, DomainError.CredentialCorrupted> =>
  envelope.verifyState(
    record.sealed,
    aadOf(record.metadata),
    Credential.authenticatedState(record.metadata),
    record.stateMac
  )

/**
 * The `StateAuthenticator` the vault hands its repository: it checks the version as read and
 * answers the MAC of its new state, or a MAC that never verifies when the version as read did not
 * verify (a legitimate revocation or supersession never launders a tampered row).
 *
 * @since 0.1.0
 */
export const authenticator =
  (envelope: EnvelopeShape): CredentialRepository.StateAuthenticator =>
  (next, previous) =>
    (previous === undefined ? Effect.void : verify(envelope, previous)).pipe(
      Effect.zipRight(
        envelope.stateMac(next.sealed, aadOf(next.metadata), Credential.authenticatedState(next.metadata))
      ),
      Effect.orElseSucceed(() => unverifiable)
    )

const corrupted = (record: Credential.CredentialRecord, detail: string) =>
  new DomainError.CredentialCorrupted({ credentialId: record.metadata.id, detail })

/**
 * Checks that a version the store offered as the one to use at `now` may be used: its own state
 * verifies, and — when it was superseded — every later version of its instance and scope is in the
 * chain of successors it names, verifies, and is revoked or expired. So clearing a successor's
 * revocation or expiry, deleting or moving a successor, or clearing the supersession all fail
 * closed. A version without successor (its MAC says so) is the newest of its scope.
 *
 * @since 0.1.0
 */
export const verifyCurrent = (
  envelope: EnvelopeShape,
  repository: CredentialRepository.CredentialRepositoryShape,
  record: Credential.CredentialRecord,
  now: Date
): Effect.Effect<void, DomainError.CredentialCorrupted | DomainError.StorageError> =>
  record.metadata.supersededBy === null
    ? verify(envelope, record)
    : Effect.zipRight(verify(envelope, record), successors(envelope, repository, record, now))

/** Checks the later versions of a superseded version (see `verifyCurrent`). */
const successors = (
  envelope: EnvelopeShape,
  repository: CredentialRepository.CredentialRepositoryShape,
  record: Credential.CredentialRecord,
  now: Date
): Effect.Effect<void, DomainError.CredentialCorrupted | DomainError.StorageError> =>
  Effect.gen(function* () {
    const metadata = record.metadata
    const later = yield* repository.laterVersions(metadata.orgId, metadata.instanceId, metadata.scope, metadata.version)
    const byId = new Map(later.map((version) => [version.metadata.id as string, version]))
    let expected: string | null = metadata.supersededBy
    let previous = metadata.version
    let linked = 0
    while (expected !== null) {
      const next = byId.get(expected)
      if (next === undefined) return yield* corrupted(record, "a version that superseded it is missing")
      yield* verify(envelope, next)
      if (next.metadata.version <= previous) return yield* corrupted(next, "its version number is out of order")
      if (next.metadata.isValidAt(now)) return yield* corrupted(record, "a newer valid version was passed over")
      previous = next.metadata.version
      expected = next.metadata.supersededBy
      linked++
      if (linked > later.length) return yield* corrupted(record, "its successors form a cycle")
    }
    if (linked !== later.length) return yield* corrupted(record, "a later version is not among its successors")
  })
