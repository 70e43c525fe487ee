/**
 * What the streaming readers' child processes share (`streamingRead.ts` for PostgreSQL,
 * `streamingReadMysql.ts` for MySQL): the driver context for a database URL, and the measured read
 * itself — a warm-up of 20,000 rows (modules loaded, connection open, code compiled), a forced GC,
 * then the timed read of `big` with rows/s, CPU time and RSS sampled at each batch, printed as one
 * JSON line. With `PATCHBAY_BENCH_PROFILE=<file>` it also writes a CPU profile of the timed read
 * alone (`.cpuprofile`, for Chrome DevTools). Run the children with `--expose-gc`.
 */
import { writeFileSync } from "node:fs"
import { Session } from "node:inspector/promises"
import { type ConnectorDriver, ConnectorInstance, Ids } from "@patchbay/core"
import { Schema } from "effect"

/** Rows per batch, for every reader. */
export const batchSize = 1_000

/** What a child answers for its reader `subject`. */
export interface ReadReport<Subject extends string = string> {
  readonly subject: Subject
  readonly rows: number
  readonly nanos: number
  /** CPU time of the process during the read (user + system), in microseconds: steadier than `nanos` on a shared machine. */
  readonly cpuMicros: number
  readonly baseRss: number
  readonly peakRss: number
  /** RSS after a forced GC, every 1,000 batches and at the end. */
  readonly gcRss: ReadonlyArray<number>
  /** `process.resourceUsage().maxRSS`, in bytes: the kernel's high-water mark for the whole process. */
  readonly maxRss: number
}

/** A reader: `read(sql, onBatch)` streams every row of `sql`, `close` ends its connection. */
export interface Reader {
  readonly read: (sql: string, onBatch: (rows: number) => void) => Promise<void>
  readonly close: () => Promise<void>
}

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect === undefined) throw new Error("run with --expose-gc")
  collect()
}

/** A driver context for the database at `url` (user and password from the URL, no TLS). */
export const databaseContext = <C, CI, K, KI>(
  url: URL,
  connector: {
    readonly id: Ids.ConnectorId
    readonly key: string
    readonly configuration: Schema.Schema<C, CI>
    readonly credentials: Schema.Schema<K, KI>
  }
): ConnectorDriver.DriverContext<C, K> => {
  const configuration = {
    host: url.hostname,
    port: Number(url.port),
    database: url.pathname.slice(1),
    ssl_mode: "disable"
  }
  const orgId = "0190a000-0000-7000-8000-00000000000a"
  return {
    instance: ConnectorInstance.fresh({
      id: Ids.InstanceId.make("0190d000-0000-7000-8000-000000000032"),
      orgId: Ids.OrgId.make(orgId),
      connector: { id: connector.id, key: connector.key },
      instanceName: `bench_stream_${connector.key}`,
      configuration,
      authType: "database_password",
      hasCredentials: true,
      at: new Date()
    }),
    credential: { id: "credential-1", version: 1, scope: `organization:${orgId}` },
    configuration: Schema.decodeUnknownSync(connector.configuration)(configuration),
    credentials: Schema.decodeUnknownSync(connector.credentials)({
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password)
    })
  }
}

/** Warms `reader` up, reads the first `rows` rows of `big` with it, closes it and prints the report. */
export const measure = async <Subject extends string>(subject: Subject, reader: Reader, rows: number) => {
  await reader.read("SELECT id, label, score FROM big LIMIT 20000", () => {})
  gc()
  const baseRss = process.memoryUsage.rss()
  let peakRss = baseRss
  const gcRss: Array<number> = []
  let seen = 0
  let batches = 0
  const profile = process.env.PATCHBAY_BENCH_PROFILE
  const session = profile === undefined ? undefined : new Session()
  if (session !== undefined) {
    session.connect()
    await session.post("Profiler.enable")
    await session.post("Profiler.start")
  }
  const cpuStart = process.cpuUsage()
  const start = process.hrtime.bigint()
  await reader.read(`SELECT id, label, score FROM big LIMIT ${rows}`, (n) => {
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
  if (seen !== rows) throw new Error(`read ${seen} rows, expected ${rows}`)
  const report: ReadReport<Subject> = {
    subject,
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
