/**
 * What the policy reads in a parsed statement: which command it is, the side-effect functions and
 * settings it calls anywhere in its tree, the tables it deletes from or updates, and whether such
 * a DELETE or UPDATE is table-wide by construction.
 */
import {
  harmlessSettings,
  type SideEffectClass,
  sideEffectExtensions,
  sideEffectOf,
  untrustedLanguage
} from "./policyFunctions.js"
import { get, isObject, type Json, list, location, names, nodeType, shape, some, string, walk } from "./policyTree.js"

/** A side-effect function (or statement form) found in the tree; `offset` is a byte offset. */
export interface SideEffectFound {
  readonly name: string
  readonly kind: SideEffectClass
  readonly offset: number | undefined
}

/** A `set_config` call that would weaken a guard. */
export interface SettingFound {
  readonly detail: string
  readonly offset: number | undefined
}

/** A table a statement deletes from or updates, as written. */
export interface WriteFound {
  readonly schema: string | undefined
  readonly name: string
  /** `ONLY t`: inheritance children are not touched. */
  readonly only: boolean
  readonly command: "delete" | "update" | "merge" | "upsert"
  /** No WHERE, a WHERE without any column, or one that is true for every row by its form. */
  readonly wholeTable: boolean
  readonly offset: number | undefined
}

/** Node types Run Query accepts at the top level. */
export const queryNodes: ReadonlySet<string> = new Set([
  "SelectStmt",
  "InsertStmt",
  "UpdateStmt",
  "DeleteStmt",
  "MergeStmt"
])

const statementNames: Record<string, string> = {
  SelectStmt: "SELECT",
  InsertStmt: "INSERT",
  UpdateStmt: "UPDATE",
  DeleteStmt: "DELETE",
  MergeStmt: "MERGE",
  TruncateStmt: "TRUNCATE",
  CopyStmt: "COPY",
  DoStmt: "DO",
  CallStmt: "CALL",
  TransactionStmt: "transaction control",
  VariableSetStmt: "SET",
  VariableResetStmt: "RESET",
  VariableShowStmt: "SHOW",
  ExplainStmt: "EXPLAIN",
  LockStmt: "LOCK",
  VacuumStmt: "VACUUM/ANALYZE",
  ClusterStmt: "CLUSTER",
  CheckPointStmt: "CHECKPOINT",
  DiscardStmt: "DISCARD",
  PrepareStmt: "PREPARE",
  ExecuteStmt: "EXECUTE",
  DeallocateStmt: "DEALLOCATE",
  NotifyStmt: "NOTIFY",
  ListenStmt: "LISTEN",
  UnlistenStmt: "UNLISTEN",
  DeclareCursorStmt: "DECLARE",
  FetchStmt: "FETCH",
  ClosePortalStmt: "CLOSE",
  LoadStmt: "LOAD",
  ConstraintsSetStmt: "SET CONSTRAINTS",
  DropStmt: "DROP",
  DropOwnedStmt: "DROP OWNED",
  CreateStmt: "CREATE TABLE",
  CreateTableAsStmt: "CREATE TABLE AS",
  ViewStmt: "CREATE VIEW",
  IndexStmt: "CREATE INDEX",
  AlterTableStmt: "ALTER TABLE",
  RenameStmt: "RENAME",
  GrantStmt: "GRANT/REVOKE",
  CommentStmt: "COMMENT",
  RefreshMatViewStmt: "REFRESH MATERIALIZED VIEW",
  CreateFunctionStmt: "CREATE FUNCTION",
  CreateTrigStmt: "CREATE TRIGGER",
  CreateSchemaStmt: "CREATE SCHEMA",
  CreateExtensionStmt: "CREATE EXTENSION",
  RuleStmt: "CREATE RULE",
  CreatedbStmt: "CREATE DATABASE",
  DropdbStmt: "DROP DATABASE",
  AlterSystemStmt: "ALTER SYSTEM",
  CreateRoleStmt: "CREATE ROLE",
  AlterRoleStmt: "ALTER ROLE",
  DropRoleStmt: "DROP ROLE",
  AlterDatabaseStmt: "ALTER DATABASE",
  AlterDatabaseSetStmt: "ALTER DATABASE",
  AlterRoleSetStmt: "ALTER ROLE",
  GrantRoleStmt: "GRANT role",
  CreateTableSpaceStmt: "CREATE TABLESPACE",
  DropTableSpaceStmt: "DROP TABLESPACE",
  CreateSubscriptionStmt: "CREATE SUBSCRIPTION",
  DropSubscriptionStmt: "DROP SUBSCRIPTION",
  ReassignOwnedStmt: "REASSIGN OWNED"
}

