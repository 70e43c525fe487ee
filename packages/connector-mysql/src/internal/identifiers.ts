/** Quoting of identifiers, and row counting of a named table. */
import type { DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import type { Connection, StatementOptions } from "../MysqlPools.js"
import type { TableRef } from "./sqlParser.js"

/** An identifier in backticks. */
export const quote = (name: string): string => `\`${name.replace(/`/g, "``")}\``

/** `schema.table`, with the connection's database when the statement named none. */
export const qualifiedName = (table: TableRef, database: string): string => `${table.schema ?? database}.${table.name}`

/** A table's rows now: 0 when it does not exist, null when they cannot be counted. */
export const countRows = (
  connection: Connection,
  table: TableRef,
  database: string,
  options: StatementOptions
): Effect.Effect<number | null, DriverError.DriverError> =>
  connection
    .query(`SELECT COUNT(*) AS n FROM ${quote(table.schema ?? database)}.${quote(table.name)}`, [], options)
    .pipe(
      Effect.map((result) => {
        const n = Number(result.rows[0]?.n)
        return Number.isFinite(n) ? n : null
      }),
      Effect.catchIf(
        (error) => error._tag === "RequestRejected" && (error.status === "ER_NO_SUCH_TABLE" || error.status === "1146"),
        () => Effect.succeed(0)
      )
    )
