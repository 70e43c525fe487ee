/**
 * PGlite (PostgreSQL compiled to WebAssembly, in process) behind @effect/sql's `SqlClient`.
 *
 * PGlite is one PostgreSQL session. The client serialises statements with a semaphore and gives a
 * transaction the session to itself until it ends, so a statement of another fiber never lands
 * inside someone else's transaction. Statements compile with @effect/sql-pg's PostgreSQL
 * compiler, so SQL written for `PgClient` runs unchanged.
 *
 * PostgreSQL in single-user mode, which PGlite is, never checkpoints by itself, and WAL is only
 * recycled by a checkpoint: the client runs one every five minutes (PostgreSQL's own
 * `checkpoint_timeout`), so WAL — resident in memory for an in-memory database — stays bounded by
 * what five minutes write.
 *
 * @since 0.1.0
 */

import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection, Row } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import { PGlite, type PGliteOptions, type Results } from "@electric-sql/pglite"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/**
 * Where the database lives and what a new one starts from.
 *
 * @since 0.1.0
 */
export interface PgliteClientConfig {
  /**
   * A directory on this machine (created when missing; its parent must exist); memory when absent.
   * A directory that already holds a database is opened as it is.
   */
  readonly dataDir?: string | undefined
  /**
   * A data directory a new database starts from, as a tarball from PGlite's `dumpDataDir` (plain
   * or gzip), instead of PGlite's initdb. Read only when a new database is created.
   */
  readonly initialDataDir?: Effect.Effect<Blob, SqlError> | undefined
  /** Extra arguments for PGlite's initdb, when a new database is created without `initialDataDir`. */
  readonly initdbArgs?: ReadonlyArray<string> | undefined
  /** PostgreSQL settings for this run (`name: value`), over PGlite's and this client's defaults. */
  readonly settings?: Readonly<Record<string, string>> | undefined
}

/**
 * A `SqlClient` on PGlite, with the PGlite instance for what SQL cannot do (dumps, extensions).
 *
 * @since 0.1.0
 */
export interface PgliteClientShape extends SqlClient.SqlClient {
  readonly pglite: PgliteInstance
}

/**
 * The operations of the PGlite instance the client exposes, declared here so that PGlite's own
 * declarations (which need Emscripten and DOM types) stay out of this package's: a host type-checks
 * with `skipLibCheck: false`.
 *
 * @since 0.1.0
 */
export interface PgliteInstance {
  readonly dumpDataDir: (compression?: "auto" | "gzip" | "none") => Promise<Blob>
}

/**
 * The PGlite client of this process, also provided as `SqlClient`.
 *
 * @since 0.1.0
 */
export class PgliteClient extends Context.Tag("@patchbay/store-pglite/PgliteClient")<
  PgliteClient,
  PgliteClientShape
>() {}

