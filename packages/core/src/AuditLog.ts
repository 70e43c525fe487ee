/**
 * An append-only record of who did what to which instance. Details never contain secret values.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { Actor, ActorInfo } from "./Actor.js"
import type { StorageError } from "./DomainError.js"
import * as Ids from "./Ids.js"
import * as Journal from "./internal/journal.js"

/**
 * Whether the audited action took place.
 *
 * @since 0.1.0
 */
export const AuditOutcome = Schema.Literal("success", "failure", "refused")
/** @since 0.1.0 */
export type AuditOutcome = typeof AuditOutcome.Type

/**
 * One audit row.
 *
 * @since 0.1.0
 */
export class AuditEvent extends Schema.Class<AuditEvent>("@patchbay/core/AuditEvent")({
  id: Ids.AuditEventId,
  orgId: Ids.OrgId,
  at: Schema.DateFromSelf,
  actor: ActorInfo,
  action: Schema.String,
  instanceId: Schema.NullOr(Ids.InstanceId),
  outcome: AuditOutcome,
  details: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}) {}

/**
 * @since 0.1.0
 */
export interface AuditQuery {
  readonly instanceId?: Ids.InstanceId | undefined
  readonly action?: string | undefined
  readonly limit: number
}

/**
 * @since 0.1.0
 */
export interface AuditLogShape {
  readonly append: (event: AuditEvent) => Effect.Effect<void, StorageError>
  /** An organization's events, newest first. */
  readonly list: (orgId: Ids.OrgId, query: AuditQuery) => Effect.Effect<ReadonlyArray<AuditEvent>, StorageError>
}

/**
 * @since 0.1.0
 */
export class AuditLog extends Context.Tag("@patchbay/core/AuditLog")<AuditLog, AuditLogShape>() {}

/**
 * Appends an event for the current actor at the current time.
 *
 * @since 0.1.0
 */
export const record = (
  action: string,
  options: {
    readonly instanceId: Ids.InstanceId | null
    readonly outcome?: AuditOutcome | undefined
    readonly details?: Record<string, unknown> | undefined
  }
): Effect.Effect<void, StorageError, AuditLog | Actor> =>
  Effect.gen(function* () {
    const actor = yield* Actor
    const log = yield* AuditLog
    const id = yield* Ids.make(Ids.AuditEventId)
    const at = new Date(yield* Clock.currentTimeMillis)
    yield* log.append(
      AuditEvent.make({
        id,
        orgId: actor.orgId,
        at,
        actor,
        action,
        instanceId: options.instanceId,
        outcome: options.outcome ?? "success",
        details: options.details ?? {}
      })
    )
  })

/**
 * An in-memory audit log. Inside a unit of `Transactions.layerMemory` an event is removed again
 * when the unit fails.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<AuditLog> = Layer.sync(AuditLog, () => {
  const events: Array<AuditEvent> = []
  return AuditLog.of({
    append: (event) =>
      Journal.mutate((onRollback) => {
        events.push(event)
        onRollback(() => {
          const at = events.lastIndexOf(event)
          if (at >= 0) events.splice(at, 1)
        })
        return Effect.void
      }),
    list: (orgId, query) =>
      Effect.sync(() =>
        events
          .filter(
            (e) =>
              e.orgId === orgId &&
              (query.instanceId === undefined || e.instanceId === query.instanceId) &&
              (query.action === undefined || e.action === query.action)
          )
          .reverse()
          .slice(0, query.limit)
      )
  })
})
