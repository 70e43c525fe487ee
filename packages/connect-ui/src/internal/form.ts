/**
 * Forms generated from a descriptor's Schemas: effect's JSON Schema of the configuration or the
 * credentials becomes a list of fields (secret fields as password inputs, help from the schema's
 * title, description and examples); a submitted form becomes the value the Schema decodes, and a
 * decoding failure becomes one message per field.
 */
import * as Either from "effect/Either"
import * as JSONSchema from "effect/JSONSchema"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** How a field is entered. */
export type FieldKind = "text" | "password" | "number" | "checkbox" | "select" | "list" | "json"

/** One input of a generated form. `name` is the dotted path of the value within its object. */
export interface Field {
  readonly name: string
  readonly label: string
  readonly kind: FieldKind
  readonly required: boolean
  readonly options: ReadonlyArray<string>
  readonly help: ReadonlyArray<string>
  readonly example: string | undefined
}

type Node = { readonly [key: string]: unknown }

const isNode = (value: unknown): value is Node => typeof value === "object" && value !== null && !Array.isArray(value)

/** Titles and descriptions effect generates from filter names (`minLength(1)`, `int`) say nothing to a person. */
const generatedTitle = /^[a-z][A-Za-z]*(\(.*\))?$/
const generatedDescription = /^an? (string|number|integer|boolean)\b/

const acronyms = new Set(["api", "ssl", "tls", "url", "uri", "id", "ip", "ssh", "smtp", "sql", "oauth2"])