type Transform = (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

const failed = (cause: unknown) => new SqlError({ cause, message: "Failed to execute statement" })

// PostgreSQL zeroes its shared buffers at every start: PGlite's 128MB cost ~0.4 s and ~130MB RSS
// per start. One session over a small schema needs far fewer.
const defaultSettings: Readonly<Record<string, string>> = { shared_buffers: "16MB" }

const startParams = (settings: Readonly<Record<string, string>>): Array<string> => [
  ...PGlite.defaultStartParams,
  ...Object.entries({ ...defaultSettings, ...settings }).flatMap(([name, value]) => ["-c", `${name}=${value}`])
]

/**
 * Whether `dataDir` already holds a database. A directory with other files in it is refused
 * rather than written into.
 */
const holdsDatabase = (dataDir: string): Effect.Effect<boolean, SqlError> =>
  Effect.try({
    try: () =>
      existsSync(join(dataDir, "PG_VERSION"))
        ? "database"
        : existsSync(dataDir) && readdirSync(dataDir).length > 0
          ? "other files"
          : "nothing",
    catch: (cause) => new SqlError({ cause, message: `PGlite: cannot read the data directory ${dataDir}` })
  }).pipe(
    Effect.flatMap((found) =>
      found === "other files"
        ? Effect.fail(
            new SqlError({
              cause: undefined,
              message: `PGlite: ${dataDir} is not empty and holds no database; give a new or empty directory`
            })
          )
        : Effect.succeed(found === "database")
    )
  )

/**
 * Starts PGlite and builds the client; closing the scope closes the database.
 *
 * @since 0.1.0
 */
export const make = (
  config: PgliteClientConfig = {}
): Effect.Effect<PgliteClientShape, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function* () {
    const existing = config.dataDir === undefined ? false : yield* holdsDatabase(config.dataDir)
    const options: PGliteOptions = {
      startParams: startParams(config.settings ?? {}),
      ...(config.dataDir === undefined ? {} : { dataDir: config.dataDir }),
      ...(existing || config.initialDataDir === undefined ? {} : { loadDataDir: yield* config.initialDataDir }),
      ...(config.initdbArgs === undefined ? {} : { initDbStartParams: [...config.initdbArgs] })
    }
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => PGlite.create(options),
        catch: (cause) => new SqlError({ cause, message: "PGlite: failed to start" })
      }),
      (db) => Effect.ignore(Effect.tryPromise(() => db.close()))
    )
    const session = yield* Effect.makeSemaphore(1)

    const query = <A>(sql: string, params: ReadonlyArray<unknown>, rowMode: "object" | "array") =>
      Effect.tryPromise({ try: (): Promise<Results<A>> => db.query<A>(sql, [...params], { rowMode }), catch: failed })
    const unprepared = (sql: string, params: ReadonlyArray<unknown>) =>
      params.length > 0
        ? Effect.map(query<Row>(sql, params, "object"), (result) => result.rows)
        : // The simple protocol: no parameters, but several statements may be sent at once.
          Effect.tryPromise({
            try: async (): Promise<ReadonlyArray<Row>> => ((await db.exec(sql)).at(-1)?.rows ?? []) as Array<Row>,
            catch: failed
          })

    const connection = (hold: <A>(effect: Effect.Effect<A, SqlError>) => Effect.Effect<A, SqlError>): Connection => {
      const execute = (sql: string, params: ReadonlyArray<unknown>, transform: Transform) =>
        hold(query<Row>(sql, params, "object")).pipe(
          Effect.map((result) => (transform === undefined ? result.rows : transform(result.rows)))
        )
      return {
        execute,
        executeRaw: (sql, params) => hold(query<Row>(sql, params, "object")),
        executeValues: (sql, params) =>
          Effect.map(hold(query<ReadonlyArray<unknown>>(sql, params, "array")), (result) => result.rows),
        executeUnprepared: (sql, params, transform) =>
          Effect.map(hold(unprepared(sql, params)), (rows) => (transform === undefined ? rows : transform(rows))),
        executeStream: (sql, params, transform) => Stream.fromIterableEffect(execute(sql, params, transform))
      }
    }

    // Outside a transaction each statement takes the session for itself; a transaction takes it
    // for its whole scope and its statements run without further locking.
    const shared = connection(session.withPermits(1))
    const owned = connection(identity)
    const client = yield* SqlClient.make({
      acquirer: Effect.succeed(shared),
      transactionAcquirer: Effect.as(
        Effect.acquireRelease(session.take(1), () => session.release(1)),
        owned
      ),
      compiler: PgClient.makeCompiler(undefined, false),
      spanAttributes: [
        ["db.system.name", "postgresql"],
        ["db.namespace", config.dataDir === undefined ? "pglite:memory" : "pglite"]
      ]
    })
    yield* shared.executeRaw("CHECKPOINT", []).pipe(
      Effect.catchAll((e) => Effect.logWarning(`PGlite: checkpoint failed: ${e.message}`)),
      Effect.schedule(Schedule.spaced("5 minutes")),
      Effect.forkScoped
    )
    return Object.assign(client, { pglite: db })
  })

/**
 * A layer providing both `PgliteClient` and `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer = (config: PgliteClientConfig = {}): Layer.Layer<PgliteClient | SqlClient.SqlClient, SqlError> =>
  Layer.scopedContext(
    Effect.map(make(config), (client) =>
      Context.make(PgliteClient, client).pipe(Context.add(SqlClient.SqlClient, client))
    )
  ).pipe(Layer.provide(Reactivity.layer))
