/**
 * Lifecycle events of connector instances and their credentials: the event schemas, the
 * `EventOutbox` port that records each event in the same unit of `Transactions` as the change it
 * describes, and the `Events` service that publishes recorded events to in-process subscribers.
 *
 * An event carries ids, the organization, the connector key and the time: never a credential
 * value, a configuration value or a masked field.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { StorageError } from "./DomainError.js"
import * as Ids from "./Ids.js"
import * as Journal from "./internal/journal.js"

/**
 * The id of a lifecycle event: a UUIDv7 from `Ids.make`, so ids sort in creation order.
 *
 * @since 0.1.0
 */
export const LifecycleEventId = Schema.UUID.pipe(Schema.brand("@patchbay/LifecycleEventId"))

/**
 * @since 0.1.0
 */
export type LifecycleEventId = typeof LifecycleEventId.Type

const common = {
  id: LifecycleEventId,
  orgId: Ids.OrgId,
  instanceId: Ids.InstanceId,
  connectorKey: Schema.String,
  at: Schema.Date
}

/**
 * An instance was created.
 *
 * @since 0.1.0
 */
export const InstanceCreated = Schema.TaggedStruct("instance.created", common)

/**
 * An instance's name, description, configuration or enabled flag changed; `fields` names them.
 *
 * @since 0.1.0
 */
export const InstanceUpdated = Schema.TaggedStruct("instance.updated", {
  ...common,
  fields: Schema.Array(Schema.String)
})

/**
 * An enabled instance was disabled.
 *
 * @since 0.1.0
 */
export const InstanceDisabled = Schema.TaggedStruct("instance.disabled", common)

/**
 * An instance was deleted.
 *
 * @since 0.1.0
 */
export const InstanceDeleted = Schema.TaggedStruct("instance.deleted", common)

/**
 * A credential version was stored; `previousId` is the version it supersedes, if any.
 *
 * @since 0.1.0
 */
export const CredentialStored = Schema.TaggedStruct("credential.stored", {
  ...common,
  credentialId: Ids.CredentialId,
  version: Schema.Int,
  previousId: Schema.NullOr(Ids.CredentialId)
})

/**
 * A credential version was revoked.
 *
 * @since 0.1.0
 */
export const CredentialRevoked = Schema.TaggedStruct("credential.revoked", {
  ...common,
  credentialId: Ids.CredentialId,
  version: Schema.Int
})

/**
 * A credential version expires at `expiresAt`, within the monitor's threshold of `withinDays`
 * days (emitted by the expiry monitor, once per version and threshold).
 *
 * @since 0.1.0
 */
export const CredentialExpiring = Schema.TaggedStruct("credential.expiring", {
  ...common,
  credentialId: Ids.CredentialId,
  expiresAt: Schema.Date,
  withinDays: Schema.optional(Schema.Number)
})

/**
 * The refresh token of an OAuth2 token set dies at `expiresAt` (the deadline label the oauth2
 * package stores), within `withinDays` days: after it only a reconnect helps. Emitted by the expiry
 * monitor, once per version and threshold.
 *
 * @since 0.1.0
 */
export const RefreshTokenExpiring = Schema.TaggedStruct("credential.refresh_token_expiring", {
  ...common,
  credentialId: Ids.CredentialId,
  expiresAt: Schema.Date,
  withinDays: Schema.Number
})

/**
 * Refreshing a credential version failed (emitted by the refresh protocol with the state it
 * records). `reason` is a code, never a peer's text: `refresh_refused`, `refresh_interrupted` or
 * `credentials_rejected` for a refused grant (the instance needs a reconnect), or the tag of a
 * transient failure (`Unreachable`, `TimedOut`, `RateLimited`, `ProviderFailure`).
 *
 * @since 0.1.0
 */
export const RefreshFailed = Schema.TaggedStruct("credential.refresh_failed", {
  ...common,
  credentialId: Ids.CredentialId,
  reason: Schema.String
})

/**
 * The instance needs a person to reconnect it.
 *
 * @since 0.1.0
 */
export const ReconnectRequired = Schema.TaggedStruct("instance.reconnect_required", {
  ...common,
  reason: Schema.String
})

