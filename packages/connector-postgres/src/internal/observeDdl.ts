/**
 * Observes what one DDL statement did, inside the caller's transaction: catalog snapshots before
 * and after (relations with their storage file and columns, sequences, view and function
 * definitions) and the transaction's row counters. What lost data is then measured in the state
 * before the statement: the statement runs under a savepoint, is rolled back to it, the affected
 * relations are counted, and it runs again (a second time, so a nextval in it advances twice).
 */
import * as Effect from "effect/Effect"
import { numberOf, quoteIdent, type Run } from "./observeRun.js"
import { type Counters, difference, readCounters } from "./observeWrites.js"

interface Column {
  readonly num: number
  readonly name: string
  readonly type: number
  readonly typmod: number
  readonly dropped: boolean
}

interface Relation {
  readonly oid: number
  readonly name: string
  readonly quoted: string
  readonly kind: string
  readonly filenode: number
  readonly sequence: number | null
  readonly definition: string | null
  readonly columns: ReadonlyArray<Column>
}

/** The catalog as one statement found it. */
export interface Snapshot {
  readonly relations: ReadonlyMap<number, Relation>
  readonly functions: ReadonlyMap<number, { readonly name: string; readonly digest: string }>
}

const userSchemas = `n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
  AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)`

const snapshotSql = `
SELECT
  (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_array(
            c.oid::int8,
            n.nspname || '.' || c.relname,
            pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname),
            c.relkind::text,
            c.relfilenode::int8,
            CASE WHEN c.relkind = 'S' AND pg_catalog.has_sequence_privilege(c.oid, 'SELECT')
                 THEN pg_catalog.pg_sequence_last_value(c.oid::regclass) END,
            CASE WHEN c.relkind IN ('v', 'm')
                 THEN (SELECT pg_catalog.md5(r.ev_action::text) FROM pg_catalog.pg_rewrite r
                       WHERE r.ev_class = c.oid AND r.rulename = '_RETURN') END,
            CASE WHEN c.relkind IN ('r', 'm', 'p')
                 THEN (SELECT pg_catalog.json_agg(pg_catalog.json_build_array(
                                a.attnum, a.attname, a.atttypid::int8, a.atttypmod, a.attisdropped) ORDER BY a.attnum)
                       FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0) END)), '[]')
   FROM pg_catalog.pg_class c
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'm', 'v', 'f', 'S') AND ${userSchemas}) AS relations,
  (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_array(
            p.oid::int8,
            n.nspname || '.' || p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
            pg_catalog.md5(p.prosrc || COALESCE(p.probin, '') || p.prokind::text || p.provolatile::text || p.prosecdef::text
                           || p.prorettype::text || COALESCE(p.proconfig::text, '')))), '[]')
   FROM pg_catalog.pg_proc p
   JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
   WHERE ${userSchemas}) AS functions`

const parseJson = (value: unknown): ReadonlyArray<ReadonlyArray<unknown>> => {
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value
  return Array.isArray(parsed) ? (parsed as ReadonlyArray<ReadonlyArray<unknown>>) : []
}

/** Takes a snapshot of the catalog in the current transaction. */
export const snapshot = <E>(run: Run<E>): Effect.Effect<Snapshot, E> =>
  Effect.map(run(snapshotSql), (result) => {
    const row = result.rows[0] ?? {}
    const relations = new Map<number, Relation>()
    for (const [oid, name, quoted, kind, filenode, sequence, definition, columns] of parseJson(row.relations)) {
      relations.set(numberOf(oid) ?? 0, {
        oid: numberOf(oid) ?? 0,
        name: String(name),
        quoted: String(quoted),
        kind: String(kind),
        filenode: numberOf(filenode) ?? 0,
        sequence: numberOf(sequence),
        definition: typeof definition === "string" ? definition : null,
        columns: (Array.isArray(columns) ? (columns as ReadonlyArray<ReadonlyArray<unknown>>) : []).map(
          ([num, columnName, type, typmod, dropped]) => ({
            num: numberOf(num) ?? 0,
            name: String(columnName),
            type: numberOf(type) ?? 0,
            typmod: numberOf(typmod) ?? -1,
            dropped: dropped === true
          })
        )
      })
    }
    const functions = new Map<number, { readonly name: string; readonly digest: string }>()
    for (const [oid, name, digest] of parseJson(row.functions)) {
      functions.set(numberOf(oid) ?? 0, { name: String(name), digest: String(digest) })
    }
    return { relations, functions }
  })

