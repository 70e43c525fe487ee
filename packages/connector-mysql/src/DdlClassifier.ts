/**
 * The DDL classifier of the MySQL / MariaDB connector: splits DDL into statements with
 * node-sql-parser (MariaDB dialect) and classifies each one — its kind, the tables it targets,
 * whether it can lose data and what it is expected to do to existing objects. SQL the parser cannot
 * read, or a statement that is not DDL, is refused (fail closed): MySQL commits DDL implicitly, so
 * the preview cannot run it and depends on this reading being complete.
 *
 * @since 0.1.0
 */
import { Database, DomainError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as SqlParser from "./internal/sqlParser.js"

/**
 * A predicted effect on an existing object: `object` is `table` or `table.column`; `loss` when
 * data held in it would be lost.
 *
 * @since 0.1.0
 */
export interface ExpectedEffect {
  readonly kind: "relation_dropped" | "object_dropped" | "column_dropped" | "column_rewritten" | "rows_removed"
  readonly table: SqlParser.TableRef
  readonly object: string
  readonly loss: boolean
}

/**
 * One DDL statement as it will run.
 *
 * @since 0.1.0
 */
export interface ClassifiedStatement {
  readonly sql: string
  readonly kind: Database.DdlKind
  readonly destructive: boolean
  readonly tables: ReadonlyArray<SqlParser.TableRef>
  readonly effects: ReadonlyArray<ExpectedEffect>
}

const qualified = (table: SqlParser.TableRef) => (table.schema === null ? table.name : `${table.schema}.${table.name}`)

const classifyOne = (
  statement: Record<string, unknown>,
  sql: string
): Effect.Effect<ClassifiedStatement, DomainError.DdlRejected> => {
  const type = SqlParser.typeOf(statement)
  const keyword = SqlParser.keywordOf(statement)
  const tables = SqlParser.targetTables(statement)
  const base = { sql, tables }
  switch (type) {
    case "create":
      return Effect.succeed({ ...base, kind: "create", destructive: false, effects: [] })
    case "rename":
      return Effect.succeed({ ...base, kind: "rename", destructive: false, effects: [] })
    case "truncate": {
      const effects = tables.map(
        (table): ExpectedEffect => ({ kind: "rows_removed", table, object: qualified(table), loss: true })
      )
      return Effect.succeed({ ...base, kind: "truncate", destructive: true, effects })
    }
    case "drop": {
      if (keyword === "table") {
        const effects = tables.map(
          (table): ExpectedEffect => ({ kind: "relation_dropped", table, object: qualified(table), loss: true })
        )
        return Effect.succeed({ ...base, kind: "drop", destructive: true, effects })
      }
      if (keyword === "view" || keyword === "index" || keyword === "trigger") {
        const effects = tables.map(
          (table): ExpectedEffect => ({ kind: "object_dropped", table, object: qualified(table), loss: false })
        )
        return Effect.succeed({ ...base, kind: "drop", destructive: false, effects })
      }
      return Effect.fail(
        new DomainError.DdlRejected({ detail: `DROP ${keyword.toUpperCase()} is not run by Execute DDL here` })
      )
    }
    case "alter": {
      if (tables.length === 0) {
        return Effect.fail(new DomainError.DdlRejected({ detail: `ALTER ${keyword.toUpperCase()} is not supported` }))
      }
      const effects: Array<ExpectedEffect> = []
      for (const { action, resource, column } of SqlParser.alterActions(statement)) {
        for (const table of tables) {
          const object = column === null ? qualified(table) : `${qualified(table)}.${column}`
          if (action === "drop" && resource === "column") {
            effects.push({ kind: "column_dropped", table, object, loss: true })
          } else if ((action === "modify" || action === "change") && resource === "column") {
            effects.push({ kind: "column_rewritten", table, object, loss: true })
          } else if (action === "drop") {
            effects.push({ kind: "object_dropped", table, object, loss: false })
          }
        }
      }
      return Effect.succeed({ ...base, kind: "alter", destructive: effects.some((e) => e.loss), effects })
    }
    default:
      return Effect.fail(
        new DomainError.DdlRejected({
          detail: `${type.toUpperCase() || "this statement"} is not DDL; Execute DDL runs CREATE, ALTER, DROP, TRUNCATE and RENAME`
        })
      )
  }
}

/**
 * Splits and classifies DDL. One statement runs as written; several run as the parser writes each
 * one back, and only when that text parses to the same tree (otherwise the whole DDL is refused).
 *
 * @since 0.1.0
 */
export const classify = (sql: string): Effect.Effect<ReadonlyArray<ClassifiedStatement>, DomainError.DdlRejected> =>
  Effect.gen(function* () {
    const parsed = SqlParser.parse(sql)
    if (parsed._tag === "Left") return yield* new DomainError.DdlRejected({ detail: parsed.left })
    const statements = parsed.right
    const out: Array<ClassifiedStatement> = []
    for (const statement of statements) {
      let text = sql.trim().replace(/;\s*$/, "")
      if (statements.length > 1) {
        text = SqlParser.sqlOf(statement)
        const again = SqlParser.parse(text)
        if (again._tag === "Left" || again.right.length !== 1 || !SqlParser.sameTree(again.right[0], statement)) {
          return yield* new DomainError.DdlRejected({
            detail: `statement ${out.length + 1} cannot be split out exactly; send it on its own`
          })
        }
      }
      out.push(yield* classifyOne(statement, text))
    }
    return out
  })
