/**
 * Removes a credential's secret values from text that comes from a peer (an SMTP reply, an HTTP
 * error body, an OAuth `error_description`, a database error) before the text reaches an error, a
 * span, a log, a `test_message` or an audit row.
 *
 * Each secret is removed as written and in the encodings peers echo: URL-encoding (either hex
 * case, `+` for spaces), JSON string escaping (also `\u` escapes of non-ASCII), HTML escaping,
 * base64 and base64url (of its UTF-8 bytes, and of its Latin-1 bytes when it has any) of the
 * secret alone and inside a longer base64 text at any alignment (so
 * `Basic base64(user:pass)`, SASL `AUTH PLAIN base64(\0user\0pass)` and XOAUTH2 strings are caught
 * without knowing the user), and in full the Basic and AUTH PLAIN forms with the credential's
 * identities. Matching is one pass over the text with an Aho–Corasick automaton: linear in the
 * text whatever the secrets are, no regular expression built from a secret.
 *
 * A spelling longer than 512 characters (a private key) is matched as consecutive 64-character
 * pieces: a full echo is removed, a partial one loses every whole piece it holds.
 *
 * Secrets shorter than `minimumLength` (4) characters are not searched for: such a value cannot
 * be told apart from ordinary text, and removing it would destroy the message without protecting
 * the secret.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as AhoCorasick from "./internal/ahoCorasick.js"
import { isWellFormed } from "./internal/text.js"

/**
 * Secrets shorter than this many characters are not searched for.
 *
 * @since 0.1.0
 */
export const minimumLength = 4

/**
 * What a removed secret reads as, unless a secret contains its characters (then a character that
 * no secret contains is used, so that no secret can form across a replacement).
 *
 * @since 0.1.0
 */
export const replacement = "[redacted]"

/**
 * @since 0.1.0
 */
export interface SecretScrubber {
  /** `text` with every secret and its encodings replaced. */
  readonly scrub: (text: string) => string
  /** How many secrets are searched for (after dropping short and duplicate ones). */
  readonly secrets: number
}

/** Base64 text (standard, no padding) that depends only on `bytes`, at each of the 3 alignments. */
const base64Cores = (bytes: Buffer): Array<string> => {
  const cores: Array<string> = []
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes])
      .toString("base64")
      .replace(/=+$/, "")
    const start = Math.ceil((8 * shift) / 6)
    const end = Math.floor((8 * (shift + bytes.length)) / 6)
    if (end - start >= minimumLength) cores.push(encoded.slice(start, end))
  }
  return cores
}

const urlSafe = (base64: string) => base64.replace(/\+/g, "-").replace(/\//g, "_")

const lowerHexEscapes = (text: string) => text.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())

const asciiJson = (text: string, upper: boolean) =>
  JSON.stringify(text)
    .slice(1, -1)
    .replace(/[\u007f-\uffff]/g, (c) => {
      const hex = c.charCodeAt(0).toString(16).padStart(4, "0")
      return `\\u${upper ? hex.toUpperCase() : hex}`
    })

const htmlEscape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

/** Every spelling of one secret that the scrubber removes. */
const spellings = (secret: string): Array<string> => {
  const out = [secret]
  const uri = encodeURIComponent(secret)
  const form = new URLSearchParams({ v: secret }).toString().slice(2)
  out.push(
    uri,
    lowerHexEscapes(uri),
    form,
    lowerHexEscapes(form),
    encodeURI(secret),
    lowerHexEscapes(encodeURI(secret))
  )
  out.push(JSON.stringify(secret).slice(1, -1), asciiJson(secret, false), asciiJson(secret, true))
  out.push(htmlEscape(secret))
  for (const bytes of byteForms(secret)) {
    const base64 = bytes.toString("base64")
    out.push(base64, urlSafe(base64), urlSafe(base64).replace(/=+$/, ""))
    for (const core of base64Cores(bytes)) out.push(core, urlSafe(core))
  }
  return out
}

/**
 * The bytes a client may encode `text` as: UTF-8, and Latin-1 when every character fits in it
 * (`btoa`, and so the Basic header of fetch-based clients, encodes Latin-1).
 */
const byteForms = (text: string): Array<Buffer> => {
  const utf8 = Buffer.from(text, "utf8")
  let widest = 0
  for (let i = 0; i < text.length; i++) widest = Math.max(widest, text.charCodeAt(i))
  return widest > 0x7f && widest <= 0xff ? [utf8, Buffer.from(text, "latin1")] : [utf8]
}

/** Spellings up to this length are patterns as they are; longer ones are cut into pieces. */
const wholeLength = 512
const pieceLength = 64

/**
 * The patterns of one spelling: itself, or for a long one (a private key) consecutive 64-character
 * pieces and its last 64 characters, which together cover every full echo while keeping the
 * automaton small.
 */
const pieces = (spelling: string): Array<string> => {
  if (spelling.length < minimumLength) return []
  if (spelling.length <= wholeLength) return [spelling]
  const out: Array<string> = []
  for (let at = 0; at + pieceLength <= spelling.length; at += pieceLength)
    out.push(spelling.slice(at, at + pieceLength))
  out.push(spelling.slice(-pieceLength))
  return out
}

