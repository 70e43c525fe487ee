/**
 * Streaming at scale: rows per second of the PostgreSQL driver's `streamQuery` against raw `pg` +
 * `pg-cursor` (the baseline) and against raw `pg` sending the statements `streamQuery` sends
 * (DECLARE / FETCH, each FETCH by pg's simple query or through a pg-cursor of its own as the driver
 * reads it: the cost of the protocol without the driver) in the same run, and the peak resident
 * memory of each, at 10k and 1M rows (and 10M with `PATCHBAY_BENCH_STREAM_ROWS=10000,1000000,10000000`).
 * `streamQuery` is read twice: consumed with `Stream.runFold`, and with `Stream.runForEach`.
 * Every read runs in a process of its own started with `--expose-gc` (`../streamingRead.ts`), so
 * that its peak RSS is its own; the readers alternate at each size, `PATCHBAY_BENCH_STREAM_ROUNDS`
 * times (default 1). Memory should stay flat as the row count grows: one batch of 1,000 rows is held
 * at a time. CPU time per row (user + system of the reading process) is printed beside the rate: on
 * a shared machine it moves far less than rows/s, so the ratios are given by CPU time too.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { PostgresServer } from "@patchbay/testing"
import pg from "pg"
import { type Row, ratioRow } from "../harness.js"
import type { ReadReport, ReadRequest } from "../streamingRead.js"

const sizes = (process.env.PATCHBAY_BENCH_STREAM_ROWS ?? "10000,1000000").split(",").map(Number)
const rounds = Number(process.env.PATCHBAY_BENCH_STREAM_ROUNDS ?? "1")
const child = fileURLToPath(new URL("../streamingRead.ts", import.meta.url))

const readIn = async (request: ReadRequest): Promise<ReadReport> => {
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, "--expose-gc", child], {
    env: { ...process.env, PATCHBAY_BENCH_STREAM: JSON.stringify(request) },
    maxBuffer: 1 << 20
  })
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as ReadReport
}

const names: Record<ReadRequest["subject"], string> = {
  patchbay: "streamQuery (runFold)",
  "patchbay-foreach": "streamQuery (runForEach)",
  "pg-cursor": "raw pg-cursor",
  "pg-cursor-fetch": "raw pg DECLARE/FETCH, FETCH via pg-cursor",
  "pg-fetch": "raw pg DECLARE/FETCH, simple query"
}

/** The readers of one round, the baseline first. */
const subjects: ReadonlyArray<ReadRequest["subject"]> = [
  "pg-cursor",
  "patchbay",
  "pg-cursor-fetch",
  "patchbay-foreach",
  "pg-fetch"
]

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

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
        const reports: Array<ReadReport> = []
        for (let round = 0; round < rounds; round++) {
          for (const subject of subjects) {
            const report = await readIn({ subject, rows: size, url })
            reports.push(report)
            lines.push(
              `| ${size.toLocaleString("en")} | ${names[report.subject]} | ${Math.round((size * 1e9) / report.nanos).toLocaleString("en")} | ${(report.cpuMicros / size).toFixed(2)} | ${mib(report.baseRss)} MiB | ${mib(report.peakRss)} MiB (+${mib(report.peakRss - report.baseRss)}) | ${report.gcRss.map(mib).join(", ")} MiB | ${mib(report.maxRss)} MiB |`
            )
          }
        }
        const of = (subject: ReadRequest["subject"]) => reports.filter((r) => r.subject === subject)
        const wall = (subject: ReadRequest["subject"]) => median(of(subject).map((r) => r.nanos / size))
        // CPU time as nanoseconds per row, so that the harness prints it as a time.
        const cpu = (subject: ReadRequest["subject"]) => median(of(subject).map((r) => (r.cpuMicros * 1e3) / size))
        for (const subject of subjects.slice(1)) {
          const label = `${names[subject]}, ${size.toLocaleString("en")} rows (per row`
          rows.push(
            ratioRow(`${label}, wall)`, wall(subject), { name: "raw pg-cursor", median: wall("pg-cursor") }, 1.5),
            ratioRow(`${label}, CPU)`, cpu(subject), { name: "raw pg-cursor", median: cpu("pg-cursor") }, 1.5)
          )
        }
      }
      console.log(lines.join("\n"))
      return rows
    } finally {
      await server.dispose()
    }
  }
}

export default suite
