import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import * as Workflow from "@effect/workflow/Workflow"
import * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import { Activities } from "@patchbay/activities"
import { HttpApiDescriptor, HttpConnector } from "@patchbay/connector-http"
import {
  ActivityError,
  Actor,
  ConnectorInstances,
  DomainError,
  EgressPolicy,
  Ids,
  LifecycleEvents,
  ReconnectWaits
} from "@patchbay/core"
import { Credentials, CredentialVault } from "@patchbay/credentials"
// @patchbay/store-sql is no dependency of this package (yet): its sources are imported by path.
import { SqlStore } from "@patchbay/store-sql"
import { PostgresServer } from "@patchbay/testing"
import { Clock, Context, Deferred, Duration, Effect, Fiber, Layer, Redacted, Schedule, Schema, Stream } from "effect"
import { afterAll, beforeAll } from "vitest"
import { PatchbayActivity, ReconnectWaker } from "../src/index.js"

const orgId = Ids.OrgId.make("0190a000-0000-7000-8000-00000000000b")

// The SMS provider: a request is accepted with the password "fresh" or for a healed account, and
// refused with 401 otherwise (503 once for a flaky account). It counts the requests of each account.
let http: Server
let port = 0
const requests = new Map<string, number>()
const healed = new Set<string>()
/** Accounts whose first accepted request gets a 503. */
const flakyOnce = new Set<string>()
beforeAll(async () => {
  http = createServer((request, response) => {
    const account = /Accounts\/([^/]+)\/Messages/.exec(request.url ?? "")?.[1] ?? "?"
    requests.set(account, (requests.get(account) ?? 0) + 1)
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? ""
    const password = Buffer.from(basic, "base64").toString("utf8").split(":")[1]
    if (password !== "fresh" && !healed.has(account)) return response.writeHead(401).end()
    if (flakyOnce.delete(account)) return response.writeHead(503).end()
    response
      .writeHead(201, { "content-type": "application/json" })
      .end(JSON.stringify({ sid: `SM-${account}`, status: "queued" }))
  })
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
  port = (http.address() as AddressInfo).port
})
afterAll(async () => {
  await new Promise<void>((resolve) => http.close(() => resolve()))
})

const connectors = Effect.runSync(
  HttpConnector.connector(HttpApiDescriptor.twilioSms).pipe(
    Effect.map((connector) => [connector]),
    Effect.provide(EgressPolicy.layer({ allowLoopback: true }))
  )
)

/**
 * A workflow that texts the on-call phone and waits for a reconnect when the SMS instance needs
 * one. Its execution, once suspended, is polled again every 10 ms; the first time completes
 * `suspended`.
 */
const makeWorkflow = (deadline: Duration.DurationInput, retry?: PatchbayActivity.RetryOptions) => {
  const suspended = Effect.runSync(Deferred.make<void>())
  const TextOnCall = Workflow.make({
    name: "TextOnCall",
    payload: { smsInstanceId: Schema.String, phone: Schema.String, message: Schema.String },
    success: Schema.Struct({ smsId: Schema.String }),
    error: ActivityError.ActivityError,
    idempotencyKey: (payload) => `${payload.phone}:${payload.message}`,
    suspendedRetrySchedule: Schedule.spaced("10 millis").pipe(
      Schedule.tapInput(() => Deferred.succeed(suspended, undefined))
    )
  })
  const layer = TextOnCall.toLayer(
    Effect.fn(function* (payload) {
      const text = PatchbayActivity.retryAfterReconnect(
        PatchbayActivity.sendSms("text on-call", {
          instanceId: payload.smsInstanceId,
          to: payload.phone,
          body: payload.message
        }),
        { deadline }
      )
      const sms = yield* retry === undefined ? text : PatchbayActivity.retryTransient(text, retry)
      return { smsId: sms.id }
    })
  )
  return { TextOnCall, layer, suspended }
}