/** What one statement did to an existing object. */
export type EffectKind =
  /** A table or materialized view dropped (directly or by CASCADE). */
  | "relation_dropped"
  /** A view, foreign table, sequence or function dropped (holds no rows here). */
  | "object_dropped"
  /** A column dropped (directly, or with a type dropped by CASCADE). */
  | "column_dropped"
  /** A column rewritten to another type whose values did not all survive (ALTER … TYPE … USING). */
  | "column_rewritten"
  /** Rows removed from a table whose storage was replaced (TRUNCATE, including by CASCADE). */
  | "rows_removed"
  /** Rows deleted or updated by any path (a data-modifying CTE, a function called during DDL). */
  | "rows_written"
  /** A table rewritten with its rows and values intact (SET TABLESPACE, a type widened…). */
  | "rewritten"
  /** A materialized view's rows recomputed (REFRESH). */
  | "refreshed"
  /** A view or function given a new definition (CREATE OR REPLACE). */
  | "replaced"
  /** A sequence advanced: a rollback does not undo it. */
  | "sequence_advanced"

/** One observed effect. `rows` counts the rows concerned before the statement; null when they cannot be counted. */
export interface ObservedEffect {
  readonly kind: EffectKind
  /** `schema.table`, `schema.table.column` or `schema.function(args)`. */
  readonly object: string
  readonly rows: number | null
  /** Data was lost from the object; with `rows` not 0 (or unknown) a reason is needed. */
  readonly loss: boolean
}

const live = (columns: ReadonlyArray<Column>) => new Map(columns.filter((c) => !c.dropped).map((c) => [c.num, c]))

/** A relation whose loss depends on its rows before the statement. */
interface Suspect {
  readonly oid: number
  readonly name: string
  readonly quoted: string
  readonly kind: "relation_dropped" | "column_dropped" | "rewritten"
  readonly columns: ReadonlyArray<string>
  /** For rewrites: the columns that survive it, whose values are compared. */
  readonly compared: ReadonlyArray<string>
}

interface Diff {
  readonly suspects: ReadonlyArray<Suspect>
  readonly certain: ReadonlyArray<ObservedEffect>
}

const dataKinds = new Set(["r", "m"])

const diff = (before: Snapshot, after: Snapshot, written: Counters): Diff => {
  const suspects: Array<Suspect> = []
  const certain: Array<ObservedEffect> = []
  for (const [oid, old] of before.relations) {
    const now = after.relations.get(oid)
    if (now === undefined) {
      if (dataKinds.has(old.kind)) {
        suspects.push({ oid, name: old.name, quoted: old.quoted, kind: "relation_dropped", columns: [], compared: [] })
      } else {
        certain.push({ kind: "object_dropped", object: old.name, rows: null, loss: false })
      }
      continue
    }
    if (old.kind === "S" && old.sequence !== now.sequence) {
      certain.push({ kind: "sequence_advanced", object: old.name, rows: null, loss: false })
    }
    if (old.definition !== null && now.definition !== null && old.definition !== now.definition) {
      certain.push({ kind: "replaced", object: old.name, rows: null, loss: false })
    }
    const n = written.get(oid)
    if (n !== undefined && dataKinds.has(old.kind)) {
      certain.push({ kind: "rows_written", object: old.name, rows: n, loss: true })
    }
    if (!dataKinds.has(old.kind)) continue
    const oldColumns = live(old.columns)
    const newColumns = live(now.columns)
    const droppedColumns = [...oldColumns.values()].filter((c) => !newColumns.has(c.num)).map((c) => c.name)
    if (droppedColumns.length > 0) {
      suspects.push({
        oid,
        name: old.name,
        quoted: old.quoted,
        kind: "column_dropped",
        columns: droppedColumns,
        compared: []
      })
    }
    if (old.filenode !== now.filenode) {
      if (old.kind === "m") {
        certain.push({ kind: "refreshed", object: old.name, rows: null, loss: false })
        continue
      }
      // A rewrite may keep a column's type and still replace its values (`TYPE text USING NULL`).
      const kept = [...oldColumns.values()].filter((c) => newColumns.has(c.num)).map((c) => c.name)
      suspects.push({ oid, name: old.name, quoted: old.quoted, kind: "rewritten", columns: [], compared: kept })
    }
  }
  for (const [oid, old] of before.functions) {
    const now = after.functions.get(oid)
    if (now === undefined) certain.push({ kind: "object_dropped", object: old.name, rows: null, loss: false })
    else if (now.digest !== old.digest) certain.push({ kind: "replaced", object: old.name, rows: null, loss: false })
  }
  return { suspects, certain }
}

