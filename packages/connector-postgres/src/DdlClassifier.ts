/**
 * Splits SQL into statements with PostgreSQL's own parser (libpg-query) and classifies each as
 * DDL: its kind, the tables it targets, and whether it destroys data. Anything that is not DDL
 * (queries, DML, COPY, DO, CALL, transaction control, SET, role and database management) is
 * refused by name.
 *
 * @since 0.1.0
 */
import { Database, DomainError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import { parse } from "libpg-query"
import { statementName } from "./internal/policyStatements.js"

/**
 * A table a statement names, as written (`schema` absent when unqualified).
 *
 * @since 0.1.0
 */
export interface TableRef {
  readonly schema?: string | undefined
  readonly name: string
}

/**
 * One classified statement.
 *
 * @since 0.1.0
 */
export interface ClassifiedStatement {
  /** The statement's text, trimmed, without its semicolon. */
  readonly sql: string
  /** 1-based character position of the statement in the request. */
  readonly position: number
  /** The parser's node type (`CreateStmt`, `DropStmt`…). */
  readonly node: string
  readonly kind: Database.DdlKind
  /** Drops or empties stored data: DROP TABLE / MATERIALIZED VIEW / SCHEMA, TRUNCATE, ALTER … DROP COLUMN / CONSTRAINT, any DROP … CASCADE, DROP OWNED. */
  readonly destructive: boolean
  /** Tables (and views) the statement targets. */
  readonly tables: ReadonlyArray<TableRef>
  /** Schemas a DROP SCHEMA removes (their tables are affected). */
  readonly schemas: ReadonlyArray<string>
  /** Destructive with effects the tables above do not cover (DROP TYPE … CASCADE, DROP OWNED): always needs a reason. */
  readonly unboundedScope: boolean
}

const kinds: Record<string, Database.DdlKind> = {
  CreateStmt: "create",
  CreateTableAsStmt: "create",
  ViewStmt: "create",
  IndexStmt: "create",
  CreateSchemaStmt: "create",
  CreateSeqStmt: "create",
  CreateFunctionStmt: "create",
  CreateTrigStmt: "create",
  CreateEnumStmt: "create",
  CreateRangeStmt: "create",
  CompositeTypeStmt: "create",
  DefineStmt: "create",
  CreateDomainStmt: "create",
  CreateExtensionStmt: "create",
  CreatePolicyStmt: "create",
  CreateForeignTableStmt: "create",
  CreateStatsStmt: "create",
  RuleStmt: "create",
  CreateCastStmt: "create",
  CreateConversionStmt: "create",
  CreateEventTrigStmt: "create",
  CreateOpClassStmt: "create",
  CreateOpFamilyStmt: "create",
  CreateTransformStmt: "create",
  CreateForeignServerStmt: "create",
  CreateFdwStmt: "create",
  CreateUserMappingStmt: "create",
  CreatePLangStmt: "create",
  CreateAmStmt: "create",
  ImportForeignSchemaStmt: "create",
  AlterTableStmt: "alter",
  AlterSeqStmt: "alter",
  AlterDomainStmt: "alter",
  AlterEnumStmt: "alter",
  AlterFunctionStmt: "alter",
  AlterObjectSchemaStmt: "alter",
  AlterOwnerStmt: "alter",
  AlterExtensionStmt: "alter",
  AlterExtensionContentsStmt: "alter",
  AlterPolicyStmt: "alter",
  AlterTypeStmt: "alter",
  AlterStatsStmt: "alter",
  AlterCollationStmt: "alter",
  AlterOpFamilyStmt: "alter",
  AlterOperatorStmt: "alter",
  AlterTableMoveAllStmt: "alter",
  AlterEventTrigStmt: "alter",
  AlterForeignServerStmt: "alter",
  AlterFdwStmt: "alter",
  AlterUserMappingStmt: "alter",
  AlterTSDictionaryStmt: "alter",
  AlterTSConfigurationStmt: "alter",
  AlterObjectDependsStmt: "alter",
  DropStmt: "drop",
  DropOwnedStmt: "drop",
  DropUserMappingStmt: "drop",
  TruncateStmt: "truncate",
  RenameStmt: "rename",
  CommentStmt: "other_ddl",
  GrantStmt: "other_ddl",
  AlterDefaultPrivilegesStmt: "other_ddl",
  SecLabelStmt: "other_ddl",
  RefreshMatViewStmt: "other_ddl",
  ReindexStmt: "other_ddl"
}

/** Object types whose DROP removes stored rows. */
const dataObjects = new Set(["OBJECT_TABLE", "OBJECT_MATVIEW"])
/** Object types whose DROP targets relations named like tables. */
const relationObjects = new Set(["OBJECT_TABLE", "OBJECT_MATVIEW", "OBJECT_VIEW", "OBJECT_FOREIGN_TABLE"])
const destructiveAlterations = new Set(["AT_DropColumn", "AT_DropConstraint"])

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null
const get = (value: unknown, key: string): unknown => (isObject(value) ? value[key] : undefined)
const list = (value: unknown): ReadonlyArray<unknown> => (Array.isArray(value) ? value : [])
const string = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined)

const rangeVar = (value: unknown): TableRef | undefined => {
  const node = get(value, "RangeVar") ?? value
  const name = string(get(node, "relname"))
  if (name === undefined) return undefined
  const schema = string(get(node, "schemaname"))
  return schema === undefined ? { name } : { schema, name }
}

