/**
 * The storage port of webhook delivery: subscriptions (a target URL, the event types it wants,
 * its signing secret sealed by the keyring) and one delivery row per (subscription, event) with
 * its state: pending (with the time of the next attempt and an optional lease), delivered or dead.
 *
 * The fan-out step turns pending outbox events into delivery rows and marks the events delivered,
 * in one unit; the delivery step claims due deliveries under a lease, so several processes share
 * the work without sending one delivery twice while its lease holds.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"
import { SealedSecret } from "./Credential.js"
import type { StorageError } from "./DomainError.js"
import * as Ids from "./Ids.js"
import {
  EventOutbox,
  LifecycleEvent,
  LifecycleEventId,
  type EventType as LifecycleEventType
} from "./LifecycleEvents.js"

/**
 * A webhook subscription's id.
 *
 * @since 0.1.0
 */
export const SubscriptionId = Schema.UUID.pipe(Schema.brand("@patchbay/WebhookSubscriptionId"))

/**
 * @since 0.1.0
 */
export type SubscriptionId = typeof SubscriptionId.Type

/**
 * A delivery's id: one per (subscription, event), the same on every attempt, so a receiver
 * deduplicates by it.
 *
 * @since 0.1.0
 */
export const DeliveryId = Schema.UUID.pipe(Schema.brand("@patchbay/WebhookDeliveryId"))

/**
 * @since 0.1.0
 */
export type DeliveryId = typeof DeliveryId.Type

const eventTypeNames: ReadonlySet<string> = new Set(
  LifecycleEvent.members.flatMap((member) =>
    SchemaAST.getPropertySignatures(member.ast).flatMap((signature) =>
      signature.name === "_tag" && SchemaAST.isLiteral(signature.type) && typeof signature.type.literal === "string"
        ? [signature.type.literal]
        : []
    )
  )
)

/**
 * The name of a lifecycle event kind a subscription can ask for (every `_tag` of
 * `LifecycleEvents.LifecycleEvent`).
 *
 * @since 0.1.0
 */
export const EventType: Schema.Schema<LifecycleEventType, string> = Schema.String.pipe(
  Schema.filter((name): name is LifecycleEventType => eventTypeNames.has(name), {
    message: () => "not a lifecycle event type"
  })
)

/**
 * @since 0.1.0
 */
export type EventType = LifecycleEventType

/**
 * A subscription as listings show it: never its secret.
 *
 * @since 0.1.0
 */
