/**
 * Masks passwords written into SQL before the text reaches an audit row, working from the tokens of
 * PostgreSQL's own scanner (libpg-query's `scanSync`, see sqlTokens.ts) rather than from patterns
 * over the text, in time linear in its length:
 *
 * - a string literal (any spelling: `'…'`, `E'…'`, `U&'…' UESCAPE '…'`, `$tag$…$tag$`, continued
 *   over lines) that follows a password-like name (`PASSWORD`, `"password"`, `U&"…"`, option names
 *   such as `sslpassword`, `secret`, `token`), with comments, `=`, `TO` or `,` between them, becomes
 *   `'***'`: role passwords, `OPTIONS (password '…')`, `SET x.password = '…'`,
 *   `set_config('x.password', '…', …)`;
 * - a string literal whose value holds a connection string with `password=` or a URI with
 *   `user:password@` (dblink, `CREATE SUBSCRIPTION … CONNECTION`, FDW options) keeps its text with
 *   the password replaced by `***`.
 *
 * - a bare word or number after such a name and `=` or `TO` (`SET app.password = hunter2`) becomes `***`;
 * - a literal that cannot be decoded becomes `'***'`.
 *
 * The rest of the statement stays as written. A text the scanner refuses (an unterminated literal or
 * comment, an invalid escape, a NUL byte) is shown as none of its characters.
 */
import { Effect } from "effect"
import { type Token, tokenize, tokenizeInSlices } from "./sqlTokens.js"

/** Names whose following string is a secret. */
const secretName = /pass(?:word|wd)|secret|token|api_?key|private_?key|credential/i

const mask = "***"

/** What stands for a statement the scanner could not read: none of its text is shown. */
export const unreadable = (sql: string) => `[SQL not shown: it could not be scanned (${sql.length} characters)]`

/** A string that names a setting (`app.password` in `set_config('app.password', …)`). */
const isSecretSetting = (value: string) => /^[A-Za-z0-9_.-]{1,128}$/.test(value) && secretName.test(value)

/** `password=` in a connection string (libpq keyword form, URI query). */
const passwordSetting = /pass(?:word|wd)\s*=\s*/gi

const isSpace = (c: string | undefined) =>
  c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v"

/** URIs' `user:password@` with the password masked; each character is looked at once. */
const maskUris = (value: string): string => {
  const parts: Array<string> = []
  let at = 0
  let from = 0
  while (true) {
    const scheme = value.indexOf("://", from)
    if (scheme < 0) break
    let stop = scheme + 3
    let colon = -1
    let lastAt = -1
    for (; stop < value.length && !isSpace(value[stop]); stop++) {
      if (value[stop] === ":" && colon < 0) colon = stop
      else if (value[stop] === "@") lastAt = stop
    }
    if (colon >= 0 && lastAt > colon && value.slice(colon + 1, lastAt) !== mask) {
      parts.push(value.slice(at, colon + 1), mask)
      at = lastAt
    }
    from = stop
  }
  parts.push(value.slice(at))
  return parts.join("")
}

/** `password=value` and `password='quoted value'` with the value masked. */
const maskSettings = (value: string): string => {
  const parts: Array<string> = []
  let at = 0
  passwordSetting.lastIndex = 0
  for (let match = passwordSetting.exec(value); match !== null; match = passwordSetting.exec(value)) {
    const valueStart = match.index + match[0].length
    let valueEnd = valueStart
    if (value[valueStart] === "'") {
      valueEnd = valueStart + 1
      while (valueEnd < value.length && value[valueEnd] !== "'") valueEnd += value[valueEnd] === "\\" ? 2 : 1
      valueEnd = Math.min(value.length, valueEnd + 1)
    } else {
      while (
        valueEnd < value.length &&
        !isSpace(value[valueEnd]) &&
        value[valueEnd] !== "&" &&
        value[valueEnd] !== ";"
      ) {
        valueEnd++
      }
    }
    passwordSetting.lastIndex = Math.max(valueEnd, valueStart + 1)
    if (value.slice(valueStart, valueEnd) === mask) continue
    parts.push(value.slice(at, valueStart), mask)
    at = valueEnd
  }
  parts.push(value.slice(at))
  return parts.join("")
}

