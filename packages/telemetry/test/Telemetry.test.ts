import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { AlwaysOffSampler, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions"
import { HttpApiDescriptor, HttpConnector } from "@patchbay/connector-http"
import { Actor, ConnectorInstances, EgressPolicy, Ids, LifecycleEvents } from "@patchbay/core"
import { Connection, Credentials, CredentialVault } from "@patchbay/credentials"
import { Duration, Effect, Layer, TestClock } from "effect"
import { OutboxLag, Telemetry } from "../src/index.js"
import { observed } from "./support/observed.js"

const orgId = "0190a000-0000-7000-8000-00000000000a"
const goodKey = "pk_live_telemetry-GOOD-7f3a9c"
const badKey = "pk_live_telemetry-BAD-19e2d4"

/** An HTTP API on 127.0.0.1 that answers 200 to requests carrying `goodKey`, 401 to others. */
const api = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly close: () => void }>((resume) => {
    const server = createServer((request, response) => {
      const seen = `${request.url} ${JSON.stringify(request.headers)}`
      response
        .writeHead(seen.includes(goodKey) ? 200 : 401, { "content-type": "application/json" })
        .end(JSON.stringify({ message: seen.includes(goodKey) ? "ok" : "unknown key" }))
    })
    server.listen(0, "127.0.0.1", () =>
      resume(
        Effect.succeed({
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          close: () => {
            server.closeAllConnections()
            server.close()
          }
        })
      )
    )
  }),
  (server) => Effect.sync(server.close)
)

/** Credentials in memory with the HTTP API connector, connecting to loopback. */
const stack = Layer.unwrapEffect(
  Effect.map(HttpConnector.connector(HttpApiDescriptor.httpApi), (connector) => Credentials.layerMemory([connector]))
).pipe(Layer.provide(EgressPolicy.layer({ allowLoopback: true })))

const actor = Actor.ActorInfo.make({ orgId: Ids.OrgId.make(orgId) })

/** An `http-api` instance on `url`, with an API key stored at the organization (or none). */
const instanceWith = (url: string, name: string, apiKey: string | undefined) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const view = yield* instances.create({
      connector: "http-api",
      instanceName: name,
      authType: "api_key",
      configuration: { base_url: url }
    })
    if (apiKey !== undefined) {
      yield* (yield* CredentialVault.CredentialVault).create({
        instanceId: view.id,
        scope: { type: "organization", id: orgId },
        credentials: { api_key: apiKey }
      })
    }
    return yield* instances.getUsable(view.id)
  })

const resolves = "patchbay.credential.resolves"

