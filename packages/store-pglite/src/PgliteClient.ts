/**
 * PGlite (PostgreSQL compiled to WebAssembly, in process) behind @effect/sql's `SqlClient`.
 *
 * PGlite is one PostgreSQL session. The client serialises statements with a semaphore and gives a
 * transaction the session to itself until it ends, so a statement of another fiber never lands
 * inside someone else's transaction. Statements compile with @effect/sql-pg's PostgreSQL
 * compiler, so SQL written for `PgClient` runs unchanged.
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection, Row } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import { PGlite, type Results } from "@electric-sql/pglite"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/**
 * Where the database lives: a directory (created when missing) or, without one, memory.
 *
 * @since 0.1.0
 */
export interface PgliteClientConfig {
  readonly dataDir?: string | undefined
}

/**
 * A `SqlClient` on PGlite, with the PGlite instance for what SQL cannot do (dumps, extensions).
 *
 * @since 0.1.0
 */
export interface PgliteClientShape extends SqlClient.SqlClient {
  readonly pglite: PGlite
}

/**
 * @since 0.1.0
 */
export class PgliteClient extends Context.Tag("@patchbay/store-pglite/PgliteClient")<PgliteClient, PgliteClientShape>() {}

type Transform = (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

const failed = (cause: unknown) => new SqlError({ cause, message: "Failed to execute statement" })

/**
 * Starts PGlite and builds the client; closing the scope closes the database.
 *
 * @since 0.1.0
 */
export const make = (
  config: PgliteClientConfig = {}
): Effect.Effect<PgliteClientShape, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function* () {
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => PGlite.create(config.dataDir),
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
