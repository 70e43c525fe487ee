/**
 * Patchbay quickstart: the instance lifecycle on in-memory layers, one line per step.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Actor, AuditLog, ConnectorInstances, ConnectorRegistry, InstanceRepository } from "@patchbay/core"
import { Console, Effect, Layer } from "effect"
import { demoPostgres } from "./connectors.js"
import { expectFailure, step } from "./step.js"

const orgId = "0190a000-0000-7000-8000-00000000000a"

const program = Effect.gen(function* () {
  yield* Console.log("Patchbay quickstart — in-memory layers\n")
  const instances = yield* ConnectorInstances.ConnectorInstances

  const created = yield* step(
    "create instance",
    instances.create({
      connector: "postgres",
      instanceName: "pg-reporting-stage",
      description: "Read-only access to the reporting database",
      configuration: { host: "127.0.0.1", port: 5432, database: "reporting" }
    }),
    (i) => `${i.instanceName} (${i.connectorKey}, test ${i.testStatus}, id ${i.id})`
  )
  yield* expectFailure(
    "refuse a duplicate name",
    instances.create({
      connector: "postgres",
      instanceName: "  PG-Reporting-Stage ",
      configuration: { host: "127.0.0.1", database: "reporting" }
    })
  )
  yield* expectFailure(
    "refuse a secret in configuration",
    instances.create({
      connector: "postgres",
      instanceName: "pg-leaky",
      configuration: { host: "127.0.0.1", database: "reporting", password: "hunter2" }
    })
  )
  yield* step(
    "rename and re-validate",
    instances.update(created.id, { instanceName: "pg-reporting-stage-ssa" }),
    (i) => i.instanceName
  )
  yield* step("disable", instances.update(created.id, { isEnabled: false }), (i) => `is_enabled=${i.isEnabled}`)
  yield* expectFailure("use a disabled instance", instances.getUsable(created.id))
  yield* step("enable", instances.update(created.id, { isEnabled: true }), (i) => `is_enabled=${i.isEnabled}`)
  yield* step("list", instances.list({ connector: "postgres" }), (page) =>
    page.items.map((i) => i.instanceName).join(", ")
  )
  const audit = yield* AuditLog.AuditLog
  const actor = yield* Actor.Actor
  yield* step("audit trail", audit.list(actor.orgId, { instanceId: created.id, limit: 10 }), (events) =>
    events.map((e) => e.action).join(" ← ")
  )
  yield* step("delete", instances.delete(created.id), () => "deleted")
})

const MainLayer = ConnectorInstances.layer.pipe(
  Layer.provideMerge(
    Layer.mergeAll(InstanceRepository.layerMemory, AuditLog.layerMemory, ConnectorRegistry.layer([demoPostgres]))
  ),
  Layer.provideMerge(Actor.layer({ orgId }))
)

program.pipe(Effect.provide(MainLayer), NodeRuntime.runMain)