const accessSql = `
SELECT c.oid::int8 AS oid,
       pg_catalog.has_table_privilege(c.oid, 'SELECT') AS readable,
       pg_catalog.row_security_active(c.oid) AS rls
FROM pg_catalog.pg_class c WHERE c.oid = ANY ($1::oid[])`

/** Row count and, per compared column, a fingerprint of its values' text forms (null: not measurable). */
interface Measure {
  readonly rows: number | null
  readonly values: ReadonlyMap<string, string>
}

/**
 * Counts the rows of the relations (ONLY: a child is a relation of its own) and fingerprints the
 * given columns: the count of non-null values and the sum of their text forms' hashes, a multiset
 * fingerprint that a rewrite keeping every value's text leaves unchanged. Relations the role may
 * not read, or reads through row-level security, are not measured: their rows are unknown.
 */
const measure = <E>(
  run: Run<E>,
  relations: ReadonlyArray<{ readonly oid: number; readonly quoted: string; readonly columns: ReadonlyArray<string> }>
): Effect.Effect<ReadonlyMap<number, Measure>, E> =>
  Effect.gen(function* () {
    const out = new Map<number, Measure>()
    if (relations.length === 0) return out
    const access = yield* run(accessSql, [relations.map((r) => String(r.oid))])
    const measurable = new Set(
      access.rows.filter((row) => row.readable === true && row.rls !== true).map((row) => numberOf(row.oid))
    )
    const selects: Array<string> = []
    const plan: Array<{ readonly oid: number; readonly columns: ReadonlyArray<string> }> = []
    for (const r of relations) {
      if (!measurable.has(r.oid)) {
        out.set(r.oid, { rows: null, values: new Map() })
        continue
      }
      // One scan per relation: its count, then each column's fingerprint, as a text array.
      const parts = [
        "pg_catalog.count(*)::text",
        ...r.columns.map((column) => {
          const c = quoteIdent(column)
          return `pg_catalog.count(${c})::text || ':' || COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(${c}::text, 0)::numeric)::text, '')`
        })
      ]
      selects.push(`(SELECT ARRAY[${parts.join(", ")}] FROM ONLY ${r.quoted}) AS m${selects.length}`)
      plan.push({ oid: r.oid, columns: r.columns })
    }
    if (selects.length === 0) return out
    const result = yield* run(`SELECT ${selects.join(", ")}`)
    const row = result.rows[0] ?? {}
    plan.forEach((p, i) => {
      const values = row[`m${i}`]
      const array = Array.isArray(values) ? values.map(String) : []
      out.set(p.oid, {
        rows: numberOf(array[0]),
        values: new Map(p.columns.map((column, j) => [column, array[j + 1] ?? ""]))
      })
    })
    return out
  })

/** What one statement did, and the catalog after it for the next statement. */
export interface Observed {
  readonly effects: ReadonlyArray<ObservedEffect>
  readonly after: Snapshot
  /** The statement ran a second time, after the state before it was measured. */
  readonly ranTwice: boolean
}

