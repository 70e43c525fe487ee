/**
 * The connector instance lifecycle: create, read (masked view), list, update, enable/disable,
 * delete, and the status bookkeeping that tests and activities perform. Every operation acts in
 * the current `Actor`'s organization; every mutation is audited.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Actor } from "./Actor.js"
import * as AuditLog from "./AuditLog.js"
import { AuthType } from "./ConnectorDescriptor.js"
import {
  ConnectorInstance,
  fresh,
  InstanceName,
  InstanceStatus,
  InstanceView,
  type TestStatus,
  view
} from "./ConnectorInstance.js"
import { ConnectorRegistry, validateConfiguration } from "./ConnectorRegistry.js"
import * as CredentialScope from "./CredentialScope.js"
import {
  type ConnectorNotFound,
  type DuplicateAccount,
  type IdempotencyKeyReused,
  InstanceDisabled,
  InstanceNotFound,
  InvalidConfiguration,
  type InvalidInput,
  type NameTaken,
  type StorageError
} from "./DomainError.js"
import * as Idempotency from "./Idempotency.js"
import * as Ids from "./Ids.js"
import * as InputBounds from "./InputBounds.js"
import { InstanceRepository } from "./InstanceRepository.js"
import * as LifecycleEvents from "./LifecycleEvents.js"
import { Transactions } from "./Transactions.js"

const Description = Schema.NullOr(
  InputBounds.SafeString.pipe(Schema.maxLength(2000, { message: () => "description must be at most 2000 characters" }))
)

/** An instance name: safe characters first (no NUL, no unpaired surrogate), then the product's rules. */
const Name = Schema.compose(InputBounds.boundedString(1024), InstanceName)

/** A connector id or key. */
const ConnectorKey = InputBounds.boundedString(255)

/**
 * Input of `create`. `connector` is a descriptor id or key; `authType` defaults to the
 * descriptor's first auth profile. With `idempotencyKey`, a retry of the same request returns the
 * first call's instance (see `Idempotency`).
 *
 * @since 0.1.0
 */
export class CreateInstance extends Schema.Class<CreateInstance>("@patchbay/core/CreateInstance")({
  connector: ConnectorKey.pipe(Schema.minLength(1, { message: () => "connector is required" })),
  instanceName: Name,
  description: Schema.optionalWith(Description, { default: () => null }),
  workspaceId: Schema.optionalWith(Schema.NullOr(Ids.WorkspaceId), { default: () => null }),
  configuration: Schema.optionalWith(InputBounds.Configuration, { default: () => ({}) }),
  authType: Schema.optional(AuthType),
  idempotencyKey: Schema.optional(Idempotency.IdempotencyKey)
}) {}

/**
 * Input of `update`: only the fields given change. A new configuration is validated again.
 *
 * @since 0.1.0
 */
export class UpdateInstance extends Schema.Class<UpdateInstance>("@patchbay/core/UpdateInstance")({
  instanceName: Schema.optional(Name),
  description: Schema.optional(Description),
  configuration: Schema.optional(InputBounds.Configuration),
  isEnabled: Schema.optional(Schema.Boolean)
}) {}

/**
 * Filters and page of `list`. `workspaceId: null` lists organization-level instances only.
 *
 * @since 0.1.0
 */
export class ListInstances extends Schema.Class<ListInstances>("@patchbay/core/ListInstances")({
  connector: Schema.optional(ConnectorKey),
  workspaceId: Schema.optional(Schema.NullOr(Ids.WorkspaceId)),
  isEnabled: Schema.optional(Schema.Boolean),
  status: Schema.optional(InstanceStatus),
  limit: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 200)), { default: () => 50 }),
  cursor: Schema.optional(Ids.InstanceId)
}) {}

/**
 * A page of instances; `nextCursor` is null on the last page.
 *
 * @since 0.1.0
 */
export interface InstancePage {
  readonly items: ReadonlyArray<InstanceView>
  readonly nextCursor: Ids.InstanceId | null
}

/**
 * The outcome of a connection test, as recorded on the instance.
 *
 * @since 0.1.0
 */
export interface TestRecord {
  readonly status: Exclude<TestStatus, "pending">
  readonly message: string
  readonly testedAt: Date
  /** The instance status the test implies (`active` after a success, `reconnect_required` after a refused login). */
  readonly instanceStatus?: InstanceStatus | undefined
}

/**
 * Failures of `create`.
 *
 * @since 0.1.0
 */
export type CreateError =
  | InvalidInput
  | InvalidConfiguration
  | ConnectorNotFound
  | NameTaken
  | DuplicateAccount
  | StorageError

