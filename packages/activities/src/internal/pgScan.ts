/**
 * @internal PostgreSQL's lexical rules (src/backend/parser/scan.l, standard_conforming_strings on)
 * as a one-pass scanner: tokens with their offsets, in time linear in the text, whatever it holds
 * (an unterminated string or comment runs to the end, as the server reads it).
 *
 * The tokens have the shape of libpg-query's `scanSync` tokens (start, end, kind), so that the
 * redactor can move onto the parser's own scanner once `@patchbay/activities` depends on a
 * libpg-query build that exports it (libpg-query 17.7 does not; `@libpg-query/parser` 17.6 does).
 */

/** @internal What a token is. Strings carry their decoded value. */
export type Token =
  | { readonly kind: "ident"; readonly start: number; readonly end: number; readonly name: string }
  | {
      readonly kind: "string"
      readonly start: number
      readonly end: number
      readonly value: string
      readonly unicode: boolean
    }
  | { readonly kind: "comment" | "number" | "param" | "op" | "punct"; readonly start: number; readonly end: number }

const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 0x80
const isIdentPart = (c: number) => isIdentStart(c) || (c >= 48 && c <= 57) || c === 36
const isDigit = (c: number) => c >= 48 && c <= 57
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11
const opChars = new Set("+-*/<>=~!@#%^&|`?".split("").map((c) => c.charCodeAt(0)))

/** Reads a quoted run starting after `open` (the quote); `''` (or `""`) is an escaped quote. */
const quoted = (sql: string, from: number, quote: string, backslash: boolean): { end: number; raw: string } => {
  const parts: Array<string> = []
  let i = from
  while (i < sql.length) {
    const c = sql[i]!
    if (backslash && c === "\\") {
      parts.push(sql.slice(i, i + 2))
      i += 2
      continue
    }
    if (c === quote) {
      if (sql[i + 1] === quote) {
        parts.push(quote)
        i += 2
        continue
      }
      return { end: i + 1, raw: parts.join("") }
    }
    // Copy the run up to the next quote or backslash at once.
    let j = i + 1
    while (j < sql.length && sql[j] !== quote && !(backslash && sql[j] === "\\")) j++
    parts.push(sql.slice(i, j))
    i = j
  }
  return { end: sql.length, raw: parts.join("") }
}

const codePoint = (hex: string) => {
  const n = Number.parseInt(hex, 16)
  return Number.isFinite(n) && n <= 0x10ffff ? String.fromCodePoint(n) : "\uFFFD"
}

/** The value of an `E'…'` string body (backslash escapes as the server reads them). */
const unescapeE = (raw: string): string =>
  raw.replace(/\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[\s\S])/g, (_, e: string) => {
    switch (e[0]) {
      case "b":
        return "\b"
      case "f":
        return "\f"
      case "n":
        return "\n"
      case "r":
        return "\r"
      case "t":
        return "\t"
      case "x":
        return e.length > 1 ? String.fromCharCode(Number.parseInt(e.slice(1), 16)) : "x"
      case "u":
      case "U":
        return e.length > 1 ? codePoint(e.slice(1)) : e
      default:
        return /^[0-7]+$/.test(e) ? String.fromCharCode(Number.parseInt(e, 8) & 0xff) : e
    }
  })

/** The value of a `U&'…'` or `U&"…"` body with escape character `escapeChar`. */
export const unescapeUnicode = (raw: string, escapeChar = "\\"): string => {
  const out: Array<string> = []
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!
    if (c !== escapeChar) {
      out.push(c)
      continue
    }
    if (raw[i + 1] === escapeChar) {
      out.push(escapeChar)
      i++
    } else if (raw[i + 1] === "+" && /^[0-9A-Fa-f]{6}$/.test(raw.slice(i + 2, i + 8))) {
      out.push(codePoint(raw.slice(i + 2, i + 8)))
      i += 7
    } else if (/^[0-9A-Fa-f]{4}$/.test(raw.slice(i + 1, i + 5))) {
      out.push(codePoint(raw.slice(i + 1, i + 5)))
      i += 4
    } else {
      out.push(c)
    }
  }
  return out.join("")
}