describe("Telemetry.layer", () => {
  it.scoped("a resolve is counted by outcome and Connection.open is traced, with no secret exported", () =>
    observed((telemetry) =>
      Effect.gen(function* () {
        const { url } = yield* api
        const instance = yield* instanceWith(url, "resolved", goodKey)
        const resolved = { connector: "http-api", outcome: "resolved" }
        const before = yield* telemetry.value(resolves, resolved)
        const connection = yield* Connection.open(instance)
        yield* connection.connector.driver.test(connection.context)
        assert.strictEqual(yield* telemetry.value(resolves, resolved), before + 1)

        const spans = telemetry.spans()
        const open = spans.find((span) => span.name === "Connection.open")
        assert.isDefined(open)
        assert.strictEqual(open!.status.code, 1) // OK
        assert.strictEqual(open!.resource.attributes[ATTR_SERVICE_NAME], "patchbay-test")
        assert.strictEqual(open!.resource.attributes["service.namespace"], "patchbay")
        assert.isTrue(spans.some((span) => span.name === "HttpConnector.test"))

        const text = yield* telemetry.text
        assert.include(text, resolves)
        assert.notInclude(text, goodKey)
        assert.notInclude(text, encodeURIComponent(goodKey))
      })
    ).pipe(Effect.provide(stack), Effect.provideService(Actor.Actor, actor))
  )

  it.scoped("a missing credential counts the resolve, the failure and the reconnect by code", () =>
    observed((telemetry) =>
      Effect.gen(function* () {
        const { url } = yield* api
        const instance = yield* instanceWith(url, "no credential", undefined)
        const failure = { connector: "http-api", reason: "CredentialNotFound", outcome: "ReconnectRequired" }
        const reconnect = { connector: "http-api", code: "credential_missing" }
        const notFound = { connector: "http-api", outcome: "CredentialNotFound" }
        const before = {
          resolves: yield* telemetry.value(resolves, notFound),
          failures: yield* telemetry.value("patchbay.failures", failure),
          reconnects: yield* telemetry.value("patchbay.reconnect_required", reconnect)
        }
        const error = yield* Effect.flip(Connection.open(instance))
        assert.strictEqual(error._tag, "CredentialNotFound")
        assert.strictEqual(yield* telemetry.value(resolves, notFound), before.resolves + 1)
        assert.strictEqual(yield* telemetry.value("patchbay.failures", failure), before.failures + 1)
        assert.strictEqual(yield* telemetry.value("patchbay.reconnect_required", reconnect), before.reconnects + 1)
        // The resolve has no span of its own: its failure shows on the connection's.
        const open = telemetry.spans().find((span) => span.name === "Connection.open")
        assert.strictEqual(open?.status.code, 2) // ERROR
        assert.include(open?.status.message ?? "", "credential")
      })
    ).pipe(Effect.provide(stack), Effect.provideService(Actor.Actor, actor))
  )

  it.scoped("health checks record their latency by status; a rejected key is a ReconnectRequired by code", () =>
    observed((telemetry) =>
      Effect.gen(function* () {
        const { url } = yield* api
        const healthy = yield* Connection.open(yield* instanceWith(url, "healthy", goodKey))
        const rejected = yield* Connection.open(yield* instanceWith(url, "rejected", badKey))
        const duration = "patchbay.health_check.duration"
        const reconnect = { connector: "http-api", code: "credentials_rejected" }
        const failure = { connector: "http-api", reason: "AuthFailed", outcome: "ReconnectRequired" }
        const before = {
          healthy: (yield* telemetry.histogram(duration, { connector: "http-api", status: "healthy" })).count,
          unhealthy: (yield* telemetry.histogram(duration, { connector: "http-api", status: "unhealthy" })).count,
          reconnects: yield* telemetry.value("patchbay.reconnect_required", reconnect),
          failures: yield* telemetry.value("patchbay.failures", failure)
        }
        yield* healthy.connector.driver.healthCheck(healthy.context)
        yield* healthy.connector.driver.healthCheck(healthy.context)
        const error = yield* Effect.flip(rejected.connector.driver.healthCheck(rejected.context))
        assert.strictEqual(error._tag, "AuthFailed")

        const after = yield* telemetry.histogram(duration, { connector: "http-api", status: "healthy" })
        assert.strictEqual(after.count, before.healthy + 2)
        assert.isTrue(after.boundaries.length > 10)
        const unhealthy = yield* telemetry.histogram(duration, { connector: "http-api", status: "unhealthy" })
        assert.strictEqual(unhealthy.count, before.unhealthy + 1)
        assert.strictEqual(yield* telemetry.value("patchbay.reconnect_required", reconnect), before.reconnects + 1)
        assert.strictEqual(yield* telemetry.value("patchbay.failures", failure), before.failures + 1)
        const text = yield* telemetry.text
        assert.notInclude(text, goodKey)
        assert.notInclude(text, badKey)
      })
    ).pipe(Effect.provide(stack), Effect.provideService(Actor.Actor, actor))
  )

  it.effect("the outbox lag is the age of the oldest pending event, and 0 once it is delivered", () =>
    observed((telemetry) =>
      Effect.gen(function* () {
        const outbox = yield* LifecycleEvents.EventOutbox
        assert.strictEqual(yield* OutboxLag.measure, 0)
        const event = yield* LifecycleEvents.emit({
          _tag: "instance.created",
          orgId: Ids.OrgId.make(orgId),
          instanceId: Ids.InstanceId.make("0190a000-0000-7000-8000-0000000000f1"),
          connectorKey: "http-api"
        })
        yield* TestClock.adjust(Duration.seconds(42))
        assert.strictEqual(yield* OutboxLag.measure, 42)
        assert.strictEqual(yield* telemetry.value("patchbay.outbox.lag", {}), 42)
        yield* outbox.markDelivered([event.id], new Date())
        assert.strictEqual(yield* OutboxLag.measure, 0)
        assert.strictEqual(yield* telemetry.value("patchbay.outbox.lag", {}), 0)
      })
    ).pipe(Effect.provide(LifecycleEvents.layerMemory))
  )

  it.scoped("the poller measures at start and on its schedule", () =>
    observed((telemetry) =>
      Effect.gen(function* () {
        yield* LifecycleEvents.emit({
          _tag: "instance.deleted",
          orgId: Ids.OrgId.make(orgId),
          instanceId: Ids.InstanceId.make("0190a000-0000-7000-8000-0000000000f2"),
          connectorKey: "http-api"
        })
        yield* TestClock.adjust(Duration.seconds(5))
        yield* Layer.build(OutboxLag.layer({ interval: "10 seconds" }))
        // Measured while the layer was built.
        assert.strictEqual(yield* telemetry.value("patchbay.outbox.lag", {}), 5)
        yield* TestClock.adjust(Duration.seconds(10))
        // The poller's next read ran when the test clock passed its interval (it never waits on I/O).
        const lag = yield* telemetry
          .value("patchbay.outbox.lag", {})
          .pipe(Effect.repeat({ until: (lag) => lag === 15, times: 100 }))
        assert.strictEqual(lag, 15)
      })
    ).pipe(Effect.provide(LifecycleEvents.layerMemory))
  )
})

describe("Telemetry.layer with a sampler", () => {
  it.scoped("a trace the sampler leaves out exports no span; without the sampler the same call does", () =>
    Effect.gen(function* () {
      const spans = new InMemorySpanExporter()
      const { url } = yield* api
      yield* Effect.gen(function* () {
        const instance = yield* instanceWith(url, "sampled out", goodKey)
        yield* Connection.open(instance)
      }).pipe(
        Effect.provide(
          Telemetry.layer({ spanProcessors: [new SimpleSpanProcessor(spans)], sampler: new AlwaysOffSampler() })
        )
      )
      assert.deepStrictEqual(spans.getFinishedSpans(), [])
      yield* observed((telemetry) =>
        Effect.gen(function* () {
          const instance = yield* instanceWith(url, "sampled in", `${goodKey}-2`)
          yield* Connection.open(instance)
          assert.isTrue(telemetry.spans().some((span) => span.name === "Connection.open"))
          assert.notInclude(yield* telemetry.text, goodKey)
        })
      )
    }).pipe(Effect.provide(stack), Effect.provideService(Actor.Actor, actor))
  )
})
