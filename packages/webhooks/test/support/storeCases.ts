/**
 * The `WebhookStore` contract: the cases every store passes (memory, PostgreSQL, PGlite). Each case
 * provides `layer` itself, so it starts on an empty store.
 */
import { assert, it } from "@effect/vitest"
import { Credential, Ids, LifecycleEvents, WebhookStore } from "@patchbay/core"
import { Effect, type Layer, Option } from "effect"

const orgA = Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a")
const orgB = Ids.OrgId.make("0190b000-0000-7000-8000-00000000000b")
const t = new Date("2030-01-01T00:00:00.000Z")
const plus = (ms: number) => new Date(t.getTime() + ms)
const sealed = (n: number) =>
  new Credential.SealedSecret({
    keyId: "k1",
    wrappedKey: new Uint8Array([n, 1]),
    nonce: new Uint8Array([n, 2]),
    ciphertext: new Uint8Array([n, 3])
  })

const subscription = (id: string, orgId: Ids.OrgId, eventTypes: ReadonlyArray<WebhookStore.EventType> | null) =>
  WebhookStore.SubscriptionRecord.make({
    subscription: WebhookStore.Subscription.make({
      id: WebhookStore.SubscriptionId.make(id),
      orgId,
      url: "https://hooks.example.com/patchbay",
      eventTypes,
      enabled: true,
      secretVersion: 1,
      previousSecretUntil: null,
      createdAt: t,
      updatedAt: t
    }),
    secret: sealed(1),
    previousSecret: null
  })

const event = (
  n: number,
  orgId: Ids.OrgId,
  tag: "instance.created" | "instance.deleted"
): LifecycleEvents.LifecycleEvent => {
  const fields = {
    id: LifecycleEvents.LifecycleEventId.make(`0190a000-0000-7000-8000-0000000001${String(n).padStart(2, "0")}`),
    orgId,
    instanceId: Ids.InstanceId.make("0190a000-0000-7000-8000-0000000000c1"),
    connectorKey: "hooked-db",
    at: t
  }
  return tag === "instance.created"
    ? LifecycleEvents.InstanceCreated.make(fields)
    : LifecycleEvents.InstanceDeleted.make(fields)
}

