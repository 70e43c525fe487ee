/**
 * node-sql-parser with the MariaDB dialect, and what the policy and the DDL classifier read from its
 * parse tree. The tree is walked as plain data: only fields checked here are trusted.
 */
import * as Either from "effect/Either"
import NodeSqlParser from "node-sql-parser"

const parser = new NodeSqlParser.Parser()
const dialect = { database: "MariaDB" }

/** A table named by a statement; `schema` null means the connection's database. */
export interface TableRef {
  readonly schema: string | null
  readonly name: string
}

type Node = Record<string, unknown>

const isNode = (value: unknown): value is Node => typeof value === "object" && value !== null && !Array.isArray(value)

/** The statements of `sql`, or the parser's message. */
export const parse = (sql: string): Either.Either<ReadonlyArray<Node>, string> => {
  try {
    const ast: unknown = parser.astify(sql, dialect)
    const list = (Array.isArray(ast) ? ast : [ast]).filter(isNode)
    return list.length === 0 ? Either.left("no statement") : Either.right(list)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return Either.left(`the SQL could not be parsed (MariaDB dialect): ${message.slice(0, 300)}`)
  }
}

/** The SQL text of one parsed statement, as the parser writes it. */
export const sqlOf = (statement: Node): string => parser.sqlify(statement as never, dialect)

/** Whether two parse trees are the same. */
export const sameTree = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** The statement's type, lower case (`select`, `drop`, `alter`, …). */
export const typeOf = (statement: Node): string =>
  typeof statement.type === "string" ? statement.type.toLowerCase() : ""

/** The keyword after the statement's verb (`table`, `index`, `database`, …), lower case. */
export const keywordOf = (statement: Node): string =>
  typeof statement.keyword === "string" ? statement.keyword.toLowerCase() : ""

const walk = (root: unknown, visit: (node: Node) => void) => {
  const stack: Array<unknown> = [root]
  while (stack.length > 0) {
    const value = stack.pop()
    if (Array.isArray(value)) {
      stack.push(...value)
    } else if (isNode(value)) {
      visit(value)
      for (const child of Object.values(value)) if (typeof child === "object" && child !== null) stack.push(child)
    }
  }
}

const nameText = (name: unknown): string => {
  if (typeof name === "string") return name
  if (isNode(name) && Array.isArray(name.name)) {
    return name.name
      .map((part) => (isNode(part) && typeof part.value === "string" ? part.value : ""))
      .filter((part) => part.length > 0)
      .join(".")
  }
  return ""
}

/** The names of every function the statement calls, lower case. */
export const functionNames = (statement: Node): ReadonlyArray<string> => {
  const names: Array<string> = []
  walk(statement, (node) => {
    if (node.type === "function") names.push(nameText(node.name).toLowerCase())
  })
  return names
}

/** Whether the statement writes a server file (`INTO OUTFILE` / `INTO DUMPFILE`). */
export const writesFile = (statement: Node): boolean => {
  let found = false
  walk(statement, (node) => {
    if (typeof node.keyword === "string" && /^(outfile|dumpfile)$/i.test(node.keyword)) found = true
  })
  return found
}

/** Whether the statement has a WHERE clause. */
export const hasWhere = (statement: Node): boolean => statement.where !== null && statement.where !== undefined

const refOf = (value: unknown): TableRef | undefined => {
  if (!isNode(value) || typeof value.table !== "string") return undefined
  return { schema: typeof value.db === "string" ? value.db : null, name: value.table }
}

const refsOf = (value: unknown): ReadonlyArray<TableRef> => {
  const list = Array.isArray(value) ? value : [value]
  return list.flatMap((item) => {
    const ref = refOf(item)
    return ref === undefined ? [] : [ref]
  })
}

/** The tables a DELETE or UPDATE writes, or that a DDL statement names as its target. */
export const targetTables = (statement: Node): ReadonlyArray<TableRef> => {
  if (typeOf(statement) === "drop" || typeOf(statement) === "truncate") return refsOf(statement.name)
  if (typeOf(statement) === "rename" && Array.isArray(statement.table)) {
    return statement.table.flatMap((pair) => (Array.isArray(pair) ? refsOf(pair[0]) : []))
  }
  return refsOf(statement.table)
}

/** An ALTER TABLE's actions: what each does (`add`, `drop`, `modify`, …) to what (`column`, `index`, …). */
export const alterActions = (
  statement: Node
): ReadonlyArray<{ readonly action: string; readonly resource: string; readonly column: string | null }> =>
  (Array.isArray(statement.expr) ? statement.expr : []).filter(isNode).map((e) => ({
    action: typeof e.action === "string" ? e.action.toLowerCase() : "",
    resource: typeof e.resource === "string" ? e.resource.toLowerCase() : "",
    column: isNode(e.column) && typeof e.column.column === "string" ? e.column.column : null
  }))
