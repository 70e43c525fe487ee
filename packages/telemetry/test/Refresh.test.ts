/**
 * OAuth2 refresh against oidc-provider on 127.0.0.1 (the provider and the in-memory stack of
 * packages/oauth2's tests): the refresh run is counted by outcome and traced, and no token or
 * client secret reaches an exported span or metric.
 */
import { afterAll, assert, beforeAll, beforeEach, describe, it } from "@effect/vitest"
import { ActivityError, type ConnectorInstance } from "@patchbay/core"
import { Connection, CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { OAuth2 } from "@patchbay/oauth2"
import { Duration, Effect, Layer, Redacted, TestClock } from "effect"
import { machineClient, start, type TestProvider } from "../../oauth2/test/support/provider.js"
import { actor, createInstance, memory } from "../../oauth2/test/support/stack.js"
import { observed } from "./support/observed.js"

let server: TestProvider
beforeAll(async () => {
  server = await start()
})
afterAll(() => server.close())
beforeEach(() => server.reset())

const secretsOf = (resolved: { readonly secrets: Redacted.Redacted<unknown> }) =>
  Redacted.value(resolved.secrets) as Readonly<Record<string, string>>

const resolve = (instance: ConnectorInstance.ConnectorInstance) =>
  Effect.flatMap(CredentialResolver.CredentialResolver, (resolver) => resolver.resolve(instance))

const refreshes = "patchbay.credential.refreshes"

describe("refresh telemetry", () => {
  it.effect(
    "a refresh near expiry is counted as refreshed and traced as OAuth2.refresh under Connection.open, with no token exported",
    () =>
      observed((telemetry) =>
        Effect.gen(function* () {
          yield* TestClock.setTime(Date.now())
          server.ttl.clientCredentials = 300
          const oauth2 = yield* OAuth2.OAuth2
          const instance = yield* createInstance(server.issuer, "oauth2_client_credentials")
          yield* oauth2.connectClientCredentials({
            instanceId: instance.id,
            clientId: machineClient.id,
            clientSecret: Redacted.make(machineClient.secret)
          })
          const refreshed = { connector: "oauth-api", outcome: "refreshed" }
          const before = yield* telemetry.value(refreshes, refreshed)
          const first = secretsOf(yield* resolve(instance))
          yield* TestClock.adjust(Duration.seconds(295))
          // The connection that finds the token due refreshes it.
          yield* Connection.open(instance)
          const second = secretsOf(yield* resolve(instance))
          assert.notStrictEqual(second.access_token, first.access_token)
          assert.strictEqual(server.counts.client_credentials, 2)
          assert.strictEqual(yield* telemetry.value(refreshes, refreshed), before + 1)

          const spans = telemetry.spans()
          const refresh = spans.find((span) => span.name === "OAuth2.refresh")
          assert.isDefined(refresh)
          assert.strictEqual(refresh!.attributes.instanceId, instance.id)
          // The refresh ran inside the connection that needed it.
          const open = spans.find((span) => span.name === "Connection.open")
          assert.strictEqual(refresh!.parentSpanContext?.spanId, open?.spanContext().spanId)

          const text = yield* telemetry.text
          for (const secret of [first.access_token!, second.access_token!, machineClient.secret]) {
            assert.notInclude(text, secret)
          }
        })
      ).pipe(Effect.provide(Layer.merge(memory(), actor)))
  )

  it.effect("a refused client is counted as a refused refresh and a reconnect by code", () =>
    observed((telemetry) =>
      Effect.gen(function* () {
        yield* TestClock.setTime(Date.now())
        server.ttl.clientCredentials = 300
        const oauth2 = yield* OAuth2.OAuth2
        const instance = yield* createInstance(server.issuer, "oauth2_client_credentials", "refused")
        yield* oauth2.connectClientCredentials({
          instanceId: instance.id,
          clientId: machineClient.id,
          clientSecret: Redacted.make(machineClient.secret)
        })
        const refused = { connector: "oauth-api", outcome: "refused" }
        const reconnect = { connector: "oauth-api", code: "credentials_rejected" }
        const before = {
          refused: yield* telemetry.value(refreshes, refused),
          reconnects: yield* telemetry.value("patchbay.reconnect_required", reconnect)
        }
        // The token set now carries a client secret the provider does not know: the next grant is refused.
        const current = yield* resolve(instance)
        yield* (yield* CredentialVault.CredentialVault).supersede(current.metadata, {
          credentials: { ...secretsOf(current), client_secret: "rotated-away-4f1e" },
          reason: "test"
        })
        yield* TestClock.adjust(Duration.hours(2))
        const error = yield* Effect.flip(Connection.open(instance))
        assert.instanceOf(error, ActivityError.ReconnectRequired)
        assert.strictEqual(yield* telemetry.value(refreshes, refused), before.refused + 1)
        assert.strictEqual(yield* telemetry.value("patchbay.reconnect_required", reconnect), before.reconnects + 1)
        const text = yield* telemetry.text
        assert.notInclude(text, machineClient.secret)
        assert.notInclude(text, "rotated-away-4f1e")
      })
    ).pipe(Effect.provide(Layer.merge(memory(), actor)))
  )
})