/**
 * An instance that needed reconnecting is active again.
 *
 * @since 0.1.0
 */
export const Reconnected = Schema.TaggedStruct("instance.reconnected", common)

/**
 * The outcome of an instance's connection test changed.
 *
 * @since 0.1.0
 */
export const HealthChanged = Schema.TaggedStruct("instance.health_changed", {
  ...common,
  previous: Schema.String,
  current: Schema.String
})

/**
 * Every lifecycle event.
 *
 * @since 0.1.0
 */
export const LifecycleEvent = Schema.Union(
  InstanceCreated,
  InstanceUpdated,
  InstanceDisabled,
  InstanceDeleted,
  CredentialStored,
  CredentialRevoked,
  CredentialExpiring,
  RefreshTokenExpiring,
  RefreshFailed,
  ReconnectRequired,
  Reconnected,
  HealthChanged
)

/**
 * @since 0.1.0
 */
export type LifecycleEvent = typeof LifecycleEvent.Type

/**
 * The name of an event kind, such as `"instance.created"`.
 *
 * @since 0.1.0
 */
export type EventType = LifecycleEvent["_tag"]

type Common = "id" | "at"

/**
 * An event before it has an id and a time.
 *
 * @since 0.1.0
 */
export type EventInput = LifecycleEvent extends infer E ? (E extends LifecycleEvent ? Omit<E, Common> : never) : never

/**
 * An event recorded in the outbox, with when it was delivered (`null` while pending).
 *
 * @since 0.1.0
 */
export interface OutboxEntry {
  readonly event: LifecycleEvent
  readonly deliveredAt: Date | null
}

/**
 * @since 0.1.0
 */
export interface EventOutboxShape {
  /** Records `event`; inside a unit of `Transactions` it is written, or undone, with that unit. */
  readonly append: (event: LifecycleEvent) => Effect.Effect<void, StorageError>
  /**
   * Up to `limit` undelivered events in id order, after the event `after` when given. Events of
   * units that commit out of id order may appear behind a cursor already passed: a reader that
   * must see every event reads from the start of the pending ones.
   */
  readonly pending: (query: {
    readonly after?: LifecycleEventId | undefined
    readonly limit: number
  }) => Effect.Effect<ReadonlyArray<LifecycleEvent>, StorageError>
  /**
   * Up to `limit` events in id order after the event `after` when given, delivered or not (the
   * in-process relay reads this way, so webhook fan-out marking events delivered hides none).
   */
  readonly read: (query: {
    readonly after?: LifecycleEventId | undefined
    readonly limit: number
  }) => Effect.Effect<ReadonlyArray<LifecycleEvent>, StorageError>
  /** The id of the newest recorded event, if any. */
  readonly newest: Effect.Effect<LifecycleEventId | undefined, StorageError>
  /** Marks events delivered at `at`; they are no longer pending. */
  readonly markDelivered: (ids: ReadonlyArray<LifecycleEventId>, at: Date) => Effect.Effect<void, StorageError>
}

/**
 * The transactional outbox of lifecycle events.
 *
 * @since 0.1.0
 */
export class EventOutbox extends Context.Tag("@patchbay/core/EventOutbox")<EventOutbox, EventOutboxShape>() {}

/**
 * Gives `input` an id and the clock's time, and appends it to the outbox in context.
 *
 * @since 0.1.0
 */
export const emit = (input: EventInput): Effect.Effect<LifecycleEvent, StorageError, EventOutbox> =>
  Effect.gen(function* () {
    const outbox = yield* EventOutbox
    const id = yield* Ids.make(LifecycleEventId)
    const at = new Date(yield* Effect.clockWith((clock) => clock.currentTimeMillis))
    const event = { ...input, id, at } as LifecycleEvent
    yield* outbox.append(event)
    return event
  })

const inOrder = (
  entries: ReadonlyArray<OutboxEntry>,
  query: { readonly after?: LifecycleEventId | undefined; readonly limit: number; readonly pendingOnly: boolean }
): Array<LifecycleEvent> =>
  entries
    .filter(
      (entry) =>
        (!query.pendingOnly || entry.deliveredAt === null) &&
        (query.after === undefined || entry.event.id > query.after)
    )
    .map((entry) => entry.event)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, Math.max(0, Math.floor(query.limit)))