const humanize = (key: string): string => {
  const words = key
    .replace(/[_-]+/g, " ")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .trim()
    .split(" ")
    .map((word) => (acronyms.has(word.toLowerCase()) ? word.toUpperCase() : word))
    .join(" ")
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** `$ref` into `$defs` and single-member `allOf` folded into the node. */
const resolve = (node: Node, defs: Node, depth = 0): Node => {
  if (depth > 8) return node
  let out: Node = node
  const ref = out.$ref
  if (typeof ref === "string" && ref.startsWith("#/$defs/")) {
    const target = defs[ref.slice("#/$defs/".length)]
    const { $ref: _, ...rest } = out
    out = isNode(target) ? { ...resolve(target, defs, depth + 1), ...rest } : rest
  }
  const allOf = out.allOf
  if (Array.isArray(allOf) && allOf.length === 1 && isNode(allOf[0])) {
    const { allOf: _, ...rest } = out
    out = { ...resolve(allOf[0], defs, depth + 1), ...rest }
  }
  return out
}

const helpOf = (node: Node, label: string): ReadonlyArray<string> => {
  const help: Array<string> = []
  const title = node.title
  if (typeof title === "string" && !generatedTitle.test(title) && title !== label) help.push(title)
  const description = node.description
  if (
    typeof description === "string" &&
    (!generatedDescription.test(description) || description.includes(" between "))
  ) {
    help.push(description)
  }
  return help
}

const exampleOf = (node: Node): string | undefined => {
  const examples = node.examples
  if (Array.isArray(examples) && examples.length > 0) {
    const first = examples[0]
    return typeof first === "string" ? first : JSON.stringify(first)
  }
  return undefined
}

const collect = (
  node: Node,
  defs: Node,
  prefix: string,
  secret: ReadonlySet<string>,
  out: Array<Field>,
  requiredHere: boolean,
  key: string
): void => {
  const resolved = resolve(node, defs)
  const label =
    typeof resolved.title === "string" && !generatedTitle.test(resolved.title) ? resolved.title : humanize(key)
  const base = { name: prefix, required: requiredHere, help: helpOf(resolved, label), example: exampleOf(resolved) }
  const type = resolved.type
  if (type === "object" && isNode(resolved.properties) && Object.keys(resolved.properties).length > 0) {
    const required = new Set(Array.isArray(resolved.required) ? resolved.required.map(String) : [])
    for (const [child, childNode] of Object.entries(resolved.properties)) {
      if (!isNode(childNode)) continue
      const name = prefix === "" ? child : `${prefix}.${child}`
      collect(childNode, defs, name, secret, out, requiredHere && required.has(child), child)
    }
    return
  }
  const options = Array.isArray(resolved.enum) ? resolved.enum.map(String) : []
  const items = resolved.items
  const kind: FieldKind = secret.has(key)
    ? "password"
    : options.length > 0
      ? "select"
      : type === "string"
        ? "text"
        : type === "integer" || type === "number"
          ? "number"
          : type === "boolean"
            ? "checkbox"
            : type === "array" && isNode(items) && items.type === "string"
              ? "list"
              : "json"
  out.push({ ...base, label, kind, options })
}

/**
 * The fields of a Schema's encoded side. `secretFields` become password inputs. A Schema that
 * JSON Schema cannot describe becomes one JSON field for the whole value.
 */
export const fieldsOf = (
  schema: Schema.Schema.AnyNoContext,
  secretFields: ReadonlyArray<string>
): ReadonlyArray<Field> => {
  let document: Node
  try {
    document = JSONSchema.make(schema) as unknown as Node
  } catch {
    return [
      { name: "", label: "Value (JSON)", kind: "json", required: true, options: [], help: [], example: undefined }
    ]
  }
  const defs = isNode(document.$defs) ? document.$defs : {}
  const out: Array<Field> = []
  const root = resolve(document, defs)
  if (root.type !== "object" || !isNode(root.properties)) {
    return [
      { name: "", label: "Value (JSON)", kind: "json", required: true, options: [], help: [], example: undefined }
    ]
  }
  collect(root, defs, "", new Set(secretFields), out, true, "")
  return out
}

const setPath = (target: Record<string, unknown>, path: ReadonlyArray<string>, value: unknown): void => {
  let node = target
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (isNode(next)) node = next as Record<string, unknown>
    else {
      const created: Record<string, unknown> = {}
      node[key] = created
      node = created
    }
  }
  node[path[path.length - 1]!] = value
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * The value a submitted form stands for: `prefix.name` inputs read back as their fields' kinds.
 * An empty optional input is left out, so the Schema's default applies.
 */
export const formValue = (fields: ReadonlyArray<Field>, prefix: string, form: ReadonlyMap<string, string>): unknown => {
  const out: Record<string, unknown> = {}
  for (const field of fields) {
    const raw = form.get(`${prefix}.${field.name}`)
    let value: unknown
    switch (field.kind) {
      case "checkbox":
        value = raw !== undefined
        break
      case "number": {
        if (raw === undefined || raw.trim() === "") continue
        const number = Number(raw)
        value = Number.isFinite(number) ? number : raw
        break
      }
      case "list": {
        const items = (raw ?? "")
          .split(/[\n,]/)
          .map((item) => item.trim())
          .filter((item) => item !== "")
        if (items.length === 0) continue
        value = items
        break
      }
      case "json":
        if (raw === undefined || raw.trim() === "") continue
        value = parseJson(raw)
        break
      default:
        if (raw === undefined || (raw === "" && !field.required)) continue
        value = raw
    }
    if (field.name === "") return value
    setPath(out, field.name.split("."), value)
  }
  return out
}

/**
 * One message per field (by dotted name; `""` for the value as a whole) when `value` does not
 * decode. Messages of secret fields never repeat what was entered.
 */
export const fieldErrors = (
  schema: Schema.Schema.AnyNoContext,
  value: unknown,
  secretFields: ReadonlyArray<string>
): ReadonlyMap<string, string> => {
  const result = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "ignore" })(value)
  const errors = new Map<string, string>()
  if (Either.isRight(result)) return errors
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(result.left)) {
    const name = issue.path.map(String).join(".")
    const last = String(issue.path[issue.path.length - 1] ?? "")
    const message = secretFields.includes(last) ? "is not valid" : issue.message
    if (!errors.has(name)) errors.set(name, message)
  }
  return errors
}
