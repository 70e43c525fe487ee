/**
 * Streaming at scale: rows per second of the PostgreSQL driver's `streamQuery` against raw `pg` +
 * `pg-cursor` (the driver's own streaming, the baseline) and against raw `pg` sending the statements
 * `streamQuery` sends (DECLARE / FETCH: the cost of the protocol without the driver) in the same run, and the peak resident
 * memory of each, at 10k and 1M rows (and 10M with `PATCHBAY_BENCH_STREAM_ROWS=10000,1000000,10000000`).
 * Every read runs in a process of its own started with `--expose-gc` (`../streamingRead.ts`), so
 * that its peak RSS is its own; the two readers alternate at each size. Memory should stay flat as
 * the row count grows: one batch of 1,000 rows is held at a time. CPU time per row (user + system of
 * the reading process) is printed beside the rate: on a shared machine it moves far less than rows/s.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { PostgresServer } from "@patchbay/testing"
import pg from "pg"
import { type Row, ratioRow } from "../harness.js"
import type { ReadReport, ReadRequest } from "../streamingRead.js"

const sizes = (process.env.PATCHBAY_BENCH_STREAM_ROWS ?? "10000,1000000").split(",").map(Number)
const child = fileURLToPath(new URL("../streamingRead.ts", import.meta.url))

const readIn = async (request: ReadRequest): Promise<ReadReport> => {
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, "--expose-gc", child], {
    env: { ...process.env, PATCHBAY_BENCH_STREAM: JSON.stringify(request) },
    maxBuffer: 1 << 20
  })
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as ReadReport
}

const names = { patchbay: "streamQuery", "pg-cursor": "raw pg-cursor", "pg-fetch": "raw pg DECLARE/FETCH" }

const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)}`

const suite = {
  name: "Streaming at scale (PostgreSQL, batches of 1,000, one process per read)",
  run: async (): Promise<ReadonlyArray<Row>> => {
    const server = await PostgresServer.start()
    try {
      const admin = new pg.Client({ connectionString: server.url })
      await admin.connect()
      await admin.query("CREATE DATABASE bench_stream_memory")
      await admin.end()
      const url = Object.assign(new URL(server.url), { pathname: "/bench_stream_memory" }).toString()
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      await client.query(
        `CREATE UNLOGGED TABLE big AS SELECT i AS id, 'row ' || i AS label, i * 1.5 AS score FROM generate_series(1, ${Math.max(...sizes)}) i`
      )
      await client.query("VACUUM ANALYZE big")
      await client.end()
      const rows: Array<Row> = []
      const lines = [
        "| rows | reader | rows/s | CPU µs/row | RSS before | peak RSS (sampled each batch) | RSS after GC (every 1M rows, end) | kernel max RSS |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |"
      ]
      for (const size of sizes) {
        const raw = await readIn({ subject: "pg-cursor", rows: size, url })
        const ours = await readIn({ subject: "patchbay", rows: size, url })
        const fetch = await readIn({ subject: "pg-fetch", rows: size, url })
        for (const report of [ours, raw, fetch]) {
          lines.push(
            `| ${size.toLocaleString("en")} | ${names[report.subject]} | ${Math.round((size * 1e9) / report.nanos).toLocaleString("en")} | ${(report.cpuMicros / size).toFixed(2)} | ${mib(report.baseRss)} MiB | ${mib(report.peakRss)} MiB (+${mib(report.peakRss - report.baseRss)}) | ${report.gcRss.map(mib).join(", ")} MiB | ${mib(report.maxRss)} MiB |`
          )
        }
        rows.push(
          ratioRow(
            `streamQuery, ${size.toLocaleString("en")} rows (per row)`,
            ours.nanos / size,
            { name: "raw pg-cursor", median: raw.nanos / size },
            1.5
          ),
          ratioRow(
            `raw pg DECLARE/FETCH, ${size.toLocaleString("en")} rows (per row)`,
            fetch.nanos / size,
            { name: "raw pg-cursor", median: raw.nanos / size },
            1.5
          )
        )
      }
      console.log(lines.join("\n"))
      return rows
    } finally {
      await server.dispose()
    }
  }
}

export default suite
