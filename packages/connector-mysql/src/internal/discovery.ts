/**
 * Schema discovery on a connection: two information_schema queries (tables, then every column of
 * those schemas in order), joined in memory. The number of queries does not grow with the tables.
 */
import { Database, type DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import type { Connection } from "../MysqlPools.js"

/** How long each catalog query may take. */
export const timeoutMillis = 120_000

const tablesSql = `
SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, TABLE_TYPE AS k, TABLE_ROWS AS r
FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?) ORDER BY TABLE_SCHEMA, TABLE_NAME`

const columnsSql = `
SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS y, IS_NULLABLE AS n,
       COLUMN_DEFAULT AS d, COLUMN_KEY AS pk, EXTRA AS x
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (?) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`

const str = (value: unknown): string => (typeof value === "string" ? value : value == null ? "" : String(value))

/** MariaDB spells "no default" as the text NULL; an auto-increment column has its generator instead. */
const defaultOf = (row: Record<string, unknown>): string | null => {
  const extra = str(row.x).toLowerCase()
  if (extra.includes("auto_increment")) return "AUTO_INCREMENT"
  if (row.d === null || row.d === undefined || row.d === "NULL") return null
  return str(row.d)
}

/**
 * The tables, views and their fields of the schemas (databases) the request names, or of the
 * instance's database by default.
 */
export const discover = (
  connection: Connection,
  request: Database.SchemaRequest,
  database: string
): Effect.Effect<Database.DatabaseSchema, DriverError.DriverError> =>
  Effect.gen(function* () {
    const schemas = request.schemas ?? [database]
    if (schemas.length === 0) return new Database.DatabaseSchema({ tables: [] }, true)
    const options = { timeoutMillis }
    const tables = yield* connection.query(tablesSql, [schemas], options)
    const columns = yield* connection.query(columnsSql, [schemas], options)
    const fields = new Map<string, Array<Database.Field>>()
    for (const row of columns.rows) {
      const key = `${str(row.s)}\u0000${str(row.t)}`
      let list = fields.get(key)
      if (list === undefined) {
        list = []
        fields.set(key, list)
      }
      list.push(
        new Database.Field(
          {
            name: str(row.c),
            type: str(row.y),
            nullable: row.n === "YES",
            default: defaultOf(row),
            primaryKey: row.pk === "PRI"
          },
          true
        )
      )
    }
    return new Database.DatabaseSchema(
      {
        tables: tables.rows.map((row) => {
          const view = str(row.k) === "VIEW"
          const rows = row.r === null || row.r === undefined || view ? null : Number(row.r)
          return new Database.Table(
            {
              schema: str(row.s),
              name: str(row.t),
              kind: view ? "view" : "table",
              estimatedRows: rows !== null && Number.isFinite(rows) ? rows : null,
              fields: fields.get(`${str(row.s)}\u0000${str(row.t)}`) ?? []
            },
            true
          )
        })
      },
      true
    )
  })
