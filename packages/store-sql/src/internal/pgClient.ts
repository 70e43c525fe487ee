/**
 * `layerPg`'s `SqlClient` on its node-postgres pool. It does what `PgClient.fromPool` does for the
 * store's statements (pool checkout per statement, a reserved connection per transaction, typed
 * `SqlError`s, the PostgreSQL compiler of @effect/sql-pg) and one thing more: each statement
 * honours the deadline of the operation it belongs to (`currentDeadline`) with a timer armed in
 * the statement's own callback, so operations need no `Effect.timeout` fibers.
 *
 * A statement that misses its deadline fails with a `SqlError` caused by `DeadlineExceeded`; its
 * connection is closed (never handed to the next caller with a statement still running) and the
 * server is asked, best effort, to cancel the statement.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type pg from "pg"
import { currentDeadline, DeadlineExceeded, type DirectQuery, enforcesDeadlines, registerDirect } from "./deadline.js"

type Transform = (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined
type Callback = (err: Error | null | undefined, result: pg.QueryResult | Array<pg.QueryResult>) => void

const failed = (cause: unknown, message = "Failed to execute statement") => new SqlError({ cause, message })

/** Rows of a result; a multi-statement (simple protocol) text gives one array per statement. */
const rowsOf = (result: pg.QueryResult | Array<pg.QueryResult>): ReadonlyArray<unknown> =>
  Array.isArray(result) ? result.map((r) => r.rows ?? []) : (result.rows ?? [])

/** The client's backend process id, for `pg_cancel_backend` (node-postgres keeps it on the client). */
const processIdOf = (client: pg.PoolClient): number | undefined => {
  const id: unknown = Reflect.get(client, "processID")
  return typeof id === "number" ? id : undefined
}

type Extract<A> = (result: pg.QueryResult | Array<pg.QueryResult>) => A

/** How a statement is sent: as text with parameters (named by the pool when it has any), or rows as arrays. */
const send = (client: pg.PoolClient, sql: string, params: ReadonlyArray<unknown>, arrays: boolean, cb: Callback) => {
  const values = params as Array<unknown>
  if (arrays) client.query({ text: sql, values, rowMode: "array" }, cb as (err: Error, result: pg.QueryResult) => void)
  else client.query(sql, values, cb as (err: Error, result: pg.QueryResult) => void)
}

/**
 * Builds the client on `pool` (whose lifetime the caller owns).
 *
 * @since 0.1.0
 */
/**
 * Settles an `Effect.async` once, with an optional deadline: `claim` is true the first time only
 * and stops the timer, so each callback path (answer, deadline, interruption) races fairly.
 */
class Settlement {
  private settled = false
  private timer: ReturnType<typeof setTimeout> | undefined

  /** Runs `onDeadline` at `deadline` (epoch millis) unless claimed first; none for an infinite deadline. */
  constructor(deadline: number, onDeadline: () => void) {
    if (deadline !== Number.POSITIVE_INFINITY) {
      this.timer = setTimeout(onDeadline, Math.max(0, deadline - Date.now()))
    }
  }

  get done(): boolean {
    return this.settled
  }

  claim(): boolean {
    if (this.settled) return false
    this.settled = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    return true
  }
}

