/**
 * Streaming queries: rows per second of the PostgreSQL driver's `streamQuery` against raw `pg`
 * reading the same server-side cursor (DECLARE / FETCH) in the same run, and how far the process's
 * resident memory grows while each streams 10k and 1M rows (it should stay flat).
 */
import { PostgresConnector, PostgresDescriptor, PostgresPools } from "@patchbay/connector-postgres"
import { ConnectorInstance, Database, EgressPolicy, Ids } from "@patchbay/core"
import { PostgresServer } from "@patchbay/testing"
import { Effect, Schema, Stream } from "effect"
import pg from "pg"
import { type Row, ratioRow } from "../harness.js"

const batchSize = 1_000
const sizes = [10_000, 1_000_000]

const contextFor = (url: URL): PostgresConnector.Context => {
  const configuration = { host: url.hostname, port: Number(url.port), database: "bench_stream", ssl_mode: "disable" }
  return {
    instance: ConnectorInstance.fresh({
      id: Ids.InstanceId.make("0190d000-0000-7000-8000-000000000031"),
      orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
      connector: { id: PostgresDescriptor.id, key: "postgres" },
      instanceName: "bench_stream",
      configuration,
      authType: "database_password",
      hasCredentials: true,
      at: new Date()
    }),
    credential: { id: "credential-1", version: 1, scope: "organization:0190a000-0000-7000-8000-00000000000a" },
    configuration: Schema.decodeUnknownSync(PostgresDescriptor.Configuration)(configuration),
    credentials: Schema.decodeUnknownSync(PostgresDescriptor.Credentials)({
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password)
    })
  }
}

/** Runs `read`, sampling RSS at every batch: nanoseconds per row and the RSS growth in MiB. */
const measureRun = async (rows: number, read: (onBatch: (n: number) => void) => Promise<void>) => {
  globalThis.gc?.()
  const base = process.memoryUsage().rss
  let peak = base
  let seen = 0
  const start = process.hrtime.bigint()
  await read((n) => {
    seen += n
    peak = Math.max(peak, process.memoryUsage().rss)
  })
  const nanos = Number(process.hrtime.bigint() - start)
  if (seen !== rows) throw new Error(`read ${seen} rows, expected ${rows}`)
  return { perRow: nanos / rows, growthMiB: (peak - base) / 1_048_576 }
}

const suite = {
  name: "Streaming queries (PostgreSQL, batches of 1,000)",
  run: async (): Promise<ReadonlyArray<Row>> => {
    const server = await PostgresServer.start()
    const url = new URL(server.url)
    const pools = PostgresPools.unsafeMake(EgressPolicy.make({ allowLoopback: true }))
    try {
      const admin = new pg.Client({ connectionString: server.url })
      await admin.connect()
      await admin.query("CREATE DATABASE bench_stream")
      await admin.end()
      const dbUrl = Object.assign(new URL(url), { pathname: "/bench_stream" }).toString()
      const client = new pg.Client({ connectionString: dbUrl })
      await client.connect()
      await client.query(
        `CREATE TABLE big AS SELECT i AS id, 'row ' || i AS label, i * 1.5 AS score FROM generate_series(1, ${Math.max(...sizes)}) i`
      )
      const driver = PostgresConnector.make(pools)
      const context = contextFor(url)
      const rows: Array<Row> = []
      for (const size of sizes) {
        const sql = `SELECT id, label, score FROM big WHERE id <= ${size}`
        const raw = await measureRun(size, async (onBatch) => {
          await client.query("BEGIN READ ONLY")
          await client.query(`DECLARE c NO SCROLL CURSOR FOR ${sql}`)
          while (true) {
            const result = await client.query(`FETCH FORWARD ${batchSize} FROM c`)
            if (result.rows.length > 0) onBatch(result.rows.length)
            if (result.rows.length < batchSize) break
          }
          await client.query("ROLLBACK")
        })
        const request = Database.StreamQueryRequest.make({ sql, params: [], batchSize, timeoutMillis: 600_000 })
        const ours = await measureRun(size, (onBatch) =>
          Effect.runPromise(
            Stream.runForEach(driver.streamQuery(context, request), (batch) =>
              Effect.sync(() => onBatch(batch.rows.length))
            )
          )
        )
        console.log(
          `streaming ${size} rows: Patchbay ${(1e9 / ours.perRow).toFixed(0)} rows/s, RSS +${ours.growthMiB.toFixed(1)} MiB; raw pg cursor ${(1e9 / raw.perRow).toFixed(0)} rows/s, RSS +${raw.growthMiB.toFixed(1)} MiB`
        )
        rows.push(
          ratioRow(
            `streamQuery, ${size} rows (per row)`,
            ours.perRow,
            { name: "raw pg cursor", median: raw.perRow },
            1.5
          )
        )
      }
      await client.end()
      return rows
    } finally {
      await Effect.runPromise(pools.closeAll)
      await server.stop()
    }
  }
}

export default suite
