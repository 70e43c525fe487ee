/**
 * Webhook subscriptions of the current `Actor`'s organization: a target URL, the event types it
 * receives (or all), and a signing secret that Patchbay generates, returns once (on creation and
 * on rotation) and keeps sealed by the keyring. The target URL is sealed with the secret (chat
 * incoming-webhook URLs carry their credential in the path): listings show only its mask, scheme
 * and host and `/…`. Listings never show a secret. Also the dead letters of the organization and
 * their redelivery.
 *
 * @since 0.1.0
 */
import { Actor, DomainError, EgressPolicy, Ids, WebhookStore } from "@patchbay/core"
import { Envelope } from "@patchbay/crypto"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Secrets from "./internal/secrets.js"

/**
 * The target URL cannot be used: not https (http only to an address the default egress policy
 * denies and the host's policy allows, such as loopback in tests), carrying credentials, or too
 * long. `reason` never quotes the URL.
 *
 * @since 0.1.0
 */
export class InvalidWebhookUrl extends Schema.TaggedError<InvalidWebhookUrl>("@patchbay/webhooks/InvalidWebhookUrl")(
  "InvalidWebhookUrl",
  { reason: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return `The webhook URL cannot be used: ${this.reason}`
  }
}

/**
 * No subscription with this id in the actor's organization.
 *
 * @since 0.1.0
 */
export class SubscriptionNotFound extends Schema.TaggedError<SubscriptionNotFound>(
  "@patchbay/webhooks/SubscriptionNotFound"
)("SubscriptionNotFound", { subscriptionId: Schema.String }) {
  readonly retryable = false
  override get message(): string {
    return `Webhook subscription ${this.subscriptionId} not found`
  }
}

/**
 * No dead delivery with this id in the actor's organization.
 *
 * @since 0.1.0
 */
export class DeliveryNotFound extends Schema.TaggedError<DeliveryNotFound>("@patchbay/webhooks/DeliveryNotFound")(
  "DeliveryNotFound",
  { deliveryId: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return `No dead webhook delivery ${this.deliveryId}`
  }
}

/**
 * A subscription with the secret it signs with, shown this once.
 *
 * @since 0.1.0
 */
export interface WithSecret {
  readonly subscription: WebhookStore.Subscription
  readonly secret: Redacted.Redacted<string>
}

/**
 * @since 0.1.0
 */
export interface WebhookSubscriptionsShape {
  /** Creates a subscription, enabled; its secret is returned here and never again. */
  readonly create: (input: {
    readonly url: string
    /** The event types to receive; absent or null for all. */
    readonly eventTypes?: ReadonlyArray<WebhookStore.EventType> | null | undefined
  }) => Effect.Effect<WithSecret, InvalidWebhookUrl | DomainError.StorageError, Actor.Actor>
  /** The organization's subscriptions, without secrets. */
  readonly list: Effect.Effect<ReadonlyArray<WebhookStore.Subscription>, DomainError.StorageError, Actor.Actor>
  /** One subscription, without its secret. */
  readonly get: (
    id: WebhookStore.SubscriptionId
  ) => Effect.Effect<WebhookStore.Subscription, SubscriptionNotFound | DomainError.StorageError, Actor.Actor>
  /** Changes the URL, the event types or the enabled flag. A disabled subscription gets no new deliveries. */
  readonly update: (
    id: WebhookStore.SubscriptionId,
    patch: WebhookStore.SubscriptionPatch
  ) => Effect.Effect<
    WebhookStore.Subscription,
    InvalidWebhookUrl | SubscriptionNotFound | DomainError.StorageError,
    Actor.Actor
  >
  /** Deletes a subscription and its deliveries. */
  readonly remove: (
    id: WebhookStore.SubscriptionId
  ) => Effect.Effect<void, SubscriptionNotFound | DomainError.StorageError, Actor.Actor>
  /**
   * Replaces the secret and returns the new one (once). For `overlap` (default 24 hours) each
   * request is signed with both secrets, so receivers can switch without refusing a delivery.
   */
  readonly rotateSecret: (
    id: WebhookStore.SubscriptionId,
    options?: { readonly overlap?: Duration.DurationInput | undefined }
  ) => Effect.Effect<WithSecret, SubscriptionNotFound | DomainError.StorageError, Actor.Actor>
  /** The organization's deliveries, newest first (`status: "dead"` for the dead letters). */
  readonly deliveries: (query?: {
    readonly status?: WebhookStore.DeliveryStatus | undefined
    readonly subscriptionId?: WebhookStore.SubscriptionId | undefined
    readonly limit?: number | undefined
  }) => Effect.Effect<ReadonlyArray<WebhookStore.Delivery>, DomainError.StorageError, Actor.Actor>
  /** Sends a dead delivery again, with the same delivery id and a fresh count of attempts. */
  readonly redeliver: (
    id: WebhookStore.DeliveryId
  ) => Effect.Effect<WebhookStore.Delivery, DeliveryNotFound | DomainError.StorageError, Actor.Actor>
}

