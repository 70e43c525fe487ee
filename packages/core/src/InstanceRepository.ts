/**
 * The port through which connector instances are stored. Implementations enforce, atomically,
 * that names are unique per (organization, connector) after normalisation and that no two
 * instances of one connector type in an organization share an account fingerprint.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { type ConnectorInstance, type InstanceStatus, normalizeName } from "./ConnectorInstance.js"
import { DuplicateAccount, InstanceNotFound, NameTaken, type StorageError } from "./DomainError.js"
import * as Idempotency from "./Idempotency.js"
import type { ConnectorId, InstanceId, OrgId, WorkspaceId } from "./Ids.js"
import * as Journal from "./internal/journal.js"
import * as LifecycleEvents from "./LifecycleEvents.js"

/**
 * Filters and a page of a listing. `workspaceId: null` selects organization-level instances only;
 * `after` is the last id of the previous page (ids sort in creation order).
 *
 * @since 0.1.0
 */
export interface InstanceQuery {
  readonly connectorId?: ConnectorId | undefined
  readonly workspaceId?: WorkspaceId | null | undefined
  readonly isEnabled?: boolean | undefined
  readonly status?: InstanceStatus | undefined
  readonly after?: InstanceId | undefined
  readonly limit: number
}

/**
 * @since 0.1.0
 */
export interface InstanceRepositoryShape {
  readonly insert: (instance: ConnectorInstance) => Effect.Effect<void, NameTaken | DuplicateAccount | StorageError>
  readonly get: (orgId: OrgId, id: InstanceId) => Effect.Effect<Option.Option<ConnectorInstance>, StorageError>
  readonly list: (orgId: OrgId, query: InstanceQuery) => Effect.Effect<ReadonlyArray<ConnectorInstance>, StorageError>
  /** Replaces the stored instance with the same organization and id. */
  readonly update: (
    instance: ConnectorInstance
  ) => Effect.Effect<void, InstanceNotFound | NameTaken | DuplicateAccount | StorageError>
  /** Deletes an instance (SQL stores cascade to its credential versions); whether it existed. */
  readonly delete: (orgId: OrgId, id: InstanceId) => Effect.Effect<boolean, StorageError>
}

/**
 * @since 0.1.0
 */
export class InstanceRepository extends Context.Tag("@patchbay/core/InstanceRepository")<
  InstanceRepository,
  InstanceRepositoryShape
>() {}

/**
 * The first stored instance that the candidate would clash with, as a typed failure.
 *
 * @since 0.1.0
 */
export const clash = (
  candidate: ConnectorInstance,
  others: Iterable<ConnectorInstance>
): Option.Option<NameTaken | DuplicateAccount> => {
  const name = normalizeName(candidate.instanceName)
  for (const other of others) {
    if (other.id === candidate.id || other.orgId !== candidate.orgId || other.connectorId !== candidate.connectorId) {
      continue
    }
    if (normalizeName(other.instanceName) === name) {
      return Option.some(new NameTaken({ instanceName: candidate.instanceName, connector: candidate.connectorKey }))
    }
    if (candidate.accountFingerprint !== null && other.accountFingerprint === candidate.accountFingerprint) {
      return Option.some(new DuplicateAccount({ connector: candidate.connectorKey, existingInstanceId: other.id }))
    }
  }
  return Option.none()
}

/** The memory repository without the idempotency keys. */
const instancesMemory: Layer.Layer<InstanceRepository> = Layer.sync(InstanceRepository, () => {
  const rows = new Map<string, ConnectorInstance>()
  /** Puts a row back as it was (absent: removed), for the undo journal of `Transactions`. */
  const restoreRow = (id: string, previous: ConnectorInstance | undefined) => () =>
    void (previous === undefined ? rows.delete(id) : rows.set(id, previous))
  const write = (instance: ConnectorInstance) =>
    Journal.mutate((onRollback) => {
      const failure = clash(instance, rows.values())
      if (Option.isSome(failure)) return Effect.fail(failure.value)
      onRollback(restoreRow(instance.id, rows.get(instance.id)))
      rows.set(instance.id, instance)
      return Effect.void
    })
  return InstanceRepository.of({
    insert: write,
    get: (orgId, id) =>
      Effect.sync(() => Option.fromNullable(rows.get(id)).pipe(Option.filter((i) => i.orgId === orgId))),
    list: (orgId, query) =>
      Effect.sync(() =>
        [...rows.values()]
          .filter(
            (i) =>
              i.orgId === orgId &&
              (query.connectorId === undefined || i.connectorId === query.connectorId) &&
              (query.workspaceId === undefined || i.workspaceId === query.workspaceId) &&
              (query.isEnabled === undefined || i.isEnabled === query.isEnabled) &&
              (query.status === undefined || i.status === query.status) &&
              (query.after === undefined || i.id > query.after)
          )
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .slice(0, query.limit)
      ),
    update: (instance) =>
      Effect.suspend(
        (): Effect.Effect<void, InstanceNotFound | NameTaken | DuplicateAccount> =>
          rows.get(instance.id)?.orgId === instance.orgId
            ? write(instance)
            : Effect.fail(new InstanceNotFound({ instanceId: instance.id }))
      ),
    delete: (orgId, id) =>
      Journal.mutate((onRollback) => {
        const previous = rows.get(id)
        if (previous?.orgId !== orgId) return Effect.succeed(false)
        onRollback(restoreRow(id, previous))
        return Effect.succeed(rows.delete(id))
      })
  })
})

/**
 * An in-memory repository. Check and write happen in one synchronous step, so two concurrent
 * creates with the same name cannot both succeed. Inside a unit of `Transactions.layerMemory` its
 * writes are undone when the unit fails. It keeps the idempotency keys of instance and credential
 * writes too (`Idempotency.layerMemory`), and the lifecycle event outbox (`LifecycleEvents.layerMemory`),
 * as the SQL stores keep them beside the instances.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<InstanceRepository | Idempotency.IdempotencyKeys | LifecycleEvents.EventOutbox> =
  Layer.mergeAll(instancesMemory, Idempotency.layerMemory, LifecycleEvents.layerMemory)
