/**
 * One MySQL / MariaDB streaming read in a process of its own, for `suites/streaming-mysql.ts`; run
 * with `--expose-gc`. Reads the first `rows` rows of `big` (`id`, `label`, `score`) in batches of
 * 1,000, with the MySQL driver's `streamQuery`, with raw mysql2's `query(…).stream()` (a Readable
 * of rows, gathered into batches of 1,000), or with raw mysql2's row events, the connection paused
 * when a batch is full and resumed when it is taken (the driver's own protocol without the driver).
 * Both raw readers run inside `START TRANSACTION READ ONLY` … `ROLLBACK`, as the driver does, on a
 * connection with the driver's result options (big numbers and dates as strings, utf8mb4). Each
 * process reads 20,000 rows first (modules loaded, connection open, code compiled), forces a GC,
 * then prints one JSON line in the shape of `streamingRead.ts`'s report. With
 * `PATCHBAY_BENCH_PROFILE=<file>` it also writes a CPU profile of the timed read alone (`.cpuprofile`,
 * for Chrome DevTools), without the warm-up and without tsx compiling.
 */
import { writeFileSync } from "node:fs"
import { Session } from "node:inspector/promises"
import { MysqlConnector, MysqlDescriptor, MysqlPools } from "@patchbay/connector-mysql"
import { ConnectorInstance, Database, EgressPolicy, Ids } from "@patchbay/core"
import { Effect, Schema, Stream } from "effect"
import mysql from "mysql2"
import type { ReadReport as PgReadReport } from "./streamingRead.js"

/** The readers. */
export type Subject = "patchbay" | "mysql2-stream" | "mysql2-events"

/** What the parent asks for. */
export interface ReadRequest {
  readonly subject: Subject
  readonly rows: number
  /** `mysql://user:password@127.0.0.1:port/database` */
  readonly url: string
}

/** What the child answers: the PostgreSQL reader's report, for these readers. */
export type ReadReport = Omit<PgReadReport, "subject"> & { readonly subject: Subject }

const batchSize = 1_000

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect === undefined) throw new Error("run with --expose-gc")
  collect()
}

const contextFor = (url: URL): MysqlConnector.Context => {
  const configuration = {
    host: url.hostname,
    port: Number(url.port),
    database: url.pathname.slice(1),
    ssl_mode: "disable"
  }
  return {
    instance: ConnectorInstance.fresh({
      id: Ids.InstanceId.make("0190d000-0000-7000-8000-000000000033"),
      orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
      connector: { id: MysqlDescriptor.id, key: "mysql" },
      instanceName: "bench_stream_mysql",
      configuration,
      authType: "database_password",
      hasCredentials: true,
      at: new Date()
    }),
    credential: { id: "credential-1", version: 1, scope: "organization:0190a000-0000-7000-8000-00000000000a" },
    configuration: Schema.decodeUnknownSync(MysqlDescriptor.Configuration)(configuration),
    credentials: Schema.decodeUnknownSync(MysqlDescriptor.Credentials)({
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password)
    })
  }
}

/** A reader: `read(sql, onBatch)` streams every row of `sql`, `close` ends its connection. */
interface Reader {
  readonly read: (sql: string, onBatch: (rows: number) => void) => Promise<void>
  readonly close: () => Promise<void>
}

const patchbayReader = (url: URL): Reader => {
  const pools = MysqlPools.unsafeMake(EgressPolicy.make({ allowLoopback: true }))
  const driver = MysqlConnector.make(pools)
  const context = contextFor(url)
  return {
    read: (sql, onBatch) =>
      // Folded, as the PostgreSQL reader does: `Stream.runForEach` costs more per row (docs/benchmarks.md).
      Effect.runPromise(
        Stream.runFold(
          driver.streamQuery(
            context,
            Database.StreamQueryRequest.make({ sql, params: [], batchSize, timeoutMillis: 3_600_000 })
          ),
          0,
          (n, batch) => {
            onBatch(batch.rows.length)
            return n + 1
          }
        ).pipe(Effect.asVoid)
      ),
    close: () => Effect.runPromise(pools.closeAll)
  }
}

