import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import { Envelope, Keyring } from "@patchbay/crypto"
import { Effect, Either, Redacted } from "effect"
import { median, ratioRow, type Suite } from "../harness.js"

/**
 * Envelope encryption of a 1 KiB credential (seal + open: two AES-256-GCM operations each way)
 * against one raw AES-256-GCM seal + open of the same payload and binding with node:crypto.
 */
const suite: Suite = {
  name: "Envelope seal + open (1 KiB)",
  run: async () => {
    const payload = randomBytes(1024)
    const aad: Envelope.Aad = {
      credentialId: "0190a000-0000-7000-8000-000000000001",
      instanceId: "0190a000-0000-7000-8000-0000000000b1",
      scopeType: "organization",
      scopeId: "0190a000-0000-7000-8000-00000000000a"
    }
    const key = randomBytes(32)
    const rawAad = Buffer.from(`patchbay.payload.v1${JSON.stringify(Object.values(aad))}`)
    const raw = () => {
      const nonce = randomBytes(12)
      const cipher = createCipheriv("aes-256-gcm", key, nonce)
      cipher.setAAD(rawAad)
      const ciphertext = Buffer.concat([cipher.update(payload), cipher.final()])
      const tag = cipher.getAuthTag()
      const decipher = createDecipheriv("aes-256-gcm", key, nonce)
      decipher.setAAD(rawAad)
      decipher.setAuthTag(tag)
      return Buffer.concat([decipher.update(ciphertext), decipher.final()])
    }
    const keyring = Either.getOrThrow(
      Keyring.build({ keys: [{ id: "bench", key: Redacted.make(key.toString("base64")) }], primary: "bench" })
    )
    const envelope = Envelope.fromKeyring(keyring)
    const plaintext = Redacted.make<Uint8Array>(payload)
    const sealOpen = Effect.flatMap(envelope.seal(plaintext, aad), (sealed) => envelope.open(sealed, aad))
    if (!Buffer.from(Redacted.value(Effect.runSync(sealOpen))).equals(raw())) throw new Error("round trip differs")

    // Interleaved three times, the lowest median of each: the machine is shared, and a burst of load
    // during one measurement should not decide the ratio either way.
    const envelopeRun = () => Effect.runSync(sealOpen)
    const rawMedians: Array<number> = []
    const envelopeMedians: Array<number> = []
    for (let round = 0; round < 3; round++) {
      rawMedians.push(await median(raw, { minMillis: 500 }))
      envelopeMedians.push(await median(envelopeRun, { minMillis: 500 }))
    }
    const baseline = { name: "raw AES-256-GCM seal + open", median: Math.min(...rawMedians) }
    const subject = Math.min(...envelopeMedians)
    return [ratioRow("Envelope.seal + Envelope.open", subject, baseline, 2)]
  }
}
export default suite