/** Patchbay on memory ports, the memory workflow engine, published lifecycle events and (unless told not to) the waker. */
const testLayer = <R, E = never>(
  workflow: Layer.Layer<never, never, R>,
  waits: Layer.Layer<
    ReconnectWaits.ReconnectWaits,
    E,
    CredentialVault.CredentialVault | Actor.Actor
  > = ReconnectWaits.layerMemory,
  options: { readonly waker: boolean } = { waker: true }
) => {
  const patchbay = Activities.layer.pipe(
    Layer.provideMerge(Credentials.layerMemory(connectors)),
    Layer.provideMerge(Actor.layer({ orgId }))
  )
  const base = Layer.mergeAll(WorkflowEngine.layerMemory, LifecycleEvents.layer, waits).pipe(
    Layer.provideMerge(patchbay)
  )
  return Layer.mergeAll(workflow, options.waker ? ReconnectWaker.layer : Layer.empty).pipe(Layer.provideMerge(base))
}

/** An SMS instance whose credential the provider refuses. */
const setup = (account: string) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const vault = yield* CredentialVault.CredentialVault
    const sms = yield* instances.create({
      connector: "twilio-sms",
      instanceName: `sms-${account}`,
      configuration: { base_url: `http://127.0.0.1:${port}`, sms_from: "+15550000000" }
    })
    const credential = yield* vault.create({
      instanceId: sms.id,
      scope: { type: "organization", id: orgId },
      credentials: { username: account, password: "stale" }
    })
    const payload = { smsInstanceId: sms.id, phone: "+15551234567", message: `page from ${account}` }
    return { instanceId: sms.id, credential, payload }
  })

const waitingOn = (instanceId: Ids.InstanceId) =>
  Effect.flatMap(ReconnectWaits.ReconnectWaits, (waits) => waits.waitingOn(orgId, instanceId))

const publishEvents = Effect.flatMap(LifecycleEvents.Events, (events) => events.publishPending)

/** The live clock, except that a sleep of an hour or more lasts until `gate` opens. */
const gatedClock = (gate: Deferred.Deferred<void>): Clock.Clock => {
  const live = Clock.make()
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => live.unsafeCurrentTimeMillis(),
    currentTimeMillis: live.currentTimeMillis,
    unsafeCurrentTimeNanos: () => live.unsafeCurrentTimeNanos(),
    currentTimeNanos: live.currentTimeNanos,
    sleep: (duration) =>
      Duration.greaterThanOrEqualTo(duration, Duration.hours(1)) ? Deferred.await(gate) : live.sleep(duration)
  }
}

