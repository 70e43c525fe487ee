import {
  Actor,
  type ConnectorDescriptor,
  ConnectorDriver,
  ConnectorInstances,
  ConnectorRegistry,
  Ids
} from "@patchbay/core"
import { SqlStore } from "@patchbay/store-sql"
import { PostgresServer } from "@patchbay/testing"
import { Effect, Layer, ManagedRuntime, Redacted, Schema } from "effect"
import { freshDatabase } from "../fixtures.js"
import { formatNanos, ratioRow, type Suite, sampleEffect } from "../harness.js"

const descriptor = {
  id: Ids.ConnectorId.make("00000000-0000-4000-8000-0000000001d2"),
  key: "bench-db",
  name: "Benchmark database",
  version: "1.0.0",
  authProfiles: ["database_password"],
  operations: ["test_connection"],
  configuration: Schema.Struct({ host: Schema.String }),
  credentials: Schema.Struct({ username: Schema.String, password: Schema.Redacted(Schema.String) }),
  secretFields: ["password"],
  accountFields: ["host", "username"],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor.ConnectorDescriptor

const connector = ConnectorDriver.make(descriptor, { test: () => Effect.succeed("ok"), healthCheck: () => Effect.void })
const sampling = { samples: 15, batch: 20 }

/**
 * Instance create on a real PostgreSQL without a key, with a new key (claim, write, result: three
 * more statements in the same transaction), and the retry of a keyed create (the recorded result,
 * no write).
 */
const suite: Suite = {
  name: "Idempotency keys: instance create on PostgreSQL",
  run: async () => {
    const server = await PostgresServer.start()
    const { url, drop } = await freshDatabase(server.url, "patchbay_bench")
    const runtime = ManagedRuntime.make(
      ConnectorInstances.layer.pipe(
        Layer.provideMerge(
          Layer.merge(SqlStore.layerPg({ url: Redacted.make(url) }), ConnectorRegistry.layer([connector]))
        )
      )
    )
    try {
      const rows = await runtime.runPromise(
        Effect.gen(function* () {
          const instances = yield* ConnectorInstances.ConnectorInstances
          let n = 0
          const create = (idempotencyKey?: string) =>
            instances.create({
              connector: descriptor.key,
              instanceName: `bench ${n++}`,
              configuration: { host: "db.internal" },
              ...(idempotencyKey === undefined ? {} : { idempotencyKey })
            })
          // Warm the pool and the plans.
          for (let i = 0; i < 20; i++) yield* create(`warm-${i}`)
          const plain = yield* sampleEffect(
            Effect.suspend(() => create()),
            sampling
          )
          const keyed = yield* sampleEffect(
            Effect.suspend(() => create(`key-${n}`)),
            sampling
          )
          const request = {
            connector: descriptor.key,
            instanceName: "retried",
            configuration: { host: "db.internal" },
            idempotencyKey: "retried-key"
          }
          yield* instances.create(request)
          const retried = yield* sampleEffect(instances.create(request), sampling)
          const baseline = { name: "create without a key", median: plain.wall }
          return [
            { name: "create without a key", median: plain.wall, target: "baseline", met: true },
            ratioRow("create with a new key", keyed.wall, baseline, 2),
            ratioRow("retry of a keyed create (recorded result)", retried.wall, baseline, 1.5)
          ]
        }).pipe(Effect.provide(Actor.layer({ orgId: "0190a000-0000-7000-8000-0000000001d2" })))
      )
      for (const row of rows) console.error(`${row.name}: ${formatNanos(row.median)}`)
      return rows
    } finally {
      await runtime.dispose()
      await drop()
      await server.dispose()
    }
  }
}

export default suite