export class Subscription extends Schema.Class<Subscription>("@patchbay/core/WebhookSubscription")({
  id: SubscriptionId,
  orgId: Ids.OrgId,
  /** The target as shown: its mask (`https://host/…`); the full URL is sealed with the secret. */
  url: Schema.String,
  /** The event types it receives; null for every type. */
  eventTypes: Schema.NullOr(Schema.Array(EventType)),
  enabled: Schema.Boolean,
  /** Starts at 1; each rotation adds one. */
  secretVersion: Schema.Int,
  /** Until when deliveries are also signed with the previous secret (after a rotation). */
  previousSecretUntil: Schema.NullOr(Schema.Date),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}

/**
 * A subscription with its sealed secrets, as the store keeps it.
 *
 * @since 0.1.0
 */
export class SubscriptionRecord extends Schema.Class<SubscriptionRecord>("@patchbay/core/WebhookSubscriptionRecord")({
  subscription: Subscription,
  secret: SealedSecret,
  /** The secret of version `secretVersion - 1`, kept while `previousSecretUntil` lasts. */
  previousSecret: Schema.NullOr(SealedSecret)
}) {}

/**
 * Where a delivery stands.
 *
 * @since 0.1.0
 */
export const DeliveryStatus = Schema.Literal("pending", "delivered", "dead")

/**
 * @since 0.1.0
 */
export type DeliveryStatus = typeof DeliveryStatus.Type

/**
 * One event for one subscription. `lastStatus` is the receiver's last HTTP status and `lastError`
 * the class of the last failure (`http_status`, `timeout`, `egress_denied`, a socket error code):
 * never a response body, never a secret.
 *
 * @since 0.1.0
 */
export class Delivery extends Schema.Class<Delivery>("@patchbay/core/WebhookDelivery")({
  id: DeliveryId,
  orgId: Ids.OrgId,
  subscriptionId: SubscriptionId,
  eventId: LifecycleEventId,
  eventType: EventType,
  status: DeliveryStatus,
  /** Attempts started since the delivery was created or last redelivered. */
  attempts: Schema.Int,
  nextAttemptAt: Schema.Date,
  lastStatus: Schema.NullOr(Schema.Int),
  lastError: Schema.NullOr(Schema.String),
  createdAt: Schema.Date,
  updatedAt: Schema.Date,
  deliveredAt: Schema.NullOr(Schema.Date)
}) {}

/**
 * A delivery claimed for one attempt: its row (with `attempts` counting this one), the event and
 * the subscription it goes to.
 *
 * @since 0.1.0
 */
export interface Claimed {
  readonly delivery: Delivery
  readonly event: LifecycleEvent
  readonly subscription: SubscriptionRecord
}

/**
 * What an attempt came to.
 *
 * @since 0.1.0
 */
export type Outcome =
  | { readonly _tag: "Delivered"; readonly status: number }
  | {
      readonly _tag: "Retry"
      readonly status: number | null
      readonly error: string | null
      readonly nextAttemptAt: Date
    }
  | { readonly _tag: "Dead"; readonly status: number | null; readonly error: string | null }

/**
 * The changes `update` applies; absent fields stay as they are.
 *
 * @since 0.1.0
 */
export interface SubscriptionPatch {
  readonly enabled?: boolean | undefined
  readonly url?: string | undefined
  readonly eventTypes?: ReadonlyArray<EventType> | null | undefined
  /**
   * The current secret sealed again (with a new target URL inside it): applied, with the rest of
   * the patch, only while the stored `secretVersion` is still `version`.
   */
  readonly secret?: { readonly version: number; readonly sealed: SealedSecret } | undefined
}

/**
 * What the sealed secret of version `version` of a subscription is bound to (the envelope's
 * authenticated data): its id, organization, creation time and the version, so a sealed secret
 * copied onto another row or another version does not open. Sealing and key rotation share it.
 *
 * @since 0.1.0
 */
export const secretBinding = (
  subscription: { readonly id: string; readonly orgId: string; readonly createdAt: Date },
  version: number
) => ({
  credentialId: subscription.id,
  instanceId: `webhook-secret-v${version}`,
  scopeType: "webhook_subscription",
  scopeId: subscription.orgId,
  orgId: subscription.orgId,
  expiresAt: null,
  createdAt: subscription.createdAt
})

/**
 * A subscription's secrets re-wrapped by key rotation, replaced only while the stored row is still
 * at `secretVersion` with its secrets under `expectedKeyId` and `expectedPreviousKeyId`.
 *
 * @since 0.1.0
 */
export interface SecretReplacement {
  readonly id: SubscriptionId
  readonly secretVersion: number
  readonly expectedKeyId: string
  readonly secret: SealedSecret
  readonly expectedPreviousKeyId: string | null
  readonly previousSecret: SealedSecret | null
}

/**
 * @since 0.1.0
 */
export interface WebhookStoreShape {
  /** Stores a new subscription. */
  readonly create: (record: SubscriptionRecord) => Effect.Effect<void, StorageError>
  /** The subscription with its sealed secrets, when it exists in the organization. */
  readonly get: (orgId: Ids.OrgId, id: SubscriptionId) => Effect.Effect<Option.Option<SubscriptionRecord>, StorageError>
  /** The organization's subscriptions, oldest first. */
  readonly list: (orgId: Ids.OrgId) => Effect.Effect<ReadonlyArray<Subscription>, StorageError>
  /**
   * Applies `patch` at `at`; none when the subscription does not exist (or, with `patch.secret`,
   * when it was rotated meanwhile).
   */
  readonly update: (
    orgId: Ids.OrgId,
    id: SubscriptionId,
    patch: SubscriptionPatch,
    at: Date
  ) => Effect.Effect<Option.Option<Subscription>, StorageError>
  /**
   * Replaces the secrets when the stored version is `secret.version - 1` (a concurrent rotation
   * wins once); none when the subscription does not exist or was rotated meanwhile.
   */
  readonly rotate: (
    orgId: Ids.OrgId,
    id: SubscriptionId,
    secrets: {
      readonly version: number
      readonly secret: SealedSecret
      readonly previousSecret: SealedSecret
      readonly previousSecretUntil: Date
    },
    at: Date
  ) => Effect.Effect<Option.Option<Subscription>, StorageError>
  /** Deletes the subscription and its deliveries; whether it existed. */
  readonly remove: (orgId: Ids.OrgId, id: SubscriptionId) => Effect.Effect<boolean, StorageError>
  /**
   * Takes up to `limit` pending outbox events (none that another process is taking), writes one
   * pending delivery, due at `at`, for each enabled subscription of the event's organization that
   * wants its type (at most one per subscription and event), and marks the events delivered, all
   * in one unit. Returns how many events it took.
   */
  readonly fanOut: (options: { readonly limit: number; readonly at: Date }) => Effect.Effect<number, StorageError>
  /**
   * Claims up to `limit` pending deliveries of enabled subscriptions that are due at `now` and not
   * leased (or whose lease ran out), leases them until `leaseUntil` and counts the attempt.
   */
  readonly claim: (options: {
    readonly limit: number
    readonly now: Date
    readonly leaseUntil: Date
  }) => Effect.Effect<ReadonlyArray<Claimed>, StorageError>
  /**
   * Records the outcome of attempt number `attempt` and releases the lease. Ignored (false) when
   * the delivery is no longer pending at that attempt: its lease ran out and another claim took it.
   */
  readonly record: (input: {
    readonly id: DeliveryId
    readonly attempt: number
    readonly outcome: Outcome
    readonly at: Date
  }) => Effect.Effect<boolean, StorageError>
  /** The organization's deliveries, newest first, filtered by status and subscription. */
  readonly deliveries: (
    orgId: Ids.OrgId,
    query: {
      readonly status?: DeliveryStatus | undefined
      readonly subscriptionId?: SubscriptionId | undefined
      readonly limit: number
    }
  ) => Effect.Effect<ReadonlyArray<Delivery>, StorageError>
  /**
   * Puts a dead delivery back to pending, due at `at`, with its attempts reset; none when it does
   * not exist in the organization or is not dead.
   */
  readonly redeliver: (
    orgId: Ids.OrgId,
    id: DeliveryId,
    at: Date
  ) => Effect.Effect<Option.Option<Delivery>, StorageError>
  /**
   * Deletes up to `limit` deliveries, across organizations: delivered ones delivered before
   * `deliveredBefore` and dead ones that died before `deadBefore` (null: none of that kind); how
   * many it deleted. Pending deliveries are never deleted, and a row another process holds (a
   * redelivery, another prune) is skipped, so any number of processes may prune at once.
   */
  readonly prune: (options: {
    readonly deliveredBefore: Date | null
    readonly deadBefore: Date | null
    readonly limit: number
  }) => Effect.Effect<number, StorageError>
  /** Every key id that seals a stored secret (current or previous), across organizations. */
  readonly keyIds: Effect.Effect<ReadonlyArray<string>, StorageError>
  /**
   * Up to `limit` subscriptions, across organizations, with a secret (current or previous) sealed
   * under a key other than `keyId`, in id order and with an id above `after` when given.
   */
  readonly sealedWithOtherKey: (
    keyId: string,
    limit: number,
    after?: SubscriptionId
  ) => Effect.Effect<ReadonlyArray<SubscriptionRecord>, StorageError>
  /**
   * Replaces re-wrapped secrets (a key rotation's batch) in one unit, each only if its row is
   * unchanged since it was read (see `SecretReplacement`); returns the ids that were replaced.
   */
  readonly replaceSealedBatch: (
    replacements: ReadonlyArray<SecretReplacement>
  ) => Effect.Effect<ReadonlyArray<SubscriptionId>, StorageError>
}

/**
 * Where webhook subscriptions and deliveries are kept.
 *
 * @since 0.1.0
 */
export class WebhookStore extends Context.Tag("@patchbay/core/WebhookStore")<WebhookStore, WebhookStoreShape>() {}

interface Entry {
  delivery: Delivery
  readonly event: LifecycleEvent
  leaseUntil: Date | null
}

const wants = (subscription: Subscription, event: LifecycleEvent) =>
  subscription.enabled &&
  subscription.orgId === event.orgId &&
  (subscription.eventTypes === null || subscription.eventTypes.includes(event._tag))

/**
 * A store in memory, fanning out from the `EventOutbox` in context (one process).
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<WebhookStore, never, EventOutbox> = Layer.effect(
  WebhookStore,
  Effect.gen(function* () {
    const outbox = yield* EventOutbox
    const lock = yield* Effect.makeSemaphore(1)
    const subscriptions = new Map<SubscriptionId, SubscriptionRecord>()
    const entries = new Map<DeliveryId, Entry>()
    const pairs = new Set<string>()
    const inOrg = (orgId: Ids.OrgId, id: SubscriptionId) => {
      const found = subscriptions.get(id)
      return found !== undefined && found.subscription.orgId === orgId ? found : undefined
    }
    const patchDelivery = (entry: Entry, fields: Partial<typeof Delivery.Type>) => {
      entry.delivery = Delivery.make({ ...entry.delivery, ...fields })
    }

    const fanOut = Effect.fn("WebhookStore.fanOut")(function* (options: { readonly limit: number; readonly at: Date }) {
      const events = yield* outbox.pending({ limit: options.limit })
      for (const event of events) {
        for (const record of subscriptions.values()) {
          const subscription = record.subscription
          const pair = `${subscription.id}\u0000${event.id}`
          if (!wants(subscription, event) || pairs.has(pair)) continue
          const id = yield* Ids.make(DeliveryId)
          pairs.add(pair)
          entries.set(id, {
            event,
            leaseUntil: null,
            delivery: Delivery.make({
              id,
              orgId: event.orgId,
              subscriptionId: subscription.id,
              eventId: event.id,
              eventType: event._tag,
              status: "pending",
              attempts: 0,
              nextAttemptAt: options.at,
              lastStatus: null,
              lastError: null,
              createdAt: options.at,
              updatedAt: options.at,
              deliveredAt: null
            })
          })
        }
      }
      yield* outbox.markDelivered(
        events.map((event) => event.id),
        options.at
      )
      return events.length
    })

    return WebhookStore.of({
      create: (record) =>
        Effect.sync(() => {
          subscriptions.set(record.subscription.id, record)
        }),
      get: (orgId, id) => Effect.sync(() => Option.fromNullable(inOrg(orgId, id))),
      list: (orgId) =>
        Effect.sync(() =>
          [...subscriptions.values()]
            .map((record) => record.subscription)
            .filter((subscription) => subscription.orgId === orgId)
            .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1))
        ),
      update: (orgId, id, patch, at) =>
        Effect.sync(() => {
          const found = inOrg(orgId, id)
          if (found === undefined) return Option.none()
          if (patch.secret !== undefined && found.subscription.secretVersion !== patch.secret.version) {
            return Option.none()
          }
          const subscription = Subscription.make({
            ...found.subscription,
            ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
            ...(patch.url === undefined ? {} : { url: patch.url }),
            ...(patch.eventTypes === undefined ? {} : { eventTypes: patch.eventTypes }),
            updatedAt: at
          })
          subscriptions.set(
            id,
            SubscriptionRecord.make({
              ...found,
              subscription,
              ...(patch.secret === undefined ? {} : { secret: patch.secret.sealed })
            })
          )
          return Option.some(subscription)
        }),
      rotate: (orgId, id, secrets, at) =>
        Effect.sync(() => {
          const found = inOrg(orgId, id)
          if (found === undefined || found.subscription.secretVersion !== secrets.version - 1) return Option.none()
          const subscription = Subscription.make({
            ...found.subscription,
            secretVersion: secrets.version,
            previousSecretUntil: secrets.previousSecretUntil,
            updatedAt: at
          })
          subscriptions.set(
            id,
            SubscriptionRecord.make({ subscription, secret: secrets.secret, previousSecret: secrets.previousSecret })
          )
          return Option.some(subscription)
        }),
      remove: (orgId, id) =>
        Effect.sync(() => {
          if (inOrg(orgId, id) === undefined) return false
          subscriptions.delete(id)
          for (const [deliveryId, entry] of entries) {
            if (entry.delivery.subscriptionId === id) {
              entries.delete(deliveryId)
              pairs.delete(`${id}\u0000${entry.event.id}`)
            }
          }
          return true
        }),
      fanOut: (options) => lock.withPermits(1)(fanOut(options)),
      claim: (options) =>
        lock.withPermits(1)(
          Effect.sync(() => {
            const due = [...entries.values()]
              .filter((entry) => {
                const record = subscriptions.get(entry.delivery.subscriptionId)
                return (
                  record?.subscription.enabled === true &&
                  entry.delivery.status === "pending" &&
                  entry.delivery.nextAttemptAt.getTime() <= options.now.getTime() &&
                  (entry.leaseUntil === null || entry.leaseUntil.getTime() <= options.now.getTime())
                )
              })
              .sort(
                (a, b) =>
                  a.delivery.nextAttemptAt.getTime() - b.delivery.nextAttemptAt.getTime() ||
                  (a.delivery.id < b.delivery.id ? -1 : 1)
              )
              .slice(0, Math.max(0, Math.floor(options.limit)))
            return due.map((entry): Claimed => {
              entry.leaseUntil = options.leaseUntil
              patchDelivery(entry, { attempts: entry.delivery.attempts + 1, updatedAt: options.now })
              return {
                delivery: entry.delivery,
                event: entry.event,
                subscription: subscriptions.get(entry.delivery.subscriptionId)!
              }
            })
          })
        ),
      record: ({ id, attempt, outcome, at }) =>
        Effect.sync(() => {
          const entry = entries.get(id)
          if (entry === undefined || entry.delivery.status !== "pending" || entry.delivery.attempts !== attempt) {
            return false
          }
          entry.leaseUntil = null
          switch (outcome._tag) {
            case "Delivered":
              patchDelivery(entry, {
                status: "delivered",
                lastStatus: outcome.status,
                lastError: null,
                deliveredAt: at,
                updatedAt: at
              })
              break
            case "Retry":
              patchDelivery(entry, {
                lastStatus: outcome.status,
                lastError: outcome.error,
                nextAttemptAt: outcome.nextAttemptAt,
                updatedAt: at
              })
              break
            case "Dead":
              patchDelivery(entry, {
                status: "dead",
                lastStatus: outcome.status,
                lastError: outcome.error,
                updatedAt: at
              })
          }
          return true
        }),
      deliveries: (orgId, query) =>
        Effect.sync(() =>
          [...entries.values()]
            .map((entry) => entry.delivery)
            .filter(
              (delivery) =>
                delivery.orgId === orgId &&
                (query.status === undefined || delivery.status === query.status) &&
                (query.subscriptionId === undefined || delivery.subscriptionId === query.subscriptionId)
            )
            .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
            .slice(0, Math.max(0, Math.floor(query.limit)))
        ),
      prune: ({ deliveredBefore, deadBefore, limit }) =>
        lock.withPermits(1)(
          Effect.sync(() => {
            const expired = (delivery: Delivery) =>
              delivery.status === "delivered"
                ? deliveredBefore !== null &&
                  delivery.deliveredAt !== null &&
                  delivery.deliveredAt.getTime() < deliveredBefore.getTime()
                : delivery.status === "dead" &&
                  deadBefore !== null &&
                  delivery.updatedAt.getTime() < deadBefore.getTime()
            let deleted = 0
            for (const [id, entry] of entries) {
              if (deleted >= Math.max(0, Math.floor(limit))) break
              if (!expired(entry.delivery)) continue
              entries.delete(id)
              pairs.delete(`${entry.delivery.subscriptionId}\u0000${entry.event.id}`)
              deleted++
            }
            return deleted
          })
        ),
      keyIds: Effect.sync(() => [
        ...new Set(
          [...subscriptions.values()].flatMap((record) => [
            record.secret.keyId,
            ...(record.previousSecret === null ? [] : [record.previousSecret.keyId])
          ])
        )
      ]),
      sealedWithOtherKey: (keyId, limit, after) =>
        Effect.sync(() =>
          [...subscriptions.values()]
            .filter(
              (record) =>
                (record.secret.keyId !== keyId ||
                  (record.previousSecret !== null && record.previousSecret.keyId !== keyId)) &&
                (after === undefined || record.subscription.id > after)
            )
            .sort((a, b) =>
              a.subscription.id < b.subscription.id ? -1 : a.subscription.id > b.subscription.id ? 1 : 0
            )
            .slice(0, Math.max(0, Math.floor(limit)))
        ),
      replaceSealedBatch: (replacements) =>
        Effect.sync(() =>
          replacements.flatMap((replacement) => {
            const found = subscriptions.get(replacement.id)
            if (
              found === undefined ||
              found.subscription.secretVersion !== replacement.secretVersion ||
              found.secret.keyId !== replacement.expectedKeyId ||
              (found.previousSecret?.keyId ?? null) !== replacement.expectedPreviousKeyId
            ) {
              return []
            }
            subscriptions.set(
              replacement.id,
              SubscriptionRecord.make({
                ...found,
                secret: replacement.secret,
                previousSecret: replacement.previousSecret
              })
            )
            return [replacement.id]
          })
        ),
      redeliver: (orgId, id, at) =>
        lock.withPermits(1)(
          Effect.sync(() => {
            const entry = entries.get(id)
            if (entry === undefined || entry.delivery.orgId !== orgId || entry.delivery.status !== "dead") {
              return Option.none()
            }
            entry.leaseUntil = null
            patchDelivery(entry, { status: "pending", attempts: 0, nextAttemptAt: at, updatedAt: at })
            return Option.some(entry.delivery)
          })
        )
    })
  })
)
