import { createHmac } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { WebhookSignature } from "../src/index.js"

const secret = Redacted.make("whsec_test-secret")
const other = Redacted.make("whsec_other-secret")
const body = JSON.stringify({ _tag: "instance.created", id: "0190a000-0000-7000-8000-000000000001" })
const t = 1_780_000_000
const at = (seconds: number) => new Date(seconds * 1000)

describe("WebhookSignature", () => {
  it("signs t.<raw body> with HMAC-SHA256 of the secret, one v1 per secret", () => {
    const header = WebhookSignature.sign({ secrets: [secret, other], timestamp: t, body })
    const expected = (key: string) => createHmac("sha256", key).update(`${t}.${body}`).digest("hex")
    assert.strictEqual(header, `t=${t},v1=${expected("whsec_test-secret")},v1=${expected("whsec_other-secret")}`)
  })

  it.effect("verifies a signature made with the secret, within the tolerance", () =>
    Effect.gen(function* () {
      const header = WebhookSignature.sign({ secrets: [secret], timestamp: t, body })
      yield* WebhookSignature.verify({ secret, header, body, now: at(t + 299) })
      yield* WebhookSignature.verify({ secret, header, body: Buffer.from(body), now: at(t - 10) })
      // During a rotation either secret verifies.
      const both = WebhookSignature.sign({ secrets: [other, secret], timestamp: t, body })
      yield* WebhookSignature.verify({ secret, header: both, body, now: at(t) })
      yield* WebhookSignature.verify({ secret: other, header: both, body, now: at(t) })
    })
  )

  it.effect("refuses a tampered body, a wrong secret, an old timestamp and a malformed header", () =>
    Effect.gen(function* () {
      const header = WebhookSignature.sign({ secrets: [secret], timestamp: t, body })
      const refused = (options: Partial<Parameters<typeof WebhookSignature.verify>[0]>) =>
        Effect.flip(WebhookSignature.verify({ secret, header, body, now: at(t), ...options }))
      assert.strictEqual((yield* refused({ body: body.replace("created", "deleted") }))._tag, "SignatureMismatch")
      assert.strictEqual((yield* refused({ body: `${body} ` }))._tag, "SignatureMismatch")
      assert.strictEqual((yield* refused({ secret: other }))._tag, "SignatureMismatch")
      const old = yield* refused({ now: at(t + 301) })
      assert.strictEqual(old._tag, "SignatureExpired")
      assert.strictEqual((yield* refused({ now: at(t + 61), toleranceSeconds: 60 }))._tag, "SignatureExpired")
      // The timestamp is signed: moving it forward breaks the signature.
      assert.strictEqual(
        (yield* refused({ header: header.replace(`t=${t}`, `t=${t + 1}`), now: at(t + 1) }))._tag,
        "SignatureMismatch"
      )
      for (const malformed of [undefined, "", "v1=abc", `t=${t}`, `t=soon,v1=${"0".repeat(64)}`, "garbage"]) {
        assert.strictEqual((yield* refused({ header: malformed }))._tag, "SignatureMalformed", String(malformed))
      }
    })
  )

  it.effect("reads now from the Clock when not given", () =>
    Effect.gen(function* () {
      const header = WebhookSignature.sign({ secrets: [secret], timestamp: 0, body })
      // The TestClock starts at 0.
      yield* WebhookSignature.verify({ secret, header, body })
    })
  )
})
