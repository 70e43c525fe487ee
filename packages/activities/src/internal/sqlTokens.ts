/**
 * @internal PostgreSQL's own scanner (libpg-query's `scanSync`) as the tokens the SQL redactor reads:
 * offsets in the JavaScript string (the scanner counts UTF-8 bytes), identifiers as the server names
 * them (unquoted folded to lower case, quoted and `U&"…"` decoded) and string literals with their
 * value (standard, `E''`, `U&''` with its `UESCAPE`, dollar quoted, continued over lines).
 *
 * `tokenize` answers undefined when the scanner refuses the text (an unterminated literal or
 * comment, an invalid escape) or does not account for every character of it (the scanner stops at
 * a NUL byte): the caller must then treat the whole text as unreadable.
 */
import { loadModule, type ScanToken, scanSync } from "@libpg-query/parser"
import { Effect } from "effect"

/**
 * @internal What a token is. A string that could not be decoded has no value; `uescape` marks the
 * `UESCAPE '…'` that belongs to the `U&` token before it.
 */
export type Token =
  | { readonly kind: "ident"; readonly start: number; readonly end: number; readonly name: string }
  | {
      readonly kind: "string"
      readonly start: number
      readonly end: number
      readonly value: string | undefined
    }
  | {
      readonly kind: "comment" | "uescape" | "number" | "op" | "punct" | "other"
      readonly start: number
      readonly end: number
    }

/** @internal Loads the scanner's WebAssembly module; until it has loaded, `tokenize` answers undefined. */
export const load: Effect.Effect<void> = Effect.ignore(Effect.tryPromise(() => loadModule()))

const isSpaceCode = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11

/** UTF-8 length of the code unit at `i` of `s` (2 code units of a surrogate pair count 4 at the first). */
const utf8Length = (s: string, i: number): [bytes: number, units: number] => {
  const c = s.charCodeAt(i)
  if (c < 0x80) return [1, 1]
  if (c < 0x800) return [2, 1]
  if (c >= 0xd800 && c <= 0xdbff) {
    const d = s.charCodeAt(i + 1)
    if (d >= 0xdc00 && d <= 0xdfff) return [4, 2]
  }
  return [3, 1]
}

const hexValue = (s: string): number | undefined => (/^[0-9A-Fa-f]+$/.test(s) ? Number.parseInt(s, 16) : undefined)

/** Appends code point `cp` to `out`, pairing UTF-16 surrogates as the server does; false when invalid. */
const pushCodePoint = (out: Array<string>, pending: { high: number }, cp: number): boolean => {
  if (cp > 0x10ffff || cp === 0) return false
  if (cp >= 0xd800 && cp <= 0xdbff) {
    if (pending.high !== 0) return false
    pending.high = cp
    return true
  }
  if (cp >= 0xdc00 && cp <= 0xdfff) {
    if (pending.high === 0) return false
    out.push(String.fromCodePoint(0x10000 + ((pending.high - 0xd800) << 10) + (cp - 0xdc00)))
    pending.high = 0
    return true
  }
  if (pending.high !== 0) return false
  out.push(String.fromCodePoint(cp))
  return true
}

/** The value of a `U&` body (quotes already undoubled) with escape character `escapeChar`. */
export const unescapeUnicode = (raw: string, escapeChar: string): string | undefined => {
  const out: Array<string> = []
  const pending = { high: 0 }
  let i = 0
  while (i < raw.length) {
    const c = raw[i]!
    if (c !== escapeChar) {
      if (pending.high !== 0) return undefined
      out.push(c)
      i++
      continue
    }
    if (raw[i + 1] === escapeChar) {
      if (pending.high !== 0) return undefined
      out.push(escapeChar)
      i += 2
    } else if (raw[i + 1] === "+") {
      const cp = hexValue(raw.slice(i + 2, i + 8))
      if (cp === undefined || raw.slice(i + 2, i + 8).length !== 6 || !pushCodePoint(out, pending, cp)) return undefined
      i += 8
    } else {
      const cp = hexValue(raw.slice(i + 1, i + 5))
      if (cp === undefined || raw.slice(i + 1, i + 5).length !== 4 || !pushCodePoint(out, pending, cp)) return undefined
      i += 5
    }
  }
  return pending.high === 0 ? out.join("") : undefined
}

const simpleEscapes: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" }