/** Registers the contract's cases, each on a fresh `layer`. */
export const storeCases = (
  layer: Layer.Layer<WebhookStore.WebhookStore | LifecycleEvents.EventOutbox, unknown>
): void => {
  it.effect("fans out once per (subscription, event), claims under a lease, records, redelivers", () =>
    Effect.gen(function* () {
      const store = yield* WebhookStore.WebhookStore
      const outbox = yield* LifecycleEvents.EventOutbox
      const all = subscription("0190a000-0000-7000-8000-0000000000f1", orgA, null)
      const created = subscription("0190a000-0000-7000-8000-0000000000f2", orgA, ["instance.created"])
      const foreign = subscription("0190a000-0000-7000-8000-0000000000f3", orgB, null)
      for (const record of [all, created, foreign]) yield* store.create(record)
      yield* outbox.append(event(1, orgA, "instance.created"))
      yield* outbox.append(event(2, orgA, "instance.deleted"))

      assert.strictEqual(yield* store.fanOut({ limit: 1, at: t }), 1)
      assert.strictEqual(yield* store.fanOut({ limit: 10, at: t }), 1)
      assert.strictEqual(yield* store.fanOut({ limit: 10, at: t }), 0)
      assert.deepStrictEqual(yield* outbox.pending({ limit: 10 }), [])
      const rows = yield* store.deliveries(orgA, { limit: 10 })
      assert.deepStrictEqual(rows.map((d) => `${d.subscriptionId.slice(-2)} ${d.eventType}`).sort(), [
        "f1 instance.created",
        "f1 instance.deleted",
        "f2 instance.created"
      ])
      assert.deepStrictEqual(yield* store.deliveries(orgB, { limit: 10 }), [])

      const claimed = yield* store.claim({ limit: 2, now: t, leaseUntil: plus(60_000) })
      assert.strictEqual(claimed.length, 2)
      for (const c of claimed) {
        assert.strictEqual(c.delivery.attempts, 1)
        assert.strictEqual(c.event.id, c.delivery.eventId)
        assert.deepStrictEqual([...c.subscription.secret.ciphertext], [1, 3])
      }
      const [rest] = yield* store.claim({ limit: 10, now: t, leaseUntil: plus(60_000) })
      assert.notInclude(
        claimed.map((c) => c.delivery.id),
        rest!.delivery.id
      )
      assert.deepStrictEqual(yield* store.claim({ limit: 10, now: plus(1_000), leaseUntil: plus(61_000) }), [])

      const [a, b] = claimed
      assert.isTrue(
        yield* store.record({
          id: a!.delivery.id,
          attempt: 1,
          outcome: { _tag: "Delivered", status: 204 },
          at: plus(1)
        })
      )
      assert.isFalse(
        yield* store.record({
          id: a!.delivery.id,
          attempt: 1,
          outcome: { _tag: "Delivered", status: 204 },
          at: plus(2)
        })
      )
      assert.isTrue(
        yield* store.record({
          id: b!.delivery.id,
          attempt: 1,
          outcome: { _tag: "Retry", status: 503, error: "http_status", nextAttemptAt: plus(5_000) },
          at: plus(1)
        })
      )
      assert.isTrue(
        yield* store.record({
          id: rest!.delivery.id,
          attempt: 1,
          outcome: { _tag: "Dead", status: null, error: "egress_denied" },
          at: plus(1)
        })
      )
      // The retry is due at its time, not before.
      assert.deepStrictEqual(yield* store.claim({ limit: 10, now: plus(4_999), leaseUntil: plus(60_000) }), [])
      const [retried] = yield* store.claim({ limit: 10, now: plus(5_000), leaseUntil: plus(65_000) })
      assert.strictEqual(retried!.delivery.id, b!.delivery.id)
      assert.strictEqual(retried!.delivery.attempts, 2)
      assert.strictEqual(retried!.delivery.lastStatus, 503)

      const [dead] = yield* store.deliveries(orgA, { status: "dead", limit: 10 })
      assert.strictEqual(dead!.id, rest!.delivery.id)
      assert.strictEqual(dead!.lastError, "egress_denied")
      assert.isTrue(Option.isNone(yield* store.redeliver(orgB, dead!.id, plus(10))))
      assert.isTrue(Option.isNone(yield* store.redeliver(orgA, a!.delivery.id, plus(10))))
      const again = yield* store.redeliver(orgA, dead!.id, plus(10))
      assert.strictEqual(Option.getOrThrow(again).status, "pending")
      assert.strictEqual(Option.getOrThrow(again).attempts, 0)
      const [reclaimed] = yield* store.claim({ limit: 10, now: plus(10), leaseUntil: plus(70_000) })
      assert.strictEqual(reclaimed!.delivery.id, dead!.id)
      assert.strictEqual(reclaimed!.delivery.attempts, 1)
    }).pipe(Effect.provide(layer))
  )

  it.effect("subscriptions: listing per organization, update, rotation fenced by version, disabling, removal", () =>
    Effect.gen(function* () {
      const store = yield* WebhookStore.WebhookStore
      const outbox = yield* LifecycleEvents.EventOutbox
      const record = subscription("0190a000-0000-7000-8000-0000000000e1", orgA, null)
      const id = record.subscription.id
      yield* store.create(record)
      assert.deepStrictEqual(
        (yield* store.list(orgA)).map((s) => s.id),
        [id]
      )
      assert.deepStrictEqual(yield* store.list(orgB), [])
      assert.isTrue(Option.isNone(yield* store.get(orgB, id)))

      const updated = yield* store.update(
        orgA,
        id,
        { eventTypes: ["instance.deleted"], url: "https://b.example/" },
        plus(1)
      )
      assert.deepStrictEqual(Option.getOrThrow(updated).eventTypes, ["instance.deleted"])
      assert.strictEqual(Option.getOrThrow(updated).url, "https://b.example/")
      assert.isTrue(Option.isNone(yield* store.update(orgB, id, { enabled: false }, plus(1))))

      const secrets = { version: 2, secret: sealed(2), previousSecret: sealed(1), previousSecretUntil: plus(60_000) }
      const rotated = yield* store.rotate(orgA, id, secrets, plus(2))
      assert.strictEqual(Option.getOrThrow(rotated).secretVersion, 2)
      // A second rotation from the same version loses.
      assert.isTrue(Option.isNone(yield* store.rotate(orgA, id, secrets, plus(3))))
      const stored = Option.getOrThrow(yield* store.get(orgA, id))
      assert.deepStrictEqual([...stored.secret.ciphertext], [2, 3])
      assert.deepStrictEqual([...stored.previousSecret!.ciphertext], [1, 3])
      assert.strictEqual(stored.subscription.previousSecretUntil?.getTime(), plus(60_000).getTime())

      // A URL change resealed with the current secret applies only while that secret is in force.
      const resealed = { url: "https://c.example/…", secret: { version: 1, sealed: sealed(5) } }
      assert.isTrue(Option.isNone(yield* store.update(orgA, id, resealed, plus(3))))
      assert.strictEqual(Option.getOrThrow(yield* store.get(orgA, id)).subscription.url, "https://b.example/")
      const applied = yield* store.update(orgA, id, { ...resealed, secret: { version: 2, sealed: sealed(5) } }, plus(3))
      assert.strictEqual(Option.getOrThrow(applied).url, "https://c.example/…")
      const after = Option.getOrThrow(yield* store.get(orgA, id))
      assert.deepStrictEqual([...after.secret.ciphertext], [5, 3])
      assert.deepStrictEqual([...after.previousSecret!.ciphertext], [1, 3])
      assert.strictEqual(after.subscription.secretVersion, 2)

      // Disabled: no deliveries for what is fanned out meanwhile.
      yield* store.update(orgA, id, { enabled: false }, plus(4))
      yield* outbox.append(event(3, orgA, "instance.deleted"))
      assert.strictEqual(yield* store.fanOut({ limit: 10, at: plus(5) }), 1)
      assert.deepStrictEqual(yield* store.deliveries(orgA, { limit: 10 }), [])

      yield* store.update(orgA, id, { enabled: true }, plus(6))
      yield* outbox.append(event(4, orgA, "instance.deleted"))
      assert.strictEqual(yield* store.fanOut({ limit: 10, at: plus(7) }), 1)
      assert.strictEqual((yield* store.deliveries(orgA, { limit: 10 })).length, 1)
      assert.isFalse(yield* store.remove(orgB, id))
      assert.isTrue(yield* store.remove(orgA, id))
      assert.isFalse(yield* store.remove(orgA, id))
      assert.deepStrictEqual(yield* store.deliveries(orgA, { limit: 10 }), [])
    }).pipe(Effect.provide(layer))
  )

  /** `n` events of orgA fanned out to one subscription and claimed: their claims. */
  const claimedEvents = (n: number) =>
    Effect.gen(function* () {
      const store = yield* WebhookStore.WebhookStore
      const outbox = yield* LifecycleEvents.EventOutbox
      yield* store.create(subscription("0190a000-0000-7000-8000-0000000000d1", orgA, null))
      for (let i = 1; i <= n; i++) yield* outbox.append(event(i, orgA, "instance.created"))
      assert.strictEqual(yield* store.fanOut({ limit: 100, at: t }), n)
      const claimed = yield* store.claim({ limit: 100, now: t, leaseUntil: plus(60_000) })
      assert.strictEqual(claimed.length, n)
      return claimed
    })

  it.effect("prunes delivered rows and dead letters past their bounds, never pending ones, never twice", () =>
    Effect.gen(function* () {
      const store = yield* WebhookStore.WebhookStore
      const [early, late, dead, retrying] = yield* claimedEvents(4)
      const record = (claimed: WebhookStore.Claimed | undefined, outcome: WebhookStore.Outcome, at: Date) =>
        store.record({ id: claimed!.delivery.id, attempt: claimed!.delivery.attempts, outcome, at })
      assert.isTrue(yield* record(early, { _tag: "Delivered", status: 200 }, plus(1_000)))
      assert.isTrue(yield* record(late, { _tag: "Delivered", status: 200 }, plus(10_000)))
      assert.isTrue(yield* record(dead, { _tag: "Dead", status: 410, error: "http_status" }, plus(1_000)))
      assert.isTrue(
        yield* record(retrying, { _tag: "Retry", status: 500, error: "http_status", nextAttemptAt: plus(1) }, plus(1))
      )
      const left = Effect.map(store.deliveries(orgA, { limit: 10 }), (rows) => rows.map((row) => row.id).sort())
      const ids = (...claims: ReadonlyArray<WebhookStore.Claimed | undefined>) =>
        claims.map((c) => c!.delivery.id).sort()

      // Bounds are exclusive; null prunes nothing of that kind; a limit of 0 deletes nothing.
      assert.strictEqual(yield* store.prune({ deliveredBefore: plus(1_000), deadBefore: null, limit: 10 }), 0)
      assert.strictEqual(yield* store.prune({ deliveredBefore: null, deadBefore: null, limit: 10 }), 0)
      assert.strictEqual(yield* store.prune({ deliveredBefore: plus(99_000), deadBefore: plus(99_000), limit: 0 }), 0)
      assert.strictEqual(yield* store.prune({ deliveredBefore: plus(5_000), deadBefore: null, limit: 10 }), 1)
      assert.deepStrictEqual(yield* left, ids(late, dead, retrying))
      assert.strictEqual(yield* store.prune({ deliveredBefore: plus(5_000), deadBefore: null, limit: 10 }), 0)
      assert.strictEqual(yield* store.prune({ deliveredBefore: null, deadBefore: plus(1_001), limit: 10 }), 1)
      assert.deepStrictEqual(yield* left, ids(late, retrying))
      assert.strictEqual(yield* store.prune({ deliveredBefore: plus(99_000), deadBefore: plus(99_000), limit: 10 }), 1)
      assert.deepStrictEqual(yield* left, ids(retrying))
      // A pruned delivery is not fanned out again, and the pending one is still claimed when due.
      assert.strictEqual(yield* store.fanOut({ limit: 10, at: plus(100_000) }), 0)
      const [again] = yield* store.claim({ limit: 10, now: plus(100_000), leaseUntil: plus(160_000) })
      assert.strictEqual(again!.delivery.id, retrying!.delivery.id)
      // A dead letter redelivered before it expired is pending again: pruning leaves it.
      assert.isTrue(yield* record(again, { _tag: "Dead", status: 410, error: "http_status" }, plus(100_001)))
      assert.isTrue(Option.isSome(yield* store.redeliver(orgA, again!.delivery.id, plus(100_002))))
      assert.strictEqual(
        yield* store.prune({ deliveredBefore: plus(999_000), deadBefore: plus(999_000), limit: 10 }),
        0
      )
      assert.deepStrictEqual(yield* left, ids(retrying))
    }).pipe(Effect.provide(layer))
  )

  it.effect("concurrent prunes delete each row once", () =>
    Effect.gen(function* () {
      const store = yield* WebhookStore.WebhookStore
      const claimed = yield* claimedEvents(30)
      for (const c of claimed) {
        yield* store.record({ id: c.delivery.id, attempt: 1, outcome: { _tag: "Delivered", status: 204 }, at: plus(1) })
      }
      const pruneAll = Effect.gen(function* () {
        let total = 0
        for (;;) {
          const deleted = yield* store.prune({ deliveredBefore: plus(2), deadBefore: plus(2), limit: 4 })
          if (deleted === 0) return total
          total += deleted
        }
      })
      const counts = yield* Effect.all([pruneAll, pruneAll, pruneAll], { concurrency: 3 })
      assert.strictEqual(
        counts.reduce((a, b) => a + b, 0),
        30
      )
      assert.deepStrictEqual(yield* store.deliveries(orgA, { limit: 100 }), [])
    }).pipe(Effect.provide(layer))
  )
}