/** A statement's name as a person writes it (`TRUNCATE`, `CREATE TABLE`, `transaction control`). */
export const statementName = (type: string, node: unknown): string => {
  if (type === "SelectStmt" && get(node, "intoClause") !== undefined) return "SELECT INTO"
  if (type === "VariableSetStmt" && string(get(node, "kind"))?.startsWith("VAR_RESET")) return "RESET"
  if (type === "DropStmt") {
    const removeType = string(get(node, "removeType"))
      ?.replace(/^OBJECT_/, "")
      .replace(/_/g, " ")
    return removeType === undefined ? "DROP" : `DROP ${removeType}`
  }
  return statementNames[type] ?? type.replace(/Stmt$/, "")
}

/** Whether the expression refers to any column (of any relation: correlated or not). */
const hasColumn = (expression: unknown): boolean =>
  some(expression, (type) => type === "ColumnRef" || type === "A_Indirection")

const constantTrue = (expression: unknown): boolean => {
  const type = nodeType(expression)
  const node = type === undefined ? undefined : get(expression, type)
  return type === "A_Const" && get(get(node, "boolval"), "boolval") === true
}

/**
 * True when `expression` holds for every row by its form alone: it names no column (so it is true
 * or false for all rows at once), or it is a disjunction with such a branch, a conjunction of such
 * terms, or a comparison of an expression with itself. Anything else is left to observation.
 */
export const wholeTableCondition = (expression: unknown): boolean => {
  if (expression === undefined) return true
  if (!hasColumn(expression)) return true
  const type = nodeType(expression)
  const node = type === undefined ? undefined : get(expression, type)
  switch (type) {
    case "BoolExpr": {
      const op = string(get(node, "boolop"))
      const args = list(get(node, "args"))
      if (op === "OR_EXPR") return args.some(wholeTableCondition)
      if (op === "AND_EXPR") return args.every(wholeTableCondition)
      return false
    }
    case "A_Expr": {
      const kind = string(get(node, "kind"))
      const op = names(get(node, "name"))
      const same = shape(get(node, "lexpr")) === shape(get(node, "rexpr"))
      if (kind === "AEXPR_NOT_DISTINCT" && same) return true
      return kind === "AEXPR_OP" && same && ["=", ">=", "<="].includes(op[op.length - 1] ?? "")
    }
    case "BooleanTest":
      return constantTrue(get(node, "arg")) && string(get(node, "booltesttype")) !== "IS_FALSE"
    default:
      return false
  }
}

const relationOf = (relation: unknown) => ({
  schema: string(get(relation, "schemaname")),
  name: string(get(relation, "relname")) ?? "",
  only: get(relation, "inh") !== true,
  offset: location(relation)
})

/** The tables the statement (and its CTEs, at any depth) deletes from or updates. */
export const writes = (tree: unknown): ReadonlyArray<WriteFound> => {
  const found: Array<WriteFound> = []
  walk(tree, (type, node) => {
    switch (type) {
      case "DeleteStmt":
        found.push({
          ...relationOf(get(node, "relation")),
          command: "delete",
          wholeTable: wholeTableCondition(get(node, "whereClause"))
        })
        return
      case "UpdateStmt":
        found.push({
          ...relationOf(get(node, "relation")),
          command: "update",
          wholeTable: wholeTableCondition(get(node, "whereClause"))
        })
        return
      case "MergeStmt": {
        const changes = list(get(node, "mergeWhenClauses")).some((clause) => {
          const command = string(get(get(clause, "MergeWhenClause"), "commandType"))
          return command === "CMD_UPDATE" || command === "CMD_DELETE"
        })
        if (changes) {
          found.push({
            ...relationOf(get(node, "relation")),
            command: "merge",
            wholeTable: wholeTableCondition(get(node, "joinCondition"))
          })
        }
        return
      }
      case "InsertStmt": {
        const action = string(get(get(node, "onConflictClause"), "action"))
        if (action === "ONCONFLICT_UPDATE") {
          found.push({ ...relationOf(get(node, "relation")), command: "upsert", wholeTable: false })
        }
        return
      }
    }
  })
  return found
}

