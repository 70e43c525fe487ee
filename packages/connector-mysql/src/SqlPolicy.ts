/**
 * The SQL policy of the MySQL / MariaDB connector, decided from node-sql-parser's MariaDB parse
 * tree; SQL the parser cannot read is refused (fail closed).
 *
 * - `planQuery`: Run Query accepts exactly one SELECT, INSERT, REPLACE, UPDATE or DELETE;
 *   everything else is refused, naming Execute DDL. Side-effect functions (server files, locks)
 *   and `SELECT … INTO OUTFILE/DUMPFILE` are refused.
 * - A DELETE or UPDATE without a WHERE touches every row of its tables: the plan names them, and
 *   the driver refuses it without a reason when one of them holds rows.
 *
 * @since 0.1.0
 */
import { DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SqlParser from "./internal/sqlParser.js"

/**
 * Why a request was refused: `syntax` (the parser could not read it), `statement` (a statement
 * kind the operation does not run, or not exactly one statement) or `side_effect`.
 *
 * @since 0.1.0
 */
export const RefusalKind = Schema.Literal("syntax", "statement", "side_effect")
/** @since 0.1.0 */
export type RefusalKind = typeof RefusalKind.Type

/**
 * The policy refused the SQL before anything ran.
 *
 * @since 0.1.0
 */
export class PolicyRefused extends Schema.TaggedError<PolicyRefused>("@patchbay/connector-mysql/PolicyRefused")(
  "PolicyRefused",
  { kind: RefusalKind, detail: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return this.detail
  }
}

/**
 * What Run Query may run: the statement's kind and, for a DELETE or UPDATE without WHERE, the
 * tables (`schema.table`, schema null for the connection's database) it touches entirely.
 *
 * @since 0.1.0
 */
export interface QueryPlan {
  readonly command: "select" | "insert" | "replace" | "update" | "delete"
  readonly tableWide: ReadonlyArray<SqlParser.TableRef>
}

/** Functions that read or write server files, take server-wide locks or wait on replication. */
const sideEffectFunctions = new Set([
  "load_file",
  "get_lock",
  "release_lock",
  "release_all_locks",
  "is_free_lock",
  "is_used_lock",
  "master_pos_wait",
  "master_gtid_wait",
  "source_pos_wait",
  "sys_exec",
  "sys_eval",
  "benchmark"
])

const commands = new Set(["select", "insert", "replace", "update", "delete"])

/**
 * Plans a Run Query statement, or refuses it.
 *
 * @since 0.1.0
 */
export const planQuery = (sql: string): Effect.Effect<QueryPlan, PolicyRefused> =>
  Effect.gen(function* () {
    const parsed = SqlParser.parse(sql)
    if (parsed._tag === "Left") return yield* new PolicyRefused({ kind: "syntax", detail: parsed.left })
    const statements = parsed.right
    if (statements.length !== 1) {
      return yield* new PolicyRefused({ kind: "statement", detail: "Run Query runs exactly one statement" })
    }
    const statement = statements[0]!
    const type = SqlParser.typeOf(statement)
    if (!commands.has(type)) {
      return yield* new PolicyRefused({
        kind: "statement",
        detail: `Run Query runs one SELECT, INSERT, REPLACE, UPDATE or DELETE; ${type.toUpperCase() || "this statement"} is not one of them (use Execute DDL for schema changes)`
      })
    }
    const used = SqlParser.functionNames(statement).filter((name) => sideEffectFunctions.has(name))
    if (used.length > 0) {
      return yield* new PolicyRefused({
        kind: "side_effect",
        detail: `side-effect function ${[...new Set(used)].join(", ")} is not allowed`
      })
    }
    if (SqlParser.writesFile(statement)) {
      return yield* new PolicyRefused({ kind: "side_effect", detail: "SELECT … INTO OUTFILE/DUMPFILE is not allowed" })
    }
    const command = type as QueryPlan["command"]
    const tableWide = (command === "delete" || command === "update") && !SqlParser.hasWhere(statement)
    return { command, tableWide: tableWide ? SqlParser.targetTables(statement) : [] }
  })

/**
 * The driver error for a refusal: `RequestRejected` with the refusal's kind as status.
 *
 * @since 0.1.0
 */
export const toRequestRejected = (refused: PolicyRefused, target: string): DriverError.RequestRejected =>
  new DriverError.RequestRejected({ target, status: `policy_${refused.kind}`, detail: refused.detail })