/**
 * `value` with the passwords of connection strings (`password=…`) and URIs (`user:password@`)
 * masked, or undefined when it holds none.
 */
export const maskConnectionString = (value: string): string | undefined => {
  const masked = maskSettings(maskUris(value))
  return masked === value ? undefined : masked
}

const literal = (value: string) => `'${value.replace(/'/g, "''")}'`

/**
 * `sql` with every password it spells out replaced by `***`; a text the scanner cannot read
 * entirely comes back as `unreadable(sql)`.
 */
export const redactSql = (sql: string): string => redactTokens(sql, tokenize(sql))

/**
 * `redactSql` that gives the event loop a turn every few thousand tokens: what audit rows use.
 */
export const redact = (sql: string): Effect.Effect<string> =>
  Effect.map(tokenizeInSlices(sql), (tokens) => redactTokens(sql, tokens))

const redactTokens = (sql: string, tokens: ReadonlyArray<Token> | undefined): string => {
  if (tokens === undefined) return unreadable(sql)
  const text = (t: Token | undefined) => (t === undefined ? "" : sql.slice(t.start, t.end))
  /** Replacements by token index: the text that stands for the token (or for a run of string tokens). */
  const replaced = new Map<number, string>()
  /** The last two tokens before a position, comments skipped: what a value's context is. */
  let previous: Array<number> = []
  const named = (index: number | undefined) => {
    const t = index === undefined ? undefined : tokens[index]
    return (
      (t?.kind === "ident" && secretName.test(t.name)) ||
      (t?.kind === "string" && t.value !== undefined && t.end - t.start <= 256 && isSecretSetting(t.value))
    )
  }
  /** `=`, `TO` (a setting's value follows) or `,` (an argument follows). */
  const linked = (index: number | undefined, withComma: boolean) => {
    const t = index === undefined ? undefined : tokens[index]
    const written = text(t)
    return (
      t !== undefined &&
      (written === "=" ||
        (withComma && written === ",") ||
        (t.kind === "ident" && t.name === "to" && written.length === 2))
    )
  }
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.kind === "comment" || token.kind === "uescape") continue
    const [p1, p2] = previous
    if (token.kind === "string") {
      // A run of strings separated only by white space or comments is one literal to the server.
      const run: Array<number> = [i]
      for (let k = i + 1; k < tokens.length; k++) {
        const next = tokens[k]!
        if (next.kind === "string") run.push(k)
        else if (next.kind !== "comment" && next.kind !== "uescape") break
      }
      const last = run[run.length - 1]!
      const values = run.map((k) => (tokens[k] as Extract<Token, { kind: "string" }>).value)
      const secret = named(p1) || (linked(p1, true) && named(p2)) || values.some((v) => v === undefined)
      if (secret) {
        replaced.set(run[0]!, `'${mask}'`)
        for (const k of run.slice(1)) replaced.set(k, "")
      } else {
        const masked = maskConnectionString(values.join(""))
        if (masked !== undefined) {
          replaced.set(run[0]!, literal(masked))
          for (const k of run.slice(1)) replaced.set(k, "")
        }
      }
      previous = p1 === undefined ? [last] : [last, p1]
      i = last
      continue
    }
    // `SET app.password = hunter2`: a setting's value may be a bare word or a number.
    if ((token.kind === "ident" || token.kind === "number") && linked(p1, false) && named(p2)) {
      replaced.set(i, mask)
    }
    previous = p1 === undefined ? [i] : [i, p1]
  }
  if (replaced.size === 0) return sql
  const out: Array<string> = []
  let at = 0
  for (const [index, replacement] of [...replaced].sort(([a], [b]) => a - b)) {
    const token = tokens[index]!
    out.push(sql.slice(at, token.start), replacement)
    at = token.end
  }
  out.push(sql.slice(at))
  return out.join("")
}
