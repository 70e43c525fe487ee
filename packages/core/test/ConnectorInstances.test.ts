import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as AuditLog from "../src/AuditLog.js"
import { ConnectorInstances } from "../src/ConnectorInstances.js"
import { Actor } from "../src/index.js"
import { actorLayer, memoryLayer, orgA, orgB } from "./fixtures.js"

const config = { host: "db.internal", database: "analytics" }

describe("ConnectorInstances", () => {
  it.effect("creates an instance and shows its view", () =>
    Effect.gen(function* () {
      const instances = yield* ConnectorInstances
      const created = yield* instances.create({
        connector: "demo-db",
        instanceName: "  Analytics DB - Production ",
        configuration: config
      })
      assert.strictEqual(created.instanceName, "Analytics DB - Production")
      assert.deepStrictEqual(created.configuration, { host: "db.internal", port: 5432, database: "analytics" })
      assert.strictEqual(created.testStatus, "pending")
      assert.strictEqual(created.hasCredentials, false)
      assert.isFalse("accountFingerprint" in created)
      const fetched = yield* instances.get(created.id)
      assert.deepStrictEqual(fetched, created)
      const events = yield* (yield* AuditLog.AuditLog).list(orgA as never, { limit: 10 })
      assert.deepStrictEqual(
        events.map((e) => e.action),
        ["instance.created"]
      )
    }).pipe(Effect.provide(memoryLayer), Effect.provide(actorLayer()))
  )

  it.effect("hides another organization's instance", () =>
    Effect.gen(function* () {
      const instances = yield* ConnectorInstances
      const created = yield* instances.create({ connector: "demo-db", instanceName: "x", configuration: config })
      const exit = yield* instances.get(created.id).pipe(Effect.provide(Actor.layer({ orgId: orgB })), Effect.exit)
      assert.isTrue(Exit.isFailure(exit))
    }).pipe(Effect.provide(memoryLayer), Effect.provide(actorLayer()))
  )
})
