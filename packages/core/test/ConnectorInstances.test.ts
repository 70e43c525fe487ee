import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, FastCheck, Layer } from "effect"
import * as Actor from "../src/Actor.js"
import * as AuditLog from "../src/AuditLog.js"
import * as ConnectorInstancesModule from "../src/ConnectorInstances.js"
import { ConnectorInstances } from "../src/ConnectorInstances.js"
import * as ConnectorRegistry from "../src/ConnectorRegistry.js"
import * as Idempotency from "../src/Idempotency.js"
import * as Ids from "../src/Ids.js"
import * as InstanceRepository from "../src/InstanceRepository.js"
import * as LifecycleEvents from "../src/LifecycleEvents.js"
import * as Transactions from "../src/Transactions.js"
import { actorLayer, demoConnector, memoryLayer, orgA, orgB, workspaceA } from "./fixtures.js"

const configuration = { host: "db.internal", database: "analytics" }
const inOrgA = Layer.merge(memoryLayer, actorLayer(orgA))

const create = (
  instanceName: string,
  extra: Partial<typeof import("../src/ConnectorInstances.js").CreateInstance.Encoded> = {}
) =>
  Effect.flatMap(ConnectorInstances, (instances) =>
    instances.create({ connector: "demo-db", instanceName, configuration, ...extra })
  )

const typedFailures = new Set(["InvalidInput", "InvalidConfiguration", "ConnectorNotFound", "NameTaken"])
const assertTypedFailure = (cause: Cause.Cause<{ readonly _tag: string }>) => {
  assert.isTrue(Cause.isFailType(cause), Cause.pretty(cause))
  if (Cause.isFailType(cause)) assert.isTrue(typedFailures.has(cause.error._tag), cause.error._tag)
}

const asOrg = (orgId: string) => Effect.provide(Actor.layer({ orgId }))

describe("ConnectorInstances lifecycle", () => {
  it.layer(inOrgA)((it) => {
    it.effect("create → get → update → disable → delete, each audited", () =>
      Effect.gen(function* () {
        const instances = yield* ConnectorInstances
        const created = yield* create("  Analytics DB - Production ", { description: "read-only analytics" })
        assert.strictEqual(created.instanceName, "Analytics DB - Production")
        assert.deepStrictEqual(created.configuration, { host: "db.internal", port: 5432, database: "analytics" })
        assert.strictEqual(created.authType, "database_password")
        assert.strictEqual(created.testStatus, "pending")
        assert.strictEqual(created.status, "active")
        assert.isTrue(created.isEnabled)
        assert.isFalse(created.hasCredentials)
        assert.isFalse("accountFingerprint" in created)
        assert.isFalse("orgId" in created)

        assert.deepStrictEqual(yield* instances.get(created.id), created)

        const renamed = yield* instances.update(created.id, {
          instanceName: "Analytics DB - Production (Read-Only)",
          configuration: { ...configuration, host: "analytics-db-v2.internal", port: 6432 }
        })
        assert.strictEqual(renamed.instanceName, "Analytics DB - Production (Read-Only)")
        assert.strictEqual(renamed.configuration.port, 6432)

        const disabled = yield* instances.update(created.id, { isEnabled: false })
        assert.isFalse(disabled.isEnabled)
        const refused = yield* Effect.flip(instances.getUsable(created.id))
        assert.strictEqual(refused._tag, "InstanceDisabled")
        assert.include(refused.message, "disabled")

        yield* instances.update(created.id, { isEnabled: true })
        assert.strictEqual((yield* instances.getUsable(created.id)).id, created.id)

        yield* instances.delete(created.id)
        assert.strictEqual((yield* Effect.flip(instances.get(created.id)))._tag, "InstanceNotFound")

        const log = yield* AuditLog.AuditLog
        const actions = (yield* log.list(Ids.OrgId.make(orgA), { instanceId: created.id, limit: 20 })).map(
          (e) => e.action
        )
        assert.deepStrictEqual(actions, [
          "instance.deleted",
          "instance.updated",
          "instance.updated",
          "instance.updated",
          "instance.created"
        ])
      })
    )

    it.effect("records tests and status changes", () =>
      Effect.gen(function* () {
        const instances = yield* ConnectorInstances
        const created = yield* create("status-demo")
        const testedAt = new Date("2026-01-02T03:04:05Z")
        const tested = yield* instances.recordTest(created.id, { status: "failed", message: "bad password", testedAt })
        assert.strictEqual(tested.testStatus, "failed")
        assert.deepStrictEqual(tested.lastTestedAt, testedAt)
        const flagged = yield* instances.setStatus(created.id, "reconnect_required", "password rejected")
        assert.strictEqual(flagged.status, "reconnect_required")
        const listed = yield* instances.list({ status: "reconnect_required" })
        assert.deepStrictEqual(
          listed.items.map((i) => i.id),
          [created.id]
        )
        const log = yield* AuditLog.AuditLog
        const events = yield* log.list(Ids.OrgId.make(orgA), { instanceId: created.id, limit: 10 })
        assert.deepStrictEqual(
          events.map((e) => [e.action, e.outcome]),
          [
            ["instance.reconnect_required", "success"],
            ["instance.tested", "failure"],
            ["instance.created", "success"]
          ]
        )
      })
    )

    it.effect("lists with filters and cursor pages", () =>
      Effect.gen(function* () {
        const instances = yield* ConnectorInstances
        const names = ["page-1", "page-2", "page-3", "page-4", "page-5"]
        const ids: Array<string> = []
        for (const name of names) {
          ids.push((yield* create(name, { workspaceId: workspaceA })).id)
        }
        yield* instances.update(ids[1]!, { isEnabled: false })
        const first = yield* instances.list({ workspaceId: workspaceA, limit: 2 })
        assert.deepStrictEqual(
          first.items.map((i) => i.instanceName),
          ["page-1", "page-2"]
        )
        assert.isNotNull(first.nextCursor)
        const second = yield* instances.list({ workspaceId: workspaceA, limit: 2, cursor: first.nextCursor! })
        const third = yield* instances.list({ workspaceId: workspaceA, limit: 2, cursor: second.nextCursor! })
        assert.deepStrictEqual(
          [...second.items, ...third.items].map((i) => i.instanceName),
          ["page-3", "page-4", "page-5"]
        )
        assert.isNull(third.nextCursor)
        const enabled = yield* instances.list({ workspaceId: workspaceA, isEnabled: false })
        assert.deepStrictEqual(
          enabled.items.map((i) => i.instanceName),
          ["page-2"]
        )
        const orgLevel = yield* instances.list({ workspaceId: null, connector: "demo-db" })
        assert.isTrue(orgLevel.items.every((i) => i.workspaceId === null))
        assert.strictEqual((yield* Effect.flip(instances.list({ connector: "nope" })))._tag, "ConnectorNotFound")
      })
    )
  })
})