/** The value of an `E''` body (quotes already undoubled, backslash escapes intact). */
const unescapeBackslashes = (raw: string): string | undefined => {
  const out: Array<string> = []
  const pending = { high: 0 }
  let i = 0
  while (i < raw.length) {
    const c = raw[i]!
    if (c !== "\\") {
      if (pending.high !== 0) return undefined
      out.push(c)
      i++
      continue
    }
    const next = raw[i + 1]
    if (next === undefined) return undefined
    if (next === "u" || next === "U") {
      const width = next === "u" ? 4 : 8
      const digits = raw.slice(i + 2, i + 2 + width)
      const cp = hexValue(digits)
      if (cp === undefined || digits.length !== width || !pushCodePoint(out, pending, cp)) return undefined
      i += 2 + width
      continue
    }
    if (pending.high !== 0) return undefined
    if (next >= "0" && next <= "7") {
      const digits = /^[0-7]{1,3}/.exec(raw.slice(i + 1, i + 4))![0]
      out.push(String.fromCharCode(Number.parseInt(digits, 8) & 0xff))
      i += 1 + digits.length
    } else if (next === "x" && /^[0-9A-Fa-f]/.test(raw[i + 2] ?? "")) {
      const digits = /^[0-9A-Fa-f]{1,2}/.exec(raw.slice(i + 2, i + 4))![0]
      out.push(String.fromCharCode(Number.parseInt(digits, 16)))
      i += 2 + digits.length
    } else {
      out.push(simpleEscapes[next] ?? next)
      i += 2
    }
  }
  return pending.high === 0 ? out.join("") : undefined
}

/**
 * The bodies of a quoted literal starting at `from` (its opening quote), one per segment of a
 * literal continued over lines, with doubled quotes undoubled; undefined when malformed.
 */
const quotedBodies = (text: string, from: number, backslashes: boolean): string | undefined => {
  const parts: Array<string> = []
  let i = from
  while (i < text.length) {
    if (text[i] !== "'") return undefined
    i++
    let closed = false
    while (i < text.length) {
      const c = text[i]!
      if (backslashes && c === "\\") {
        parts.push(text.slice(i, i + 2))
        i += 2
      } else if (c === "'") {
        if (text[i + 1] === "'") {
          parts.push(backslashes ? "\\'" : "'")
          i += 2
        } else {
          i++
          closed = true
          break
        }
      } else {
        let j = i + 1
        while (j < text.length && text[j] !== "'" && !(backslashes && text[j] === "\\")) j++
        parts.push(text.slice(i, j))
        i = j
      }
    }
    if (!closed) return undefined
    // Between the segments of a continued literal: white space with a newline, `--` comments.
    while (i < text.length && text[i] !== "'") {
      if (isSpaceCode(text.charCodeAt(i))) i++
      else if (text.startsWith("--", i)) {
        while (i < text.length && text[i] !== "\n" && text[i] !== "\r") i++
      } else return undefined
    }
  }
  return parts.join("")
}

/** The value of a string literal's text, undefined when it is not one the server would accept. */
const stringValue = (text: string, escapeChar: string): string | undefined => {
  const first = text[0]
  if (first === "$") {
    const tagEnd = text.indexOf("$", 1)
    if (tagEnd < 0) return undefined
    const tag = text.slice(0, tagEnd + 1)
    return text.length >= 2 * tag.length && text.endsWith(tag)
      ? text.slice(tag.length, text.length - tag.length)
      : undefined
  }
  if (first === "'") return quotedBodies(text, 0, false)
  if (first === "E" || first === "e") {
    const raw = quotedBodies(text, 1, true)
    return raw === undefined ? undefined : unescapeBackslashes(raw)
  }
  if ((first === "U" || first === "u") && text[1] === "&") {
    const raw = quotedBodies(text, 2, false)
    return raw === undefined ? undefined : unescapeUnicode(raw, escapeChar)
  }
  if ("bBxXnN".includes(first ?? "")) return quotedBodies(text, 1, false)
  return undefined
}

/** The name of a quoted identifier (`"…"` or `U&"…"`), undefined when malformed. */
const identName = (text: string, escapeChar: string): string | undefined => {
  const unicode = text[0] !== '"'
  const body = text.slice(unicode ? 3 : 1, -1).replace(/""/g, '"')
  return unicode ? unescapeUnicode(body, escapeChar) : body
}