/**
 * An in-memory outbox. Inside a unit of `Transactions.layerMemory` an event is removed again when
 * the unit fails.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<EventOutbox> = Layer.sync(EventOutbox, () => {
  const entries: Array<{ event: LifecycleEvent; deliveredAt: Date | null }> = []
  return EventOutbox.of({
    append: (event) =>
      Journal.mutate((onRollback) => {
        const entry = { event, deliveredAt: null }
        entries.push(entry)
        onRollback(() => {
          const at = entries.lastIndexOf(entry)
          if (at >= 0) entries.splice(at, 1)
        })
        return Effect.void
      }),
    pending: ({ after, limit }) => Effect.sync(() => inOrder(entries, { after, limit, pendingOnly: true })),
    read: ({ after, limit }) => Effect.sync(() => inOrder(entries, { after, limit, pendingOnly: false })),
    newest: Effect.sync(() => inOrder(entries, { limit: Number.POSITIVE_INFINITY, pendingOnly: false }).at(-1)?.id),
    markDelivered: (ids, at) =>
      Effect.sync(() => {
        const wanted = new Set<string>(ids)
        for (const entry of entries) if (wanted.has(entry.event.id)) entry.deliveredAt = at
      })
  })
})

/**
 * @since 0.1.0
 */
export interface EventsShape {
  /** The events published from now on, for as long as the stream is consumed. */
  readonly subscribe: Stream.Stream<LifecycleEvent>
  /**
   * A subscription taken now and held for the scope: its stream receives every event published
   * after this effect completes (`subscribe` subscribes only when its stream starts).
   */
  readonly subscription: Effect.Effect<Stream.Stream<LifecycleEvent>, never, Scope.Scope>
  /**
   * Publishes the outbox's events after the last one this process published — from the newest
   * event when the layer was built — in id order, whether webhook fan-out has marked them
   * delivered or not, and returns how many it published. A host runs it on a schedule (see
   * `relay`) or after its own writes.
   */
  readonly publishPending: Effect.Effect<number, StorageError>
}

/**
 * In-process publication of the lifecycle events recorded in the `EventOutbox`.
 *
 * @since 0.1.0
 */
export class Events extends Context.Tag("@patchbay/core/Events")<Events, EventsShape>() {}

/**
 * `Events` over the outbox in context, on an unbounded `PubSub` shut down with the layer's scope.
 * Subscribers see the events recorded after the layer was built.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<Events, StorageError, EventOutbox> = Layer.scoped(
  Events,
  Effect.gen(function* () {
    const outbox = yield* EventOutbox
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<LifecycleEvent>(), PubSub.shutdown)
    const lock = yield* Effect.makeSemaphore(1)
    let cursor = yield* outbox.newest
    const batch = Effect.gen(function* () {
      const events = yield* outbox.read({ after: cursor, limit: 500 })
      if (events.length === 0) return 0
      yield* PubSub.publishAll(pubsub, events)
      cursor = events[events.length - 1]!.id
      return events.length
    })
    const publishPending = lock.withPermits(1)(
      Effect.gen(function* () {
        let total = 0
        for (;;) {
          const published = yield* batch
          if (published === 0) return total
          total += published
        }
      })
    )
    return Events.of({
      subscribe: Stream.fromPubSub(pubsub),
      subscription: Effect.map(PubSub.subscribe(pubsub), Stream.fromQueue),
      publishPending: publishPending.pipe(Effect.withSpan("Events.publishPending"))
    })
  })
)

/**
 * Runs `publishPending` on `schedule` for as long as the returned effect runs (fork it in the
 * host's scope).
 *
 * @since 0.1.0
 */
export const relay = <X, R>(schedule: Schedule.Schedule<X, unknown, R>): Effect.Effect<X, StorageError, Events | R> =>
  Effect.flatMap(Events, (events) => Effect.repeat(events.publishPending, schedule))