describe("retryAfterReconnect on WorkflowEngine.layerMemory", () => {
  it.live("waits for a new credential, then runs the activity once more", () => {
    const { TextOnCall, layer, suspended } = makeWorkflow("1 hour")
    return Effect.gen(function* () {
      const { instanceId, credential, payload } = yield* setup("AC-rotated")
      const running = yield* Effect.fork(TextOnCall.execute(payload))
      yield* Deferred.await(suspended)
      const result = yield* TextOnCall.poll(yield* TextOnCall.executionId(payload))
      assert.strictEqual(result?._tag, "Suspended")
      assert.strictEqual(requests.get("AC-rotated"), 1)
      assert.lengthOf(yield* waitingOn(instanceId), 1)

      const vault = yield* CredentialVault.CredentialVault
      yield* vault.supersede(credential, {
        credentials: { username: "AC-rotated", password: "fresh" },
        reason: "reconnected by a person"
      })
      yield* publishEvents
      const done = yield* Fiber.join(running)
      assert.strictEqual(done.smsId, "SM-AC-rotated")
      assert.strictEqual(requests.get("AC-rotated"), 2)
      assert.lengthOf(yield* waitingOn(instanceId), 0)
    }).pipe(Effect.provide(testLayer(layer)))
  })

  it.live("is woken when the instance is active again (instance.reconnected)", () => {
    const { TextOnCall, layer, suspended } = makeWorkflow("1 hour")
    return Effect.gen(function* () {
      const { instanceId, payload } = yield* setup("AC-restored")
      const running = yield* Effect.fork(TextOnCall.execute(payload))
      yield* Deferred.await(suspended)
      assert.strictEqual(requests.get("AC-restored"), 1)

      healed.add("AC-restored")
      const instances = yield* ConnectorInstances.ConnectorInstances
      yield* instances.setStatus(instanceId, "active", "the provider restored access")
      yield* publishEvents
      const done = yield* Fiber.join(running)
      assert.strictEqual(done.smsId, "SM-AC-restored")
      assert.strictEqual(requests.get("AC-restored"), 2)
    }).pipe(Effect.provide(testLayer(layer)))
  })

  it.live("fails with the second ReconnectRequired when the run after the reconnect fails too", () => {
    const { TextOnCall, layer, suspended } = makeWorkflow("1 hour")
    return Effect.gen(function* () {
      const { credential, payload } = yield* setup("AC-still-wrong")
      const running = yield* Effect.fork(Effect.flip(TextOnCall.execute(payload)))
      yield* Deferred.await(suspended)

      const vault = yield* CredentialVault.CredentialVault
      yield* vault.supersede(credential, {
        credentials: { username: "AC-still-wrong", password: "another-stale" },
        reason: "a wrong paste"
      })
      yield* publishEvents
      const error = yield* Fiber.join(running)
      assert.strictEqual(error._tag, "ReconnectRequired")
      assert.strictEqual(requests.get("AC-still-wrong"), 2)
    }).pipe(Effect.provide(testLayer(layer)))
  })

  it.live("under retryTransient, retries a transient failure of the run after the reconnect", () => {
    const { TextOnCall, layer, suspended } = makeWorkflow("1 hour", { times: 2, base: "10 millis" })
    return Effect.gen(function* () {
      const { credential, payload } = yield* setup("AC-flaky-after")
      flakyOnce.add("AC-flaky-after")
      const running = yield* Effect.fork(TextOnCall.execute(payload))
      yield* Deferred.await(suspended)

      const vault = yield* CredentialVault.CredentialVault
      yield* vault.supersede(credential, {
        credentials: { username: "AC-flaky-after", password: "fresh" },
        reason: "reconnected by a person"
      })
      yield* publishEvents
      const done = yield* Fiber.join(running)
      assert.strictEqual(done.smsId, "SM-AC-flaky-after")
      // 401, then 503 after the reconnect, then the retry's 201
      assert.strictEqual(requests.get("AC-flaky-after"), 3)
    }).pipe(Effect.provide(testLayer(layer)))
  })

  it.live("fails with the ReconnectRequired once the deadline passes", () => {
    const { TextOnCall, layer, suspended } = makeWorkflow("1 hour")
    const deadline = Effect.runSync(Deferred.make<void>())
    return Effect.gen(function* () {
      const { instanceId, payload } = yield* setup("AC-abandoned")
      const running = yield* Effect.fork(Effect.flip(TextOnCall.execute(payload)))
      yield* Deferred.await(suspended)
      assert.lengthOf(yield* waitingOn(instanceId), 1)

      // The durable clock's hour is up.
      yield* Deferred.succeed(deadline, undefined)
      const error = yield* Fiber.join(running)
      assert.strictEqual(error._tag, "ReconnectRequired")
      assert.strictEqual(error._tag === "ReconnectRequired" && error.instanceId, instanceId)
      assert.strictEqual(requests.get("AC-abandoned"), 1)
      assert.lengthOf(yield* waitingOn(instanceId), 0)
    }).pipe(Effect.provide(testLayer(layer)), Effect.withClock(gatedClock(deadline)))
  })

  it.live("does not miss a reconnect between the failure and the registration of the wait", () => {
    const { TextOnCall, layer, suspended } = makeWorkflow("1 hour")
    // The credential is replaced just before the wait is recorded; its event is never published,
    // so the waker cannot help.
    const reconnectFirst = Layer.effect(
      ReconnectWaits.ReconnectWaits,
      Effect.gen(function* () {
        const waits = yield* ReconnectWaits.ReconnectWaits
        const vault = yield* CredentialVault.CredentialVault
        const actor = yield* Actor.Actor
        return ReconnectWaits.ReconnectWaits.of({
          ...waits,
          register: (wait) =>
            Effect.gen(function* () {
              const [current] = yield* vault.list(wait.instanceId).pipe(Effect.orDie)
              yield* vault
                .supersede(current!, { credentials: { username: "AC-quick", password: "fresh" }, reason: "quick" })
                .pipe(Effect.orDie)
              yield* waits.register(wait)
            }).pipe(Effect.provideService(Actor.Actor, actor))
        })
      })
    ).pipe(Layer.provide(ReconnectWaits.layerMemory))
    return Effect.gen(function* () {
      const { instanceId, payload } = yield* setup("AC-quick")
      const done = yield* TextOnCall.execute(payload)
      assert.strictEqual(done.smsId, "SM-AC-quick")
      assert.strictEqual(requests.get("AC-quick"), 2)
      assert.isFalse(yield* Deferred.isDone(suspended))
      assert.lengthOf(yield* waitingOn(instanceId), 0)
    }).pipe(Effect.provide(testLayer(layer, reconnectFirst)))
  })
  it.live("is not woken by a credential stored in a scope the waiting actor does not use", () => {
    const { TextOnCall, layer, suspended } = makeWorkflow("1 hour")
    return Effect.gen(function* () {
      const { instanceId, credential, payload } = yield* setup("AC-scoped")
      // The setup's own events go out first: only what follows concerns the wait.
      yield* publishEvents
      const running = yield* Effect.fork(TextOnCall.execute(payload))
      yield* Deferred.await(suspended)
      const events = yield* LifecycleEvents.Events
      const stored = yield* events.subscription

      // A user of the organization stores a credential of their own (the workflow's actor resolves
      // organization credentials only).
      const userId = "0190a000-0000-7000-8000-0000000000d1"
      const vault = yield* CredentialVault.CredentialVault
      yield* vault
        .create({
          instanceId,
          scope: { type: "user", id: userId },
          credentials: { username: "AC-scoped", password: "fresh" }
        })
        .pipe(Effect.provide(Actor.layer({ orgId, userId })))
      const count = yield* publishEvents
      // Whatever storing it published (the instance may become active too) wakes nobody.
      const published = yield* stored.pipe(Stream.take(count), Stream.runCollect)
      assert.include(
        [...published].map((e) => e._tag),
        "credential.stored"
      )
      for (const event of published) assert.strictEqual(yield* ReconnectWaker.handle(event), 0)
      assert.lengthOf(yield* waitingOn(instanceId), 1)
      assert.strictEqual(requests.get("AC-scoped"), 1)

      // The organization's credential is replaced: that one wakes it.
      yield* vault.supersede(credential, {
        credentials: { username: "AC-scoped", password: "fresh" },
        reason: "reconnected by a person"
      })
      yield* publishEvents
      const done = yield* Fiber.join(running)
      assert.strictEqual(done.smsId, "SM-AC-scoped")
      assert.strictEqual(requests.get("AC-scoped"), 2)
    }).pipe(Effect.scoped, Effect.provide(testLayer(layer)))
  })

  for (const change of ["disabled", "deleted"] as const) {
    it.live(`fails with ActivityRejected when the instance is ${change} while it waits`, () => {
      const { TextOnCall, layer, suspended } = makeWorkflow("1 hour")
      return Effect.gen(function* () {
        const { instanceId, payload } = yield* setup(`AC-${change}`)
        const running = yield* Effect.fork(Effect.flip(TextOnCall.execute(payload)))
        yield* Deferred.await(suspended)
        assert.lengthOf(yield* waitingOn(instanceId), 1)

        const instances = yield* ConnectorInstances.ConnectorInstances
        yield* change === "disabled" ? instances.update(instanceId, { isEnabled: false }) : instances.delete(instanceId)
        yield* publishEvents
        const error = yield* Fiber.join(running)
        assert.strictEqual(error._tag, "ActivityRejected")
        assert.strictEqual(error._tag === "ActivityRejected" && error.instanceId, instanceId)
        assert.strictEqual(requests.get(`AC-${change}`), 1)
        assert.lengthOf(yield* waitingOn(instanceId), 0)
      }).pipe(Effect.provide(testLayer(layer)))
    })
  }

  it.live("sees a credential stored before a replay that records the wait (the run's start is journaled)", () => {
    const { TextOnCall, layer, suspended } = makeWorkflow("1 hour")
    // The first attempt at recording the wait fails after the credential was replaced (its event is
    // never published): the execution sleeps durably, suspends, and is replayed before it records
    // the wait. A start time read anew on the replay would be later than the new credential.
    const failOnce = Layer.effect(
      ReconnectWaits.ReconnectWaits,
      Effect.gen(function* () {
        const waits = yield* ReconnectWaits.ReconnectWaits
        const vault = yield* CredentialVault.CredentialVault
        const actor = yield* Actor.Actor
        let calls = 0
        return ReconnectWaits.ReconnectWaits.of({
          ...waits,
          register: (wait) =>
            Effect.gen(function* () {
              calls += 1
              if (calls > 1) return yield* waits.register(wait)
              const [current] = yield* vault.list(wait.instanceId).pipe(Effect.orDie)
              yield* vault
                .supersede(current!, { credentials: { username: "AC-replayed", password: "fresh" }, reason: "quick" })
                .pipe(Effect.orDie)
              return yield* new DomainError.StorageError({ operation: "ReconnectWaits.register", detail: "gone" })
            }).pipe(Effect.provideService(Actor.Actor, actor))
        })
      })
    ).pipe(Layer.provide(ReconnectWaits.layerMemory))
    return Effect.gen(function* () {
      const { instanceId, payload } = yield* setup("AC-replayed")
      const done = yield* TextOnCall.execute(payload)
      assert.strictEqual(done.smsId, "SM-AC-replayed")
      assert.strictEqual(requests.get("AC-replayed"), 2)
      // it did suspend between the two attempts
      assert.isTrue(yield* Deferred.isDone(suspended))
      assert.lengthOf(yield* waitingOn(instanceId), 0)
    }).pipe(Effect.provide(testLayer(layer, failOnce)))
  })
})