const isUnicodePrefixed = (text: string, quote: string) =>
  (text[0] === "U" || text[0] === "u") && text[1] === "&" && text[2] === quote

/** A piece of the text given to the scanner: `text` stands for `sql.slice(from, to)`. */
interface Piece {
  readonly text: string
  readonly from: number
  readonly to: number
  /** The scanner's offsets inside a stand-in do not correspond to the original's. */
  readonly standIn: boolean
}

/** A scanner token with its offsets and text in the original statement. */
interface Scanned {
  readonly start: number
  readonly end: number
  readonly text: string
  readonly tokenName: string
  readonly keywordName: string
}

/**
 * Scans the concatenation of `pieces` and maps its tokens back onto `sql`; undefined when the
 * scanner refuses it or leaves any of it unaccounted for.
 */
const scanPieces = (sql: string, pieces: ReadonlyArray<Piece>): Array<Scanned> | undefined => {
  const text = pieces.length === 1 ? pieces[0]!.text : pieces.map((p) => p.text).join("")
  let scanned: ReadonlyArray<ScanToken>
  try {
    scanned = scanSync(text).tokens
  } catch {
    return undefined
  }
  let byte = 0
  let unit = 0
  const advanceTo = (target: number, spaceOnly: boolean): boolean => {
    while (byte < target) {
      if (unit >= text.length) return false
      if (spaceOnly && !isSpaceCode(text.charCodeAt(unit))) return false
      const [bytes, units] = utf8Length(text, unit)
      byte += bytes
      unit += units
    }
    return byte === target
  }
  // Offsets in `text` → offsets in `sql`, walking the pieces once.
  let piece = 0
  let pieceStart = 0
  const locate = (at: number) => {
    while (piece < pieces.length - 1 && at >= pieceStart + pieces[piece]!.text.length) {
      pieceStart += pieces[piece]!.text.length
      piece++
    }
    return pieces[piece]!
  }
  const out: Array<Scanned> = []
  for (const token of scanned) {
    if (!advanceTo(token.start, true)) return undefined
    const start = unit
    if (!advanceTo(token.end, false) || text.slice(start, unit) !== token.text || unit === start) return undefined
    const first = locate(start)
    const originalStart = first.standIn ? first.from : first.from + (start - pieceStart)
    const last = locate(unit - 1)
    const originalEnd = last.standIn ? last.to : last.from + (unit - pieceStart)
    out.push({
      start: originalStart,
      end: originalEnd,
      text: sql.slice(originalStart, originalEnd),
      tokenName: token.tokenName,
      keywordName: token.keywordName
    })
  }
  for (; unit < text.length; unit++) if (!isSpaceCode(text.charCodeAt(unit))) return undefined
  return out
}

/**
 * Characters whose runs never decide where a literal, quoted identifier or comment starts (everything
 * but quotes, `$`, `\\`, `-`, `/`, `*`, `&` and NUL). A line end inside a run decides only where a
 * `--` comment ends (the first one) and whether literals continue (whether there is one).
 */
const inert = (c: number) =>
  c !== 39 && c !== 34 && c !== 36 && c !== 92 && c !== 45 && c !== 47 && c !== 42 && c !== 38 && c !== 0
const isTagChar = (c: number) =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c >= 0x80
const keep = 32

/**
 * `sql` with the middle of every long run of inert characters dropped, so that fewer tokens are
 * longer than the scanner can report (libpg-query 17.6's `scanSync` returns broken JSON for a token
 * of more than about 1,100 bytes). The run's ends stay, so what precedes a quote or follows a
 * backslash is unchanged, and so does everything up to its first line end; the middle becomes one
 * space (a run of white space) or one comma (any other run), so a run that was not white space does
 * not become white space (a continued literal). A run that could be a dollar quote's tag (tag
 * characters between two `$`) is left whole.
 */
