/**
 * The PostgreSQL driver: connection test, health check, Run Query, schema discovery and guarded
 * DDL, on `pg` through `PostgresPools`.
 *
 * @since 0.1.0
 */
import { ConnectorDriver, Database, DomainError, DriverError, type EgressPolicy } from "@patchbay/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as DdlClassifier from "./DdlClassifier.js"
import * as Catalog from "./internal/catalog.js"
import * as Pipeline from "./internal/pipeline.js"
import * as TypeNames from "./internal/typeNames.js"
import { type Configuration, type Credentials, descriptor } from "./PostgresDescriptor.js"
import * as PostgresPools from "./PostgresPools.js"

/**
 * The driver's context: a PostgreSQL instance, its decoded configuration and credentials.
 *
 * @since 0.1.0
 */
export type Context = ConnectorDriver.DriverContext<Configuration, Credentials>

/**
 * The PostgreSQL driver, with every capability the descriptor declares.
 *
 * @since 0.1.0
 */
export interface PostgresDriver extends ConnectorDriver.ConnectorDriver<Configuration, Credentials> {
  readonly query: NonNullable<ConnectorDriver.ConnectorDriver<Configuration, Credentials>["query"]>
  readonly discoverSchema: NonNullable<ConnectorDriver.ConnectorDriver<Configuration, Credentials>["discoverSchema"]>
  readonly executeDdl: NonNullable<ConnectorDriver.ConnectorDriver<Configuration, Credentials>["executeDdl"]>
}

/** Added to a call's own timeout before the client gives up on a silent server. */
const graceMillis = 5_000
const testTimeoutMillis = 10_000
const discoveryTimeoutMillis = 120_000
const unlimitedRows = 2_000_000_000

const beginReadOnly = { text: "BEGIN READ ONLY", name: "patchbay_begin_ro" }
const rollback = { text: "ROLLBACK", name: "patchbay_rollback" }
const localTimeout = { text: Catalog.setTimeoutSql, name: "patchbay_local_timeout" }
const sessionTimeout = {
  text: "SELECT pg_catalog.set_config('statement_timeout', $1, false)",
  name: "patchbay_session_timeout"
}
/** The statement timeout each pooled connection's session has, as last set by `query`. */
const sessionTimeouts = new WeakMap<object, number>()

const backstop =
  (target: string, millis: number) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | DriverError.TimedOut, R> =>
    Effect.timeoutFail(effect, {
      duration: Duration.millis(millis + graceMillis),
      onTimeout: () => new DriverError.TimedOut({ target, afterMillis: millis })
    })

const targetOf = (context: Context) =>
  `${context.configuration.host}:${context.configuration.port}/${context.configuration.database}`

type Client = Pipeline.Queryable & {
  query: (text: string, values?: Array<unknown>) => Promise<{ rows: Array<unknown> }>
}

const toColumns = (fields: ReadonlyArray<Pipeline.FieldInfo>, typeCache: ReadonlyMap<number, string>) =>
  fields.map((f) => new Database.Column({ name: f.name, type: TypeNames.typeName(f.dataTypeID, typeCache) }, true))

const resultOf = (result: Pipeline.PipelineResult, columns: Array<Database.Column>) =>
  new Database.QueryResult(
    {
      columns,
      rows: result.rows,
      rowCount: result.fields.length > 0 ? result.rows.length : (result.rowCount ?? 0),
      truncated: result.truncated
    },
    true
  )

/**
 * Run Query on a checked-out client: one round trip in the usual case (the session's statement
 * timeout already set). It receives the pipeline's outcome itself (an object with methods, not
 * closures or promises made per call), so a short query costs no extra ticks.
 */
class QueryRun implements Pipeline.Receiver<Pipeline.PipelineResult> {
  constructor(
    private readonly client: Client,
    private readonly typeCache: Map<number, string>,
    private readonly request: Database.QueryRequest,
    private readonly readOnly: boolean,
    private readonly callbacks: PostgresPools.Callbacks<Database.QueryResult>
  ) {}