/** The literal string of a constant argument, if it is one. */
const literal = (value: unknown): string | undefined => {
  const constant = get(value, "A_Const")
  if (constant !== undefined) return string(get(get(constant, "sval"), "sval"))
  const cast = get(value, "TypeCast")
  return cast === undefined ? undefined : literal(get(cast, "arg"))
}

const literalBoolean = (value: unknown): boolean | undefined => {
  const constant = get(value, "A_Const")
  if (constant !== undefined) {
    const boolval = get(constant, "boolval")
    if (isObject(boolval)) return boolval.boolval === true
    const text = string(get(get(constant, "sval"), "sval"))?.toLowerCase()
    if (text === "true" || text === "t" || text === "on") return true
    if (text === "false" || text === "f" || text === "off") return false
    return undefined
  }
  const cast = get(value, "TypeCast")
  return cast === undefined ? undefined : literalBoolean(get(cast, "arg"))
}

/** Why a `set_config(name, value, is_local)` call is refused, or undefined when it is harmless. */
const settingProblem = (args: ReadonlyArray<unknown>): string | undefined => {
  const name = literal(args[0])?.toLowerCase()
  if (name === undefined) return "set_config with a setting name that is not a literal"
  if (!name.includes(".") && !harmlessSettings.has(name)) {
    return `set_config('${name}', …) changes a setting that can weaken the guards`
  }
  if (literalBoolean(args[2]) !== true) {
    return `set_config('${name}', …) for the session outlives the call on a pooled connection; pass is_local = true`
  }
  return undefined
}

const functionOptions = (node: Json) => {
  let language: string | undefined
  let bodies: Array<string> = []
  for (const option of list(get(node, "options"))) {
    const element = get(option, "DefElem")
    const name = string(get(element, "defname"))
    const arg = get(element, "arg")
    if (name === "language") language = string(get(get(arg, "String"), "sval"))
    if (name === "as") {
      bodies = [...names(get(get(arg, "List"), "items")), ...names([arg])]
    }
  }
  return { language: language ?? "sql", bodies }
}

/** A function body the policy must look into: parsed when SQL, scanned by name otherwise. */
export interface FunctionBody {
  readonly language: string
  readonly text: string
  readonly offset: number | undefined
}

/** Side-effect calls, guard-weakening settings and function bodies to inspect, in the whole tree. */
export const calls = (
  tree: unknown
): {
  readonly sideEffects: ReadonlyArray<SideEffectFound>
  readonly settings: ReadonlyArray<SettingFound>
  readonly bodies: ReadonlyArray<FunctionBody>
  /** Calls a function that is not a well-known read-only built-in (it may write through SQL). */
  readonly callsFunctions: boolean
} => {
  const sideEffects: Array<SideEffectFound> = []
  const settings: Array<SettingFound> = []
  const bodies: Array<FunctionBody> = []
  let callsFunctions = false
  const named = (parts: ReadonlyArray<string>, offset: number | undefined) => {
    const name = parts[parts.length - 1]
    if (name === undefined) return
    const kind = sideEffectOf(name)
    if (kind !== undefined) sideEffects.push({ name: parts.join("."), kind, offset })
  }
  walk(tree, (type, node) => {
    switch (type) {
      case "FuncCall": {
        const parts = names(get(node, "funcname"))
        const name = parts[parts.length - 1]?.toLowerCase() ?? ""
        const schema = parts.length > 1 ? parts[parts.length - 2]?.toLowerCase() : undefined
        if (!readOnlyBuiltins.has(name) || (schema !== undefined && schema !== "pg_catalog")) callsFunctions = true
        if (name === "set_config") {
          const problem = settingProblem(list(get(node, "args")))
          if (problem !== undefined) settings.push({ detail: problem, offset: location(node) })
        }
        named(parts, location(node))
        return
      }
      // Attribute notation: `(x).pg_read_file` calls pg_read_file(x).
      case "ColumnRef":
        named(names(get(node, "fields")).slice(1), location(node))
        return
      case "A_Indirection":
        named(names(get(node, "indirection")), location(get(get(node, "arg"), nodeType(get(node, "arg")) ?? "")))
        return
      case "CopyStmt":
        if (get(node, "is_program") === true) {
          sideEffects.push({ name: "COPY … PROGRAM", kind: "copy_program", offset: undefined })
        } else if (string(get(node, "filename")) !== undefined) {
          sideEffects.push({ name: "COPY … file", kind: "copy_file", offset: undefined })
        }
        return
      case "CreateTrigStmt":
      case "CreateEventTrigStmt":
        named(names(get(node, "funcname")), undefined)
        return
      case "CreateCastStmt":
      case "CreateTransformStmt":
        for (const key of ["func", "fromsql", "tosql"]) named(names(get(get(node, key), "objname")), undefined)
        return
      case "DefineStmt":
        // CREATE OPERATOR / AGGREGATE name their functions among the definition's values.
        for (const element of list(get(node, "definition"))) {
          const arg = get(get(element, "DefElem"), "arg")
          named([...names(get(get(arg, "TypeName"), "names")), ...names(get(get(arg, "List"), "items"))], undefined)
        }
        return
      case "CreateExtensionStmt": {
        const extension = string(get(node, "extname"))?.toLowerCase() ?? ""
        if (sideEffectExtensions.has(extension)) {
          sideEffects.push({ name: `CREATE EXTENSION ${extension}`, kind: "untrusted_code", offset: undefined })
        }
        return
      }
      case "CreatePLangStmt":
        sideEffects.push({
          name: `CREATE LANGUAGE ${string(get(node, "plname")) ?? ""}`,
          kind: "untrusted_code",
          offset: undefined
        })
        return
      case "CreateFunctionStmt": {
        const { bodies: texts, language } = functionOptions(node)
        if (untrustedLanguage(language)) {
          sideEffects.push({ name: `a function in LANGUAGE ${language}`, kind: "untrusted_code", offset: undefined })
        }
        for (const text of texts) bodies.push({ language: language.toLowerCase(), text, offset: undefined })
        return
      }
    }
  })
  return { sideEffects, settings, bodies, callsFunctions }
}