/**
 * Webhook subscriptions and their dead letters.
 *
 * @since 0.1.0
 */
export class WebhookSubscriptions extends Context.Tag("@patchbay/webhooks/WebhookSubscriptions")<
  WebhookSubscriptions,
  WebhookSubscriptionsShape
>() {}

const publicVerdict = EgressPolicy.verdictOf({})

/**
 * Checks a target URL: https; or http to an address that only the host's policy opens (loopback,
 * a private range): plain http never goes to a public address.
 */
const checkUrl = (policy: EgressPolicy.EgressPolicyShape, text: string): Effect.Effect<string, InvalidWebhookUrl> =>
  Effect.gen(function* () {
    if (text.length > 2048) return yield* new InvalidWebhookUrl({ reason: "longer than 2048 characters" })
    const url = URL.canParse(text) ? new URL(text) : undefined
    if (url === undefined) return yield* new InvalidWebhookUrl({ reason: "not an absolute URL" })
    if (url.username !== "" || url.password !== "") {
      return yield* new InvalidWebhookUrl({ reason: "credentials in the URL are not allowed" })
    }
    if (url.hash !== "") return yield* new InvalidWebhookUrl({ reason: "a fragment is not allowed" })
    if (url.protocol === "https:") return url.toString()
    if (url.protocol !== "http:") return yield* new InvalidWebhookUrl({ reason: "the scheme must be https" })
    const address = yield* policy.check(url.hostname).pipe(
      Effect.mapError(
        (error) =>
          new InvalidWebhookUrl({
            reason: `http is allowed only to addresses the egress policy opens (${error._tag})`
          })
      )
    )
    if (publicVerdict(address)._tag === "Allowed") {
      return yield* new InvalidWebhookUrl({ reason: "http is not allowed to a public address: use https" })
    }
    return url.toString()
  })

const now = Effect.map(
  Effect.clockWith((clock) => clock.currentTimeMillis),
  (millis) => new Date(millis)
)

