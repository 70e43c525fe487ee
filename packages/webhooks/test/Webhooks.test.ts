/**
 * Webhook delivery on the memory layers, to node:http receivers on 127.0.0.1: signatures verify,
 * retries reach a receiver that recovers, dead letters and redelivery, egress denial, rotation,
 * and no secret in any body or listing.
 */
import { createServer } from "node:http"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import { EgressPolicy, Ids, LifecycleEvents, WebhookStore } from "@patchbay/core"
import { Credentials } from "@patchbay/credentials"
import { type Duration, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import { WebhookReceiver, WebhookSignature, WebhookSubscriptions, WebhookWorker } from "../src/index.js"
import { as, configuredHost, connector, lifeOfAnInstance, password } from "./support/fixtures.js"
import { Receiver } from "./support/receiver.js"

const orgA = "0190a000-0000-7000-8000-00000000000a"
const orgB = "0190b000-0000-7000-8000-00000000000b"

/** Everything in memory; http to loopback allowed, as a host's tests would. */
const stackWith = (policy: Layer.Layer<EgressPolicy.EgressPolicy>) =>
  WebhookSubscriptions.layer.pipe(
    Layer.provideMerge(WebhookStore.layerMemory),
    Layer.provideMerge(policy),
    Layer.provideMerge(Credentials.layerMemory([connector]))
  )
const stack = stackWith(EgressPolicy.layer({ allowLoopback: true }))

/** A policy that opens the private ranges and resolves every name to `address`. */
const resolvingTo = (address: string) =>
  EgressPolicy.layer({ allowPrivate: true, resolve: () => Effect.succeed([address]) })

/** Retries at once: the tests drive attempts by draining, not by waiting. */
const now = { backoffBase: "0 millis" } as const

const subscriptions = WebhookSubscriptions.WebhookSubscriptions
const decodeEvent = Schema.decodeUnknownSync(Schema.parseJson(LifecycleEvents.LifecycleEvent))

const subscribe = (receiver: Receiver, eventTypes?: ReadonlyArray<WebhookStore.EventType>) =>
  Effect.gen(function* () {
    const created = yield* Effect.flatMap(subscriptions, (s) => s.create({ url: receiver.url, eventTypes }))
    receiver.secrets = [created.secret]
    return created
  }).pipe(as(orgA))

const deliveries = (query?: Parameters<WebhookSubscriptions.WebhookSubscriptionsShape["deliveries"]>[0]) =>
  Effect.flatMap(subscriptions, (s) => s.deliveries(query)).pipe(as(orgA))

describe("webhook delivery (memory)", () => {
  it.live("a receiver verifies every delivery; each is acknowledged once; no body carries a secret", () =>
    Effect.gen(function* () {
      const receiver = yield* Receiver.make()
      const { subscription, secret } = yield* subscribe(receiver)
      yield* lifeOfAnInstance(orgA, "primary")
      yield* lifeOfAnInstance(orgB, "elsewhere")
      assert.strictEqual(yield* WebhookWorker.drain(now), 3)

      assert.deepStrictEqual(
        receiver.received.map((r) => [r.eventType, r.verified, r.status]),
        [
          ["instance.created", 0, 204],
          ["credential.stored", 0, 204],
          ["credential.revoked", 0, 204]
        ]
      )
      const rows = yield* deliveries()
      assert.deepStrictEqual(
        [...receiver.acknowledged.entries()].sort(),
        rows.map((d) => [d.id, 1] as [string, number]).sort()
      )
      for (const row of rows) {
        assert.strictEqual(row.status, "delivered")
        assert.strictEqual(row.attempts, 1)
        assert.strictEqual(row.lastStatus, 204)
        assert.strictEqual(row.subscriptionId, subscription.id)
      }
      // The body is the encoded event, and the delivery row names it.
      for (const r of receiver.received) {
        const event = decodeEvent(r.body)
        assert.strictEqual(event._tag, r.eventType)
        assert.strictEqual(event.orgId, orgA)
        assert.strictEqual(rows.find((d) => d.id === r.deliveryId)?.eventId, event.id)
      }
      // No secret anywhere a receiver or a listing shows (the receiver's answers quote the secret:
      // the worker never reads them).
      const shown = JSON.stringify([
        receiver.received,
        rows,
        yield* Effect.flatMap(subscriptions, (s) => s.list).pipe(as(orgA))
      ])
      for (const value of [Redacted.value(secret), password, configuredHost]) assert.notInclude(shown, value)

      // What the receiver would refuse.
      const first = receiver.received[0]!
      const refused = (options: Partial<Parameters<typeof WebhookSignature.verify>[0]>) =>
        Effect.flip(
          WebhookSignature.verify({ secret, header: first.signature, body: first.body, now: new Date(), ...options })
        )
      assert.strictEqual((yield* refused({ body: first.body.replace(orgA, orgB) }))._tag, "SignatureMismatch")
      assert.strictEqual((yield* refused({ secret: Redacted.make("whsec_wrong") }))._tag, "SignatureMismatch")
      assert.strictEqual((yield* refused({ now: new Date(Date.now() + 600_000) }))._tag, "SignatureExpired")

      // Nothing is sent twice.
      assert.strictEqual(yield* WebhookWorker.drain(now), 0)
      assert.strictEqual(receiver.received.length, 3)
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  it.live("a receiver that fails and recovers gets every event, with one 2xx per delivery id", () =>
    Effect.gen(function* () {
      const flaky = yield* Receiver.make((_, seen) => (seen < 2 ? 500 : 200))
      const picky = yield* Receiver.make()
      yield* subscribe(flaky)
      yield* subscribe(picky, ["credential.stored"])
      yield* lifeOfAnInstance(orgA, "flaky")
      yield* WebhookWorker.drain({ ...now, maxAttempts: 5 })

      const ids = [...new Set(flaky.received.map((r) => r.deliveryId))]
      assert.strictEqual(ids.length, 3)
      for (const id of ids) {
        // The same delivery id on every attempt; the first two refused.
        assert.deepStrictEqual(
          flaky.received.filter((r) => r.deliveryId === id).map((r) => r.status),
          [500, 500, 200]
        )
        assert.strictEqual(flaky.acknowledged.get(id), 1)
      }
      assert.deepStrictEqual(
        picky.received.map((r) => [r.eventType, r.status]),
        [["credential.stored", 204]]
      )
      const rows = yield* deliveries()
      assert.strictEqual(rows.length, 4)
      for (const row of rows) assert.strictEqual(row.status, "delivered")
      assert.deepStrictEqual(rows.map((row) => row.attempts).sort(), [1, 3, 3, 3])
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  it.live("a failed attempt is retried after an exponential, jittered delay", () =>
    Effect.gen(function* () {
      const down = yield* Receiver.make(() => 503)
      yield* subscribe(down, ["instance.created"])
      yield* lifeOfAnInstance(orgA, "backoff")
      assert.strictEqual(yield* WebhookWorker.drain({ backoffBase: "10 seconds" }), 1)
      const [row] = yield* deliveries()
      assert.strictEqual(row!.status, "pending")
      assert.strictEqual(row!.attempts, 1)
      assert.strictEqual(row!.lastStatus, 503)
      assert.strictEqual(row!.lastError, "http_status")
      const delay = row!.nextAttemptAt.getTime() - row!.updatedAt.getTime()
      assert.isAtLeast(delay, 5_000)
      assert.isAtMost(delay, 10_000)
      // Not due yet: nothing is claimed.
      assert.strictEqual(yield* WebhookWorker.drain({ backoffBase: "10 seconds" }), 0)
      assert.strictEqual(down.received.length, 1)
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  it.live("after maxAttempts a delivery is dead; redeliver sends it again with the same id", () =>
    Effect.gen(function* () {
      const receiver = yield* Receiver.make(() => 500)
      yield* subscribe(receiver, ["instance.created"])
      yield* lifeOfAnInstance(orgA, "doomed")
      yield* WebhookWorker.drain({ ...now, maxAttempts: 3 })
      const [dead] = yield* deliveries({ status: "dead" })
      assert.strictEqual(dead!.attempts, 3)
      assert.strictEqual(dead!.lastStatus, 500)
      assert.strictEqual(dead!.lastError, "http_status")
      assert.deepStrictEqual(
        receiver.received.map((r) => [r.deliveryId, r.status]),
        [
          [dead!.id, 500],
          [dead!.id, 500],
          [dead!.id, 500]
        ]
      )
      receiver.answer = () => 200
      const again = yield* Effect.flatMap(subscriptions, (s) => s.redeliver(dead!.id)).pipe(as(orgA))
      assert.strictEqual(again.status, "pending")
      assert.strictEqual(again.attempts, 0)
      yield* WebhookWorker.drain({ ...now, maxAttempts: 3 })
      assert.strictEqual(receiver.acknowledged.get(dead!.id), 1)
      assert.deepStrictEqual(yield* deliveries({ status: "dead" }), [])
      // Only a dead delivery can be redelivered, and only in its organization.
      const delivered = yield* Effect.flip(Effect.flatMap(subscriptions, (s) => s.redeliver(dead!.id)).pipe(as(orgA)))
      assert.strictEqual(delivered._tag, "DeliveryNotFound")
      const foreign = yield* Effect.flip(Effect.flatMap(subscriptions, (s) => s.redeliver(dead!.id)).pipe(as(orgB)))
      assert.strictEqual(foreign._tag, "DeliveryNotFound")
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  it.live("a target the egress policy denies never receives a request; its delivery is dead at once", () =>
    Effect.gen(function* () {
      const receiver = yield* Receiver.make()
      yield* subscribe(receiver)
      yield* Effect.flatMap(subscriptions, (s) => s.create({ url: "https://169.254.169.254/latest/meta-data" })).pipe(
        as(orgA)
      )
      yield* lifeOfAnInstance(orgA, "denied")
      // The host's policy no longer opens loopback.
      yield* WebhookWorker.drain({ ...now, maxAttempts: 5 }).pipe(Effect.provide(EgressPolicy.layer({})))
      assert.strictEqual(receiver.received.length, 0)
      const rows = yield* deliveries()
      assert.strictEqual(rows.length, 6)
      for (const row of rows) {
        assert.strictEqual(row.status, "dead")
        assert.strictEqual(row.attempts, 1)
        assert.strictEqual(row.lastError, "egress_denied")
        assert.isNull(row.lastStatus)
      }
      // With loopback opened again, the same deliveries reach the receiver once redelivered.
      for (const row of rows) yield* Effect.flatMap(subscriptions, (s) => s.redeliver(row.id)).pipe(as(orgA))
      yield* WebhookWorker.drain({ ...now, maxAttempts: 1 })
      assert.strictEqual(receiver.acknowledged.size, 3)
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  it.live("an http target whose name now resolves to a public address is not sent to", () =>
    Effect.gen(function* () {
      yield* Effect.flatMap(subscriptions, (s) => s.create({ url: "http://hooks.internal/patchbay" })).pipe(as(orgA))
      yield* lifeOfAnInstance(orgA, "rebound")
      yield* WebhookWorker.drain(now).pipe(Effect.provide(resolvingTo("93.184.216.34")))
      const rows = yield* deliveries()
      assert.deepStrictEqual(
        rows.map((row) => [row.status, row.attempts, row.lastError]),
        Array.from({ length: 3 }, () => ["dead", 1, "insecure_http"])
      )
    }).pipe(Effect.scoped, Effect.provide(stackWith(resolvingTo("10.20.30.40"))))
  )

  it.effect("a target URL must be https, or http to an address only the host's policy opens", () =>
    Effect.gen(function* () {
      const service = yield* subscriptions
      for (const url of [
        "http://93.184.216.34/hooks",
        "ftp://127.0.0.1/hooks",
        "https://user:pass@hooks.example.com/",
        "https://hooks.example.com/#fragment",
        "not a url",
        `https://hooks.example.com/${"a".repeat(2100)}`
      ]) {
        const refused = yield* Effect.flip(service.create({ url }))
        assert.strictEqual(refused._tag, "InvalidWebhookUrl", url.slice(0, 40))
        assert.notInclude(refused.message, "pass")
      }
      const created = yield* service.create({ url: "http://127.0.0.1:9/hooks" })
      assert.strictEqual(created.subscription.url, "http://127.0.0.1:9/…")
      const https = yield* service.create({
        url: "https://hooks.example.com/patchbay",
        eventTypes: ["instance.created"]
      })
      assert.deepStrictEqual(https.subscription.eventTypes, ["instance.created"])
    }).pipe(as(orgA), Effect.provide(stack))
  )

  it.live("the target URL is sealed with the secret: listings show its mask, deliveries go to the full URL", () =>
    Effect.gen(function* () {
      const receiver = yield* Receiver.make()
      const origin = new URL(receiver.url).origin
      const first = "/services/T0001/B0001/first-url-credential"
      const second = "/services/T0001/B0002/second-url-credential"
      const service = yield* subscriptions
      const created = yield* service
        .create({ url: `${origin}${first}`, eventTypes: ["instance.created"] })
        .pipe(as(orgA))
      const id = created.subscription.id
      receiver.secrets = [created.secret]
      assert.strictEqual(created.subscription.url, `${origin}/…`)
      yield* lifeOfAnInstance(orgA, "chat")
      yield* WebhookWorker.drain(now)

      // A rotation keeps the URL; an update seals the new one with the rotated secret.
      const rotated = yield* service.rotateSecret(id, { overlap: "0 millis" }).pipe(as(orgA))
      receiver.secrets = [rotated.secret]
      const updated = yield* service.update(id, { url: `${origin}${second}`, enabled: true }).pipe(as(orgA))
      assert.strictEqual(updated.url, `${origin}/…`)
      assert.strictEqual(updated.secretVersion, 2)
      yield* lifeOfAnInstance(orgA, "chat-2")
      yield* WebhookWorker.drain(now)
      assert.deepStrictEqual(
        receiver.received.map((r) => [r.path, r.verified, r.status]),
        [
          [first, 0, 204],
          [second, 0, 204]
        ]
      )

      const record = Option.getOrThrow(
        yield* Effect.flatMap(WebhookStore.WebhookStore, (store) => store.get(Ids.OrgId.make(orgA), id))
      )
      const shown = JSON.stringify([
        yield* service.list.pipe(as(orgA)),
        yield* service.get(id).pipe(as(orgA)),
        yield* deliveries(),
        record.subscription,
        Buffer.from(record.secret.ciphertext).toString("latin1")
      ])
      for (const credential of ["first-url-credential", "second-url-credential"]) assert.notInclude(shown, credential)
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  it.live("a rotated secret: both secrets sign during the overlap, then only the new one", () =>
    Effect.gen(function* () {
      const receiver = yield* Receiver.make()
      const { subscription, secret: old } = yield* subscribe(receiver, ["instance.created"])
      const rotate = (overlap: Duration.DurationInput) =>
        Effect.flatMap(subscriptions, (s) => s.rotateSecret(subscription.id, { overlap })).pipe(as(orgA))
      const rotated = yield* rotate("1 hour")
      assert.strictEqual(rotated.subscription.secretVersion, 2)
      assert.notStrictEqual(Redacted.value(rotated.secret), Redacted.value(old))
      receiver.secrets = [old, rotated.secret]
      yield* lifeOfAnInstance(orgA, "rotating")
      yield* WebhookWorker.drain(now)
      const first = receiver.received[0]!
      assert.strictEqual(first.signature?.split(",v1=").length, 3)
      yield* WebhookSignature.verify({ secret: old, header: first.signature, body: first.body, now: new Date() })
      yield* WebhookSignature.verify({
        secret: rotated.secret,
        header: first.signature,
        body: first.body,
        now: new Date()
      })

      const again = yield* rotate("0 millis")
      receiver.secrets = [rotated.secret, again.secret]
      yield* lifeOfAnInstance(orgA, "rotated")
      yield* WebhookWorker.drain(now)
      const second = receiver.received[1]!
      assert.strictEqual(second.signature?.split(",v1=").length, 2)
      assert.strictEqual(second.verified, 1)
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  it.live("a disabled subscription gets no deliveries; a deleted one loses its deliveries", () =>
    Effect.gen(function* () {
      const receiver = yield* Receiver.make(() => 500)
      const { subscription } = yield* subscribe(receiver, ["instance.created"])
      const service = yield* subscriptions
      yield* service.update(subscription.id, { enabled: false }).pipe(as(orgA))
      yield* lifeOfAnInstance(orgA, "unheard")
      yield* WebhookWorker.drain(now)
      assert.strictEqual(receiver.received.length, 0)
      assert.deepStrictEqual(yield* deliveries(), [])
      const enabled = yield* service.update(subscription.id, { enabled: true }).pipe(as(orgA))
      assert.isTrue(enabled.enabled)
      yield* lifeOfAnInstance(orgA, "heard")
      yield* WebhookWorker.drain({ backoffBase: "1 hour" })
      assert.strictEqual(receiver.received.length, 1)
      yield* service.remove(subscription.id).pipe(as(orgA))
      assert.deepStrictEqual(yield* deliveries(), [])
      const gone = yield* Effect.flip(service.get(subscription.id).pipe(as(orgA)))
      assert.strictEqual(gone._tag, "SubscriptionNotFound")
      // Another organization cannot see or delete it.
      const other = yield* service.create({ url: receiver.url }).pipe(as(orgB))
      assert.strictEqual(
        (yield* Effect.flip(service.remove(other.subscription.id).pipe(as(orgA))))._tag,
        "SubscriptionNotFound"
      )
    }).pipe(Effect.scoped, Effect.provide(stack))
  )

  it.effect(
    "a lease keeps a claimed delivery from other claims until it runs out; a stale attempt is not recorded",
    () =>
      Effect.gen(function* () {
        const store = yield* WebhookStore.WebhookStore
        yield* Effect.flatMap(subscriptions, (s) => s.create({ url: "https://hooks.example.com/" })).pipe(as(orgA))
        yield* lifeOfAnInstance(orgA, "leased")
        const t = new Date("2030-01-01T00:00:00Z")
        const plus = (ms: number) => new Date(t.getTime() + ms)
        assert.strictEqual(yield* store.fanOut({ limit: 10, at: t }), 3)
        assert.strictEqual(yield* store.fanOut({ limit: 10, at: t }), 0)
        const [first] = yield* store.claim({ limit: 1, now: t, leaseUntil: plus(60_000) })
        assert.strictEqual(first!.delivery.attempts, 1)
        const others = yield* store.claim({ limit: 10, now: plus(30_000), leaseUntil: plus(90_000) })
        assert.notInclude(
          others.map((c) => c.delivery.id),
          first!.delivery.id
        )
        // The first process died: its lease runs out and another process takes the delivery.
        const [retaken] = yield* store.claim({ limit: 10, now: plus(61_000), leaseUntil: plus(121_000) })
        assert.strictEqual(retaken!.delivery.id, first!.delivery.id)
        assert.strictEqual(retaken!.delivery.attempts, 2)
        const delivered = { _tag: "Delivered", status: 200 } as const
        assert.isFalse(
          yield* store.record({ id: first!.delivery.id, attempt: 1, outcome: delivered, at: plus(62_000) })
        )
        assert.isTrue(yield* store.record({ id: first!.delivery.id, attempt: 2, outcome: delivered, at: plus(62_000) }))
        const found = yield* store.get(Ids.OrgId.make(orgA), first!.subscription.subscription.id)
        assert.isTrue(Option.isSome(found))
      }).pipe(Effect.provide(stack))
  )

  it.live("an @effect/platform receiver verifies deliveries with WebhookReceiver and refuses a forged one", () =>
    Effect.gen(function* () {
      const got: Array<WebhookReceiver.Delivery> = []
      const refused: Array<string> = []
      let secret = Redacted.make("")
      yield* HttpServer.serveEffect(
        Effect.gen(function* () {
          const verified = yield* Effect.either(WebhookReceiver.verify({ secret }))
          if (Either.isLeft(verified)) {
            refused.push(verified.left._tag)
            return HttpServerResponse.empty({ status: 401 })
          }
          got.push(verified.right)
          return HttpServerResponse.empty({ status: 204 })
        })
      )
      const url = `${yield* HttpServer.addressFormattedWith(Effect.succeed)}/hooks`
      const created = yield* Effect.flatMap(subscriptions, (s) => s.create({ url })).pipe(as(orgA))
      secret = created.secret
      yield* lifeOfAnInstance(orgA, "platform")
      yield* WebhookWorker.drain(now)
      assert.deepStrictEqual(
        got.map((d) => d.event._tag),
        ["instance.created", "credential.stored", "credential.revoked"]
      )
      const rows = yield* deliveries()
      assert.deepStrictEqual(got.map((d) => d.deliveryId).sort(), rows.map((d) => d.id).sort())
      assert.deepStrictEqual(refused, [])
      // A request signed with another secret is refused.
      const body = JSON.stringify({ forged: true })
      const forged = yield* Effect.promise(() =>
        fetch(url, {
          method: "POST",
          body,
          headers: {
            "Patchbay-Delivery": "forged",
            "Patchbay-Signature": WebhookSignature.sign({
              secrets: [Redacted.make("whsec_guess")],
              timestamp: Math.floor(Date.now() / 1000),
              body
            })
          }
        })
      )
      assert.strictEqual(forged.status, 401)
      assert.deepStrictEqual(refused, ["SignatureMismatch"])
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.merge(stack, NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })))
    )
  )
})
