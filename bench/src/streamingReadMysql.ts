/**
 * One MySQL / MariaDB streaming read in a process of its own, for `suites/streaming-mysql.ts`; run
 * with `--expose-gc`. Reads the first `rows` rows of `big` (`id`, `label`, `score`) in batches of
 * 1,000, with the MySQL driver's `streamQuery`, with raw mysql2's `query(…).stream()` (a Readable
 * of rows, gathered into batches of 1,000), or with raw mysql2's row events, the connection paused
 * when a batch is full and resumed when it is taken (the driver's own protocol without the driver).
 * Both raw readers run inside `START TRANSACTION READ ONLY` … `ROLLBACK`, as the driver does, on a
 * connection with the driver's result options (big numbers and dates as strings, utf8mb4). The
 * warm-up, the measured read and its report are `streamingChild.ts`'s.
 */
import { MysqlConnector, MysqlDescriptor, MysqlPools } from "@patchbay/connector-mysql"
import { Database, EgressPolicy } from "@patchbay/core"
import { Effect, Stream } from "effect"
import mysql from "mysql2"
import { batchSize, databaseContext, measure, type Reader, type ReadReport as Report } from "./streamingChild.js"

/** The readers. */
export type Subject = "patchbay" | "mysql2-stream" | "mysql2-events"

/** What the parent asks for. */
export interface ReadRequest {
  readonly subject: Subject
  readonly rows: number
  /** `mysql://user:password@127.0.0.1:port/database` */
  readonly url: string
}

/** What the child answers. */
export type ReadReport = Report<Subject>

const connector = {
  id: MysqlDescriptor.id,
  key: "mysql",
  configuration: MysqlDescriptor.Configuration,
  credentials: MysqlDescriptor.Credentials
}

const patchbayReader = (url: URL): Reader => {
  const pools = MysqlPools.unsafeMake(EgressPolicy.make({ allowLoopback: true }))
  const driver = MysqlConnector.make(pools)
  const context = databaseContext(url, connector)
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
  await measure(request.subject, reader, request.rows)
}

await main()