  start(): void {
    const request = this.request
    const main = { text: request.sql, values: request.params }
    let options: Pipeline.Options
    if (this.readOnly) {
      // An explicit READ ONLY block, rolled back, so that nothing the statement does (a
      // data-modifying CTE, a function that writes, a SET) outlives it; the timeout is LOCAL.
      options = {
        before: [beginReadOnly, { ...localTimeout, values: [String(request.timeoutMillis)] }],
        main,
        maxRows: request.maxRows,
        after: [rollback]
      }
    } else {
      // One implicit transaction. The timeout is a session setting, sent only when this
      // connection's differs: a SET in the statement or a failure forgets what was sent.
      options = {
        before:
          sessionTimeouts.get(this.client) === request.timeoutMillis
            ? []
            : [{ ...sessionTimeout, values: [String(request.timeoutMillis)] }],
        main,
        maxRows: request.maxRows,
        after: []
      }
    }
    Pipeline.submit(this.client, options, this)
  }

  onSuccess(result: Pipeline.PipelineResult): void {
    if (!this.readOnly) {
      if (result.command === "SET" || result.command === "RESET") sessionTimeouts.delete(this.client)
      else sessionTimeouts.set(this.client, this.request.timeoutMillis)
    }
    // The statement itself may have been BEGIN: never hand back a connection inside a transaction.
    if (result.status === "I") this.finish(result)
    else
      this.client.query("ROLLBACK").then(
        () => this.finish(result),
        (cause: unknown) => this.callbacks.onFailure(cause)
      )
  }

  onFailure(cause: unknown): void {
    sessionTimeouts.delete(this.client)
    if (!this.readOnly) {
      this.callbacks.onFailure(cause)
      return
    }
    const fail = () => this.callbacks.onFailure(cause)
    this.client.query("ROLLBACK").then(fail, fail)
  }

  /** Names the columns (looking up, once per pool, OIDs that are not built in) and hands back the result. */
  private finish(result: Pipeline.PipelineResult): void {
    const missing = TypeNames.unknownOids(
      result.fields.map((f) => f.dataTypeID),
      this.typeCache
    )
    if (missing.length === 0) {
      this.callbacks.onSuccess(resultOf(result, toColumns(result.fields, this.typeCache)))
      return
    }
    this.client
      .query(TypeNames.lookupSql, [missing])
      .catch(() => ({ rows: [] }))
      .then((found) => {
        for (const row of found.rows as ReadonlyArray<{ oid: number; name: string }>) {
          this.typeCache.set(row.oid, row.name)
        }
        this.callbacks.onSuccess(resultOf(result, toColumns(result.fields, this.typeCache)))
      })
      .catch((cause: unknown) => this.callbacks.onFailure(cause))
  }
}

interface Measured {
  readonly name: string
  readonly rows: number | null
  /** Exists and may hold rows (non-empty, or not countable). */
  readonly holdsData: boolean
}

/**
 * The driver on the given pools.
 *
 * @since 0.1.0
 */