/** A qualified name given as a list of String nodes (`DROP TABLE s.t`). */
const qualifiedName = (value: unknown): TableRef | undefined => {
  const parts = list(get(get(value, "List"), "items")).map((item) => string(get(get(item, "String"), "sval")))
  if (parts.length === 0 || parts.some((p) => p === undefined)) return undefined
  const name = parts[parts.length - 1]!
  const schema = parts.length >= 2 ? parts[parts.length - 2] : undefined
  return schema === undefined ? { name } : { schema, name }
}

const defined = <A>(values: ReadonlyArray<A | undefined>): ReadonlyArray<A> =>
  values.filter((value): value is A => value !== undefined)

interface Shape {
  readonly destructive: boolean
  readonly tables: ReadonlyArray<TableRef>
  readonly schemas: ReadonlyArray<string>
  readonly unboundedScope: boolean
}

const none: Shape = { destructive: false, tables: [], schemas: [], unboundedScope: false }

const shapeOf = (node: string, body: unknown): Shape => {
  switch (node) {
    case "CreateStmt":
    case "IndexStmt":
    case "CreateTrigStmt":
    case "CreatePolicyStmt":
    case "AlterPolicyStmt":
    case "RuleStmt":
    case "RefreshMatViewStmt":
      return { ...none, tables: defined([rangeVar(get(body, "relation"))]) }
    case "CreateForeignTableStmt":
      return {
        ...none,
        tables: defined([rangeVar(get(get(get(body, "base"), "CreateStmt") ?? get(body, "base"), "relation"))])
      }
    case "CreateTableAsStmt":
      return { ...none, tables: defined([rangeVar(get(get(body, "into"), "rel"))]) }
    case "ViewStmt":
      return { ...none, tables: defined([rangeVar(get(body, "view"))]) }
    case "AlterTableStmt": {
      const destructive = list(get(body, "cmds")).some((cmd) =>
        destructiveAlterations.has(string(get(get(cmd, "AlterTableCmd"), "subtype")) ?? "")
      )
      return { ...none, destructive, tables: defined([rangeVar(get(body, "relation"))]) }
    }
    case "RenameStmt":
    case "AlterObjectSchemaStmt":
      return { ...none, tables: defined([rangeVar(get(body, "relation"))]) }
    case "TruncateStmt":
      return { ...none, destructive: true, tables: defined(list(get(body, "relations")).map(rangeVar)) }
    case "DropStmt": {
      const removeType = string(get(body, "removeType")) ?? ""
      const cascade = get(body, "behavior") === "DROP_CASCADE"
      const objects = list(get(body, "objects"))
      if (removeType === "OBJECT_SCHEMA") {
        const schemas = defined(objects.map((object) => string(get(get(object, "String"), "sval"))))
        return { ...none, destructive: true, schemas }
      }
      if (relationObjects.has(removeType)) {
        return { ...none, destructive: dataObjects.has(removeType), tables: defined(objects.map(qualifiedName)) }
      }
      return { ...none, destructive: cascade, unboundedScope: cascade }
    }
    case "DropOwnedStmt":
      return { ...none, destructive: true, unboundedScope: true }
    default:
      return none
  }
}

/** `Buffer` offsets (the parser counts bytes) to a 1-based character position. */
const charPosition = (bytes: Buffer, byteOffset: number): number =>
  bytes.subarray(0, byteOffset).toString("utf8").length + 1

const rejected = (detail: string, position?: number) =>
  new DomainError.DdlRejected(position === undefined ? { detail } : { detail, position })

/**
 * Parses `sql` and classifies every statement. A syntax error fails with `DdlRejected` carrying
 * the parser's message and 1-based character position; so does the first statement that is not DDL.
 *
 * @since 0.1.0
 */
export const classify = (sql: string): Effect.Effect<ReadonlyArray<ClassifiedStatement>, DomainError.DdlRejected> =>
  Effect.gen(function* () {
    if (sql.trim().length === 0) return yield* rejected("no SQL statement given")
    const tree = yield* Effect.tryPromise({
      try: (): Promise<unknown> => parse(sql),
      catch: (cause) => {
        const details = get(cause, "sqlDetails")
        const cursor = get(details, "cursorPosition")
        const message = string(get(details, "message")) ?? string(get(cause, "message")) ?? String(cause)
        return rejected(message, typeof cursor === "number" ? cursor + 1 : undefined)
      }
    })
    const bytes = Buffer.from(sql, "utf8")
    const statements: Array<ClassifiedStatement> = []
    for (const raw of list(get(tree, "stmts"))) {
      const start = Number(get(raw, "stmt_location") ?? 0)
      const length = Number(get(raw, "stmt_len") ?? 0)
      const slice = bytes.subarray(start, length === 0 ? bytes.length : start + length).toString("utf8")
      const text = slice.trim().replace(/;\s*$/, "").trim()
      const leading = slice.length - slice.trimStart().length
      const position = charPosition(bytes, start) + leading
      const stmt = get(raw, "stmt")
      const node = isObject(stmt) ? (Object.keys(stmt)[0] ?? "") : ""
      const kind = kinds[node]
      if (kind === undefined) {
        const what = statementName(node, get(stmt, node))
        return yield* rejected(`${what} is not DDL; only DDL statements may run here (statement: ${text})`, position)
      }
      statements.push({ sql: text, position, node, kind, ...shapeOf(node, get(stmt, node)) })
    }
    if (statements.length === 0) return yield* rejected("no SQL statement given")
    return statements
  })
