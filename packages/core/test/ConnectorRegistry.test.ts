import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Redacted } from "effect"
import * as ConnectorInstance from "../src/ConnectorInstance.js"
import * as ConnectorRegistry from "../src/ConnectorRegistry.js"
import * as Ids from "../src/Ids.js"
import { demoConnector, orgA } from "./fixtures.js"

describe("ConnectorRegistry", () => {
  it.effect("finds connectors by id and key; an unknown one is ConnectorNotFound", () =>
    Effect.gen(function* () {
      const registry = yield* ConnectorRegistry.ConnectorRegistry
      assert.strictEqual((yield* registry.get("demo-db")).descriptor.name, "Demo database")
      assert.strictEqual((yield* registry.get(demoConnector.descriptor.id)).descriptor.key, "demo-db")
      const missing = yield* Effect.flip(registry.get("mysql"))
      assert.strictEqual(missing._tag, "ConnectorNotFound")
      assert.deepStrictEqual(
        registry.list.map((d) => d.key),
        ["demo-db"]
      )
    }).pipe(Effect.provide(ConnectorRegistry.layer([demoConnector])))
  )

  it.effect("refuses a connector registered twice", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        Effect.provide(ConnectorRegistry.ConnectorRegistry, ConnectorRegistry.layer([demoConnector, demoConnector]))
      )
      assert.isTrue(Exit.isFailure(exit))
    })
  )

  it.effect("validates credentials without quoting a secret", () =>
    Effect.gen(function* () {
      const ok = yield* ConnectorRegistry.validateCredentials(demoConnector.descriptor, {
        username: "u",
        password: "s3cret"
      })
      assert.deepStrictEqual(ok, { username: "u", password: "s3cret" })
      const bad = yield* Effect.flip(
        ConnectorRegistry.validateCredentials(demoConnector.descriptor, { username: "u", password: 12345678 })
      )
      assert.include(bad.message, "password: is invalid")
      assert.notInclude(bad.message, "12345678")
    })
  )

  it.effect("decodes a driver context with secrets as Redacted", () =>
    Effect.gen(function* () {
      const at = new Date(0)
      const instance = ConnectorInstance.fresh({
        id: Ids.InstanceId.make("0190a000-0000-7000-8000-0000000000f1"),
        orgId: Ids.OrgId.make(orgA),
        connector: { id: demoConnector.descriptor.id, key: "demo-db" },
        instanceName: "ctx",
        configuration: { host: "h", port: 5433, database: "d" },
        authType: "database_password",
        hasCredentials: true,
        at
      })
      const context = yield* ConnectorRegistry.driverContext(
        demoConnector,
        instance,
        { username: "u", password: "pw" },
        { id: "credential-1", version: 1, scope: "organization:test" }
      )
      assert.strictEqual(context.configuration.port, 5433)
      assert.isTrue(Redacted.isRedacted(context.credentials.password))
      assert.strictEqual(Redacted.value(context.credentials.password), "pw")
      assert.notInclude(JSON.stringify(context.credentials), 'pw"')
    })
  )
})
