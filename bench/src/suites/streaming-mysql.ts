/**
 * Streaming at scale on MariaDB: rows per second and CPU time per row of the MySQL driver's
 * `streamQuery` against raw mysql2 streaming (`query(…).stream()`, the baseline) and against raw
 * mysql2's row events paused per batch (the driver's protocol without the driver), with the peak
 * resident memory of each, at 10k and 1M rows (and 10M with
 * `PATCHBAY_BENCH_STREAM_ROWS=10000,1000000,10000000`). Every read runs in a process of its own
 * started with `--expose-gc` (`../streamingReadMysql.ts`); the readers alternate at each size, and
 * each size is read `PATCHBAY_BENCH_STREAM_REPEAT` times (default 2), the reader order rotating.
 * CPU time per row (user + system of the reading process) is the main figure: on a shared machine
 * it moves far less than rows/s. The table is an InnoDB table filled from MariaDB's sequence engine.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { MariaDbServer } from "@patchbay/testing"
import mysql from "mysql2/promise"
import { type Row, ratioRow } from "../harness.js"
import type { ReadReport, ReadRequest, Subject } from "../streamingReadMysql.js"

const sizes = (process.env.PATCHBAY_BENCH_STREAM_ROWS ?? "10000,1000000").split(",").map(Number)
const repeat = Number(process.env.PATCHBAY_BENCH_STREAM_REPEAT ?? "2")
const child = fileURLToPath(new URL("../streamingReadMysql.ts", import.meta.url))

const readIn = async (request: ReadRequest): Promise<ReadReport> => {
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, "--expose-gc", child], {
    env: { ...process.env, PATCHBAY_BENCH_STREAM: JSON.stringify(request) },
    maxBuffer: 1 << 20
  })
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as ReadReport
}

const names: Record<Subject, string> = {
  patchbay: "streamQuery",
  "mysql2-stream": "raw mysql2 .stream()",
  "mysql2-events": "raw mysql2 row events, paused per batch"
}
const subjects: ReadonlyArray<Subject> = ["mysql2-stream", "patchbay", "mysql2-events"]

const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)}`
const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

const suite = {
  name: "Streaming at scale (MariaDB, batches of 1,000, one process per read)",
  run: async (): Promise<ReadonlyArray<Row>> => {
    const server = await MariaDbServer.start({ args: ["--innodb-buffer-pool-size=1G"] })
    try {
      const admin = await mysql.createConnection({ uri: server.url })
      await admin.query("CREATE DATABASE bench_stream_mysql")
      await admin.query(
        "CREATE TABLE bench_stream_mysql.big (id INT PRIMARY KEY, label VARCHAR(24) NOT NULL, score DECIMAL(14, 1) NOT NULL)"
      )
      await admin.query(
        `INSERT INTO bench_stream_mysql.big SELECT seq, CONCAT('row ', seq), seq * 1.5 FROM seq_1_to_${Math.max(...sizes)}`
      )
      await admin.query("ANALYZE TABLE bench_stream_mysql.big")
      await admin.end()
      const url = Object.assign(new URL(server.url), { pathname: "/bench_stream_mysql" }).toString()
      const rows: Array<Row> = []
      const lines = [
        "| rows | reader | run | rows/s | CPU µs/row | RSS before | peak RSS (sampled each batch) | RSS after GC (every 1M rows, end) | kernel max RSS |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
      ]
      const summary = [
        "| rows | reader | median CPU µs/row | median rows/s | CPU ratio to raw .stream() | highest peak RSS growth |",
        "| --- | --- | --- | --- | --- | --- |"
      ]
      for (const size of sizes) {
        const reports: Record<Subject, Array<ReadReport>> = { patchbay: [], "mysql2-stream": [], "mysql2-events": [] }
        for (let run = 0; run < repeat; run++) {
          // The order rotates at each repetition, so no reader always runs first or last.
          const order = subjects.map((_, i) => subjects[(i + run) % subjects.length] as Subject)
          for (const subject of order) {
            const report = await readIn({ subject, rows: size, url })
            reports[subject].push(report)
            lines.push(
              `| ${size.toLocaleString("en")} | ${names[subject]} | ${run + 1} | ${Math.round((size * 1e9) / report.nanos).toLocaleString("en")} | ${(report.cpuMicros / size).toFixed(2)} | ${mib(report.baseRss)} MiB | ${mib(report.peakRss)} MiB (+${mib(report.peakRss - report.baseRss)}) | ${report.gcRss.map(mib).join(", ")} MiB | ${mib(report.maxRss)} MiB |`
            )
          }
        }
        const cpu = (subject: Subject) => median(reports[subject].map((r) => r.cpuMicros / size))
        const nanos = (subject: Subject) => median(reports[subject].map((r) => r.nanos / size))
        for (const subject of subjects) {
          summary.push(
            `| ${size.toLocaleString("en")} | ${names[subject]} | ${cpu(subject).toFixed(2)} | ${Math.round(1e9 / nanos(subject)).toLocaleString("en")} | ${(cpu(subject) / cpu("mysql2-stream")).toFixed(2)}× | +${mib(Math.max(...reports[subject].map((r) => r.peakRss - r.baseRss)))} MiB |`
          )
        }
        for (const subject of ["patchbay", "mysql2-events"] as const) {
          rows.push(
            ratioRow(
              `${names[subject]}, ${size.toLocaleString("en")} rows (wall time per row, median of ${repeat})`,
              nanos(subject),
              { name: names["mysql2-stream"], median: nanos("mysql2-stream") },
              1.5
            ),
            ratioRow(
              `${names[subject]}, ${size.toLocaleString("en")} rows (CPU time per row, median of ${repeat})`,
              cpu(subject) * 1e3,
              { name: `${names["mysql2-stream"]} CPU`, median: cpu("mysql2-stream") * 1e3 },
              1.5
            )
          )
        }
      }
      console.log(lines.join("\n"))
      console.log()
      console.log(summary.join("\n"))
      console.log()
      return rows
    } finally {
      await server.dispose()
    }
  }
}

export default suite
