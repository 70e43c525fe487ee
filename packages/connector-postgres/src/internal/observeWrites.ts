/**
 * Observes which tables a statement deleted from or updated, by any path (its own DELETE or
 * UPDATE, a CTE, a foreign key's ON DELETE CASCADE, a trigger, a function), from the transaction's
 * own row counters (`pg_stat_get_xact_tuples_deleted/updated`), and whether it left any row of
 * them untouched: a row not written by the current transaction (`xmin`).
 *
 * The counters of a backend may still hold earlier transactions' counts until they are flushed,
 * so the statement's share is the difference of two readings around it.
 */
import * as Effect from "effect/Effect"
import { numberOf, quoteIdent, type Run } from "./observeRun.js"
import type { WriteFound } from "./policyStatements.js"

/** Rows deleted + updated per table (by oid), as counted so far in this transaction. */
export type Counters = ReadonlyMap<number, number>

const countersSql = `
SELECT c.oid::int8 AS oid,
       pg_catalog.pg_stat_get_xact_tuples_deleted(c.oid) + pg_catalog.pg_stat_get_xact_tuples_updated(c.oid) AS n
FROM pg_catalog.pg_class c
WHERE c.relkind IN ('r', 'm')
  AND pg_catalog.pg_stat_get_xact_tuples_deleted(c.oid) + pg_catalog.pg_stat_get_xact_tuples_updated(c.oid) > 0`

/** Reads the counters; run it right before and right after the statement, in its transaction. */
export const readCounters = <E>(run: Run<E>): Effect.Effect<Counters, E> =>
  Effect.map(run(countersSql), (result) => {
    const counters = new Map<number, number>()
    for (const row of result.rows) counters.set(numberOf(row.oid) ?? 0, numberOf(row.n) ?? 0)
    return counters
  })

/** Each table's rows deleted or updated between two readings. */
export const difference = (before: Counters, after: Counters): Counters => {
  const out = new Map<number, number>()
  for (const [oid, n] of after) {
    const delta = n - (before.get(oid) ?? 0)
    if (delta > 0) out.set(oid, delta)
  }
  return out
}

/** Tables (by oid) and written names, resolved to the root of their partition tree. */
const describeSql = `
WITH refs AS (
  SELECT 'touched'::text AS source, x.i::int4 AS i, x.o AS rel
  FROM unnest($1::oid[]) WITH ORDINALITY AS x(o, i)
  UNION ALL
  SELECT 'target', y.i::int4, pg_catalog.to_regclass(y.ref)::oid
  FROM unnest($2::text[]) WITH ORDINALITY AS y(ref, i)
), rooted AS (
  SELECT refs.source, refs.i, COALESCE(pg_catalog.pg_partition_root(refs.rel), refs.rel) AS root FROM refs
)
SELECT rooted.source, rooted.i, c.oid::int8 AS root,
       n.nspname || '.' || c.relname AS name,
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS quoted,
       c.relkind::text AS kind,
       pg_catalog.has_table_privilege(c.oid, 'SELECT') AS readable,
       pg_catalog.row_security_active(c.oid) AS rls
FROM rooted
JOIN pg_catalog.pg_class c ON c.oid = rooted.root
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace`

/** Why a DELETE or UPDATE counts as table-wide. */
export type Why =
  /** The statement has no WHERE, or one that is true for every row by its form. */
  | "no_restricting_where"
  /** No row of the table is left that the statement did not delete or update. */
  | "every_row_touched"
  /** Whether rows are left cannot be proven: row-level security, no SELECT privilege, a view or foreign table. */
  | "unprovable"

/** A table a statement deleted or updated entirely. */
export interface TableWide {
  readonly table: string
  /** Rows the statement deleted or updated in it (its partitions included); null when not counted (foreign tables). */
  readonly rows: number | null
  readonly why: Why
}

interface Described {
  readonly root: number
  readonly name: string
  readonly quoted: string
  readonly kind: string
  readonly readable: boolean
  readonly rls: boolean
}

