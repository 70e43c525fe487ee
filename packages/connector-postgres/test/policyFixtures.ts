/**
 * Test wiring of SqlPolicy on a plain `pg` client, as a driver wires it: the policy first, then the
 * statement in a transaction that observation judges before COMMIT.
 */
import { Data, Effect } from "effect"
import pg from "pg"
import * as DdlClassifier from "../src/DdlClassifier.js"
import * as SqlPolicy from "../src/SqlPolicy.js"
import { serverPort, superuserUrl } from "./helpers.js"

/** A failure of the server, as thrown by `pg`. */
export class ServerError extends Data.TaggedError("ServerError")<{ readonly code: string; readonly message: string }> {}

/** A table-wide write (or lost data) without a reason: rolled back. */
export class NeedsReason extends Data.TaggedError("NeedsReason")<{ readonly tables: ReadonlyArray<string> }> {}

const serverError = (cause: unknown) => {
  const record = typeof cause === "object" && cause !== null ? (cause as Record<string, unknown>) : {}
  return new ServerError({ code: String(record.code ?? ""), message: String(record.message ?? cause) })
}

/** A `Run` on a `pg` client. */
export const runOn =
  (client: pg.Client): SqlPolicy.Run<ServerError> =>
  (sql, params) =>
    Effect.tryPromise({
      try: () => client.query(sql, params === undefined ? undefined : [...params]),
      catch: serverError
    })

/** A connected client for the role (the superuser when `role` is omitted), closed with the scope. */
export const connect = (database: string, role?: { readonly user: string; readonly password: string }) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const url = new URL(superuserUrl)
      const client =
        role === undefined
          ? new pg.Client({ connectionString: Object.assign(url, { pathname: `/${database}` }).toString() })
          : new pg.Client({ host: "127.0.0.1", port: serverPort, database, ...role })
      await client.connect()
      return client
    }),
    (client) => Effect.promise(() => client.end())
  )

/** The outcome of a guarded Run Query. */
export interface Guarded {
  readonly rows: ReadonlyArray<Record<string, unknown>>
  readonly tableWide: ReadonlyArray<SqlPolicy.TableWide>
}

/**
 * Run Query as the driver runs it under the policy: refused before anything runs, or run (in a
 * READ ONLY transaction rolled back on a read-only instance; observed and committed only with a
 * reason when it was table-wide on a writable one).
 */
export const guardedQuery = (
  client: pg.Client,
  sql: string,
  options: { readonly settings: SqlPolicy.Settings; readonly params?: ReadonlyArray<unknown>; readonly reason?: string }
): Effect.Effect<Guarded, SqlPolicy.PolicyRefused | ServerError | NeedsReason> =>
  Effect.gen(function* () {
    const run = runOn(client)
    const plan = yield* SqlPolicy.planQuery(sql, options.settings)
    if (options.settings.readOnly) {
      yield* run("BEGIN READ ONLY")
      const result = yield* Effect.ensuring(run(sql, options.params), Effect.ignore(run("ROLLBACK")))
      return { rows: result.rows, tableWide: [] }
    }
    if (!plan.observe) {
      const result = yield* run(sql, options.params)
      return { rows: result.rows, tableWide: [] }
    }
    yield* run("BEGIN")
    const body = Effect.gen(function* () {
      const before = yield* SqlPolicy.readCounters(run)
      const result = yield* run(sql, options.params)
      const tableWide = yield* SqlPolicy.tableWide(run, before, plan)
      if (tableWide.length > 0 && options.reason === undefined) {
        return yield* new NeedsReason({ tables: tableWide.map((t) => `${t.table} (${t.why})`) })
      }
      return { rows: result.rows, tableWide }
    })
    const exit = yield* Effect.exit(body)
    yield* run(exit._tag === "Success" ? "COMMIT" : "ROLLBACK")
    return yield* exit
  })

/** A fingerprint of a table's rows (and of its existence), to prove it intact. */
export const fingerprint = (client: pg.Client, table: string) =>
  Effect.promise(() =>
    client.query(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS h FROM ${table} t`
    )
  ).pipe(Effect.map((r) => `${r.rows[0].n}:${r.rows[0].h}`))

/** Tries every case and returns those that did not come out as expected. */
export const misses = <A, E, R>(cases: ReadonlyArray<A>, check: (a: A) => Effect.Effect<boolean, E, R>) =>
  Effect.forEach(cases, (a) =>
    check(a).pipe(
      Effect.orElseSucceed(() => false),
      Effect.map((ok) => (ok ? [] : [a]))
    )
  ).pipe(Effect.map((r) => r.flat()))

/** What a guarded DDL call observed, per statement. */
export interface GuardedDdl {
  readonly executed: boolean
  readonly reasonRequired: boolean
  readonly statements: ReadonlyArray<{
    readonly sql: string
    readonly effects: ReadonlyArray<SqlPolicy.ObservedEffect>
  }>
}

/**
 * Execute DDL as the driver runs it under the policy: classified and checked, then every statement
 * observed in one transaction; rolled back for a preview or a loss without a reason, else committed.
 */
export const guardedDdl = (
  client: pg.Client,
  sql: string,
  options: { readonly confirm: boolean; readonly reason?: string; readonly settings?: SqlPolicy.Settings }
) =>
  Effect.gen(function* () {
    const run = runOn(client)
    const statements = yield* DdlClassifier.classify(sql)
    yield* SqlPolicy.checkDdl(sql, options.settings ?? { readOnly: false, allowSideEffects: false })
    yield* run("BEGIN")
    const body = Effect.gen(function* () {
      let before = yield* SqlPolicy.snapshot(run)
      const out: Array<GuardedDdl["statements"][number]> = []
      let reasonRequired = false
      for (const statement of statements) {
        const observed = yield* SqlPolicy.observe(run, run(statement.sql), before)
        before = observed.after
        out.push({ sql: statement.sql, effects: observed.effects })
        if (SqlPolicy.needsReason(observed.effects)) {
          reasonRequired = true
          if (options.confirm && options.reason === undefined) {
            return yield* new NeedsReason({
              tables: observed.effects.filter((e) => e.loss).map((e) => `${e.kind} ${e.object}`)
            })
          }
        }
      }
      return { executed: options.confirm, reasonRequired, statements: out }
    })
    const exit = yield* Effect.exit(body)
    yield* run(exit._tag === "Success" && options.confirm ? "COMMIT" : "ROLLBACK")
    return yield* exit
  })
