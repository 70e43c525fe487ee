/**
 * Run Query on a connection. The statement goes through a `pg-cursor` that asks for `maxRows + 1`
 * rows: the server sends no more than that, and one more than `maxRows` means `truncated`.
 *
 * - Writable instance: one implicit transaction. The statement timeout is a setting of the server
 *   session, sent (as its own statement) only when the session's differs from the request's; a SET,
 *   RESET or DISCARD in the statement makes it be sent again. A statement that was itself BEGIN is
 *   rolled back, so the connection never returns to the pool inside a transaction.
 * - Read-only instance: `BEGIN READ ONLY` with a transaction-local timeout, the statement, then
 *   ROLLBACK whatever happened: nothing the statement does (a data-modifying CTE, a function that
 *   writes, a SET) outlives the call.
 *
 * Columns are named with their types as `format_type` spells them; OIDs that are not built in are
 * looked up once per pool.
 */
import { Database, type DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import type { Connection, CursorResult, StatementOptions } from "../PostgresPools.js"
import * as Catalog from "./catalog.js"
import * as TypeNames from "./typeNames.js"

/** Statements that may change the session's statement timeout. */
const resetsSession = new Set(["SET", "RESET", "DISCARD"])

const resultOf = (result: CursorResult, typeCache: ReadonlyMap<number, string>) =>
  new Database.QueryResult(
    {
      columns: result.fields.map(
        (f) => new Database.Column({ name: f.name, type: TypeNames.typeName(f.dataTypeID, typeCache) }, true)
      ),
      rows: result.rows,
      rowCount: result.fields.length > 0 ? result.rows.length : (result.rowCount ?? 0),
      truncated: result.truncated
    },
    true
  )

/** The result with its columns named, looking up the type names this pool has not seen yet. */
const describe = (connection: Connection, result: CursorResult, options: StatementOptions) => {
  const missing = TypeNames.unknownOids(
    result.fields.map((f) => f.dataTypeID),
    connection.typeCache
  )
  if (missing.length === 0) return Effect.succeed(resultOf(result, connection.typeCache))
  return connection.query(TypeNames.lookupSql, [missing], options).pipe(
    Effect.map((found) => {
      for (const { oid, name } of found.rows) {
        if (typeof oid === "number" && typeof name === "string") connection.typeCache.set(oid, name)
      }
    }),
    // An unnamed type is shown by its OID rather than failing the query that already ran.
    Effect.ignore,
    Effect.map(() => resultOf(result, connection.typeCache))
  )
}

const writable = (connection: Connection, request: Database.QueryRequest, options: StatementOptions) =>
  Effect.gen(function* () {
    const session = connection.session
    if (session.statementTimeout !== request.timeoutMillis) {
      session.statementTimeout = undefined
      yield* connection.query(Catalog.setSessionTimeoutSql, [String(request.timeoutMillis)], options)
      session.statementTimeout = request.timeoutMillis
    }
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

/** Runs the request's statement on the connection, as a read-only instance when `readOnlyInstance`. */
export const run = (
  connection: Connection,
  request: Database.QueryRequest,
  readOnlyInstance: boolean
): Effect.Effect<Database.QueryResult, DriverError.DriverError> => {
  const options: StatementOptions = { timeoutMillis: request.timeoutMillis, params: request.params }
  return readOnlyInstance ? readOnly(connection, request, options) : writable(connection, request, options)
}
