import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Layer, Schema, Stream } from "effect"
import { ConnectorInstances } from "../src/ConnectorInstances.js"
import * as Ids from "../src/Ids.js"
import * as LifecycleEvents from "../src/LifecycleEvents.js"
import { actorLayer, memoryLayer, orgA } from "./fixtures.js"

const stack = Layer.provideMerge(LifecycleEvents.layer, memoryLayer)

const pending = Effect.flatMap(LifecycleEvents.EventOutbox, (outbox) => outbox.pending({ limit: 100 }))

const createDemo = (instanceName: string) =>
  Effect.flatMap(ConnectorInstances, (instances) =>
    instances.create({ connector: "demo-db", instanceName, configuration: { host: "db.internal", database: "app" } })
  )

describe("LifecycleEvents", () => {
  it.effect("the instance lifecycle writes one event per change, in order, without configuration", () =>
    Effect.gen(function* () {
      const instances = yield* ConnectorInstances
      const created = yield* createDemo("Events")
      const id = Ids.InstanceId.make(created.id)
      yield* instances.update(created.id, { description: "d", isEnabled: false })
      yield* instances.setStatus(id, "reconnect_required", "token revoked")
      yield* instances.setStatus(id, "reconnect_required", "again")
      yield* instances.setStatus(id, "active", "new credential")
      yield* instances.recordTest(id, { testedAt: new Date(0), status: "failed", message: "refused" })
      yield* instances.delete(created.id)
      const events = yield* pending
      assert.deepStrictEqual(
        events.map((event) => event._tag),
        [
          "instance.created",
          "instance.updated",
          "instance.disabled",
          "instance.reconnect_required",
          "instance.reconnected",
          "instance.health_changed",
          "instance.deleted"
        ]
      )
      for (const event of events) {
        assert.strictEqual(event.orgId, orgA)
        assert.strictEqual(event.instanceId, created.id)
        assert.strictEqual(event.connectorKey, "demo-db")
        assert.notInclude(JSON.stringify(Schema.encodeSync(LifecycleEvents.LifecycleEvent)(event)), "db.internal")
      }
      const ids = events.map((event) => event.id)
      assert.deepStrictEqual([...ids].sort(), ids)
      const updated = events[1]
      assert.deepStrictEqual(updated?._tag === "instance.updated" ? updated.fields : [], ["description", "isEnabled"])
      const required = events[3]
      assert.strictEqual(required?._tag === "instance.reconnect_required" ? required.reason : "", "token revoked")
    }).pipe(Effect.provide(Layer.merge(stack, actorLayer())))
  )

  it.effect("a change that fails leaves no event", () =>
    Effect.gen(function* () {
      yield* createDemo("Taken")
      const exit = yield* Effect.exit(createDemo("Taken"))
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual((yield* pending).length, 1)
    }).pipe(Effect.provide(Layer.merge(stack, actorLayer())))
  )

  it.scoped("publishes pending events to subscribers once each, and delivered events are no longer pending", () =>
    Effect.gen(function* () {
      const events = yield* LifecycleEvents.Events
      const outbox = yield* LifecycleEvents.EventOutbox
      const first = yield* events.subscription
      const second = yield* events.subscription
      yield* createDemo("One")
      yield* createDemo("Two")
      assert.strictEqual(yield* events.publishPending, 2)
      assert.strictEqual(yield* events.publishPending, 0)
      yield* createDemo("Three")
      assert.strictEqual(yield* events.publishPending, 1)
      const received = yield* Stream.runCollect(Stream.take(first, 3))
      const alsoReceived = yield* Stream.runCollect(Stream.take(second, 3))
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(received).map((event) => event._tag),
        ["instance.created", "instance.created", "instance.created"]
      )
      assert.deepStrictEqual(Chunk.toReadonlyArray(alsoReceived), Chunk.toReadonlyArray(received))
      const all = yield* outbox.pending({ limit: 10 })
      assert.deepStrictEqual(
        all.map((event) => event.id),
        Chunk.toReadonlyArray(received).map((event) => event.id)
      )
      yield* outbox.markDelivered([all[0]!.id], new Date(0))
      const rest = yield* outbox.pending({ limit: 10 })
      assert.deepStrictEqual(
        rest.map((event) => event.id),
        all.slice(1).map((event) => event.id)
      )
      assert.deepStrictEqual(
        (yield* outbox.pending({ after: all[1]!.id, limit: 10 })).map((event) => event.id),
        [all[2]!.id]
      )
    }).pipe(Effect.provide(Layer.merge(stack, actorLayer())))
  )

  it.scoped("the relay starts after the newest event and publishes events fan-out already marked delivered", () =>
    Effect.gen(function* () {
      const outbox = yield* LifecycleEvents.EventOutbox
      yield* createDemo("Before")
      const events = yield* Layer.build(LifecycleEvents.layer).pipe(
        Effect.map((context) => Layer.succeedContext(context)),
        Effect.flatMap((built) => Effect.provide(LifecycleEvents.Events, built))
      )
      const subscribed = yield* events.subscription
      yield* createDemo("After")
      const [after] = yield* outbox.pending({ limit: 10 }).pipe(Effect.map((all) => all.slice(1)))
      yield* outbox.markDelivered([after!.id], new Date(0))
      assert.strictEqual(yield* events.publishPending, 1)
      const [received] = Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(subscribed, 1)))
      assert.strictEqual(received!.id, after!.id)
      assert.deepStrictEqual(
        (yield* outbox.read({ limit: 10 })).map((event) => event.id),
        [...(yield* outbox.read({ limit: 1 })).map((event) => event.id), after!.id]
      )
      assert.strictEqual(yield* outbox.newest, after!.id)
    }).pipe(Effect.provide(Layer.merge(memoryLayer, actorLayer())))
  )
})
