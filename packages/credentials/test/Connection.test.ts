import { assert, describe, it } from "@effect/vitest"
import { ConnectorRegistry } from "@patchbay/core"
import { Effect, Layer, Redacted } from "effect"
import * as Connection from "../src/Connection.js"
import { CredentialRefresher } from "../src/CredentialRefresher.js"
import { CredentialVault } from "../src/CredentialVault.js"
import { admin, as, createInstance, failure, memory, orgA } from "./fixtures.js"

/** The registry in context, counting its lookups. */
const countingRegistry = (lookups: Array<string>) =>
  Effect.map(ConnectorRegistry.ConnectorRegistry, (registry) =>
    ConnectorRegistry.ConnectorRegistry.of({
      ...registry,
      get: (idOrKey) => {
        lookups.push(idOrKey)
        return registry.get(idOrKey)
      }
    })
  )

/** A refresher that records every resolution it sees. */
const recording = (seen: Array<string>) =>
  Layer.succeed(
    CredentialRefresher,
    CredentialRefresher.of({
      refresh: (instance, resolved) =>
        Effect.as(
          Effect.sync(() => seen.push(instance.instanceName)),
          resolved
        ),
      obtain: () => Effect.succeedNone
    })
  )

describe("Connection.open", () => {
  it.effect("looks the connector up once, resolves the credential and decodes the driver context", () => {
    const resolutions: Array<string> = []
    return Effect.gen(function* () {
      const vault = yield* CredentialVault
      const instance = yield* createInstance("Analytics")
      const stored = yield* vault.create({
        instanceId: instance.id,
        scope: { type: "organization", id: orgA },
        credentials: { username: "reader", password: "s3cret" }
      })
      const lookups: Array<string> = []
      const registry = yield* countingRegistry(lookups)
      const connection = yield* Connection.open(instance, { operation: "health_check" }).pipe(
        Effect.provideService(ConnectorRegistry.ConnectorRegistry, registry)
      )
      assert.deepStrictEqual(lookups, [instance.connectorId])
      assert.deepStrictEqual(resolutions, ["Analytics"])
      assert.strictEqual(connection.credential.id, stored.id)
      assert.strictEqual(connection.connector.descriptor.key, "demo-db")
      const credentials = connection.context.credentials as { readonly password: Redacted.Redacted<string> }
      assert.strictEqual(Redacted.value(credentials.password), "s3cret")
      assert.strictEqual((connection.context.configuration as { readonly port: number }).port, 5432)
    }).pipe(as(admin), Effect.provide(memory(recording(resolutions))))
  })

  it.effect("refuses an operation the descriptor does not declare before resolving any credential", () => {
    const resolutions: Array<string> = []
    return Effect.gen(function* () {
      const vault = yield* CredentialVault
      const instance = yield* createInstance("Analytics")
      yield* vault.create({
        instanceId: instance.id,
        scope: { type: "organization", id: orgA },
        credentials: { username: "reader", password: "s3cret" }
      })
      const error = yield* failure(Connection.open(instance, { operation: "run_query" }))
      assert.strictEqual(error._tag, "OperationUnsupported")
      assert.deepStrictEqual(resolutions, [])
    }).pipe(as(admin), Effect.provide(memory(recording(resolutions))))
  })
})
