/**
 * The port through which credential versions are stored. Implementations: `layerMemory` here,
 * SQL in `@patchbay/store-sql`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { CredentialMetadata, CredentialRecord, refreshTokenDeadline, type SealedSecret } from "./Credential.js"
import type { CredentialRefreshState } from "./CredentialRefreshState.js"
import type { CredentialScope } from "./CredentialScope.js"
import type { StorageError } from "./DomainError.js"
import type { CredentialId, InstanceId, OrgId } from "./Ids.js"
import * as Journal from "./internal/journal.js"

/**
 * Computes the state MAC of a version as it is about to be stored (`next`), given the version as
 * it was read (`previous`, absent for a new version). Implementations check `previous`'s stored
 * MAC first and answer a value that never verifies when it does not, so a legitimate write never
 * launders a tampered row. The vault supplies one; a repository stores its answer as it is.
 *
 * @since 0.1.0
 */
export type StateAuthenticator = (
  next: CredentialRecord,
  previous: CredentialRecord | undefined
) => Effect.Effect<string>

/**
 * A version to insert: the repository assigns `version` (one more than the newest of the same
 * instance and scope) and marks that newest version as superseded by this one, in one step.
 * Without `authenticate` both are stored without a state MAC (tests of the store itself).
 *
 * @since 0.1.0
 */
export interface NewCredential {
  readonly metadata: Omit<CredentialMetadata, "version" | "isValidAt" | "supersededBy">
  readonly sealed: SealedSecret
  readonly authenticate?: StateAuthenticator | undefined
}

/**
 * A version's new wrapped data key, expected to be still sealed under `expectedKeyId`.
 *
 * @since 0.1.0
 */
export interface SealedReplacement {
  readonly id: CredentialId
  readonly expectedKeyId: string
  readonly sealed: SealedSecret
}

/**
 * @since 0.1.0
 */
export interface CredentialRepositoryShape {
  /**
   * Stores a new version and marks the previous newest version of its instance and scope as
   * superseded by it (both with state MACs from `credential.authenticate`); returns it with its
   * version number.
   */
  readonly insert: (credential: NewCredential) => Effect.Effect<CredentialRecord, StorageError>
  /** One version by id within an organization. */
  readonly get: (orgId: OrgId, id: CredentialId) => Effect.Effect<Option.Option<CredentialRecord>, StorageError>
  /**
   * The newest version that is neither revoked nor expired at `now`, in the first of `scopes`
   * (given in precedence order) that has one.
   */
  readonly newestValid: (
    orgId: OrgId,
    instanceId: InstanceId,
    scopes: ReadonlyArray<CredentialScope>,
    now: Date
  ) => Effect.Effect<Option.Option<CredentialRecord>, StorageError>
  /** Every version of an instance, newest first. */
  readonly list: (
    orgId: OrgId,
    instanceId: InstanceId
  ) => Effect.Effect<ReadonlyArray<CredentialMetadata>, StorageError>
  /**
   * Marks a version revoked at `at` (idempotent: an earlier revocation stands), with a state MAC
   * from `authenticate` (none without one).
   */
  readonly revoke: (
    orgId: OrgId,
    id: CredentialId,
    at: Date,
    authenticate?: StateAuthenticator
  ) => Effect.Effect<Option.Option<CredentialMetadata>, StorageError>
  /**
   * The versions of an instance and scope numbered above `version`, oldest first: what a resolver
   * checks when the version it found names a successor.
   */
  readonly laterVersions: (
    orgId: OrgId,
    instanceId: InstanceId,
    scope: CredentialScope,
    version: number
  ) => Effect.Effect<ReadonlyArray<CredentialRecord>, StorageError>
  /**
   * The current version of every (instance, scope) of the organization — the newest one not
   * revoked — whose `expiresAt` or refresh-token deadline (`Credential.refreshTokenDeadline`)
   * lies in `(from, until]`, soonest first.
   */
  readonly listExpiring: (
    orgId: OrgId,
    from: Date,
    until: Date
  ) => Effect.Effect<ReadonlyArray<CredentialMetadata>, StorageError>
  /** Every key id that seals at least one stored version, across organizations. */
  readonly keyIds: Effect.Effect<ReadonlyArray<string>, StorageError>
  /**
   * Up to `limit` versions, across organizations, sealed under a key other than `keyId`, in id
   * order and with an id above `after` when given (the last id of the previous page), so that
   * paging never reads the same rows twice.
   */
  readonly sealedWithOtherKey: (
    keyId: string,
    limit: number,
    after?: CredentialId
  ) => Effect.Effect<ReadonlyArray<CredentialRecord>, StorageError>
  /**
   * Replaces a version's wrapped data key (key rotation), only if it is still sealed under
   * `expectedKeyId`; returns whether it did.
   */
  readonly replaceSealed: (
    id: CredentialId,
    expectedKeyId: string,
    sealed: SealedSecret
  ) => Effect.Effect<boolean, StorageError>
  /**
   * `replaceSealed` for many versions in one statement (a key rotation's batch): each is replaced
   * only if it is still sealed under its `expectedKeyId`; returns the ids that were.
   */
  readonly replaceSealedBatch: (
    replacements: ReadonlyArray<SealedReplacement>
  ) => Effect.Effect<ReadonlyArray<CredentialId>, StorageError>
  /** What the refresh protocol recorded about a version (none: nothing yet). */
  readonly refreshState: (
    orgId: OrgId,
    id: CredentialId
  ) => Effect.Effect<Option.Option<CredentialRefreshState>, StorageError>
  /** Records a version's refresh state, durably before it returns (nothing when the version is gone). */
  readonly putRefreshState: (state: CredentialRefreshState) => Effect.Effect<void, StorageError>
}