describe("instance names", () => {
  it.layer(inOrgA)((it) => {
    it.effect("are unique per connector type, trimmed and case-insensitively", () =>
      Effect.gen(function* () {
        yield* create("Gmail - team1")
        for (const clash of ["Gmail - team1", "gmail - TEAM1", "  Gmail - team1\t"]) {
          const error = yield* Effect.flip(create(clash))
          assert.strictEqual(error._tag, "NameTaken")
          assert.include(error.message, "already exists")
        }
        const other = yield* create("Gmail - personal")
        const renamed = yield* Effect.flip(
          Effect.flatMap(ConnectorInstances, (i) => i.update(other.id, { instanceName: "GMAIL - team1" }))
        )
        assert.strictEqual(renamed._tag, "NameTaken")
      })
    )

    it.effect("two concurrent creates with one name: exactly one succeeds", () =>
      Effect.gen(function* () {
        const results = yield* Effect.all(
          Array.from({ length: 8 }, (_, i) => Effect.either(create(i % 2 === 0 ? "Race" : " race "))),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(results.filter(Either.isRight).length, 1)
        assert.isTrue(results.filter(Either.isLeft).every((r) => r.left._tag === "NameTaken"))
      })
    )

    it.effect("may repeat across organizations", () =>
      Effect.gen(function* () {
        yield* create("shared-name")
        const elsewhere = yield* create("shared-name").pipe(asOrg(orgB))
        assert.strictEqual(elsewhere.instanceName, "shared-name")
      })
    )
  })
})

describe("validation", () => {
  it.layer(inOrgA)((it) => {
    it.effect("reports the schema's own messages", () =>
      Effect.gen(function* () {
        const instances = yield* ConnectorInstances
        const tooLong = yield* Effect.flip(create("x".repeat(256)))
        assert.strictEqual(tooLong._tag, "InvalidInput")
        assert.include(tooLong.message, "instanceName: instance name must be at most 255 characters")

        const empty = yield* Effect.flip(create("   "))
        assert.include(empty.message, "instance name must not be empty")

        const badPort = yield* Effect.flip(
          instances.create({
            connector: "demo-db",
            instanceName: "p",
            configuration: { host: "h", database: "d", port: "x" }
          })
        )
        assert.strictEqual(badPort._tag, "InvalidConfiguration")
        assert.include(badPort.message, "port: Expected")

        const missing = yield* Effect.flip(
          instances.create({ connector: "demo-db", instanceName: "m", configuration: {} })
        )
        assert.include(missing.message, "host: is missing")
        assert.include(missing.message, "database: is missing")

        const secret = yield* Effect.flip(
          instances.create({
            connector: "demo-db",
            instanceName: "s",
            configuration: { ...configuration, password: "hunter2" }
          })
        )
        assert.strictEqual(secret._tag, "InvalidConfiguration")
        assert.include(secret.message, "password is a secret")
        assert.notInclude(secret.message, "hunter2")

        const auth = yield* Effect.flip(create("a", { authType: "bearer" }))
        assert.include(auth.message, "auth type bearer is not one of database_password")

        const connector = yield* Effect.flip(instances.create({ connector: "nope", instanceName: "n" }))
        assert.strictEqual(connector._tag, "ConnectorNotFound")
      })
    )

    it.effect.prop(
      "arbitrary input to create yields a typed error, never a defect",
      [FastCheck.anything()],
      ([input]) =>
        Effect.gen(function* () {
          const instances = yield* ConnectorInstances
          const exit = yield* Effect.exit(instances.create(input as never))
          if (Exit.isFailure(exit)) assertTypedFailure(exit.cause)
        }),
      { fastCheck: { numRuns: 200 } }
    )

    it.effect.prop(
      "arbitrary patches to update yield a typed error, never a defect",
      [
        FastCheck.record(
          {
            instanceName: FastCheck.oneof(FastCheck.string({ maxLength: 300 }), FastCheck.anything()),
            description: FastCheck.anything(),
            configuration: FastCheck.anything(),
            isEnabled: FastCheck.anything()
          },
          { requiredKeys: [] }
        )
      ],
      ([patch]) =>
        Effect.gen(function* () {
          const instances = yield* ConnectorInstances
          const existing = yield* instances.list({ limit: 1 })
          const id = existing.items[0]?.id ?? (yield* create("prop-target")).id
          const exit = yield* Effect.exit(instances.update(id, patch as never))
          if (Exit.isFailure(exit)) assertTypedFailure(exit.cause)
        }),
      { fastCheck: { numRuns: 200 } }
    )
  })
})

describe("connectors removed by the host", () => {
  it.effect("a configuration update on an instance whose connector is gone is ConnectorNotFound", () =>
    Effect.gen(function* () {
      const repository = yield* Effect.provide(InstanceRepository.InstanceRepository, InstanceRepository.layerMemory)
      const withConnectors = (connectors: ReadonlyArray<typeof demoConnector>) =>
        ConnectorInstances.pipe(
          Effect.provide(
            ConnectorInstancesModule.layer.pipe(
              Layer.provide(
                Layer.mergeAll(
                  Layer.succeed(InstanceRepository.InstanceRepository, repository),
                  Idempotency.layerMemory,
                  LifecycleEvents.layerMemory,
                  AuditLog.layerMemory,
                  ConnectorRegistry.layer(connectors),
                  Transactions.layerMemory
                )
              )
            )
          )
        )
      const before = yield* withConnectors([demoConnector])
      const created = yield* before.create({ connector: "demo-db", instanceName: "orphan", configuration })
      const after = yield* withConnectors([])
      const error = yield* Effect.flip(after.update(created.id, { configuration }))
      assert.strictEqual(error._tag, "ConnectorNotFound")
      assert.strictEqual((yield* after.update(created.id, { isEnabled: false })).isEnabled, false)
    }).pipe(Effect.provide(actorLayer(orgA)))
  )
})

describe("organization boundary", () => {
  it.layer(inOrgA)((it) => {
    it.effect("another organization's instance does not exist for the actor", () =>
      Effect.gen(function* () {
        const instances = yield* ConnectorInstances
        const mine = yield* create("private")
        const attempts: ReadonlyArray<Effect.Effect<unknown, { readonly _tag: string }, Actor.Actor>> = [
          instances.get(mine.id),
          instances.getUsable(mine.id),
          instances.update(mine.id, { isEnabled: false }),
          instances.delete(mine.id)
        ]
        for (const attempt of attempts) {
          const error = yield* Effect.flip(attempt).pipe(asOrg(orgB))
          assert.strictEqual(error._tag, "InstanceNotFound")
        }
        const theirs = yield* instances.list({}).pipe(asOrg(orgB))
        assert.isFalse(theirs.items.some((i) => i.id === mine.id))
        assert.isTrue((yield* instances.get(mine.id)).isEnabled)
      })
    )

    it.effect("a malformed id is simply not found", () =>
      Effect.gen(function* () {
        const instances = yield* ConnectorInstances
        const error = yield* Effect.flip(instances.get("not-a-uuid"))
        assert.strictEqual(error._tag, "InstanceNotFound")
      })
    )
  })
})