/**
 * The tables the statement deleted or updated entirely, from the counters read before and after it
 * (in its transaction, before COMMIT) and the tables it names as DELETE/UPDATE/MERGE targets.
 *
 * - A target whose condition is table-wide by its form counts once the statement touched any of
 *   its rows (a view's or foreign table's as soon as the statement touched rows, or always for a
 *   foreign table: its rows are not counted here).
 * - Any other table the statement wrote counts when it touched two or more rows and no row of the
 *   table (partitions included) is left that the transaction did not write, or when that cannot be
 *   proven (row-level security active, no SELECT privilege).
 */
export const tableWide = <E>(
  run: Run<E>,
  before: Counters,
  targets: ReadonlyArray<WriteFound>
): Effect.Effect<ReadonlyArray<TableWide>, E> =>
  Effect.gen(function* () {
    const after = yield* readCounters(run)
    const touched = difference(before, after)
    const wholeTargets = targets.filter((t) => t.wholeTable)
    if (touched.size === 0 && wholeTargets.length === 0) return []
    const leaves = [...touched.keys()]
    const refs = wholeTargets.map((t) =>
      t.schema === undefined ? quoteIdent(t.name) : `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`
    )
    const described = yield* run(describeSql, [leaves.map(String), refs])
    const roots = new Map<number, Described & { rows: number }>()
    const targetRoots: Array<Described | undefined> = refs.map(() => undefined)
    for (const row of described.rows) {
      const entry: Described = {
        root: numberOf(row.root) ?? 0,
        name: String(row.name),
        quoted: String(row.quoted),
        kind: String(row.kind),
        readable: row.readable === true,
        rls: row.rls === true
      }
      const i = (numberOf(row.i) ?? 1) - 1
      if (row.source === "touched") {
        const rows = touched.get(leaves[i]!) ?? 0
        const known = roots.get(entry.root)
        roots.set(entry.root, { ...entry, rows: (known?.rows ?? 0) + rows })
      } else {
        targetRoots[i] = entry
      }
    }
    const totalTouched = [...touched.values()].reduce((a, b) => a + b, 0)
    const found = new Map<string, TableWide>()
    targetRoots.forEach((target, i) => {
      if (target === undefined) {
        if (totalTouched > 0) found.set(refs[i]!, { table: refs[i]!, rows: totalTouched, why: "unprovable" })
        return
      }
      if (target.kind === "f") {
        found.set(target.name, { table: target.name, rows: null, why: "unprovable" })
        return
      }
      const own = roots.get(target.root)
      if (own !== undefined && own.rows > 0) {
        found.set(target.name, { table: target.name, rows: own.rows, why: "no_restricting_where" })
      } else if (target.kind !== "r" && target.kind !== "p" && totalTouched > 0) {
        found.set(target.name, { table: target.name, rows: totalTouched, why: "unprovable" })
      }
    })
    const toProbe = [...roots.values()].filter((r) => r.rows >= 2 && !found.has(r.name))
    const probed = toProbe.filter((r) => r.readable)
    const left = new Map<number, boolean>()
    if (probed.length > 0) {
      const select = probed
        .map(
          (r, i) =>
            `EXISTS (SELECT 1 FROM ${r.kind === "p" ? "" : "ONLY "}${r.quoted} WHERE xmin OPERATOR(pg_catalog.<>) pg_catalog.pg_current_xact_id()::xid) AS p${i}`
        )
        .join(", ")
      const result = yield* run(`SELECT ${select}`)
      const row = result.rows[0] ?? {}
      probed.forEach((r, i) => left.set(r.root, row[`p${i}`] === true))
    }
    for (const r of toProbe) {
      if (left.get(r.root) === true) continue
      const why: Why = !r.readable || r.rls ? "unprovable" : "every_row_touched"
      found.set(r.name, { table: r.name, rows: r.rows, why })
    }
    return [...found.values()]
  })