/**
 * Built-in functions that only read: a statement calling nothing else cannot write through a
 * function call (a trigger, rule, default or operator still can: see docs/database.md).
 */
const readOnlyBuiltins: ReadonlySet<string> = new Set([
  "count",
  "sum",
  "avg",
  "min",
  "max",
  "array_agg",
  "string_agg",
  "json_agg",
  "jsonb_agg",
  "json_object_agg",
  "jsonb_object_agg",
  "bool_and",
  "bool_or",
  "every",
  "stddev",
  "variance",
  "percentile_cont",
  "percentile_disc",
  "mode",
  "row_number",
  "rank",
  "dense_rank",
  "lag",
  "lead",
  "first_value",
  "last_value",
  "nth_value",
  "ntile",
  "now",
  "clock_timestamp",
  "statement_timestamp",
  "transaction_timestamp",
  "date_trunc",
  "date_part",
  "extract",
  "age",
  "to_char",
  "to_date",
  "to_timestamp",
  "to_number",
  "make_date",
  "make_interval",
  "lower",
  "upper",
  "length",
  "char_length",
  "substr",
  "substring",
  "replace",
  "trim",
  "btrim",
  "ltrim",
  "rtrim",
  "left",
  "right",
  "split_part",
  "strpos",
  "concat",
  "concat_ws",
  "format",
  "md5",
  "regexp_replace",
  "regexp_match",
  "regexp_matches",
  "regexp_split_to_array",
  "abs",
  "round",
  "floor",
  "ceil",
  "ceiling",
  "trunc",
  "mod",
  "power",
  "sqrt",
  "random",
  "generate_series",
  "unnest",
  "array_length",
  "cardinality",
  "array_to_string",
  "string_to_array",
  "json_build_object",
  "jsonb_build_object",
  "json_build_array",
  "jsonb_build_array",
  "to_json",
  "to_jsonb",
  "json_array_elements",
  "jsonb_array_elements",
  "jsonb_array_elements_text",
  "json_each",
  "jsonb_each",
  "jsonb_set",
  "jsonb_path_query",
  "coalesce",
  "current_setting",
  "current_database",
  "current_schema",
  "version",
  "pg_typeof",
  "format_type",
  "gen_random_uuid",
  "pg_sleep",
  "has_table_privilege",
  "pg_size_pretty",
  "pg_relation_size",
  "pg_total_relation_size",
  "set_config"
])
