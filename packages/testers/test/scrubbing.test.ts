import { assert, describe, it } from "@effect/vitest"
import { Actor, AuditLog, ConnectorDriver, ConnectorInstances, DriverError, Ids } from "@patchbay/core"
import { Credentials, CredentialVault } from "@patchbay/credentials"
import { Cause, Effect, Exit, Layer, Redacted, Schema } from "effect"
import * as ConnectionTester from "../src/ConnectionTester.js"

const orgId = "0190a000-0000-7000-8000-00000000000a"

/** The spellings a peer echoes a password in. */
const echoes = (user: string, password: string) => [
  password,
  encodeURIComponent(password),
  Buffer.from(password).toString("base64"),
  Buffer.from(`${user}:${password}`).toString("base64"),
  Buffer.from(`\0${user}\0${password}`).toString("base64")
]

/**
 * A driver (standing for a port, as drivers do in this package's tests) that does no scrubbing of
 * its own: its success text and its failures repeat the password in every spelling, as a careless
 * peer would. Connection.open is the one place that must remove them.
 */
const echoing = ConnectorDriver.make(
  {
    id: Ids.ConnectorId.make("00000000-0000-4000-8000-0000000000c9"),
    key: "echoing",
    name: "Echoing",
    version: "1.0.0",
    authProfiles: ["basic"],
    operations: ["test_connection", "health_check"],
    configuration: Schema.Struct({ mode: Schema.String }),
    credentials: Schema.Struct({ username: Schema.String, password: Schema.Redacted(Schema.String) }),
    secretFields: ["password"],
    accountFields: ["username"],
    supportsSchemaDiscovery: false
  },
  {
    test: ({ configuration, credentials }) => {
      const said = echoes(credentials.username, Redacted.value(credentials.password)).join(" | ")
      switch (configuration.mode) {
        case "success":
          return Effect.succeed(`welcome, you sent ${said}`)
        case "auth":
          return Effect.fail(new DriverError.AuthFailed({ kind: "invalid_credentials", detail: `535 ${said}` }))
        case "defect":
          return Effect.die(new Error(`crashed on ${said}`))
        default:
          return Effect.fail(new DriverError.ProviderFailure({ target: "echo", status: 500, detail: said }))
      }
    },
    healthCheck: ({ credentials }) =>
      Effect.fail(
        new DriverError.Unreachable({
          target: "echo",
          detail: echoes(credentials.username, Redacted.value(credentials.password)).join(" ")
        })
      )
  }
)

const TestLayer = ConnectionTester.layer.pipe(
  Layer.provideMerge(Credentials.layerMemory([echoing])),
  Layer.provideMerge(Actor.layer({ orgId }))
)

describe("ConnectionTester: text from a driver is scrubbed in Connection.open", () => {
  it.layer(TestLayer)((it) => {
    it.effect("test_message, results and audit rows never hold the password in any spelling", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const instances = yield* ConnectorInstances.ConnectorInstances
        const vault = yield* CredentialVault.CredentialVault
        const audit = yield* AuditLog.AuditLog
        let tries = 0
        let failures = 0
        for (const [index, password] of ["hunter2-secret", "p@ss:wörd/+=", "pässwörd 100%"].entries()) {
          for (const mode of ["success", "auth", "defect", "provider"]) {
            const instance = yield* instances.create({
              connector: "echoing",
              instanceName: `echo-${index}-${mode}`,
              configuration: { mode }
            })
            const username = `user-${index}-${mode}`
            yield* vault.create({
              instanceId: instance.id,
              scope: { type: "organization", id: orgId },
              credentials: { username, password }
            })
            const exit = yield* Effect.exit(tester.testConnection(instance.id))
            const said = Exit.match(exit, { onSuccess: (result) => result.message, onFailure: Cause.pretty })
            const health = yield* tester.healthCheck(instance.id)
            const stored = yield* instances.get(instance.id)
            const events = yield* audit.list(Ids.OrgId.make(orgId), { instanceId: instance.id, limit: 50 })
            const sinks = [said, health.message, stored.testMessage ?? "", JSON.stringify(events)].join("\n")
            // Text from the peer arrived (a defect ends the test), without the secret.
            assert.include(said, "[redacted]")
            assert.strictEqual(Exit.isSuccess(exit), mode !== "defect")
            for (const echo of echoes(username, password)) {
              tries++
              if (sinks.includes(echo)) failures++
            }
          }
        }
        console.log(`secret sinks (test_message, results, audit): ${tries} tries, ${failures} failures`)
        assert.strictEqual(failures, 0)
      })
    )
  })
})
