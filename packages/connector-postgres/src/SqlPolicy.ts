/**
 * The SQL policy: what Run Query and Execute DDL may run, decided from PostgreSQL's own parse tree
 * (libpg-query), and what a statement actually did, observed inside its transaction.
 *
 * - `planQuery`: Run Query accepts one SELECT, INSERT, UPDATE, DELETE, MERGE, VALUES, or WITH of
 *   these; everything else is refused, naming Execute DDL. Side-effect functions are refused unless
 *   the instance allows them, and always on a read-only instance; `set_config` of a setting that
 *   can weaken the guards is always refused.
 * - `checkDdl`: the same side-effect and setting rules over DDL, function bodies included.
 * - `readCounters` / `tableWide`: the tables a DELETE or UPDATE (by any path) emptied or rewrote
 *   entirely, which need a reason.
 * - `snapshot` / `observe`: what a DDL statement dropped, cut, rewrote, emptied or replaced, measured
 *   in the state before it.
 * - `roleAttributes`: what the connected role may do, for least-privilege warnings.
 *
 * Observation takes a `Run`: any effect that sends SQL on the connection and in the transaction
 * the observed statements use, so it works on a `pg` client or an `@effect/sql` connection.
 *
 * @since 0.1.0
 */
import { DomainError, DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { parse } from "libpg-query"
import * as ObserveDdl from "./internal/observeDdl.js"
import type { Rows, Run as RunSql } from "./internal/observeRun.js"
import * as ObserveWrites from "./internal/observeWrites.js"
import { bodyPattern, type SideEffectClass } from "./internal/policyFunctions.js"
import * as Statements from "./internal/policyStatements.js"
import { body, get, list, nodeType, positions, statementText, string } from "./internal/policyTree.js"

/**
 * What the policy needs to know of the instance.
 *
 * @since 0.1.0
 */
export interface Settings {
  /** The instance is configured `read_only`: side-effect functions are always refused. */
  readonly readOnly: boolean
  /** The instance's configuration allows side-effect functions (ignored when read-only). */
  readonly allowSideEffects: boolean
}

/**
 * Why a request was refused: `syntax` (the parser's error), `statement` (a statement kind the
 * operation does not run, or not exactly one statement for Run Query), `side_effect` (a
 * side-effect function) or `setting` (a setting that can weaken the guards).
 *
 * @since 0.1.0
 */
export const RefusalKind = Schema.Literal("syntax", "statement", "side_effect", "setting")
/** @since 0.1.0 */
export type RefusalKind = typeof RefusalKind.Type

/**
 * The policy refused the SQL before anything ran. `position` is 1-based, in characters.
 *
 * @since 0.1.0
 */
export class PolicyRefused extends Schema.TaggedError<PolicyRefused>("@patchbay/connector-postgres/PolicyRefused")(
  "PolicyRefused",
  {
    kind: RefusalKind,
    detail: Schema.String,
    position: Schema.optional(Schema.Number)
  }
) {
  readonly retryable = false
  override get message(): string {
    return this.position === undefined ? this.detail : `${this.detail} (at position ${this.position})`
  }
}

/**
 * A side-effect function (or COPY PROGRAM / file, untrusted code) a statement uses.
 *
 * @since 0.1.0
 */
export interface SideEffect {
  readonly name: string
  readonly kind: SideEffectClass
  readonly position: number | undefined
}

/**
 * A table a statement deletes from or updates, as written; `wholeTable` when its condition is
 * absent or true for every row by its form.
 *
 * @since 0.1.0
 */
export type WriteTarget = Statements.WriteFound

/**
 * What Run Query may run, and how: `observe` when the statement can delete or update rows (its own
 * DELETE, UPDATE, MERGE or upsert, or a call to a function that is not a read-only built-in), so
 * that `tableWide` must judge it before COMMIT.
 *
 * @since 0.1.0
 */
export interface QueryPlan {
  /** `SELECT`, `INSERT`, `UPDATE`, `DELETE` or `MERGE` (VALUES and WITH … SELECT are `SELECT`). */
  readonly command: string
  readonly writes: ReadonlyArray<WriteTarget>
  /** Side-effect functions the instance allows, for the audit. */
  readonly sideEffects: ReadonlyArray<SideEffect>
  readonly observe: boolean
}

const refuse = (kind: RefusalKind, detail: string, position?: number) =>
  new PolicyRefused(position === undefined ? { kind, detail } : { kind, detail, position })

const parseTree = (sql: string) =>
  Effect.tryPromise({
    try: (): Promise<unknown> => parse(sql),
    catch: (cause) => {
      const details = get(cause, "sqlDetails")
      const cursor = get(details, "cursorPosition")
      const message = string(get(details, "message")) ?? string(get(cause, "message")) ?? String(cause)
      return refuse("syntax", message, typeof cursor === "number" ? cursor + 1 : undefined)
    }
  })

const sideEffectRefusal = (effect: SideEffect, settings: Settings) =>
  refuse(
    "side_effect",
    settings.readOnly
      ? `${effect.name} is a side-effect function (${effect.kind}); it is refused on a read-only instance`
      : `${effect.name} is a side-effect function (${effect.kind}); it is refused unless the instance's configuration allows side-effect functions`,
    effect.position
  )

/** Refuses guard-weakening settings, and side-effect functions the settings do not allow. */
const judgeCalls = (
  found: ReturnType<typeof Statements.calls>,
  settings: Settings,
  at: (offset: number) => number,
  fallback: number | undefined
): Effect.Effect<ReadonlyArray<SideEffect>, PolicyRefused> => {
  const setting = found.settings[0]
  if (setting !== undefined) {
    return Effect.fail(refuse("setting", setting.detail, setting.offset === undefined ? fallback : at(setting.offset)))
  }
  const effects = found.sideEffects.map(
    (e): SideEffect => ({ name: e.name, kind: e.kind, position: e.offset === undefined ? fallback : at(e.offset) })
  )
  const first = effects[0]
  if (first !== undefined && (settings.readOnly || !settings.allowSideEffects)) {
    return Effect.fail(sideEffectRefusal(first, settings))
  }
  return Effect.succeed(effects)
}

const runQueryOnly =
  "Run Query runs only queries and DML (SELECT, INSERT, UPDATE, DELETE, MERGE, VALUES, and WITH of these); use Execute DDL for schema changes"

/**
 * Decides whether Run Query may run `sql` on an instance with these settings, and how.
 *
 * @since 0.1.0
 */
export const planQuery: (sql: string, settings: Settings) => Effect.Effect<QueryPlan, PolicyRefused> = Effect.fn(
  "SqlPolicy.planQuery"
)(function* (sql: string, settings: Settings) {
  const tree = yield* parseTree(sql)
  const at = positions(sql)
  const statements = list(get(tree, "stmts"))
  if (statements.length === 0) return yield* refuse("statement", "no SQL statement given")
  if (statements.length > 1) {
    const second = statementText(sql, statements[1])
    return yield* refuse(
      "statement",
      `Run Query runs one statement; this request has ${statements.length}`,
      at(second.offset)
    )
  }
  const raw = statements[0]
  const stmt = get(raw, "stmt")
  const type = nodeType(stmt) ?? ""
  const node = body(stmt)
  const start = at(statementText(sql, raw).offset)
  const name = Statements.statementName(type, node)
  if (!Statements.queryNodes.has(type) || get(node, "intoClause") !== undefined) {
    return yield* refuse("statement", `${name} is refused: ${runQueryOnly}`, start)
  }
  const found = Statements.calls(stmt)
  const sideEffects = yield* judgeCalls(found, settings, at, start)
  const writes = Statements.writes(stmt)
  return {
    command: name,
    writes,
    sideEffects,
    observe: writes.length > 0 || found.callsFunctions
  }
})

/**
 * `planQuery` with the plans of recent accepted statements kept (at most `capacity`, the oldest
 * dropped first), so that a statement run again is not parsed again. Refusals are not kept.
 *
 * @since 0.1.0
 */
export const makePlanner = (
  capacity = 512
): ((sql: string, settings: Settings) => Effect.Effect<QueryPlan, PolicyRefused>) => {
  const plans = new Map<string, QueryPlan>()
  return (sql, settings) => {
    const key = `${settings.readOnly ? "r" : "w"}${settings.allowSideEffects ? "a" : "-"}${sql}`
    const known = plans.get(key)
    if (known !== undefined) return Effect.succeed(known)
    return Effect.tap(planQuery(sql, settings), (plan) =>
      Effect.sync(() => {
        if (plans.size >= capacity) plans.delete(plans.keys().next().value!)
        plans.set(key, plan)
      })
    )
  }
}

/** Side-effect names in a function body: parsed when it is SQL, scanned for the names otherwise. */
const bodyEffects = (functionBody: Statements.FunctionBody) =>
  Effect.gen(function* () {
    if (functionBody.language === "sql") {
      const parsed = yield* Effect.either(parseTree(functionBody.text))
      if (parsed._tag === "Right") {
        const found = Statements.calls(parsed.right)
        return { names: found.sideEffects.map((e) => [e.name, e.kind] as const), settings: found.settings }
      }
    }
    const match = bodyPattern.exec(functionBody.text)
    return { names: match === null ? [] : [[match[1]!, "dynamic_sql" as SideEffectClass] as const], settings: [] }
  })

/**
 * Refuses DDL that uses side-effect functions (anywhere in a statement, in the body of a function
 * it creates, as the function of a trigger, cast, operator or aggregate, or by installing an
 * extension or language that provides them) unless the settings allow them, and any `set_config`
 * of a guard-weakening setting. Returns the side-effect functions that are allowed, for the audit.
 *
 * @since 0.1.0
 */
export const checkDdl: (sql: string, settings: Settings) => Effect.Effect<ReadonlyArray<SideEffect>, PolicyRefused> =
  Effect.fn("SqlPolicy.checkDdl")(function* (sql: string, settings: Settings) {
    const tree = yield* parseTree(sql)
    const at = positions(sql)
    const allowed: Array<SideEffect> = []
    for (const raw of list(get(tree, "stmts"))) {
      const start = at(statementText(sql, raw).offset)
      const found = Statements.calls(get(raw, "stmt"))
      allowed.push(...(yield* judgeCalls(found, settings, at, start)))
      for (const functionBody of found.bodies) {
        const inner = yield* bodyEffects(functionBody)
        const setting = inner.settings[0]
        if (setting !== undefined) {
          return yield* refuse("setting", `in a function body: ${setting.detail}`, start)
        }
        for (const [name, kind] of inner.names) {
          const effect: SideEffect = { name: `${name} (in a function body)`, kind, position: start }
          if (settings.readOnly || !settings.allowSideEffects) return yield* sideEffectRefusal(effect, settings)
          allowed.push(effect)
        }
      }
    }
    return allowed
  })

/**
 * The refusal as Run Query reports it: `RequestRejected` (an `ActivityRejected` to the workflow),
 * SQLSTATE 42601 for a syntax error.
 *
 * @since 0.1.0
 */
export const toRequestRejected = (refused: PolicyRefused, target: string): DriverError.RequestRejected =>
  new DriverError.RequestRejected({
    target,
    status: refused.kind === "syntax" ? "42601" : "policy",
    detail: refused.message
  })

/**
 * The refusal as Execute DDL reports it.
 *
 * @since 0.1.0
 */
export const toDdlRejected = (refused: PolicyRefused): DomainError.DdlRejected =>
  new DomainError.DdlRejected(
    refused.position === undefined ? { detail: refused.detail } : { detail: refused.detail, position: refused.position }
  )

/**
 * Sends one statement on the observed connection, inside the observed transaction.
 *
 * @since 0.1.0
 */
export type Run<E> = RunSql<E>

/**
 * Rows a `Run` hands back.
 *
 * @since 0.1.0
 */
export type { Rows }

/**
 * The transaction's row counters; read right before a statement that `QueryPlan.observe` marks.
 *
 * @since 0.1.0
 */
export type Counters = ObserveWrites.Counters

/**
 * A table a statement deleted or updated entirely (or possibly so), and why it counts.
 *
 * @since 0.1.0
 */
export type TableWide = ObserveWrites.TableWide

/**
 * Reads the transaction's row counters (before the statement, in its transaction).
 *
 * @since 0.1.0
 */
export const readCounters: <E>(run: Run<E>) => Effect.Effect<Counters, E> = ObserveWrites.readCounters

/**
 * After the statement and before COMMIT: the tables it deleted or updated entirely, by any path,
 * or may have (see docs/database.md). Any such table needs a reason; without one, roll back.
 *
 * @since 0.1.0
 */
export const tableWide = <E>(
  run: Run<E>,
  before: Counters,
  plan: QueryPlan
): Effect.Effect<ReadonlyArray<TableWide>, E> =>
  ObserveWrites.tableWide(run, before, plan.writes).pipe(Effect.withSpan("SqlPolicy.tableWide"))

/**
 * The catalog as a DDL statement finds it.
 *
 * @since 0.1.0
 */
export type Snapshot = ObserveDdl.Snapshot

/**
 * One observed effect of a DDL statement.
 *
 * @since 0.1.0
 */
export type ObservedEffect = ObserveDdl.ObservedEffect

/**
 * What a DDL statement did, and the catalog after it.
 *
 * @since 0.1.0
 */
export type Observed = ObserveDdl.Observed

/**
 * Takes the catalog snapshot the first statement of a batch is observed against (in the open
 * transaction, before it).
 *
 * @since 0.1.0
 */
export const snapshot = <E>(run: Run<E>): Effect.Effect<Snapshot, E> =>
  ObserveDdl.snapshot(run).pipe(Effect.withSpan("SqlPolicy.snapshot"))

/**
 * Runs one DDL statement (`execute`) in the open transaction and observes what it did against
 * `before`; pass `after` as the next statement's `before`. The caller rolls back (preview, or a
 * loss without a reason) or commits.
 *
 * @since 0.1.0
 */
export const observe = <E>(
  run: Run<E>,
  execute: Effect.Effect<unknown, E>,
  before: Snapshot
): Effect.Effect<Observed, E> => ObserveDdl.observe(run, execute, before).pipe(Effect.withSpan("SqlPolicy.observe"))

/**
 * Whether observed effects lose data from an object that held rows, or may have.
 *
 * @since 0.1.0
 */
export const needsReason: (effects: ReadonlyArray<ObservedEffect>) => boolean = ObserveDdl.needsReason

/**
 * The connected role's attributes and whether it can change data or schema in this database.
 *
 * @since 0.1.0
 */
export interface RoleAttributes {
  readonly role: string
  readonly superuser: boolean
  readonly createrole: boolean
  readonly createdb: boolean
  readonly bypassrls: boolean
  readonly replication: boolean
  /** Superuser, or may INSERT/UPDATE/DELETE/TRUNCATE a table, or CREATE in the database or a schema. */
  readonly canWrite: boolean
}

const roleSql = `
SELECT r.rolname AS role, r.rolsuper AS superuser, r.rolcreaterole AS createrole, r.rolcreatedb AS createdb,
       r.rolbypassrls AS bypassrls, r.rolreplication AS replication,
       (r.rolsuper
        OR pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE')
        OR EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n
                   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
                     AND pg_catalog.has_schema_privilege(n.oid, 'CREATE'))
        OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                   WHERE c.relkind IN ('r', 'p', 'v', 'f')
                     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
                     AND pg_catalog.has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))) AS can_write
FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER`

/**
 * Reads the connected role's attributes.
 *
 * @since 0.1.0
 */
export const roleAttributes = <E>(run: Run<E>): Effect.Effect<RoleAttributes, E> =>
  run(roleSql).pipe(
    Effect.map((result) => {
      const row = result.rows[0] ?? {}
      return {
        role: String(row.role ?? ""),
        superuser: row.superuser === true,
        createrole: row.createrole === true,
        createdb: row.createdb === true,
        bypassrls: row.bypassrls === true,
        replication: row.replication === true,
        canWrite: row.can_write === true
      }
    }),
    Effect.withSpan("SqlPolicy.roleAttributes")
  )

/**
 * The least-privilege warning for a read-only instance, or undefined when its role is fit for it.
 *
 * @since 0.1.0
 */
export const readOnlyWarning = (role: RoleAttributes): string | undefined => {
  const problems = [
    ...(role.superuser ? ["is a superuser"] : []),
    ...(role.canWrite && !role.superuser ? ["can write"] : []),
    ...(role.bypassrls ? ["bypasses row-level security"] : []),
    ...(role.createrole ? ["can create roles"] : []),
    ...(role.replication ? ["has replication"] : [])
  ]
  return problems.length === 0
    ? undefined
    : `read_only instance, but role ${role.role} ${problems.join(", ")}: use a role that can only read`
}