/** The URL of the test's throwaway PostgreSQL server. */
class DatabaseUrl extends Context.Tag("test/DatabaseUrl")<DatabaseUrl, string>() {}

/** `ReconnectWaits` of a store on its own pool: what one process sees of the shared database. */
const sqlWaits = (url: string) =>
  Layer.effect(ReconnectWaits.ReconnectWaits, ReconnectWaits.ReconnectWaits).pipe(
    Layer.provide(SqlStore.layerPg({ url: Redacted.make(url), maxConnections: 2 }))
  )

describe("retryAfterReconnect with its waits in PostgreSQL", () => {
  it.live("a wait recorded by one process is found and woken by the waker of another", () => {
    const { TextOnCall, layer, suspended } = makeWorkflow("1 hour")
    // Process A runs the workflow and records its wait through its own store; it runs no waker.
    const processA = Layer.unwrapScoped(
      Effect.map(
        Effect.acquireRelease(
          Effect.promise(() => PostgresServer.start()),
          (server) => Effect.promise(() => server.dispose())
        ),
        (server) =>
          Layer.merge(testLayer(layer, sqlWaits(server.url), { waker: false }), Layer.succeed(DatabaseUrl, server.url))
      )
    )
    return Effect.gen(function* () {
      const { instanceId, credential, payload } = yield* setup("AC-shared")
      yield* publishEvents
      const running = yield* Effect.fork(TextOnCall.execute(payload))
      yield* Deferred.await(suspended)
      assert.strictEqual(requests.get("AC-shared"), 1)

      // Process B: another store layer (its own pool) on the same database, and a waker on it.
      const url = yield* DatabaseUrl
      const storeB = yield* Layer.build(sqlWaits(url))
      const waitsB = Context.get(storeB, ReconnectWaits.ReconnectWaits)
      yield* Layer.build(ReconnectWaker.layer.pipe(Layer.provide(Layer.succeedContext(storeB))))
      const found = yield* waitsB.waitingOn(orgId, instanceId)
      assert.lengthOf(found, 1)
      assert.deepStrictEqual(
        found[0]!.scopes.map((scope) => `${scope.type}:${scope.id}`),
        [`organization:${orgId}`]
      )

      const vault = yield* CredentialVault.CredentialVault
      yield* vault.supersede(credential, {
        credentials: { username: "AC-shared", password: "fresh" },
        reason: "reconnected by a person"
      })
      yield* publishEvents
      const done = yield* Fiber.join(running)
      assert.strictEqual(done.smsId, "SM-AC-shared")
      assert.strictEqual(requests.get("AC-shared"), 2)
      assert.lengthOf(yield* waitsB.waitingOn(orgId, instanceId), 0)
    }).pipe(Effect.scoped, Effect.provide(processA))
  })
})
