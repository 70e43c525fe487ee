import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { HttpApiDescriptor, HttpConnector } from "@patchbay/connector-http"
import { Actor, ConnectorInstances, EgressPolicy } from "@patchbay/core"
import { Credentials, CredentialVault } from "@patchbay/credentials"
import { ConnectionTester } from "@patchbay/testers"
import { Effect, Layer, ManagedRuntime } from "effect"
import { limitRow, medianOfRuns, type Row, type Suite } from "../harness.js"

const orgId = "0190a000-0000-7000-8000-00000000000a"
const delayMillis = 100
const instanceCount = 50

/**
 * Bulk health check of 50 HTTP instances whose endpoint answers after 100 ms, against a serial loop
 * of the same health checks measured in the same run.
 */
const suite: Suite = {
  name: "Bulk health check (50 HTTP instances, 100 ms endpoint)",
  run: async () => {
    const server = createServer((_request, response) => {
      setTimeout(() => response.writeHead(200).end("ok"), delayMillis)
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const port = (server.address() as AddressInfo).port

    const connector = Effect.runSync(
      Effect.provide(HttpConnector.connector(HttpApiDescriptor.httpApi), EgressPolicy.layer({ allowLoopback: true }))
    )
    const runtime = ManagedRuntime.make(
      ConnectionTester.layer.pipe(
        Layer.provideMerge(Credentials.layerMemory([connector])),
        Layer.provideMerge(Actor.layer({ orgId }))
      )
    )
    try {
      const ids = await runtime.runPromise(
        Effect.gen(function* () {
          const instances = yield* ConnectorInstances.ConnectorInstances
          const vault = yield* CredentialVault.CredentialVault
          return yield* Effect.forEach(
            Array.from({ length: instanceCount }, (_, i) => i),
            (i) =>
              Effect.gen(function* () {
                const instance = yield* instances.create({
                  connector: "http-api",
                  instanceName: `api-${i}`,
                  authType: "bearer",
                  configuration: {
                    base_url: `http://127.0.0.1:${port}/tenant-${i}`,
                    test_endpoint: { method: "GET", path: "/health", expect_status: 200 }
                  }
                })
                yield* vault.create({
                  instanceId: instance.id,
                  scope: { type: "organization", id: orgId },
                  credentials: { token: `token-${i}` }
                })
                return instance.id
              })
          )
        })
      )
      const bulk = () =>
        runtime.runPromise(
          Effect.flatMap(ConnectionTester.ConnectionTester, (t) =>
            t.bulkOperation({ instanceIds: ids, action: "health_check" })
          ).pipe(
            Effect.tap((results) =>
              results.every(
                (r) => r.result._tag === "Right" && "latencyMs" in r.result.right && r.result.right.status === "healthy"
              )
                ? Effect.void
                : Effect.dieMessage("a bulk health check was not healthy")
            )
          )
        )
      const serial = () =>
        runtime.runPromise(
          Effect.flatMap(ConnectionTester.ConnectionTester, (t) =>
            Effect.forEach(ids, (id) => t.healthCheck(id), { concurrency: 1 })
          )
        )
      await bulk() // warm-up: JIT, connection setup
      await bulk()
      const bulkMedian = await medianOfRuns(7, bulk)
      const serialMedian = await medianOfRuns(1, serial)
      const rows: Array<Row> = [
        {
          ...limitRow("bulkOperation(health_check) × 50", bulkMedian, 250e6),
          baseline: { name: "serial loop", median: serialMedian }
        }
      ]
      return rows
    } finally {
      await runtime.dispose()
      server.close()
    }
  }
}
export default suite
