/**
 * Run Query on a connection, for a statement the SQL policy planned.
 *
 * - Read-only instance: `START TRANSACTION READ ONLY`, the statement, then ROLLBACK whatever
 *   happened: a write fails on the server, and nothing outlives the call.
 * - Writable instance: the statement on its own (autocommit). A DELETE or UPDATE without WHERE
 *   runs in a transaction after counting the rows of its tables: when one holds rows and the
 *   request gives no reason it is rolled back and refused; otherwise it is committed and the
 *   result names the tables it touched entirely.
 */
import { Database, DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import type { Connection, ReadResult, StatementOptions } from "../MysqlPools.js"
import type * as SqlPolicy from "../SqlPolicy.js"
import { countRows, qualifiedName } from "./identifiers.js"

/** What a table-wide write without a reason is refused with (`status` tells it from other refusals). */
export const reasonRequiredStatus = "reason_required"

const resultOf = (result: ReadResult, tableWide: ReadonlyArray<Database.TableWideWrite> = []) =>
  new Database.QueryResult(
    {
      columns: result.fields.map((f) => new Database.Column({ name: f.name, type: f.type }, true)),
      rows: result.rows,
      rowCount: result.fields.length > 0 ? result.rows.length : (result.affectedRows ?? 0),
      truncated: result.truncated,
      tableWide
    },
    true
  )

/** Runs `body` between `begin` and COMMIT, or ROLLBACK when it fails (the body's error wins). */
const inTransaction = <A>(
  connection: Connection,
  begin: string,
  commit: boolean,
  options: StatementOptions,
  body: Effect.Effect<A, DriverError.DriverError>
) =>
  Effect.gen(function* () {
    yield* connection.query(begin, [], options)
    const exit = yield* Effect.exit(body)
    const end = connection.query(exit._tag === "Success" && commit ? "COMMIT" : "ROLLBACK", [], options)
    yield* exit._tag === "Success" ? end : Effect.ignore(end)
    return yield* exit
  })

const tableWide = (
  connection: Connection,
  request: Database.QueryRequest,
  plan: SqlPolicy.QueryPlan,
  database: string,
  options: StatementOptions
) =>
  inTransaction(
    connection,
    "START TRANSACTION",
    true,
    options,
    Effect.gen(function* () {
      const touched: Array<Database.TableWideWrite> = []
      for (const table of plan.tableWide) {
        const rows = yield* countRows(connection, table, database, options)
        if (rows === 0) continue
        touched.push(
          new Database.TableWideWrite(
            { table: qualifiedName(table, database), rows, why: "no_restricting_where" },
            true
          )
        )
      }
      if (touched.length > 0 && request.reason === undefined) {
        const names = touched.map((t) => `${t.table} (${t.rows ?? "?"} rows)`).join(", ")
        return yield* new DriverError.RequestRejected({
          target: connection.target,
          status: reasonRequiredStatus,
          detail: `${plan.command.toUpperCase()} without WHERE on ${names} needs a reason; nothing was changed`
        })
      }
      const result = yield* connection.read(request.sql, request.params, request.maxRows, options)
      return resultOf(result, touched)
    })
  )

/**
 * Runs the request's statement, which the SQL policy accepted as `plan`, on the connection of the
 * instance whose default database is `database`, as a read-only instance when `readOnlyInstance`.
 */
export const run = (
  connection: Connection,
  request: Database.QueryRequest,
  readOnlyInstance: boolean,
  plan: SqlPolicy.QueryPlan,
  database: string
): Effect.Effect<Database.QueryResult, DriverError.DriverError> => {
  const options: StatementOptions = { timeoutMillis: request.timeoutMillis }
  if (readOnlyInstance) {
    return inTransaction(
      connection,
      "START TRANSACTION READ ONLY",
      false,
      options,
      Effect.map(connection.read(request.sql, request.params, request.maxRows, options), (r) => resultOf(r))
    )
  }
  if (plan.tableWide.length > 0) return tableWide(connection, request, plan, database, options)
  return Effect.map(connection.read(request.sql, request.params, request.maxRows, options), (r) => resultOf(r))
}