/**
 * The operation name under which `create` records idempotency keys.
 *
 * @since 0.1.0
 */
export const createOperation = "instance.create"

/**
 * @since 0.1.0
 */
export interface ConnectorInstancesShape {
  /**
   * Creates an instance. With an `idempotencyKey`, a retry of the same request returns the first
   * call's instance, even where its name would now clash; the key with another request fails with
   * `IdempotencyKeyReused`.
   */
  readonly create: {
    (
      input: typeof CreateInstance.Encoded & { readonly idempotencyKey?: undefined }
    ): Effect.Effect<InstanceView, CreateError, Actor>
    (input: typeof CreateInstance.Encoded): Effect.Effect<InstanceView, CreateError | IdempotencyKeyReused, Actor>
  }
  readonly get: (id: string) => Effect.Effect<InstanceView, InstanceNotFound | StorageError, Actor>
  readonly list: (
    query?: typeof ListInstances.Encoded
  ) => Effect.Effect<InstancePage, InvalidInput | ConnectorNotFound | StorageError, Actor>
  readonly update: (
    id: string,
    patch: typeof UpdateInstance.Encoded
  ) => Effect.Effect<
    InstanceView,
    | InstanceNotFound
    | InvalidInput
    | InvalidConfiguration
    | ConnectorNotFound
    | NameTaken
    | DuplicateAccount
    | StorageError,
    Actor
  >
  readonly delete: (id: string) => Effect.Effect<void, InstanceNotFound | StorageError, Actor>
  /** The stored instance, enabled or not: for connection tests and administration. */
  readonly getInstance: (id: string) => Effect.Effect<ConnectorInstance, InstanceNotFound | StorageError, Actor>
  /** The full instance, if it exists in the actor's organization and is enabled. */
  readonly getUsable: (
    id: string
  ) => Effect.Effect<ConnectorInstance, InstanceNotFound | InstanceDisabled | StorageError, Actor>
  /**
   * Records a connection test's outcome (`last_tested_at`, `test_status`, `test_message`) and the
   * status it implies, in one write; a status change is audited as `setStatus` does.
   */
  readonly recordTest: (
    id: Ids.InstanceId,
    test: TestRecord
  ) => Effect.Effect<ConnectorInstance, InstanceNotFound | StorageError, Actor>
  /** Sets `status`; audited with the reason when it changes. */
  readonly setStatus: (
    id: Ids.InstanceId,
    status: InstanceStatus,
    reason: string
  ) => Effect.Effect<ConnectorInstance, InstanceNotFound | StorageError, Actor>
  /**
   * Records that credentials were stored: `has_credentials`, and the account fingerprint that must
   * stay unique per connector type in the organization.
   */
  readonly setCredentialState: (
    id: Ids.InstanceId,
    state: { readonly hasCredentials: boolean; readonly accountFingerprint: string | null }
  ) => Effect.Effect<ConnectorInstance, InstanceNotFound | DuplicateAccount | StorageError, Actor>
}

/**
 * @since 0.1.0
 */
export class ConnectorInstances extends Context.Tag("@patchbay/core/ConnectorInstances")<
  ConnectorInstances,
  ConnectorInstancesShape
>() {}

const decodeCreate = InputBounds.decode(CreateInstance)
const decodeUpdate = InputBounds.decode(UpdateInstance)
const decodeList = InputBounds.decode(ListInstances)
const isInstanceId = Schema.is(Ids.InstanceId)
const now = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))