/** A raw mysql2 connection with the result options the driver sets (they decide how values are parsed). */
const rawConnection = async (url: URL): Promise<mysql.Connection> => {
  const connection = mysql.createConnection({
    host: url.hostname,
    port: Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    charset: "utf8mb4_general_ci"
  })
  await connection.promise().query("SELECT 1")
  return connection
}

const statement = (connection: mysql.Connection, sql: string) => connection.promise().query(sql)

/** mysql2's own streaming: `query(sql).stream()`, a Readable of rows, in batches of 1,000. */
const streamReader = async (url: URL): Promise<Reader> => {
  const connection = await rawConnection(url)
  return {
    read: async (sql, onBatch) => {
      await statement(connection, "START TRANSACTION READ ONLY")
      await new Promise<void>((resolve, reject) => {
        let batch: Array<unknown> = []
        connection
          .query(sql)
          .stream({ highWaterMark: batchSize })
          .on("data", (row: unknown) => {
            batch.push(row)
            if (batch.length === batchSize) {
              onBatch(batch.length)
              batch = []
            }
          })
          .on("error", reject)
          .on("end", () => {
            if (batch.length > 0) onBatch(batch.length)
            resolve()
          })
      })
      await statement(connection, "ROLLBACK")
    },
    close: () => connection.promise().end()
  }
}

/**
 * mysql2's row events, the connection paused when a batch is full and resumed after the batch is
 * taken (on the next macrotask, as a consumer awaiting each batch would).
 */
const eventsReader = async (url: URL): Promise<Reader> => {
  const connection = await rawConnection(url)
  return {
    read: async (sql, onBatch) => {
      await statement(connection, "START TRANSACTION READ ONLY")
      await new Promise<void>((resolve, reject) => {
        let batch: Array<unknown> = []
        const query = connection.query(sql)
        query.on("error", reject)
        query.on("result", (row: unknown) => {
          batch.push(row)
          if (batch.length === batchSize) {
            connection.pause()
            const full = batch
            batch = []
            setImmediate(() => {
              onBatch(full.length)
              connection.resume()
            })
          }
        })
        query.on("end", () => {
          if (batch.length > 0) onBatch(batch.length)
          resolve()
        })
      })
      await statement(connection, "ROLLBACK")
    },
    close: () => connection.promise().end()
  }
}

const main = async () => {
  const request = JSON.parse(process.env.PATCHBAY_BENCH_STREAM ?? "") as ReadRequest
  const url = new URL(request.url)
  const reader =
    request.subject === "patchbay"
      ? patchbayReader(url)
      : request.subject === "mysql2-stream"
        ? await streamReader(url)
        : await eventsReader(url)
  await reader.read("SELECT id, label, score FROM big LIMIT 20000", () => {})
  gc()
  const baseRss = process.memoryUsage.rss()
  let peakRss = baseRss
  const gcRss: Array<number> = []
  let seen = 0
  let batches = 0
  // PATCHBAY_BENCH_PROFILE=<file>: a CPU profile of the timed read only (not the warm-up, not tsx).
  const profile = process.env.PATCHBAY_BENCH_PROFILE
  const session = profile === undefined ? undefined : new Session()
  if (session !== undefined) {
    session.connect()
    await session.post("Profiler.enable")
    await session.post("Profiler.start")
  }
  const cpuStart = process.cpuUsage()
  const start = process.hrtime.bigint()
  await reader.read(`SELECT id, label, score FROM big LIMIT ${request.rows}`, (n) => {
    seen += n
    batches++
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
    if (batches % 1_000 === 0) {
      gc()
      gcRss.push(process.memoryUsage.rss())
    }
  })
  const nanos = Number(process.hrtime.bigint() - start)
  const cpu = process.cpuUsage(cpuStart)
  if (session !== undefined && profile !== undefined) {
    const { profile: taken } = await session.post("Profiler.stop")
    writeFileSync(profile, JSON.stringify(taken))
    session.disconnect()
  }
  gc()
  gcRss.push(process.memoryUsage.rss())
  await reader.close()
  if (seen !== request.rows) throw new Error(`read ${seen} rows, expected ${request.rows}`)
  const report: ReadReport = {
    subject: request.subject,
    rows: seen,
    nanos,
    cpuMicros: cpu.user + cpu.system,
    baseRss,
    peakRss,
    gcRss,
    maxRss: process.resourceUsage().maxRSS * 1024
  }
  console.log(JSON.stringify(report))
}

await main()