export const make = (pools: PostgresPools.PostgresPoolsShape): PostgresDriver => {
  const test = Effect.fn("Postgres.test")(function* (context: Context) {
    const target = targetOf(context)
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const connection = yield* pools.connect(context)
        const result = yield* connection.use((client) => client.query<{ version: string }>("SELECT version()"), {
          timeoutMillis: testTimeoutMillis
        })
        return result.rows[0]?.version ?? "connected"
      })
    ).pipe(backstop(target, testTimeoutMillis))
  })

  const healthCheck = Effect.fn("Postgres.healthCheck")(function* (context: Context) {
    yield* pools.run(
      context,
      (client, _, callbacks) =>
        client.query("SELECT 1").then(
          (result) => callbacks.onSuccess(result),
          (cause: unknown) => callbacks.onFailure(cause)
        ),
      {
        timeoutMillis: testTimeoutMillis,
        backstopMillis: testTimeoutMillis
      }
    )
  })

  // No span of its own: Run Query is traced by its caller (the activity's span), and on a 1-row
  // query a span and the call-site capture of `Effect.fn` cost as much as the driver's own work.
  const query: PostgresDriver["query"] = (context, request) =>
    pools.run(
      context,
      (client, typeCache, callbacks) =>
        new QueryRun(client, typeCache, request, context.configuration.read_only, callbacks).start(),
      {
        timeoutMillis: request.timeoutMillis,
        backstopMillis: request.timeoutMillis + graceMillis,
        params: request.params
      }
    )

  const discoverSchema = Effect.fn("Postgres.discoverSchema")(function* (
    context: Context,
    request: Database.SchemaRequest
  ) {
    const target = targetOf(context)
    const errorContext = { timeoutMillis: discoveryTimeoutMillis }
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const connection = yield* pools.acquire(context)
        const result = yield* connection.use(
          (client) =>
            Pipeline.run(client, {
              before: [{ text: Catalog.setTimeoutSql, values: [String(discoveryTimeoutMillis)] }],
              main: { text: Catalog.discoverSql, values: [request.schemas ?? null] },
              maxRows: unlimitedRows,
              after: []
            }),
          errorContext
        )
        const tables = result.rows.map((row) => {
          const fields = (row.fields as ReadonlyArray<readonly [string, string, boolean, string | null, boolean]>).map(
            ([name, type, nullable, defaultValue, primaryKey]) =>
              new Database.Field({ name, type, nullable, default: defaultValue, primaryKey }, true)
          )
          return new Database.Table(
            {
              schema: row.schema as string,
              name: row.name as string,
              kind: Catalog.tableKinds[row.kind as keyof typeof Catalog.tableKinds],
              estimatedRows: row.rows as number | null,
              fields
            },
            true
          )
        })
        return new Database.DatabaseSchema({ tables }, true)
      })
    ).pipe(backstop(target, discoveryTimeoutMillis))
  })

  const executeDdl = Effect.fn("Postgres.executeDdl")(function* (context: Context, request: Database.DdlRequest) {
    const target = targetOf(context)
    if (context.configuration.read_only) {
      return yield* new DomainError.DdlRejected({
        detail: `${target} is configured read_only; DDL is refused on this instance`
      })
    }
    const statements = yield* DdlClassifier.classify(request.sql)
    const timeoutMillis = request.timeoutMillis
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const connection = yield* pools.acquire(context)
        const run = (text: string, values?: ReadonlyArray<unknown>, prefix?: string) =>
          connection.use((client) => client.query(text, values === undefined ? undefined : [...values]), {
            timeoutMillis,
            ...(prefix === undefined ? {} : { prefix })
          })

        const measure = (statement: DdlClassifier.ClassifiedStatement) =>
          Effect.gen(function* () {
            const written = statement.tables.map((t) => (t.schema === undefined ? t.name : `${t.schema}.${t.name}`))
            const refs = statement.tables.map((t) =>
              t.schema === undefined
                ? Catalog.quoteIdent(t.name)
                : `${Catalog.quoteIdent(t.schema)}.${Catalog.quoteIdent(t.name)}`
            )
            type Found = {
              readonly name: string
              readonly quoted: string
              readonly kind: string
              readonly readable: boolean
            }
            const resolved = new Map<number, Found>()
            if (refs.length > 0) {
              const found = yield* run(Catalog.resolveSql, [refs])
              for (const row of found.rows as ReadonlyArray<Found & { i: number }>) resolved.set(row.i - 1, row)
            }
            const entries: Array<{ readonly name: string; readonly found: Found | undefined }> = written.map(
              (name, i) => ({ name, found: resolved.get(i) })
            )
            if (statement.schemas.length > 0) {
              const inSchemas = yield* run(Catalog.schemaTablesSql, [statement.schemas])
              for (const row of inSchemas.rows as ReadonlyArray<Found>) entries.push({ name: row.name, found: row })
            }
            const countable = entries.filter((e) => e.found?.readable && ["r", "p", "m"].includes(e.found.kind))
            const counts: Array<unknown> = []
            if (countable.length > 0) {
              const select = countable.map((e, i) => `(SELECT count(*) FROM ${e.found!.quoted}) AS c${i}`).join(", ")
              const counted = yield* run(`SELECT ${select}`)
              const row = counted.rows[0] as Record<string, unknown>
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
    ).pipe(backstop(target, timeoutMillis * (statements.length * 2 + 2)))
  })

  return { test, healthCheck, query, discoverSchema, executeDdl }
}

/**
 * The PostgreSQL connector (descriptor and driver) for `ConnectorRegistry.layer`. It uses the
 * `PostgresPools` of the context when there is one (closed with its layer), otherwise pools of its
 * own on the context's `EgressPolicy`, which close their idle connections by themselves.
 *
 * @since 0.1.0
 */
export const connector: Effect.Effect<ConnectorDriver.Connector, never, EgressPolicy.EgressPolicy> = Effect.gen(
  function* () {
    const provided = yield* Effect.serviceOption(PostgresPools.PostgresPools)
    const pools = Option.isSome(provided) ? provided.value : yield* PostgresPools.makeFromContext
    return ConnectorDriver.make(descriptor, make(pools))
  }
)