const shorten = (sql: string): Array<Piece> => {
  const pieces: Array<Piece> = []
  let at = 0
  let i = 0
  while (i < sql.length) {
    if (!inert(sql.charCodeAt(i))) {
      i++
      continue
    }
    let j = i
    let blank = true
    let tagOnly = true
    let firstLineEnd = -1
    while (j < sql.length && inert(sql.charCodeAt(j))) {
      const c = sql.charCodeAt(j)
      if (!isSpaceCode(c)) blank = false
      if (!isTagChar(c)) tagOnly = false
      if (firstLineEnd < 0 && (c === 10 || c === 13)) firstLineEnd = j
      j++
    }
    const maybeTag = tagOnly && sql[i - 1] === "$" && sql[j] === "$"
    let headEnd = Math.max(i + keep, firstLineEnd + 1)
    let tailStart = j - keep
    if (tailStart - headEnd > keep && !maybeTag) {
      // Surrogate pairs stay whole.
      if (sql.charCodeAt(headEnd - 1) >= 0xd800 && sql.charCodeAt(headEnd - 1) <= 0xdbff) headEnd++
      if (sql.charCodeAt(tailStart) >= 0xdc00 && sql.charCodeAt(tailStart) <= 0xdfff) tailStart--
      pieces.push({ text: sql.slice(at, headEnd), from: at, to: headEnd, standIn: false })
      pieces.push({ text: blank ? " " : ",", from: headEnd, to: tailStart, standIn: true })
      at = tailStart
    }
    i = j
  }
  if (at < sql.length) pieces.push({ text: sql.slice(at), from: at, to: sql.length, standIn: false })
  return pieces
}

