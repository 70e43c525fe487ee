import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc, Redacted } from "effect"
import * as SecretScrubber from "../src/SecretScrubber.js"

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64")

/** Whether any base64 run of `text`, decoded from any of its 4 character offsets, holds `secret`. */
const base64Reveals = (text: string, secret: string): boolean => {
  const needle = Buffer.from(secret, "utf8")
  for (const run of text.match(/[A-Za-z0-9+/_-]{4,}/g) ?? []) {
    for (let offset = 0; offset < 4; offset++) {
      const decoded = Buffer.from(run.slice(offset).replace(/-/g, "+").replace(/_/g, "/"), "base64")
      if (decoded.includes(needle)) return true
    }
  }
  return false
}

/** Printable secrets as people choose them, and some with the characters encodings escape. */
const secret = fc.oneof(
  fc.string({ minLength: 4, maxLength: 40, unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789") }),
  fc.string({ minLength: 4, maxLength: 40, unit: "grapheme-ascii" }),
  fc.string({ minLength: 4, maxLength: 24, unit: "grapheme" }),
  fc.string({ minLength: 4, maxLength: 24, unit: fc.constantFrom(..."%+&=/ \"'\\<>:@#é€😀\n\t[]") })
)
const identity = fc.string({
  minLength: 1,
  maxLength: 20,
  unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz.@_-0123456789")
})
const noise = fc.string({ maxLength: 60 })

/** The ways a peer echoes a secret back in an error. */
const echoes: ReadonlyArray<(s: string, user: string, before: string, after: string) => string> = [
  (s) => s,
  (s) => encodeURIComponent(s),
  (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
  (s) => new URLSearchParams({ password: s }).toString(),
  (s) => JSON.stringify({ error: "invalid_client", client_secret: s }),
  (s) =>
    JSON.stringify({ detail: s }).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
    ),
  (s, user) => `Authorization: Basic ${b64(`${user}:${s}`)}`,
  (s, user) => `AUTH PLAIN ${b64(`\0${user}\0${s}`)}`,
  (s, user) => `XOAUTH2 ${b64(`user=${user}\x01auth=Bearer ${s}\x01\x01`)}`,
  (s, _user, before, after) => b64(`${before}${s}${after}`),
  (s, _user, before, after) => Buffer.from(`${before}${s}${after}`).toString("base64url"),
  (s) =>
    `<p>${s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")}</p>`
]

describe("SecretScrubber", () => {
  it.prop(
    "removes a secret from peer text in every echoed encoding",
    [secret, identity, noise, noise, fc.integer({ min: 0, max: echoes.length - 1 }), fc.boolean()],
    ([s, user, before, after, which, known]) => {
      const scrubber = SecretScrubber.make({ secrets: [Redacted.make(s)], identities: known ? [user] : [] })
      const text = `550 rejected ${before}${echoes[which]!(s, user, before, after)}${after} see docs`
      const scrubbed = scrubber.scrub(text)
      assert.notInclude(scrubbed, s)
      assert.notInclude(scrubbed, encodeURIComponent(s))
      assert.isFalse(base64Reveals(scrubbed, s), `base64 in ${JSON.stringify(scrubbed)} reveals the secret`)
      if (known) assert.notInclude(scrubbed, b64(`${user}:${s}`).slice(0, -2))
    },
    { fastCheck: { numRuns: 3000 } }
  )

  it.prop(
    "several secrets at once, adjacent and overlapping, none survives",
    [fc.array(secret, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), noise],
    ([secrets, picks, glue]) => {
      const scrubber = SecretScrubber.make({ secrets })
      const text = picks.map((p, i) => (i % 2 === 0 ? secrets[p % secrets.length]! : glue)).join("")
      const scrubbed = scrubber.scrub(text)
      for (const s of secrets) assert.notInclude(scrubbed, s)
    },
    { fastCheck: { numRuns: 1000 } }
  )

  it.prop(
    "a secret never forms across a replacement, even one made of the replacement's characters",
    [
      fc.string({ minLength: 4, maxLength: 12, unit: fc.constantFrom(..."[]redacted█x") }),
      fc.array(fc.string({ maxLength: 8, unit: fc.constantFrom(..."[]redacted█x") }), { maxLength: 6 })
    ],
    ([s, pieces]) => {
      const scrubbed = SecretScrubber.make({ secrets: [s] }).scrub(pieces.join(s))
      assert.notInclude(scrubbed, s)
    },
    { fastCheck: { numRuns: 1500 } }
  )

  it.prop(
    "text that holds no secret comes back unchanged",
    [
      fc.array(
        fc.string({ minLength: 4, maxLength: 30, unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789") }),
        {
          maxLength: 4
        }
      ),
      fc.string({ maxLength: 200, unit: fc.constantFrom(..." .,:;!?()\n") })
    ],
    ([secrets, text]) => {
      assert.strictEqual(SecretScrubber.make({ secrets }).scrub(text), text)
    },
    { fastCheck: { numRuns: 500 } }
  )

  it("does not search for secrets shorter than the minimum, and tolerates lone surrogates", () => {
    assert.strictEqual(SecretScrubber.minimumLength, 4)
    const short = SecretScrubber.make({ secrets: ["abc"] })
    assert.strictEqual(short.secrets, 0)
    assert.strictEqual(short.scrub("abc abc"), "abc abc")
    const odd = SecretScrubber.make({ secrets: ["ab\uD800cd", "\uDC00\uDC00zz"] })
    assert.strictEqual(odd.scrub("x ab\uD800cd y \uDC00\uDC00zz"), "x [redacted] y [redacted]")
  })

  it("a decoded credential: Redacted values are secrets, user names only combine with them", () => {
    const scrubber = SecretScrubber.fromCredentials({
      username: "alice@example.com",
      password: Redacted.make("correct horse"),
      nested: { token: Redacted.make("tok_0123456789") }
    })
    assert.strictEqual(scrubber.secrets, 2)
    const text = `535 5.7.8 AUTH PLAIN ${b64("\0alice@example.com\0correct horse")} for alice@example.com; token=tok_0123456789; pw=correct%20horse`
    assert.strictEqual(
      scrubber.scrub(text),
      "535 5.7.8 AUTH PLAIN [redacted] for alice@example.com; token=[redacted]; pw=[redacted]"
    )
    const plaintext = SecretScrubber.fromCredentials(
      { user: "bob", api_key: "k-123456" },
      { secretFields: ["api_key"] }
    )
    assert.strictEqual(plaintext.scrub(`Basic ${b64("bob:k-123456")}`), "Basic [redacted]")
  })

  it("a long secret (a private key) echoed in full or in JSON leaves no 64-character piece of it", () => {
    const key = `-----BEGIN PRIVATE KEY-----\n${Buffer.alloc(1200, 7)
      .toString("base64")
      .replace(/(.{64})/g, "$1\n")}-----END PRIVATE KEY-----`
    const scrubber = SecretScrubber.make({ secrets: [key] })
    for (const text of [`error: ${key} rejected`, JSON.stringify({ key })]) {
      const scrubbed = scrubber.scrub(text)
      assert.notInclude(scrubbed, key.slice(100, 164))
      assert.notInclude(scrubbed, key.slice(-64))
      assert.isBelow(scrubbed.length, text.length / 4)
    }
  })

  it("a worst case for backtracking matchers: long runs of a secret's prefix", () => {
    const secrets = [`${"a".repeat(63)}b`, `${"ab".repeat(20)}c`, "a".repeat(30)]
    const text = `${"a".repeat(200_000)}b${"ab".repeat(100_000)}`
    const scrubbed = SecretScrubber.make({ secrets }).scrub(text)
    assert.strictEqual(scrubbed, "[redacted]ab".concat("ab".repeat(99_999)))
  })
})