/**
 * The service on its ports: `InstanceRepository`, `IdempotencyKeys`, `AuditLog`,
 * `ConnectorRegistry`, `EventOutbox` and `Transactions` (every write runs in one unit with its audit
 * event, its lifecycle event and its idempotency key).
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<
  ConnectorInstances,
  never,
  | InstanceRepository
  | Idempotency.IdempotencyKeys
  | AuditLog.AuditLog
  | ConnectorRegistry
  | Transactions
  | LifecycleEvents.EventOutbox
> = Layer.effect(
  ConnectorInstances,
  Effect.gen(function* () {
    const repository = yield* InstanceRepository
    const keys = yield* Idempotency.IdempotencyKeys
    const transactions = yield* Transactions
    const registry = yield* ConnectorRegistry
    const audit = yield* AuditLog.AuditLog
    const record = (...args: Parameters<typeof AuditLog.record>) =>
      AuditLog.record(...args).pipe(Effect.provideService(AuditLog.AuditLog, audit))
    const outbox = yield* LifecycleEvents.EventOutbox
    const emit = (input: LifecycleEvents.EventInput) =>
      LifecycleEvents.emit(input).pipe(Effect.provideService(LifecycleEvents.EventOutbox, outbox))
    /** Emits what a change of status or test outcome means for subscribers. */
    const emitChanges = (current: ConnectorInstance, next: ConnectorInstance, reason: string | null) =>
      Effect.gen(function* () {
        const about = { orgId: next.orgId, instanceId: next.id, connectorKey: next.connectorKey }
        if (next.testStatus !== current.testStatus) {
          yield* emit({
            _tag: "instance.health_changed",
            ...about,
            previous: current.testStatus,
            current: next.testStatus
          })
        }
        if (next.status !== current.status) {
          yield* emit(
            next.status === "reconnect_required"
              ? { _tag: "instance.reconnect_required", ...about, reason: reason ?? "" }
              : { _tag: "instance.reconnected", ...about }
          )
        }
      })

    const find = (id: string) =>
      Effect.gen(function* () {
        const actor = yield* Actor
        const found = isInstanceId(id) ? yield* repository.get(actor.orgId, id) : Option.none()
        // Another workspace's instance does not exist for this actor.
        if (Option.isNone(found) || !CredentialScope.visibleTo(actor, found.value)) {
          return yield* new InstanceNotFound({ instanceId: InputBounds.idText(id) })
        }
        return found.value
      })

    const save = (instance: ConnectorInstance, changes: Partial<ConnectorInstance>) =>
      Effect.gen(function* () {
        const next = ConnectorInstance.make({ ...instance, ...changes, updatedAt: yield* now })
        yield* repository.update(next)
        return next
      })
    /** A save that changes neither name nor fingerprint cannot clash. */
    const saveStatus = (instance: ConnectorInstance, changes: Partial<ConnectorInstance>) =>
      save(instance, changes).pipe(Effect.catchTags({ NameTaken: Effect.die, DuplicateAccount: Effect.die }))

    const create = Effect.fn("ConnectorInstances.create")(function* (input: typeof CreateInstance.Encoded) {
      const actor = yield* Actor
      const request = yield* decodeCreate(input)
      const connector = yield* registry.get(request.connector)
      const descriptor = connector.descriptor
      const authType = request.authType ?? descriptor.authProfiles[0]!
      if (!descriptor.authProfiles.includes(authType)) {
        return yield* new InvalidConfiguration({
          connector: descriptor.key,
          detail: `auth type ${authType} is not one of ${descriptor.authProfiles.join(", ")}`
        })
      }
      const configuration = yield* validateConfiguration(descriptor, request.configuration)
      const at = yield* now
      const instance = fresh({
        id: yield* Ids.make(Ids.InstanceId),
        orgId: actor.orgId,
        connector: descriptor,
        instanceName: request.instanceName,
        description: request.description,
        workspaceId: request.workspaceId,
        configuration,
        authType,
        at
      })
      const fingerprint = Idempotency.fingerprint(createOperation, {
        actor: { workspaceId: actor.workspaceId, userId: actor.userId, agentId: actor.agentId },
        connectorId: descriptor.id,
        instanceName: instance.instanceName,
        description: instance.description,
        workspaceId: instance.workspaceId,
        configuration: instance.configuration,
        authType
      })
      const idempotent = Idempotency.once(keys, {
        orgId: actor.orgId,
        operation: createOperation,
        key: request.idempotencyKey,
        fingerprint,
        at,
        result: InstanceView
      })
      return yield* transactions.run(
        Effect.gen(function* () {
          yield* repository.insert(instance)
          yield* record("instance.created", {
            instanceId: instance.id,
            details: {
              connector: descriptor.key,
              instanceName: instance.instanceName,
              workspaceId: instance.workspaceId
            }
          })
          yield* emit({
            _tag: "instance.created",
            orgId: instance.orgId,
            instanceId: instance.id,
            connectorKey: instance.connectorKey
          })
          return view(instance)
        }).pipe(idempotent)
      )
    })

    const update = Effect.fn("ConnectorInstances.update")(function* (id: string, patch: typeof UpdateInstance.Encoded) {
      const request = yield* decodeUpdate(patch)
      return yield* transactions.run(
        Effect.gen(function* () {
          const current = yield* find(id)
          const changes: { -readonly [K in keyof ConnectorInstance]?: ConnectorInstance[K] } = {}
          if (request.instanceName !== undefined) changes.instanceName = request.instanceName
          if (request.description !== undefined) changes.description = request.description
          if (request.isEnabled !== undefined) changes.isEnabled = request.isEnabled
          if (request.configuration !== undefined) {
            const { descriptor } = yield* registry.get(current.connectorId)
            changes.configuration = yield* validateConfiguration(descriptor, request.configuration)
          }
          const next = yield* save(current, changes)
          yield* record("instance.updated", { instanceId: next.id, details: { fields: Object.keys(changes) } })
          const about = { orgId: next.orgId, instanceId: next.id, connectorKey: next.connectorKey }
          yield* emit({ _tag: "instance.updated", ...about, fields: Object.keys(changes) })
          if (current.isEnabled && !next.isEnabled) yield* emit({ _tag: "instance.disabled", ...about })
          return view(next)
        })
      )
    })

    return ConnectorInstances.of({
      // The first signature (no key) is the second's narrower case: without a key nothing is reused.
      create: create as ConnectorInstancesShape["create"],
      get: Effect.fn("ConnectorInstances.get")(function* (id: string) {
        return view(yield* find(id))
      }),
      list: Effect.fn("ConnectorInstances.list")(function* (query: typeof ListInstances.Encoded = {}) {
        const actor = yield* Actor
        const request = yield* decodeList(query)
        const connectorId =
          request.connector === undefined ? undefined : (yield* registry.get(request.connector)).descriptor.id
        const rows = yield* repository.list(actor.orgId, {
          connectorId,
          workspaceId: request.workspaceId,
          isEnabled: request.isEnabled,
          status: request.status,
          after: request.cursor,
          limit: request.limit + 1
        })
        const items = rows.slice(0, request.limit)
        return {
          // A page may hold fewer than `limit` items: other workspaces' instances are left out.
          items: items.filter((instance) => CredentialScope.visibleTo(actor, instance)).map(view),
          nextCursor: rows.length > request.limit ? items[items.length - 1]!.id : null
        }
      }),
      update,
      delete: Effect.fn("ConnectorInstances.delete")(function* (id: string) {
        const actor = yield* Actor
        yield* transactions.run(
          Effect.gen(function* () {
            const current = yield* find(id)
            yield* repository.delete(actor.orgId, current.id)
            yield* record("instance.deleted", {
              instanceId: current.id,
              details: { connector: current.connectorKey, instanceName: current.instanceName }
            })
            yield* emit({
              _tag: "instance.deleted",
              orgId: current.orgId,
              instanceId: current.id,
              connectorKey: current.connectorKey
            })
          })
        )
      }),
      getInstance: Effect.fn("ConnectorInstances.getInstance")(function* (id: string) {
        return yield* find(id)
      }),
      getUsable: Effect.fn("ConnectorInstances.getUsable")(function* (id: string) {
        const instance = yield* find(id)
        if (!instance.isEnabled) {
          return yield* new InstanceDisabled({ instanceId: instance.id, instanceName: instance.instanceName })
        }
        return instance
      }),
      recordTest: Effect.fn("ConnectorInstances.recordTest")(
        function* (id: Ids.InstanceId, test: TestRecord) {
          const current = yield* find(id)
          const status = test.instanceStatus ?? current.status
          const next = yield* saveStatus(current, {
            lastTestedAt: test.testedAt,
            testStatus: test.status,
            testMessage: test.message,
            status
          })
          yield* record("instance.tested", {
            instanceId: id,
            outcome: test.status === "success" ? "success" : "failure",
            details: { message: test.message }
          })
          if (status !== current.status) {
            yield* record(`instance.${status}`, { instanceId: id, details: { reason: test.message } })
          }
          yield* emitChanges(current, next, test.message)
          return next
        },
        (effect) => transactions.run(effect)
      ),
      setStatus: Effect.fn("ConnectorInstances.setStatus")(
        function* (id: Ids.InstanceId, status: InstanceStatus, reason: string) {
          const current = yield* find(id)
          if (current.status === status) return current
          const next = yield* saveStatus(current, { status })
          yield* record(`instance.${status}`, { instanceId: id, details: { reason } })
          yield* emitChanges(current, next, reason)
          return next
        },
        (effect) => transactions.run(effect)
      ),
      setCredentialState: Effect.fn("ConnectorInstances.setCredentialState")(
        function* (
          id: Ids.InstanceId,
          state: { readonly hasCredentials: boolean; readonly accountFingerprint: string | null }
        ) {
          return yield* save(yield* find(id), state).pipe(Effect.catchTag("NameTaken", Effect.die))
        },
        (effect) => transactions.run(effect)
      )
    })
  })
)
