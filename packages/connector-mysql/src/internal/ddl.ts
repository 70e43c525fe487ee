/**
 * Guarded DDL on a connection. MySQL and MariaDB commit DDL implicitly, so it cannot be run and
 * rolled back: the preview runs nothing, and reports the classified statements with the rows their
 * target tables hold now. Executing runs the statements one by one; a statement that loses data
 * from a table that holds rows (or whose rows cannot be counted) needs a `reason`. A failure stops
 * the run: statements before it stay committed.
 */
import { Database, DomainError, type DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import type * as DdlClassifier from "../DdlClassifier.js"
import type { Connection } from "../MysqlPools.js"
import { countRows, qualifiedName } from "./identifiers.js"

/** The note every result carries. */
export const previewNote =
  "MySQL/MariaDB commit DDL implicitly: the preview parsed the statements and counted rows, nothing was run"

/** Previews the statements, or runs them when `request.confirm`. */
export const execute = (
  connection: Connection,
  statements: ReadonlyArray<DdlClassifier.ClassifiedStatement>,
  request: Database.DdlRequest,
  database: string
): Effect.Effect<Database.DdlResult, DriverError.DriverError | DomainError.DdlNeedsReason> =>
  Effect.gen(function* () {
    const options = { timeoutMillis: request.timeoutMillis }
    const counted = new Map<string, number | null>()
    const rowsOf = (table: DdlClassifier.ClassifiedStatement["tables"][number]) =>
      Effect.gen(function* () {
        const name = qualifiedName(table, database)
        if (!counted.has(name)) counted.set(name, yield* countRows(connection, table, database, options))
        return counted.get(name) ?? null
      })

    const out: Array<Database.DdlStatement> = []
    const blocking: Array<string> = []
    for (const statement of statements) {
      const tables: Array<{ name: string; rows: number | null }> = []
      for (const table of statement.tables) {
        // A table a CREATE makes does not exist yet: there is nothing to count.
        tables.push({
          name: qualifiedName(table, database),
          rows: statement.kind === "create" ? null : yield* rowsOf(table)
        })
      }
      const effects: Array<Database.DdlEffect> = []
      for (const effect of statement.effects) {
        const rows = yield* rowsOf(effect.table)
        const object =
          effect.object.includes(".") && effect.table.schema === null ? `${database}.${effect.object}` : effect.object
        effects.push(new Database.DdlEffect({ kind: effect.kind, object, rows, loss: effect.loss }, true))
        if (effect.loss && (rows === null || rows > 0)) blocking.push(qualifiedName(effect.table, database))
      }
      out.push(
        new Database.DdlStatement(
          { sql: statement.sql, kind: statement.kind, destructive: statement.destructive, tables, effects },
          true
        )
      )
    }
    const reasonRequired = blocking.length > 0
    if (!request.confirm) {
      return new Database.DdlResult({ executed: false, statements: out, reasonRequired, notes: [previewNote] })
    }
    if (reasonRequired && request.reason === undefined) {
      return yield* new DomainError.DdlNeedsReason({ tables: [...new Set(blocking)] })
    }
    for (const [i, statement] of statements.entries()) {
      yield* connection.query(statement.sql, [], {
        ...options,
        prefix: `statement ${i + 1} (${statement.sql.slice(0, 80)}): `
      })
    }
    return new Database.DdlResult({ executed: true, statements: out, reasonRequired, notes: [] })
  })
