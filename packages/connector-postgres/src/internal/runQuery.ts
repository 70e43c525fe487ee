/**
 * Run Query on a connection. The statement goes through a `pg-cursor` that asks for `maxRows + 1`
 * rows: the server sends no more than that, and one more than `maxRows` means `truncated`.
 *
 * - Writable instance: one implicit transaction. The statement timeout is a setting of the server
 *   session, sent (as its own statement) only when the session's differs from the request's; a SET,
 *   RESET or DISCARD in the statement makes it be sent again. A statement that was itself BEGIN is
 *   rolled back, so the connection never returns to the pool inside a transaction.
 * - A statement the SQL policy marks `observe` (it can delete or update rows) runs in an explicit
 *   transaction between two readings of the transaction's row counters; when it deleted or
 *   updated a table entirely and the request gives no reason, it is rolled back and refused.
 * - Read-only instance: `BEGIN READ ONLY` with a transaction-local timeout, the statement, then
 *   ROLLBACK whatever happened: nothing the statement does (a data-modifying CTE, a function that
 *   writes, a SET) outlives the call.
 *
 * Columns are named with their types as `format_type` spells them; OIDs that are not built in are
 * looked up once per pool.
 */
import { Database, DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import type { Connection, CursorResult, StatementOptions } from "../PostgresPools.js"
import * as SqlPolicy from "../SqlPolicy.js"
import * as Catalog from "./catalog.js"
import * as TypeNames from "./typeNames.js"

/** Statements that may change the session's statement timeout. */
const resetsSession = new Set(["SET", "RESET", "DISCARD"])

const resultOf = (
  result: CursorResult,
  typeCache: ReadonlyMap<number, string>,
  tableWide: ReadonlyArray<SqlPolicy.TableWide>
) =>
  new Database.QueryResult(
    {
      columns: result.fields.map(
        (f) => new Database.Column({ name: f.name, type: TypeNames.typeName(f.dataTypeID, typeCache) }, true)
      ),
      rows: result.rows,
      rowCount: result.fields.length > 0 ? result.rows.length : (result.rowCount ?? 0),
      truncated: result.truncated,
      tableWide: tableWide.map((t) => new Database.TableWideWrite(t, true))
    },
    true
  )

/** The result with its columns named, looking up the type names this pool has not seen yet. */
const describe = (
  connection: Connection,
  result: CursorResult,
  options: StatementOptions,
  tableWide: ReadonlyArray<SqlPolicy.TableWide> = []
) => {
  const missing = TypeNames.unknownOids(
    result.fields.map((f) => f.dataTypeID),
    connection.typeCache
  )
  if (missing.length === 0) return Effect.succeed(resultOf(result, connection.typeCache, tableWide))
  return connection.query(TypeNames.lookupSql, [missing], options).pipe(
    Effect.map((found) => {
      for (const { oid, name } of found.rows) {
        if (typeof oid === "number" && typeof name === "string") connection.typeCache.set(oid, name)
      }
    }),
    // An unnamed type is shown by its OID rather than failing the query that already ran.
    Effect.ignore,
    Effect.map(() => resultOf(result, connection.typeCache, tableWide))
  )
}

/** What a table-wide write without a reason is refused with (`status` tells it from other refusals). */
export const reasonRequiredStatus = "reason_required"

const describeTables = (tables: ReadonlyArray<SqlPolicy.TableWide>) =>
  tables
    .map((t) => {
      const rows = t.rows === null ? "" : `, ${t.rows} row${t.rows === 1 ? "" : "s"}`
      const why = {
        no_restricting_where: "no restricting WHERE",
        every_row_touched: "every row",
        unprovable: "rows left unprovable"
      }[t.why]
      return `${t.table} (${why}${rows})`
    })
    .join(", ")

/**
 * The statement in its own transaction, between two readings of the row counters: committed when
 * it left every table it wrote partly untouched, or when the request gives a reason.
 */
const observed = (
  connection: Connection,
  request: Database.QueryRequest,
  plan: SqlPolicy.QueryPlan,
  options: StatementOptions
) =>
  Effect.gen(function* () {
    const run: SqlPolicy.Run<DriverError.DriverError> = (sql, params) =>
      connection.query(sql, params, { timeoutMillis: request.timeoutMillis })
    yield* connection.query("BEGIN", undefined, options)
    const body = Effect.gen(function* () {
      const before = yield* SqlPolicy.readCounters(run)
      const result = yield* connection.read(request.sql, request.params, request.maxRows, options)
      const tableWide = yield* SqlPolicy.tableWide(run, before, plan)
      if (tableWide.length > 0 && request.reason === undefined) {
        return yield* new DriverError.RequestRejected({
          target: connection.target,
          status: reasonRequiredStatus,
          detail: `${plan.command} touching every row of ${describeTables(tableWide)} needs a reason; nothing was changed`
        })
      }
      return { result, tableWide }
    })
    const exit = yield* Effect.exit(body)
    const end = connection.query(exit._tag === "Success" ? "COMMIT" : "ROLLBACK", undefined, options)
    yield* exit._tag === "Success" ? end : Effect.ignore(end)
    const { result, tableWide } = yield* exit
    return yield* describe(connection, result, options, tableWide)
  })

const writable = (
  connection: Connection,
  request: Database.QueryRequest,
  plan: SqlPolicy.QueryPlan,
  options: StatementOptions
) =>
  Effect.gen(function* () {
    const session = connection.session
    if (session.statementTimeout !== request.timeoutMillis) {
      session.statementTimeout = undefined
      yield* connection.query(Catalog.setSessionTimeoutSql, [String(request.timeoutMillis)], options)
      session.statementTimeout = request.timeoutMillis
    }
    if (plan.observe) return yield* observed(connection, request, plan, options)
    const result = yield* connection.read(request.sql, request.params, request.maxRows, options)
    if (result.command !== null && resetsSession.has(result.command)) session.statementTimeout = undefined
    if (connection.transactionStatus() !== "I") yield* connection.query("ROLLBACK", undefined, options)
    return yield* describe(connection, result, options)
  })

const readOnly = (connection: Connection, request: Database.QueryRequest, options: StatementOptions) =>
  Effect.gen(function* () {
    yield* connection.query(Catalog.beginSql(request.timeoutMillis, true), undefined, options)
    const read = yield* Effect.exit(connection.read(request.sql, request.params, request.maxRows, options))
    const rollback = connection.query("ROLLBACK", undefined, options)
    // A failed statement keeps its own error; the rollback's, if any, leaves the connection unusable.
    yield* read._tag === "Success" ? rollback : Effect.ignore(rollback)
    const result = yield* read
    return yield* describe(connection, result, options)
  })

/**
 * Runs the request's statement, which the SQL policy accepted as `plan`, on the connection, as a
 * read-only instance when `readOnlyInstance`.
 */
export const run = (
  connection: Connection,
  request: Database.QueryRequest,
  readOnlyInstance: boolean,
  plan: SqlPolicy.QueryPlan
): Effect.Effect<Database.QueryResult, DriverError.DriverError> => {
  const options: StatementOptions = { timeoutMillis: request.timeoutMillis, params: request.params }
  return readOnlyInstance ? readOnly(connection, request, options) : writable(connection, request, plan, options)
}