/** @internal The tokens of `sql`, comments included, whitespace left out. */
export const scan = (sql: string): Array<Token> => {
  const tokens: Array<Token> = []
  const n = sql.length
  let i = 0
  while (i < n) {
    const c = sql.charCodeAt(i)
    const start = i
    if (isSpace(c)) {
      i++
      continue
    }
    // Comments: `--` to the end of the line; `/* … */`, nested.
    if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const newline = sql.indexOf("\n", i)
      i = newline < 0 ? n : newline
      tokens.push({ kind: "comment", start, end: i })
      continue
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      let depth = 1
      i += 2
      while (i < n && depth > 0) {
        if (sql.charCodeAt(i) === 47 && sql.charCodeAt(i + 1) === 42) {
          depth++
          i += 2
        } else if (sql.charCodeAt(i) === 42 && sql.charCodeAt(i + 1) === 47) {
          depth--
          i += 2
        } else {
          i++
        }
      }
      tokens.push({ kind: "comment", start, end: i })
      continue
    }
    // Prefixed strings and identifiers: E'…', B'…', X'…', N'…', U&'…', U&"…".
    const next = sql[i + 1]
    if ((c === 69 || c === 101) && next === "'") {
      const body = quoted(sql, i + 2, "'", true)
      i = body.end
      tokens.push({ kind: "string", start, end: i, value: unescapeE(body.raw), unicode: false })
      continue
    }
    if ((c === 66 || c === 98 || c === 88 || c === 120 || c === 78 || c === 110) && next === "'") {
      const body = quoted(sql, i + 2, "'", false)
      i = body.end
      tokens.push({ kind: "string", start, end: i, value: body.raw, unicode: false })
      continue
    }
    if ((c === 85 || c === 117) && next === "&" && (sql[i + 2] === "'" || sql[i + 2] === '"')) {
      const quote = sql[i + 2]!
      const body = quoted(sql, i + 3, quote, false)
      i = body.end
      tokens.push(
        quote === "'"
          ? { kind: "string", start, end: i, value: body.raw, unicode: true }
          : { kind: "ident", start, end: i, name: unescapeUnicode(body.raw) }
      )
      continue
    }
    if (c === 39) {
      const body = quoted(sql, i + 1, "'", false)
      i = body.end
      tokens.push({ kind: "string", start, end: i, value: body.raw, unicode: false })
      continue
    }
    if (c === 34) {
      const body = quoted(sql, i + 1, '"', false)
      i = body.end
      tokens.push({ kind: "ident", start, end: i, name: body.raw })
      continue
    }
    // `$1` parameters and `$tag$ … $tag$` dollar quoting.
    if (c === 36) {
      if (isDigit(sql.charCodeAt(i + 1))) {
        i++
        while (i < n && isDigit(sql.charCodeAt(i))) i++
        tokens.push({ kind: "param", start, end: i })
        continue
      }
      let j = i + 1
      if (j < n && isIdentStart(sql.charCodeAt(j))) {
        j++
        while (j < n && isIdentPart(sql.charCodeAt(j)) && sql.charCodeAt(j) !== 36) j++
      }
      if (sql.charCodeAt(j) === 36) {
        const delimiter = sql.slice(i, j + 1)
        const close = sql.indexOf(delimiter, j + 1)
        i = close < 0 ? n : close + delimiter.length
        tokens.push({ kind: "string", start, end: i, value: sql.slice(j + 1, close < 0 ? n : close), unicode: false })
        continue
      }
      i++
      tokens.push({ kind: "op", start, end: i })
      continue
    }
    if (isIdentStart(c)) {
      i++
      while (i < n && isIdentPart(sql.charCodeAt(i))) i++
      tokens.push({ kind: "ident", start, end: i, name: sql.slice(start, i).toLowerCase() })
      continue
    }
    if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      i++
      while (i < n) {
        const d = sql.charCodeAt(i)
        const sign =
          (d === 43 || d === 45) && (sql.charCodeAt(i - 1) | 32) === 101 && !/^0[xX]/.test(sql.slice(start, start + 2))
        if (isDigit(d) || isIdentStart(d) || d === 46 || sign) i++
        else break
      }
      tokens.push({ kind: "number", start, end: i })
      continue
    }
    if (opChars.has(c)) {
      i++
      while (i < n && opChars.has(sql.charCodeAt(i))) {
        // A comment start ends an operator.
        if (
          (sql.charCodeAt(i) === 45 && sql.charCodeAt(i + 1) === 45) ||
          (sql.charCodeAt(i) === 47 && sql.charCodeAt(i + 1) === 42)
        )
          break
        i++
      }
      tokens.push({ kind: "op", start, end: i })
      continue
    }
    i++
    tokens.push({ kind: "punct", start, end: i })
  }
  return tokens
}
