/**
 * One streaming read in a process of its own, for `suites/streaming-memory.ts`; run with
 * `--expose-gc`. Reads the first `rows` rows of `big` (`id`, `label`, `score`) in batches of 1,000,
 * with the PostgreSQL driver's `streamQuery` (consumed with `Stream.runFold` or `Stream.runForEach`),
 * with raw `pg` + `pg-cursor`, or with raw `pg` running the driver's own protocol (`BEGIN READ ONLY`,
 * `DECLARE … NO SCROLL CURSOR`, `FETCH FORWARD 1000`, each FETCH by pg's simple query or through a
 * pg-cursor of its own as the driver reads it). The warm-up, the measured read and its report (time,
 * CPU time, RSS before, at every batch, after forced GCs, and the kernel's peak) are
 * `streamingChild.ts`'s.
 */
import { createRequire } from "node:module"
import { PostgresConnector, PostgresDescriptor, PostgresPools } from "@patchbay/connector-postgres"
import { Database, EgressPolicy } from "@patchbay/core"
import { Effect, Stream } from "effect"
import pg from "pg"
import { batchSize, databaseContext, measure, type Reader, type ReadReport as Report } from "./streamingChild.js"

/** What the parent asks for. */
export interface ReadRequest {
  readonly subject: "patchbay" | "patchbay-foreach" | "pg-cursor" | "pg-fetch" | "pg-cursor-fetch"
  readonly rows: number
  readonly url: string
}

/** What the child answers. */
export type ReadReport = Report<ReadRequest["subject"]>

/** The part of pg-cursor used here (the bench declares no pg-cursor types). */
interface CursorInstance extends pg.Submittable {
  read(rows: number, callback: (error: Error | undefined, rows: Array<unknown>) => void): void
  close(callback: () => void): void
}
type CursorClass = new (text: string) => CursorInstance

/**
 * The driver's `streamQuery`, consumed with `Stream.runFold`, or with `Stream.runForEach` (one
 * Effect per batch through effect's `Sink.forEach`, which costs the consumer promoting scavenges).
 */
const connector = {
  id: PostgresDescriptor.id,
  key: "postgres",
  configuration: PostgresDescriptor.Configuration,
  credentials: PostgresDescriptor.Credentials
}

const patchbayReader = (url: URL, consumer: "fold" | "forEach"): Reader => {
  const pools = PostgresPools.unsafeMake(EgressPolicy.make({ allowLoopback: true }))
  const driver = PostgresConnector.make(pools)
  const context = databaseContext(url, connector)
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
  await measure(request.subject, reader, request.rows)
}

await main()
