/**
 * Reading libpg-query's JSON parse tree: typed accessors over `unknown`, a walk that visits every
 * node with its type, names as PostgreSQL resolves them, and byte offsets as character positions.
 */

/** A parse-tree object. */
export type Json = Record<string, unknown>

export const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value)
export const get = (value: unknown, key: string): unknown => (isObject(value) ? value[key] : undefined)
export const list = (value: unknown): ReadonlyArray<unknown> => (Array.isArray(value) ? value : [])
export const string = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined)

/** The node type of a wrapped node (`{ FuncCall: {…} }` → `FuncCall`). */
export const nodeType = (value: unknown): string | undefined => {
  if (!isObject(value)) return undefined
  const keys = Object.keys(value)
  return keys.length === 1 && /^[A-Z]/.test(keys[0]!) ? keys[0] : undefined
}

/** The body of a wrapped node, or the value itself when it is inline. */
export const body = (value: unknown): unknown => {
  const type = nodeType(value)
  return type === undefined ? value : get(value, type)
}

/** The strings of a list of `String` nodes (`funcname`, `names`, `fields`), skipping `A_Star`. */
export const names = (value: unknown): ReadonlyArray<string> =>
  list(value)
    .map((item) => string(get(get(item, "String"), "sval")))
    .filter((name): name is string => name !== undefined)

/**
 * Visits every node of the tree, depth first, with its type and body. Inline structures (a
 * `RangeVar` as `relation`, a `WithClause` as `withClause`) are visited as their field name says
 * nothing of their type: they are walked, not reported.
 */
export const walk = (tree: unknown, visit: (type: string, node: Json) => void): void => {
  const stack: Array<unknown> = [tree]
  while (stack.length > 0) {
    const value = stack.pop()
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push(value[i])
      continue
    }
    if (!isObject(value)) continue
    const type = nodeType(value)
    if (type !== undefined) {
      const inner = value[type]
      if (isObject(inner)) visit(type, inner)
      stack.push(inner)
      continue
    }
    for (const key of Object.keys(value).reverse()) stack.push(value[key])
  }
}

/** Whether any node of the tree satisfies `test`. */
export const some = (tree: unknown, test: (type: string, node: Json) => boolean): boolean => {
  let found = false
  walk(tree, (type, node) => {
    if (!found && test(type, node)) found = true
  })
  return found
}

/** The byte offset a node reports (`location`), when it has one. */
export const location = (node: unknown): number | undefined => {
  const value = get(node, "location")
  return typeof value === "number" && value >= 0 ? value : undefined
}

/** Converts the parser's byte offsets in `sql` to 1-based character positions. */
export const positions = (sql: string) => {
  const bytes = Buffer.from(sql, "utf8")
  return (byteOffset: number): number => bytes.subarray(0, byteOffset).toString("utf8").length + 1
}

/** Whitespace and comments before a statement (a nested block comment is not unwound: the position then falls inside it). */
const leadingComments = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*(?:[^*]|\*(?!\/))*\*\/)*/

/** A statement's text as the parser delimits it: trimmed, without its semicolon. */
export const statementText = (sql: string, raw: unknown): { readonly text: string; readonly offset: number } => {
  const bytes = Buffer.from(sql, "utf8")
  const start = Number(get(raw, "stmt_location") ?? 0)
  const length = Number(get(raw, "stmt_len") ?? 0)
  const slice = bytes.subarray(start, length === 0 ? bytes.length : start + length).toString("utf8")
  const code = slice.replace(leadingComments, "")
  const leading = Buffer.byteLength(slice) - Buffer.byteLength(code)
  return { text: code.trim().replace(/;\s*$/, "").trim(), offset: start + leading }
}

/** A canonical rendering of an expression, without locations, to compare two expressions. */
export const shape = (value: unknown): string =>
  JSON.stringify(value, (key, inner: unknown) => (key === "location" ? undefined : inner))
