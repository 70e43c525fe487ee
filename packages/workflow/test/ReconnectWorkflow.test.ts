import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import * as Workflow from "@effect/workflow/Workflow"
import * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import { Activities } from "@patchbay/activities"
import { HttpApiDescriptor, HttpConnector } from "@patchbay/connector-http"
import { ActivityError, Actor, ConnectorInstances, EgressPolicy, Ids, LifecycleEvents } from "@patchbay/core"
import { Credentials, CredentialVault } from "@patchbay/credentials"
import { Clock, Deferred, Duration, Effect, Fiber, Layer, Schedule, Schema } from "effect"
import { afterAll, beforeAll } from "vitest"
import { PatchbayActivity, ReconnectWaits, ReconnectWaker } from "../src/index.js"

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

/** Patchbay on memory ports, the memory workflow engine, published lifecycle events and the waker. */
const testLayer = <R>(
  workflow: Layer.Layer<never, never, R>,
  waits: Layer.Layer<
    ReconnectWaits.ReconnectWaits,
    never,
    CredentialVault.CredentialVault | Actor.Actor
  > = ReconnectWaits.layerMemory
) => {
  const patchbay = Activities.layer.pipe(
    Layer.provideMerge(Credentials.layerMemory(connectors)),
    Layer.provideMerge(Actor.layer({ orgId }))
  )
  const base = Layer.mergeAll(WorkflowEngine.layerMemory, LifecycleEvents.layer, waits).pipe(
    Layer.provideMerge(patchbay)
  )
  return Layer.mergeAll(workflow, ReconnectWaker.layer).pipe(Layer.provideMerge(base))
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
})
