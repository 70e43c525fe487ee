/**
 * Masks passwords written into SQL before the text reaches an audit row, working from the
 * scanner's tokens rather than from patterns over the text, in time linear in its length:
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
 * The rest of the statement stays as written.
 */
import { scan, type Token, unescapeUnicode } from "./pgScan.js"

/** Names whose following string is a secret. */
const secretName = /pass(?:word|wd)|secret|token|api_?key|private_?key|credential/i

const mask = "***"

/** A string that names a setting (`app.password` in `set_config('app.password', …)`). */
const isSecretSetting = (value: string) => /^[A-Za-z0-9_.-]{1,128}$/.test(value) && secretName.test(value)

/** `password=` in a connection string (libpq keyword form, URI query). */
const passwordSetting = /pass(?:word|wd)\s*=\s*/gi

/** The value of a string token, with a `U&` string's escapes applied. */
const stringValue = (tokens: ReadonlyArray<Token>, index: number): string => {
  const token = tokens[index]!
  if (token.kind !== "string") return ""
  if (!token.unicode) return token.value
  let j = index + 1
  while (tokens[j]?.kind === "comment") j++
  const keyword = tokens[j]
  if (keyword?.kind === "ident" && keyword.name === "uescape") {
    j++
    while (tokens[j]?.kind === "comment") j++
    const escapeToken = tokens[j]
    if (escapeToken?.kind === "string" && escapeToken.value.length === 1) {
      return unescapeUnicode(token.value, escapeToken.value)
    }
  }
  return unescapeUnicode(token.value)
}

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

/** `sql` with every password it spells out replaced by `***`. */
export const redactSql = (sql: string): string => {
  const tokens = scan(sql)
  /** Replacements by token index: the text that stands for the token (or for a run of string tokens). */
  const replaced = new Map<number, string>()
  /** The last token before a position, comments skipped: what a string's context is. */
  let previous: Array<number> = []
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.kind === "comment") continue
    if (token.kind === "string") {
      // A run of strings separated only by whitespace is one literal to the server.
      let last = i
      while (tokens[last + 1]?.kind === "string") last++
      const [p1, p2] = previous
      const before = p1 === undefined ? undefined : tokens[p1]
      const beforeThat = p2 === undefined ? undefined : tokens[p2]
      const named = (t: Token | undefined, index: number | undefined) =>
        (t?.kind === "ident" && secretName.test(t.name)) ||
        (t?.kind === "string" &&
          index !== undefined &&
          t.end - t.start <= 256 &&
          isSecretSetting(stringValue(tokens, index)))
      const linked = (t: Token | undefined) =>
        t !== undefined &&
        ((t.kind === "op" && sql.slice(t.start, t.end) === "=") ||
          (t.kind === "punct" && sql.slice(t.start, t.end) === ",") ||
          (t.kind === "ident" && t.name === "to"))
      const secret = named(before, p1) || (linked(before) && named(beforeThat, p2))
      if (secret) {
        replaced.set(i, `'${mask}'`)
        for (let k = i + 1; k <= last; k++) replaced.set(k, "")
      } else {
        for (let k = i; k <= last; k++) {
          const masked = maskConnectionString(stringValue(tokens, k))
          if (masked !== undefined) replaced.set(k, literal(masked))
        }
      }
      previous = [last, ...previous].slice(0, 2)
      i = last
      continue
    }
    previous = [i, ...previous].slice(0, 2)
  }
  if (replaced.size === 0) return sql
  const out: Array<string> = []
  let at = 0
  for (const [index, text] of [...replaced].sort(([a], [b]) => a - b)) {
    const token = tokens[index]!
    out.push(sql.slice(at, token.start), text)
    at = token.end
  }
  out.push(sql.slice(at))
  return out.join("")
}
