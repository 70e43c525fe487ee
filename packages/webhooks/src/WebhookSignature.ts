/**
 * The signature of a webhook delivery, for Patchbay (`sign`) and for receivers (`verify`).
 *
 * `Patchbay-Signature: t=<unix seconds>,v1=<hex>` where each `v1` is HMAC-SHA256, keyed with the
 * UTF-8 bytes of a subscription secret, over `<t>.<raw body>`. During a secret rotation the header
 * carries one `v1` per secret; a receiver accepts the request when any of them matches its secret.
 *
 * @since 0.1.0
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * The header that carries the signature.
 *
 * @since 0.1.0
 */
export const header = "Patchbay-Signature"

/**
 * How far `t` may be from the receiver's clock when no tolerance is given: five minutes.
 *
 * @since 0.1.0
 */
export const defaultToleranceSeconds = 300

/**
 * The header is missing or not of the form `t=<digits>,v1=<64 hex digits>[,v1=…]`.
 *
 * @since 0.1.0
 */
export class SignatureMalformed extends Schema.TaggedError<SignatureMalformed>("@patchbay/webhooks/SignatureMalformed")(
  "SignatureMalformed",
  { detail: Schema.String }
) {
  override get message(): string {
    return `The ${header} header is malformed: ${this.detail}`
  }
}

/**
 * The signature's timestamp is further from now than the tolerance (a replayed or delayed request).
 *
 * @since 0.1.0
 */
export class SignatureExpired extends Schema.TaggedError<SignatureExpired>("@patchbay/webhooks/SignatureExpired")(
  "SignatureExpired",
  { timestamp: Schema.Number, toleranceSeconds: Schema.Number }
) {
  override get message(): string {
    return `The signature's timestamp ${this.timestamp} is outside the tolerance of ${this.toleranceSeconds} seconds`
  }
}

/**
 * No signature in the header matches the body under the secret.
 *
 * @since 0.1.0
 */
export class SignatureMismatch extends Schema.TaggedError<SignatureMismatch>("@patchbay/webhooks/SignatureMismatch")(
  "SignatureMismatch",
  {}
) {
  override get message(): string {
    return "No signature matches the body under this secret"
  }
}

/**
 * Why `verify` refused a request.
 *
 * @since 0.1.0
 */
export type VerifyError = SignatureMalformed | SignatureExpired | SignatureMismatch

type Body = string | Uint8Array

const mac = (secret: Redacted.Redacted<string>, timestamp: number, body: Body): Buffer =>
  createHmac("sha256", Buffer.from(Redacted.value(secret), "utf8"))
    .update(`${timestamp}.`)
    .update(typeof body === "string" ? Buffer.from(body, "utf8") : body)
    .digest()

/**
 * The header value for `body` signed at `timestamp` (unix seconds) with each of `secrets`.
 *
 * @since 0.1.0
 */
export const sign = (options: {
  readonly secrets: ReadonlyArray<Redacted.Redacted<string>>
  readonly timestamp: number
  readonly body: Body
}): string =>
  [
    `t=${Math.floor(options.timestamp)}`,
    ...options.secrets.map((secret) => `v1=${mac(secret, Math.floor(options.timestamp), options.body).toString("hex")}`)
  ].join(",")

const parse = (
  value: string | undefined
): { readonly timestamp: number; readonly signatures: ReadonlyArray<Buffer> } | SignatureMalformed => {
  if (value === undefined || value.trim() === "") return new SignatureMalformed({ detail: "the header is missing" })
  let timestamp: number | undefined
  const signatures: Array<Buffer> = []
  for (const part of value.split(",")) {
    const at = part.indexOf("=")
    if (at < 0) return new SignatureMalformed({ detail: "an element is not key=value" })
    const key = part.slice(0, at).trim()
    const text = part.slice(at + 1).trim()
    if (key === "t") {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(text)) {
        return new SignatureMalformed({ detail: "t must appear once, as unix seconds" })
      }
      timestamp = Number(text)
    } else if (key === "v1") {
      if (!/^[0-9a-f]{64}$/i.test(text)) return new SignatureMalformed({ detail: "v1 must be 64 hex digits" })
      signatures.push(Buffer.from(text, "hex"))
    }
  }
  if (timestamp === undefined) return new SignatureMalformed({ detail: "t is missing" })
  if (signatures.length === 0) return new SignatureMalformed({ detail: "no v1 signature" })
  return { timestamp, signatures }
}

/**
 * Checks a delivery as a receiver got it: `header` is the `Patchbay-Signature` value and `body` the
 * raw request body, byte for byte as received (not re-serialised JSON). Succeeds when a `v1`
 * matches (compared in constant time) and `t` is within `toleranceSeconds` (default 300) of `now`
 * (default: the `Clock`).
 *
 * @since 0.1.0
 */
export const verify = (options: {
  readonly secret: Redacted.Redacted<string>
  readonly header: string | undefined
  readonly body: Body
  readonly toleranceSeconds?: number | undefined
  readonly now?: Date | undefined
}): Effect.Effect<void, VerifyError> =>
  Effect.gen(function* () {
    const parsed = parse(options.header)
    if (parsed instanceof SignatureMalformed) return yield* parsed
    const tolerance = options.toleranceSeconds ?? defaultToleranceSeconds
    const nowMillis =
      options.now === undefined ? yield* Effect.clockWith((clock) => clock.currentTimeMillis) : options.now.getTime()
    if (Math.abs(Math.floor(nowMillis / 1000) - parsed.timestamp) > tolerance) {
      return yield* new SignatureExpired({ timestamp: parsed.timestamp, toleranceSeconds: tolerance })
    }
    const expected = mac(options.secret, parsed.timestamp, options.body)
    let matched = false
    for (const signature of parsed.signatures) {
      if (timingSafeEqual(signature, expected)) matched = true
    }
    if (!matched) return yield* new SignatureMismatch()
  }).pipe(Effect.withSpan("WebhookSignature.verify"))
