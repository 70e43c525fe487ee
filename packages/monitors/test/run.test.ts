import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Queue, Schedule, TestClock } from "effect"
import { ExpiryMonitor, HealthMonitor, Monitors, SweepMonitor } from "../src/index.js"
import { apiServer } from "./support/apiServer.js"
import { start } from "./support/cases.js"
import { admin, createApiInstance, memoryStore, newOrgId, stack } from "./support/stack.js"

describe("Monitors.layerRun", () => {
  it.scoped("a host forks the monitors on schedules; a check runs once per slot however often it ticks", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const api = yield* apiServer
      const orgId = newOrgId()
      const context = yield* Layer.build(Layer.merge(stack(memoryStore(), { orgId, apiUrl: api.url }), admin(orgId)))
      yield* createApiInstance(orgId, api.url, "scheduled-api").pipe(Effect.provide(context))

      // Each health tick reports to the test, which waits for it instead of sleeping.
      const done = yield* Queue.unbounded<HealthMonitor.HealthReport>()
      const reporting = Layer.effect(
        HealthMonitor.HealthMonitor,
        Effect.map(HealthMonitor.HealthMonitor, (monitor) =>
          HealthMonitor.HealthMonitor.of({ ...monitor, tick: Effect.tap(monitor.tick, (r) => Queue.offer(done, r)) })
        )
      )
      const host = Layer.mergeAll(
        Monitors.layerRun(HealthMonitor.HealthMonitor, Schedule.spaced("1 minute")),
        Monitors.layerRun(ExpiryMonitor.ExpiryMonitor, Schedule.spaced("1 hour")),
        Monitors.layerRun(SweepMonitor.SweepMonitor, Schedule.spaced("1 minute"))
      ).pipe(Layer.provide(reporting))
      yield* Layer.build(host).pipe(Effect.provide(context))

      /** Waits until every forked monitor sleeps until its next tick. */
      const allAsleep = Effect.iterate(0, {
        while: (sleeping) => sleeping < 3,
        body: () =>
          Effect.zipRight(
            Effect.yieldNow(),
            Effect.map(TestClock.sleeps(), (sleeps) => sleeps.length)
          )
      })
      const reports: Array<HealthMonitor.HealthReport> = [yield* Queue.take(done)]
      // Minutes 1 to 5: the first 5-minute slot holds the ticks at 1–4, the next begins at 5.
      for (let minute = 1; minute <= 5; minute++) {
        yield* allAsleep
        yield* TestClock.adjust("1 minute")
        reports.push(yield* Queue.take(done))
      }
      assert.deepStrictEqual(
        reports.map((report) => report.checked),
        [1, 0, 0, 0, 0, 1]
      )
      assert.strictEqual(api.counts["/health"], 2)
    })
  )
})