/** The Basic and SASL PLAIN forms of an identity and a secret, base64 in full. */
const combined = (identity: string, secret: string): Array<string> =>
  [`${identity}:${secret}`, `\0${identity}\0${secret}`, `${identity}\0${identity}\0${secret}`].flatMap((text) =>
    byteForms(text).flatMap((bytes) => {
      const base64 = bytes.toString("base64")
      return [base64, urlSafe(base64)]
    })
  )

/** Well-formed text only: a lone surrogate in a secret is matched as written, never re-encoded. */
const encodable = isWellFormed

/**
 * A scrubber of the given secrets. `identities` (user names, client ids: not secret themselves)
 * are combined with each secret into the Basic and AUTH PLAIN forms.
 *
 * @since 0.1.0
 */
export const make = (input: {
  readonly secrets: Iterable<Redacted.Redacted<string> | string>
  readonly identities?: Iterable<string> | undefined
}): SecretScrubber => {
  const secrets = new Set<string>()
  for (const secret of input.secrets) {
    const value = Redacted.isRedacted(secret) ? Redacted.value(secret) : secret
    if (typeof value === "string" && value.length >= minimumLength) secrets.add(value)
  }
  if (secrets.size === 0) return { scrub: (text) => text, secrets: 0 }
  const identities = [...new Set(input.identities ?? [])].filter((i) => typeof i === "string" && i.length > 0)
  const patterns = new Set<string>()
  for (const secret of secrets) {
    if (!encodable(secret)) {
      for (const piece of pieces(secret)) patterns.add(piece)
      continue
    }
    for (const spelling of spellings(secret)) for (const piece of pieces(spelling)) patterns.add(piece)
    for (const identity of identities.slice(0, 16)) {
      if (encodable(identity)) for (const text of combined(identity, secret)) patterns.add(text)
    }
  }
  const matcher = AhoCorasick.make(patterns)
  const mark = markFor(patterns)
  return {
    secrets: secrets.size,
    scrub: (text) => {
      const ranges = matcher.cover(text)
      if (ranges.length === 0) return text
      const parts: Array<string> = []
      let at = 0
      for (const [start, end] of ranges) {
        parts.push(text.slice(at, start), mark)
        at = end
      }
      parts.push(text.slice(at))
      return parts.join("")
    }
  }
}

/**
 * The replacement text: `replacement` when no pattern contains a bracket or lies inside it (then no
 * pattern can form across a replacement), else the first character no pattern contains.
 */
const markFor = (patterns: Iterable<string>): string => {
  const used = new Set<number>()
  let clashes = false
  for (const pattern of patterns) {
    if (pattern.includes("[") || pattern.includes("]") || replacement.includes(pattern)) clashes = true
    for (let i = 0; i < pattern.length; i++) used.add(pattern.charCodeAt(i))
  }
  if (!clashes) return replacement
  for (const candidate of [0x2588, 0xfffd, 0x2022]) if (!used.has(candidate)) return String.fromCharCode(candidate)
  let unit = 0xe000
  while (used.has(unit)) unit++
  return String.fromCharCode(unit)
}

/** Field names of credential values that identify an account and are combined with secrets. */
const identityField = /^(user(name)?|login|email|client_id|clientId|account|user_?id)$/i

/**
 * A scrubber for a decoded credential: every `Redacted` string in it (at any depth) is a secret;
 * plain strings in identity fields (`username`, `user`, `email`, `client_id`, …) are identities.
 * Pass `secretFields` to treat plain strings of those fields as secrets too (encoded credential
 * plaintext, where nothing is `Redacted` yet).
 *
 * @since 0.1.0
 */
export const fromCredentials = (
  credentials: unknown,
  options: { readonly secretFields?: ReadonlyArray<string> | undefined } = {}
): SecretScrubber => {
  const secretFields = new Set(options.secretFields ?? [])
  const secrets: Array<string> = []
  const identities: Array<string> = []
  const stack: Array<readonly [unknown, string | undefined, number]> = [[credentials, undefined, 0]]
  while (stack.length > 0 && secrets.length + identities.length < 1024) {
    const [value, field, depth] = stack.pop()!
    if (Redacted.isRedacted(value)) {
      const inner = Redacted.value(value)
      if (typeof inner === "string") secrets.push(inner)
      else if (depth < 8) stack.push([inner, field, depth + 1])
    } else if (typeof value === "string") {
      if (field !== undefined && secretFields.has(field)) secrets.push(value)
      else if (field !== undefined && identityField.test(field)) identities.push(value)
    } else if (Array.isArray(value)) {
      if (depth < 8) for (const item of value.slice(0, 256)) stack.push([item, field, depth + 1])
    } else if (Predicate.isRecord(value) && depth < 8) {
      for (const key of Object.keys(value).slice(0, 256)) stack.push([value[key], key, depth + 1])
    }
  }
  return make({ secrets, identities })
}