/**
 * @since 0.1.0
 */
export class CredentialRepository extends Context.Tag("@patchbay/core/CredentialRepository")<
  CredentialRepository,
  CredentialRepositoryShape
>() {}

const slot = (instanceId: string, scope: CredentialScope) => `${instanceId}|${scope.type}:${scope.id}`

/** The soonest of a version's expiry and refresh-token deadline that lies in `(from, until]`, in millis. */
const soonestIn = (metadata: CredentialMetadata, from: Date, until: Date): number | undefined => {
  const times = [metadata.expiresAt, refreshTokenDeadline(metadata.labels)]
    .map((date) => date?.getTime())
    .filter((t): t is number => t !== undefined && t > from.getTime() && t <= until.getTime())
  return times.length === 0 ? undefined : Math.min(...times)
}

/**
 * An in-memory repository: for tests and single-process experiments. Each operation runs in one
 * synchronous step, so concurrent fibers never interleave inside it.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<CredentialRepository> = Layer.sync(CredentialRepository, () => {
  const byId = new Map<string, CredentialRecord>()
  const refreshStates = new Map<string, CredentialRefreshState>()
  /** (instance, scope) → versions, newest first. */
  const bySlot = new Map<string, Array<CredentialRecord>>()
  const inOrg = (orgId: OrgId, record: CredentialRecord | undefined) =>
    record !== undefined && record.metadata.orgId === orgId ? Option.some(record) : Option.none()
  const replace = (record: CredentialRecord) => {
    byId.set(record.metadata.id, record)
    const versions = bySlot.get(slot(record.metadata.instanceId, record.metadata.scope))!
    versions[versions.findIndex((v) => v.metadata.id === record.metadata.id)] = record
  }

  return CredentialRepository.of({
    insert: (credential) =>
      Journal.mutate((onRollback) =>
        Effect.gen(function* () {
          const key = slot(credential.metadata.instanceId, credential.metadata.scope)
          const versions = bySlot.get(key) ?? []
          const head = versions[0]
          const fresh = CredentialRecord.make({
            metadata: CredentialMetadata.make({
              ...credential.metadata,
              version: (head?.metadata.version ?? 0) + 1,
              supersededBy: null
            }),
            sealed: credential.sealed
          })
          const record = CredentialRecord.make({
            ...fresh,
            stateMac: credential.authenticate === undefined ? null : yield* credential.authenticate(fresh, undefined)
          })
          byId.set(record.metadata.id, record)
          bySlot.set(key, [record, ...versions])
          onRollback(() => {
            byId.delete(record.metadata.id)
            bySlot.set(key, versions)
          })
          if (head !== undefined) {
            const superseded = CredentialRecord.make({
              metadata: CredentialMetadata.make({ ...head.metadata, supersededBy: record.metadata.id }),
              sealed: head.sealed
            })
            const marked = CredentialRecord.make({
              ...superseded,
              stateMac: credential.authenticate === undefined ? null : yield* credential.authenticate(superseded, head)
            })
            replace(marked)
            onRollback(() => replace(head))
          }
          return record
        })
      ),
    get: (orgId, id) => Effect.sync(() => inOrg(orgId, byId.get(id))),
    newestValid: (orgId, instanceId, scopes, now) =>
      Effect.sync(() => {
        for (const scope of scopes) {
          const found = bySlot
            .get(slot(instanceId, scope))
            ?.find((r) => r.metadata.orgId === orgId && r.metadata.isValidAt(now))
          if (found !== undefined) return Option.some(found)
        }
        return Option.none()
      }),
    list: (orgId, instanceId) =>
      Effect.sync(() =>
        [...byId.values()]
          .filter((r) => r.metadata.orgId === orgId && r.metadata.instanceId === instanceId)
          .map((r) => r.metadata)
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.version - a.version)
      ),
    revoke: (orgId, id, at, authenticate) =>
      Journal.mutate((onRollback) =>
        Effect.gen(function* () {
          const found = inOrg(orgId, byId.get(id))
          if (Option.isNone(found)) return Option.none()
          const previous = found.value
          const next = CredentialRecord.make({
            metadata: CredentialMetadata.make({ ...previous.metadata, revokedAt: previous.metadata.revokedAt ?? at }),
            sealed: previous.sealed
          })
          const record = CredentialRecord.make({
            ...next,
            stateMac: authenticate === undefined ? null : yield* authenticate(next, previous)
          })
          replace(record)
          onRollback(() => replace(previous))
          return Option.some(record.metadata)
        })
      ),
    laterVersions: (orgId, instanceId, scope, version) =>
      Effect.sync(() =>
        (bySlot.get(slot(instanceId, scope)) ?? [])
          .filter((r) => r.metadata.orgId === orgId && r.metadata.version > version)
          .reverse()
      ),
    listExpiring: (orgId, from, until) =>
      Effect.sync(() => {
        const current: Array<CredentialMetadata> = []
        for (const versions of bySlot.values()) {
          const head = versions.find((r) => r.metadata.revokedAt === null)?.metadata
          if (head === undefined || head.orgId !== orgId) continue
          if (soonestIn(head, from, until) !== undefined) current.push(head)
        }
        return current.sort((a, b) => soonestIn(a, from, until)! - soonestIn(b, from, until)!)
      }),
    keyIds: Effect.sync(() => [...new Set([...byId.values()].map((r) => r.sealed.keyId))]),
    sealedWithOtherKey: (keyId, limit, after) =>
      Effect.sync(() =>
        [...byId.values()]
          .filter((r) => r.sealed.keyId !== keyId && (after === undefined || r.metadata.id > after))
          .sort((a, b) => (a.metadata.id < b.metadata.id ? -1 : a.metadata.id > b.metadata.id ? 1 : 0))
          .slice(0, limit)
      ),
    replaceSealed: (id, expectedKeyId, sealed) =>
      Effect.sync(() => {
        const found = byId.get(id)
        if (found === undefined || found.sealed.keyId !== expectedKeyId) return false
        replace(CredentialRecord.make({ ...found, sealed }))
        return true
      }),
    replaceSealedBatch: (replacements) =>
      Effect.sync(() =>
        replacements.flatMap(({ expectedKeyId, id, sealed }) => {
          const found = byId.get(id)
          if (found === undefined || found.sealed.keyId !== expectedKeyId) return []
          replace(CredentialRecord.make({ ...found, sealed }))
          return [id]
        })
      ),
    refreshState: (orgId, id) =>
      Effect.sync(() => {
        const state = refreshStates.get(id)
        return state !== undefined && state.orgId === orgId ? Option.some(state) : Option.none()
      }),
    putRefreshState: (state) =>
      Effect.sync(() => {
        if (inOrg(state.orgId, byId.get(state.credentialId))._tag === "Some")
          refreshStates.set(state.credentialId, state)
      })
  })
})