const isLiteralOrComment = (t: Scanned) =>
  t.tokenName === "SCONST" || t.tokenName.endsWith("_COMMENT") || /^(?:[uU]&)?["']|^[bBxX]'/.test(t.text)

/** A short stand-in that the scanner reads as the same kind of token as `t`. */
const standInFor = (t: Scanned): string => {
  if (t.tokenName === "SQL_COMMENT") return "--"
  if (t.tokenName === "C_COMMENT") return "/**/"
  const unicode = /^[uU]&/.test(t.text) ? "U&" : ""
  return t.text[unicode.length] === '"' ? `${unicode}"x"` : `${unicode}''`
}

/**
 * The scanner's tokens of `sql` with offsets in it. A long statement is scanned twice: once with
 * long runs shortened, which finds its literals and comments exactly, and once with each literal
 * and comment replaced by a short stand-in and everything else as written.
 */
const scanAll = (sql: string): Array<Scanned> | undefined => {
  const pieces = shorten(sql)
  const first = scanPieces(sql, pieces)
  if (first === undefined || !pieces.some((p) => p.standIn)) return first
  const second: Array<Piece> = []
  let at = 0
  for (const t of first) {
    if (!isLiteralOrComment(t)) continue
    if (t.start > at) second.push({ text: sql.slice(at, t.start), from: at, to: t.start, standIn: false })
    second.push({ text: standInFor(t), from: t.start, to: t.end, standIn: true })
    at = t.end
  }
  if (at < sql.length) second.push({ text: sql.slice(at), from: at, to: sql.length, standIn: false })
  return scanPieces(sql, second)
}

/**
 * @internal The tokens of `sql`, or undefined when the scanner refuses it or leaves any of it
 * unaccounted for.
 */
export const tokenize = (sql: string): Array<Token> | undefined => {
  if (sql.trim().length === 0) return []
  const scanned = scanAll(sql)
  if (scanned === undefined) return undefined

  /** The escape character a `U&` token at `index` names with `UESCAPE '…'`, and the tokens that say so. */
  const uescape = (index: number): { escapeChar: string; through: number } | undefined => {
    let j = index + 1
    while (scanned[j]?.tokenName.endsWith("_COMMENT")) j++
    if (scanned[j]?.text.toLowerCase() !== "uescape") return undefined
    j++
    while (scanned[j]?.tokenName.endsWith("_COMMENT")) j++
    const quoted = scanned[j]
    if (quoted?.tokenName !== "SCONST") return { escapeChar: "", through: j - 1 }
    const escapeChar = stringValue(quoted.text, "\\")
    return { escapeChar: escapeChar ?? "", through: j }
  }

  const tokens: Array<Token> = []
  for (let i = 0; i < scanned.length; i++) {
    const token = scanned[i]!
    const { end, start, text } = token
    if (token.tokenName === "SQL_COMMENT" || token.tokenName === "C_COMMENT") {
      tokens.push({ kind: "comment", start, end })
    } else if (isUnicodePrefixed(text, "'") || isUnicodePrefixed(text, '"')) {
      const named = uescape(i)
      // An escape character that is not one character other than hex digits, `+`, `'`, `"` or white space is refused.
      const escapeChar = named === undefined ? "\\" : named.escapeChar
      const valid = escapeChar.length === 1 && !/[0-9A-Fa-f+'"\s]/.test(escapeChar)
      if (text[2] === "'") {
        tokens.push({ kind: "string", start, end, value: valid ? stringValue(text, escapeChar) : undefined })
      } else {
        const name = valid ? identName(text, escapeChar) : undefined
        tokens.push(
          name === undefined ? { kind: "string", start, end, value: undefined } : { kind: "ident", start, end, name }
        )
      }
      if (named !== undefined) {
        for (let k = i + 1; k <= named.through; k++) {
          const { end, start, tokenName } = scanned[k]!
          // A refused escape literal (`UESCAPE '!'\n'continued'`) is masked like any literal.
          tokens.push(
            !valid && tokenName === "SCONST"
              ? { kind: "string", start, end, value: undefined }
              : { kind: "uescape", start, end }
          )
        }
        i = named.through
      }
    } else if (
      (text === "n" || text === "N") &&
      scanned[i + 1]?.tokenName === "SCONST" &&
      scanned[i + 1]!.start === end
    ) {
      // N'…': the scanner reports the national-character prefix as a word of its own.
      const literal = scanned[++i]!
      tokens.push({ kind: "string", start, end: literal.end, value: stringValue(literal.text, "\\") })
    } else if (token.tokenName === "SCONST" || /^[bBxX]'/.test(text)) {
      tokens.push({ kind: "string", start, end, value: stringValue(text, "\\") })
    } else if (token.tokenName === "IDENT" || token.keywordName !== "NO_KEYWORD") {
      const name = text[0] === '"' ? identName(text, "\\") : text.toLowerCase()
      tokens.push(
        name === undefined ? { kind: "string", start, end, value: undefined } : { kind: "ident", start, end, name }
      )
    } else if (token.tokenName.startsWith("ASCII_")) {
      tokens.push({ kind: "punct", start, end })
    } else if (token.tokenName === "ICONST" || token.tokenName === "FCONST" || token.tokenName === "PARAM") {
      tokens.push({ kind: "number", start, end })
    } else if (/^[+\-*/<>=~!@#%^&|`?]+$/.test(text)) {
      tokens.push({ kind: "op", start, end })
    } else {
      tokens.push({ kind: "other", start, end })
    }
  }
  return tokens
}

/** Gives the event loop a turn between slices. */
const yieldToEventLoop: Effect.Effect<void> = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

const sliceLength = 16_384

/**
 * @internal `tokenize` in slices that end after a `;`, `,`, `(` or `)` token, giving the event loop a
 * turn between slices (the scanner takes about 15 µs a token). A slice whose end falls inside a
 * literal or comment is refused by the scanner and doubled; the tokens up to its last such token
 * are the tokens of the whole text, since the scanner reads left to right and looks no further than
 * that one character.
 */
export const tokenizeInSlices = (sql: string): Effect.Effect<Array<Token> | undefined> =>
  Effect.gen(function* () {
    if (sql.length <= sliceLength) return tokenize(sql)
    const all: Array<Token> = []
    let from = 0
    let length = sliceLength
    while (from < sql.length) {
      const to = Math.min(sql.length, from + length)
      const last = to === sql.length
      const slice = sql.slice(from, to)
      const tokens = tokenize(slice)
      // The scanner reports a long token only when its output buffer has grown: try the whole text.
      if (tokens === undefined && last) return from === 0 ? undefined : tokenize(sql)
      let through = tokens === undefined ? -1 : last ? tokens.length - 1 : -1
      if (tokens !== undefined && !last) {
        for (let k = tokens.length - 1; k >= 0 && through < 0; k--) {
          const t = tokens[k]!
          if (t.kind === "punct" && t.end === t.start + 1 && ";,()".includes(slice[t.start]!)) through = k
        }
      }
      if (tokens === undefined || (through < 0 && !last)) {
        length *= 2
      } else {
        for (let k = 0; k <= through; k++) {
          const t = tokens[k]!
          all.push({ ...t, start: t.start + from, end: t.end + from })
        }
        if (last) break
        from += tokens[through]!.end
        length = sliceLength
      }
      yield* yieldToEventLoop
    }
    return all
  })