export const make = (
  pool: pg.Pool,
  spanAttributes: ReadonlyArray<readonly [string, unknown]>
): Effect.Effect<SqlClient.SqlClient, never, Reactivity.Reactivity> => {
  /** Asks the server to stop the statement running on `client`; never waits, never fails. */
  const cancelOn = (client: pg.PoolClient) => {
    const pid = processIdOf(client)
    if (pid === undefined || pool.ending) return
    pool.query("SELECT pg_cancel_backend($1::int)", [pid], () => {})
  }

  /** A statement on a connection checked out of the pool for it alone. */
  const pooled = <A>(sql: string, params: ReadonlyArray<unknown>, arrays: boolean, extract: Extract<A>) =>
    Effect.withFiberRuntime<A, SqlError>((fiber) =>
      pooledBy(fiber.getFiberRef(currentDeadline), sql, params, arrays, extract)
    )

  /** A statement on a connection checked out of the pool for it alone, bounded by `deadline`. */
  const pooledBy = <A>(
    deadline: number,
    sql: string,
    params: ReadonlyArray<unknown>,
    arrays: boolean,
    extract: Extract<A>
  ): Effect.Effect<A, SqlError> =>
    Effect.async<A, SqlError>((resume) => {
      let running = false
      let client: pg.PoolClient | undefined
      const onError = (cause: Error) => finish(Effect.fail(failed(cause, "Connection error")), cause)
      const settlement = new Settlement(deadline, () => {
        const cause = new DeadlineExceeded()
        finish(Effect.fail(failed(cause, "The statement did not answer in time")), cause)
      })
      /** Resumes once; `discard` closes the connection instead of returning it to the pool. */
      const finish = (result: Effect.Effect<A, SqlError>, discard?: Error) => {
        if (!settlement.claim()) return
        if (client !== undefined) {
          client.off("error", onError)
          if (discard !== undefined && running) cancelOn(client)
          client.release(discard)
        }
        resume(result)
      }
      pool.connect((cause, acquired) => {
        if (settlement.done) {
          // Timed out or interrupted while waiting for a connection: give it straight back.
          acquired?.release()
          return
        }
        if (cause || acquired === undefined) {
          finish(Effect.fail(failed(cause ?? new Error("No client returned"), "Failed to acquire connection")))
          return
        }
        client = acquired
        client.once("error", onError)
        running = true
        send(client, sql, params, arrays, (err, result) => {
          running = false
          finish(err ? Effect.fail(failed(err)) : Effect.sync(() => extract(result)))
        })
      })
      return Effect.sync(() => finish(Effect.interrupt, new Error("statement interrupted")))
    })

  interface Reserved {
    readonly client: pg.PoolClient
    /** Why the connection must not go back to the pool, once it must not. */
    broken: Error | undefined
    readonly onError: (error: Error) => void
  }

  /** A statement on a connection reserved for a transaction. */
  const onReserved = <A>(
    reserved: Reserved,
    sql: string,
    params: ReadonlyArray<unknown>,
    arrays: boolean,
    extract: Extract<A>
  ) =>
    Effect.withFiberRuntime<A, SqlError>((fiber) => {
      const deadline = fiber.getFiberRef(currentDeadline)
      return Effect.async<A, SqlError>((resume) => {
        const client = reserved.client
        const settlement = new Settlement(deadline, () => {
          const cause = new DeadlineExceeded()
          reserved.broken = cause
          cancelOn(client)
          // Closing the connection also ends the transaction; the pool drops it on release.
          void client.end().catch(() => {})
          finish(Effect.fail(failed(cause, "The statement did not answer in time")))
        })
        const finish = (result: Effect.Effect<A, SqlError>) => {
          if (settlement.claim()) resume(result)
        }
        send(client, sql, params, arrays, (err, result) =>
          finish(err ? Effect.fail(failed(err)) : Effect.sync(() => extract(result)))
        )
        return Effect.sync(() => {
          if (!settlement.done) cancelOn(client)
          finish(Effect.interrupt)
        })
      })
    })

  const connection = (
    run: <A>(
      sql: string,
      params: ReadonlyArray<unknown>,
      arrays: boolean,
      extract: Extract<A>
    ) => Effect.Effect<A, SqlError>
  ): Connection => {
    const execute = (sql: string, params: ReadonlyArray<unknown>, transform: Transform) =>
      run(sql, params, false, (result) => {
        const rows = rowsOf(result) as ReadonlyArray<object>
        return transform === undefined ? rows : transform(rows)
      })
    return {
      execute,
      executeRaw: (sql, params) => run(sql, params, false, (result) => result),
      executeValues: (sql, params) =>
        run(sql, params, true, (result) => rowsOf(result) as ReadonlyArray<ReadonlyArray<unknown>>),
      executeUnprepared: execute,
      // The store never streams; rows arrive whole and are emitted from memory.
      executeStream: (sql, params, transform) => Stream.fromIterableEffect(execute(sql, params, transform))
    }
  }

  const shared = connection(pooled)

  const reserve = Effect.acquireRelease(
    Effect.withFiberRuntime<Reserved, SqlError>((fiber) => {
      const deadline = fiber.getFiberRef(currentDeadline)
      return Effect.async<Reserved, SqlError>((resume) => {
        const settlement = new Settlement(deadline, () =>
          finish(Effect.fail(failed(new DeadlineExceeded(), "The connection did not come in time")))
        )
        const finish = (result: Effect.Effect<Reserved, SqlError>) => {
          if (settlement.claim()) resume(result)
        }
        pool.connect((cause, client) => {
          if (settlement.done) {
            client?.release()
            return
          }
          if (cause || client === undefined) {
            finish(
              Effect.fail(
                failed(cause ?? new Error("No client returned"), "Failed to acquire connection for transaction")
              )
            )
            return
          }
          const reserved: Reserved = {
            client,
            broken: undefined,
            onError: (error) => {
              reserved.broken = error
            }
          }
          client.on("error", reserved.onError)
          finish(Effect.succeed(reserved))
        })
        return Effect.sync(() => finish(Effect.interrupt))
      })
    }),
    (reserved) =>
      Effect.sync(() => {
        reserved.client.off("error", reserved.onError)
        reserved.client.release(reserved.broken)
      })
  )

  const rows = (result: pg.QueryResult | Array<pg.QueryResult>) => rowsOf(result)

  /** `DirectQuery`: in a transaction on its connection, otherwise on a pooled one. */
  const direct: DirectQuery = (sql, params, timeoutMillis) =>
    Effect.withFiberRuntime((fiber) => {
      const outer = fiber.getFiberRef(currentDeadline)
      const deadline = Math.min(outer, Date.now() + timeoutMillis)
      const transaction = Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)
      if (Option.isNone(transaction)) return pooledBy(deadline, sql, params, false, rows)
      const statement = transaction.value[0].execute(sql, params, undefined)
      return deadline === outer ? statement : Effect.locally(statement, currentDeadline, deadline)
    })

  return Effect.map(
    SqlClient.make({
      acquirer: Effect.succeed(shared),
      transactionAcquirer: Effect.map(reserve, (reserved) =>
        connection((sql, params, arrays, extract) => onReserved(reserved, sql, params, arrays, extract))
      ),
      compiler: PgClient.makeCompiler(),
      spanAttributes
    }),
    (client) => {
      registerDirect(client, direct)
      return enforcesDeadlines(client)
    }
  )
}
