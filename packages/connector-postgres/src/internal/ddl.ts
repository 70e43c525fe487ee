/**
 * Guarded DDL on a connection: the classified statements run in one transaction with the request's
 * statement timeout, each observed by the SQL policy (catalog snapshots, row counters, the state
 * before it measured when it lost something). With `confirm`, a statement that loses data from an
 * object that held rows (or whose rows cannot be counted) needs a `reason`. The transaction is
 * committed only when confirmed, and rolled back otherwise or on any failure.
 */
import { Database, DomainError, type DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as DdlClassifier from "../DdlClassifier.js"
import type { Connection } from "../PostgresPools.js"
import * as SqlPolicy from "../SqlPolicy.js"
import * as Catalog from "./catalog.js"

/** The relation an effect is about (`schema.table` of `schema.table.column`). */
const relationOf = (effect: SqlPolicy.ObservedEffect): string =>
  effect.kind === "column_dropped" || effect.kind === "column_rewritten"
    ? effect.object.slice(0, effect.object.lastIndexOf("."))
    : effect.object

const tableKinds = new Set<SqlPolicy.ObservedEffect["kind"]>([
  "relation_dropped",
  "column_dropped",
  "column_rewritten",
  "rows_removed",
  "rows_written",
  "rewritten",
  "refreshed"
])

/** The tables a statement affected, each once, with its rows before. */
const tablesOf = (effects: ReadonlyArray<SqlPolicy.ObservedEffect>) => {
  const tables = new Map<string, number | null>()
  for (const effect of effects) {
    if (!tableKinds.has(effect.kind)) continue
    const name = relationOf(effect)
    if (!tables.has(name) || effect.kind !== "rows_written") tables.set(name, effect.rows)
  }
  return [...tables].map(([name, rows]) => ({ name, rows }))
}

/** Objects that lost data and held rows (or may have). */
const losses = (effects: ReadonlyArray<SqlPolicy.ObservedEffect>) =>
  effects.filter((e) => e.loss && (e.rows === null || e.rows > 0)).map((e) => e.object)

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
    const observeRun: SqlPolicy.Run<DriverError.DriverError> = (text, values) => run(text, values)

    const body = Effect.gen(function* () {
      yield* run(Catalog.setTimeoutSql, [String(timeoutMillis)])
      const out: Array<Database.DdlStatement> = []
      const blocking: Array<string> = []
      const notes: Array<string> = []
      let before = yield* SqlPolicy.snapshot(observeRun)
      for (const [i, statement] of statements.entries()) {
        const execute = run(statement.sql, undefined, `statement ${i + 1} (${statement.sql.slice(0, 80)}): `)
        const observed = yield* SqlPolicy.observe(observeRun, execute, before)
        before = observed.after
        const lost = losses(observed.effects)
        blocking.push(...lost)
        for (const effect of observed.effects) {
          if (effect.kind === "sequence_advanced") {
            notes.push(`statement ${i + 1} advanced sequence ${effect.object}; a rollback does not undo it`)
          }
        }
        if (request.confirm && blocking.length > 0 && request.reason === undefined) {
          return yield* new DomainError.DdlNeedsReason({ tables: [...new Set(blocking)] })
        }
        out.push(
          new Database.DdlStatement({
            sql: statement.sql,
            kind: statement.kind,
            destructive: statement.destructive || observed.effects.some((e) => e.loss),
            tables: tablesOf(observed.effects),
            effects: observed.effects.map((e) => new Database.DdlEffect(e, true))
          })
        )
      }
      return { statements: out, reasonRequired: blocking.length > 0, notes }
    })

    yield* run("BEGIN")
    const exit = yield* Effect.exit(body)
    if (Exit.isSuccess(exit) && request.confirm) {
      yield* run("COMMIT")
    } else {
      yield* Effect.ignore(run("ROLLBACK"))
    }
    const { statements: done, reasonRequired, notes } = yield* exit
    return new Database.DdlResult({ executed: request.confirm, statements: done, reasonRequired, notes })
  })