const savepoint = "SAVEPOINT patchbay_observe"
const rollbackTo = "ROLLBACK TO SAVEPOINT patchbay_observe"
const release = "RELEASE SAVEPOINT patchbay_observe"

/**
 * Runs `execute` (one statement) in the caller's open transaction and reports its effects against
 * `before`, the snapshot of the state it starts from. When the statement dropped, rewrote or cut
 * columns from tables, the state before it is measured (rolled back to a savepoint, counted) and
 * the statement runs again; effects of the second run that the measurement did not cover count as
 * unknown rows. The statement's own failure is the caller's: nothing is released then.
 */
export const observe = <E>(
  run: Run<E>,
  execute: Effect.Effect<unknown, E>,
  before: Snapshot
): Effect.Effect<Observed, E> =>
  Effect.gen(function* () {
    yield* run(savepoint)
    const counters0 = yield* readCounters(run)
    yield* execute
    const counters1 = yield* readCounters(run)
    const first = yield* snapshot(run)
    const firstDiff = diff(before, first, difference(counters0, counters1))
    if (firstDiff.suspects.length === 0) {
      yield* run(release)
      return { effects: firstDiff.certain, after: first, ranTwice: false }
    }
    yield* run(rollbackTo)
    const measured = yield* measure(
      run,
      firstDiff.suspects.map((s) => ({ oid: s.oid, quoted: s.quoted, columns: s.compared }))
    )
    const counters2 = yield* readCounters(run)
    yield* execute
    const counters3 = yield* readCounters(run)
    const second = yield* snapshot(run)
    const secondDiff = diff(before, second, difference(counters2, counters3))
    const rewritten = secondDiff.suspects.filter((s) => s.kind === "rewritten")
    const afterMeasure = yield* measure(
      run,
      rewritten.map((s) => {
        const relation = second.relations.get(s.oid)
        const names = new Map((relation?.columns ?? []).map((c) => [c.num, c.name]))
        const old = before.relations.get(s.oid)
        const columns = s.compared.map((name) => {
          const num = old?.columns.find((c) => c.name === name && !c.dropped)?.num
          return num === undefined ? name : (names.get(num) ?? name)
        })
        return { oid: s.oid, quoted: relation?.quoted ?? s.quoted, columns }
      })
    )
    const effects: Array<ObservedEffect> = [...secondDiff.certain]
    for (const s of secondDiff.suspects) {
      const was = measured.get(s.oid)
      const rows = was?.rows ?? null
      switch (s.kind) {
        case "relation_dropped":
          effects.push({ kind: "relation_dropped", object: s.name, rows, loss: true })
          break
        case "column_dropped":
          for (const column of s.columns) {
            effects.push({ kind: "column_dropped", object: `${s.name}.${column}`, rows, loss: true })
          }
          break
        case "rewritten": {
          const now = afterMeasure.get(s.oid)
          const nowRows = now?.rows ?? null
          if (rows === null || nowRows === null) {
            effects.push({ kind: "rewritten", object: s.name, rows, loss: true })
            break
          }
          if (nowRows < rows) {
            effects.push({ kind: "rows_removed", object: s.name, rows, loss: true })
            break
          }
          const changed = s.compared.filter((column, i) => {
            const oldValues = was?.values.get(column)
            const newValues = [...(now?.values.values() ?? [])][i]
            return oldValues === undefined || newValues === undefined || oldValues !== newValues
          })
          for (const column of changed) {
            effects.push({ kind: "column_rewritten", object: `${s.name}.${column}`, rows, loss: true })
          }
          if (changed.length === 0) {
            effects.push({ kind: "rewritten", object: s.name, rows, loss: false })
          }
          break
        }
      }
    }
    yield* run(release)
    return { effects, after: second, ranTwice: true }
  })

/** Whether the effects lose data from an object that held rows (or may have: rows unknown). */
export const needsReason = (effects: ReadonlyArray<ObservedEffect>): boolean =>
  effects.some((e) => e.loss && (e.rows === null || e.rows > 0))
