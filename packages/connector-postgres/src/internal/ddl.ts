/**
 * Guarded DDL on a connection: the classified statements run in one transaction with the request's
 * statement timeout. Before each statement the tables it targets are resolved in the transaction's
 * current state and counted; with `confirm`, a destructive statement meeting a table that holds rows
 * (or whose rows cannot be counted) needs a `reason`. The transaction is committed only when
 * confirmed, and rolled back otherwise or on any failure.
 */
import { Database, DomainError, type DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as DdlClassifier from "../DdlClassifier.js"
import type { Connection } from "../PostgresPools.js"
import * as Catalog from "./catalog.js"

interface Found {
  readonly name: string
  readonly quoted: string
  readonly kind: string
  readonly readable: boolean
}

interface Measured {
  readonly name: string
  readonly rows: number | null
  /** Exists and may hold rows (non-empty, or not countable). */
  readonly holdsData: boolean
}

/** Runs the statements, previewing them (rolled back) unless `request.confirm`. */
export const execute = (
  connection: Connection,
  statements: ReadonlyArray<DdlClassifier.ClassifiedStatement>,
  request: Database.DdlRequest
): Effect.Effect<Database.DdlResult, DriverError.DriverError | DomainError.DdlNeedsReason> =>
  Effect.gen(function* () {
    const timeoutMillis = request.timeoutMillis
    const run = (text: string, values?: ReadonlyArray<unknown>, prefix?: string) =>
      connection.query(text, values, { timeoutMillis, ...(prefix === undefined ? {} : { prefix }) })

    const measure = (statement: DdlClassifier.ClassifiedStatement) =>
      Effect.gen(function* () {
        const written = statement.tables.map((t) => (t.schema === undefined ? t.name : `${t.schema}.${t.name}`))
        const refs = statement.tables.map((t) =>
          t.schema === undefined
            ? Catalog.quoteIdent(t.name)
            : `${Catalog.quoteIdent(t.schema)}.${Catalog.quoteIdent(t.name)}`
        )
        const resolved = new Map<number, Found>()
        if (refs.length > 0) {
          const found = yield* run(Catalog.resolveSql, [refs])
          for (const row of found.rows as unknown as ReadonlyArray<Found & { i: number }>) resolved.set(row.i - 1, row)
        }
        const entries: Array<{ readonly name: string; readonly found: Found | undefined }> = written.map((name, i) => ({
          name,
          found: resolved.get(i)
        }))
        if (statement.schemas.length > 0) {
          const inSchemas = yield* run(Catalog.schemaTablesSql, [statement.schemas])
          for (const row of inSchemas.rows as unknown as ReadonlyArray<Found>)
            entries.push({ name: row.name, found: row })
        }
        const countable = entries.filter((e) => e.found?.readable && ["r", "p", "m"].includes(e.found.kind))
        const counts: Array<unknown> = []
        if (countable.length > 0) {
          const select = countable.map((e, i) => `(SELECT count(*) FROM ${e.found!.quoted}) AS c${i}`).join(", ")
          const counted = yield* run(`SELECT ${select}`)
          const row = counted.rows[0]!
          for (let i = 0; i < countable.length; i++) counts.push(row[`c${i}`])
        }
        return entries.map((e): Measured => {
          const index = countable.indexOf(e)
          const rows = index === -1 ? null : Number(counts[index])
          const holdsData =
            e.found !== undefined && ["r", "p", "m", "f"].includes(e.found.kind) && (rows === null || rows > 0)
          return { name: e.found?.name ?? e.name, rows, holdsData }
        })
      })

    const body = Effect.gen(function* () {
      yield* run(Catalog.setTimeoutSql, [String(timeoutMillis)])
      const out: Array<Database.DdlStatement> = []
      const blocking: Array<string> = []
      for (const [i, statement] of statements.entries()) {
        const measured = yield* measure(statement)
        if (statement.destructive) {
          for (const m of measured) if (m.holdsData) blocking.push(m.name)
          if (statement.unboundedScope) blocking.push(`objects depending on: ${statement.sql}`)
        }
        if (request.confirm && blocking.length > 0 && request.reason === undefined) {
          return yield* new DomainError.DdlNeedsReason({ tables: [...new Set(blocking)] })
        }
        yield* run(statement.sql, undefined, `statement ${i + 1} (${statement.sql.slice(0, 80)}): `)
        out.push(
          new Database.DdlStatement({
            sql: statement.sql,
            kind: statement.kind,
            destructive: statement.destructive,
            tables: measured.map((m) => ({ name: m.name, rows: m.rows }))
          })
        )
      }
      return { statements: out, reasonRequired: blocking.length > 0 }
    })

    yield* run("BEGIN")
    const exit = yield* Effect.exit(body)
    if (Exit.isSuccess(exit) && request.confirm) {
      yield* run("COMMIT")
    } else {
      yield* Effect.ignore(run("ROLLBACK"))
    }
    const { statements: done, reasonRequired } = yield* exit
    return new Database.DdlResult({ executed: request.confirm, statements: done, reasonRequired })
  })