/**
 * The service over the `WebhookStore`, sealing secrets with the `Envelope` and checking http targets
 * with the `EgressPolicy`.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<
  WebhookSubscriptions,
  never,
  WebhookStore.WebhookStore | Envelope.Envelope | EgressPolicy.EgressPolicy
> = Layer.effect(
  WebhookSubscriptions,
  Effect.gen(function* () {
    const store = yield* WebhookStore.WebhookStore
    const envelope = yield* Envelope.Envelope
    const policy = yield* EgressPolicy.EgressPolicy
    const orgId = Effect.map(Actor.Actor, (actor) => actor.orgId)
    const notFound = (id: string) => new SubscriptionNotFound({ subscriptionId: id })
    const corrupted = (operation: string) => (error: DomainError.CredentialCorrupted) =>
      new DomainError.StorageError({
        operation: `WebhookSubscriptions.${operation}`,
        detail: `the subscription's sealed secret does not open: ${error.detail}`
      })

    const create = Effect.fn("WebhookSubscriptions.create")(function* (input: {
      readonly url: string
      readonly eventTypes?: ReadonlyArray<WebhookStore.EventType> | null | undefined
    }) {
      const url = yield* checkUrl(policy, input.url)
      const eventTypes =
        input.eventTypes === undefined || input.eventTypes === null ? null : [...new Set(input.eventTypes)]
      const at = yield* now
      const subscription = WebhookStore.Subscription.make({
        id: yield* Ids.make(WebhookStore.SubscriptionId),
        orgId: yield* orgId,
        url: Secrets.maskUrl(url),
        eventTypes,
        enabled: true,
        secretVersion: 1,
        previousSecretUntil: null,
        createdAt: at,
        updatedAt: at
      })
      const secret = Secrets.generate()
      const sealed = yield* Secrets.seal(envelope, subscription, 1, secret, Redacted.make(url))
      yield* store.create(WebhookStore.SubscriptionRecord.make({ subscription, secret: sealed, previousSecret: null }))
      return { subscription, secret }
    })

    const get = Effect.fn("WebhookSubscriptions.get")(function* (id: WebhookStore.SubscriptionId) {
      const found = yield* store.get(yield* orgId, id)
      if (Option.isNone(found)) return yield* notFound(id)
      return found.value.subscription
    })

    const update = Effect.fn("WebhookSubscriptions.update")(function* (
      id: WebhookStore.SubscriptionId,
      patch: WebhookStore.SubscriptionPatch
    ) {
      const org = yield* orgId
      const fields = { enabled: patch.enabled, eventTypes: patch.eventTypes }
      if (patch.url === undefined) {
        const updated = yield* store.update(org, id, fields, yield* now)
        if (Option.isNone(updated)) return yield* notFound(id)
        return updated.value
      }
      const url = yield* checkUrl(policy, patch.url)
      // The new URL is sealed with the current secret, fenced by its version: a rotation in
      // between makes the write miss, and it is done again on the rotated secret.
      for (let tries = 0; ; tries++) {
        const found = yield* store.get(org, id)
        if (Option.isNone(found)) return yield* notFound(id)
        const record = found.value
        const version = record.subscription.secretVersion
        const { secret } = yield* Secrets.openCurrent(envelope, record).pipe(Effect.mapError(corrupted("update")))
        const sealed = yield* Secrets.seal(envelope, record.subscription, version, secret, Redacted.make(url))
        const updated = yield* store.update(
          org,
          id,
          { ...fields, url: Secrets.maskUrl(url), secret: { version, sealed } },
          yield* now
        )
        if (Option.isSome(updated)) return updated.value
        if (tries >= 2) return yield* notFound(id)
      }
    })

    const remove = Effect.fn("WebhookSubscriptions.remove")(function* (id: WebhookStore.SubscriptionId) {
      if (!(yield* store.remove(yield* orgId, id))) return yield* notFound(id)
    })

    const rotateSecret = Effect.fn("WebhookSubscriptions.rotateSecret")(function* (
      id: WebhookStore.SubscriptionId,
      options?: { readonly overlap?: Duration.DurationInput | undefined }
    ) {
      const org = yield* orgId
      const found = yield* store.get(org, id)
      if (Option.isNone(found)) return yield* notFound(id)
      const current = found.value.subscription
      const version = current.secretVersion + 1
      const { url } = yield* Secrets.openCurrent(envelope, found.value).pipe(Effect.mapError(corrupted("rotateSecret")))
      const secret = Secrets.generate()
      const sealed = yield* Secrets.seal(envelope, current, version, secret, url)
      const at = yield* now
      const until = new Date(at.getTime() + Duration.toMillis(options?.overlap ?? "24 hours"))
      const rotated = yield* store.rotate(
        org,
        id,
        { version, secret: sealed, previousSecret: found.value.secret, previousSecretUntil: until },
        at
      )
      // A concurrent rotation won: its secret is the one in force, and this one was never stored.
      if (Option.isNone(rotated)) return yield* notFound(id)
      return { subscription: rotated.value, secret }
    })

    const redeliver = Effect.fn("WebhookSubscriptions.redeliver")(function* (id: WebhookStore.DeliveryId) {
      const delivery = yield* store.redeliver(yield* orgId, id, yield* now)
      if (Option.isNone(delivery)) return yield* new DeliveryNotFound({ deliveryId: id })
      return delivery.value
    })

    return WebhookSubscriptions.of({
      create,
      list: Effect.flatMap(orgId, store.list).pipe(Effect.withSpan("WebhookSubscriptions.list")),
      get,
      update,
      remove,
      rotateSecret,
      deliveries: (query) =>
        Effect.flatMap(orgId, (org) =>
          store.deliveries(org, {
            status: query?.status,
            subscriptionId: query?.subscriptionId,
            limit: Math.min(1000, Math.max(1, Math.floor(query?.limit ?? 100)))
          })
        ).pipe(Effect.withSpan("WebhookSubscriptions.deliveries")),
      redeliver
    })
  })
)
