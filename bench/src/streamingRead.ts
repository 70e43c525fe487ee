/**
 * One streaming read in a process of its own, for `suites/streaming-memory.ts`; run with
 * `--expose-gc`. Reads the first `rows` rows of `big` (`id`, `label`, `score`) in batches of 1,000,
 * with the PostgreSQL driver's `streamQuery` (consumed with `Stream.runFold` or `Stream.runForEach`),
 * with raw `pg` + `pg-cursor`, or with raw `pg` running the driver's own protocol (`BEGIN READ ONLY`,
 * `DECLARE … NO SCROLL CURSOR`, `FETCH FORWARD 1000`, each FETCH by pg's simple query or through a
 * pg-cursor of its own as the driver reads it), after a warm-up read of 20,000 rows on the same connection (modules loaded, connection open, code
 * compiled) and a forced GC. Prints one
 * JSON line: time, CPU time, the RSS before the read, the highest RSS sampled at every batch, the RSS after
 * a forced GC every 1,000 batches and at the end, and the kernel's peak RSS of the process.
 */
import { createRequire } from "node:module"
import { PostgresConnector, PostgresDescriptor, PostgresPools } from "@patchbay/connector-postgres"
import { ConnectorInstance, Database, EgressPolicy, Ids } from "@patchbay/core"
import { Effect, Schema, Stream } from "effect"
import pg from "pg"

/** What the parent asks for. */
export interface ReadRequest {
  readonly subject: "patchbay" | "patchbay-foreach" | "pg-cursor" | "pg-fetch" | "pg-cursor-fetch"
  readonly rows: number
  readonly url: string
}

/** What the child answers. */
export interface ReadReport {
  readonly subject: ReadRequest["subject"]
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

/** The part of pg-cursor used here (the bench declares no pg-cursor types). */
interface CursorInstance extends pg.Submittable {
  read(rows: number, callback: (error: Error | undefined, rows: Array<unknown>) => void): void
  close(callback: () => void): void
}
type CursorClass = new (text: string) => CursorInstance

const batchSize = 1_000

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect === undefined) throw new Error("run with --expose-gc")
  collect()
}

const contextFor = (url: URL): PostgresConnector.Context => {
  const configuration = {
    host: url.hostname,
    port: Number(url.port),
    database: url.pathname.slice(1),
    ssl_mode: "disable"
  }
  return {
    instance: ConnectorInstance.fresh({
      id: Ids.InstanceId.make("0190d000-0000-7000-8000-000000000032"),
      orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
      connector: { id: PostgresDescriptor.id, key: "postgres" },
      instanceName: "bench_stream_memory",
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

/** A reader: `read(sql, onBatch)` streams every row of `sql`, `close` ends its connection. */
interface Reader {
  readonly read: (sql: string, onBatch: (rows: number) => void) => Promise<void>
  readonly close: () => Promise<void>
}

/**
 * The driver's `streamQuery`, consumed with `Stream.runFold`, or with `Stream.runForEach` (one
 * Effect per batch through effect's `Sink.forEach`, which costs the consumer promoting scavenges).
 */
const patchbayReader = (url: URL, consumer: "fold" | "forEach"): Reader => {
  const pools = PostgresPools.unsafeMake(EgressPolicy.make({ allowLoopback: true }))
  const driver = PostgresConnector.make(pools)
  const context = contextFor(url)
  const open = (sql: string) =>
    driver.streamQuery(
      context,
      Database.StreamQueryRequest.make({ sql, params: [], batchSize, timeoutMillis: 3_600_000 })
    )
  return {
    read: (sql, onBatch) =>
      Effect.runPromise(
        consumer === "fold"
          ? Stream.runFold(open(sql), 0, (n, batch) => {
              onBatch(batch.rows.length)
              return n + 1
            })
          : Stream.runForEach(open(sql), (batch) => Effect.sync(() => onBatch(batch.rows.length)))
      ),
    close: () => Effect.runPromise(pools.closeAll)
  }
}

/** `require` as the PostgreSQL connector resolves modules (the same pg-cursor and pg the driver uses). */
const connectorRequire = () =>
  createRequire(createRequire(import.meta.url).resolve("@patchbay/connector-postgres/package.json"))

const cursorReader = async (url: URL): Promise<Reader> => {
  const Cursor = connectorRequire()("pg-cursor") as CursorClass
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  return {
    read: async (sql, onBatch) => {
      const cursor = client.query(new Cursor(sql))
      const next = () =>
        new Promise<number>((resolve, reject) =>
          cursor.read(batchSize, (error, rows) => (error ? reject(error) : resolve(rows.length)))
        )
      while (true) {
        const n = await next()
        if (n > 0) onBatch(n)
        if (n < batchSize) break
      }
      await new Promise<void>((resolve) => cursor.close(resolve))
    },
    close: () => client.end()
  }
}

/** Raw pg on the statements `streamQuery` sends: what the cursor protocol costs without the driver. */
const fetchReader = async (url: URL): Promise<Reader> => {
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  return {
    read: async (sql, onBatch) => {
      await client.query("BEGIN READ ONLY")
      await client.query(`DECLARE c NO SCROLL CURSOR FOR ${sql}`)
      while (true) {
        const n = (await client.query(`FETCH FORWARD ${batchSize} FROM c`)).rows.length
        if (n > 0) onBatch(n)
        if (n < batchSize) break
      }
      await client.query("ROLLBACK")
    },
    close: () => client.end()
  }
}

/** Raw pg reading each `FETCH FORWARD 1000` through a pg-cursor of its own (extended protocol). */
const cursorFetchReader = async (url: URL): Promise<Reader> => {
  const Cursor = connectorRequire()("pg-cursor") as CursorClass
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  return {
    read: async (sql, onBatch) => {
      await client.query("BEGIN READ ONLY")
      await client.query(`DECLARE c NO SCROLL CURSOR FOR ${sql}`)
      while (true) {
        const cursor = client.query(new Cursor(`FETCH FORWARD ${batchSize} FROM c`))
        const n = await new Promise<number>((resolve, reject) =>
          cursor.read(batchSize + 1, (error, rows) => (error ? reject(error) : resolve(rows.length)))
        )
        if (n > 0) onBatch(n)
        if (n < batchSize) break
      }
      await client.query("ROLLBACK")
    },
    close: () => client.end()
  }
}

const main = async () => {
  const request = JSON.parse(process.env.PATCHBAY_BENCH_STREAM ?? "") as ReadRequest
  const url = new URL(request.url)
  const reader =
    request.subject === "patchbay"
      ? patchbayReader(url, "fold")
      : request.subject === "patchbay-foreach"
        ? patchbayReader(url, "forEach")
        : request.subject === "pg-cursor"
          ? await cursorReader(url)
          : request.subject === "pg-cursor-fetch"
            ? await cursorFetchReader(url)
            : await fetchReader(url)
  await reader.read("SELECT id, label, score FROM big LIMIT 20000", () => {})
  gc()
  const baseRss = process.memoryUsage.rss()
  let peakRss = baseRss
  const gcRss: Array<number> = []
  let seen = 0
  let batches = 0
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
