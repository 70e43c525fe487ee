import type { Credential } from "@patchbay/core"
import { DomainError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"

const decoder = new TextDecoder("utf-8", { fatal: true })

/** A stored version's plaintext as the resolver delivers it: a JSON object, whole in `Redacted`. */
export const parse = (
  metadata: Credential.CredentialMetadata,
  plaintext: Redacted.Redacted<Uint8Array>
): Effect.Effect<Redacted.Redacted<Readonly<Record<string, unknown>>>, DomainError.CredentialCorrupted> => {
  const bytes = Redacted.value(plaintext)
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes))
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return Effect.succeed(Redacted.make(value as Readonly<Record<string, unknown>>))
    }
  } catch {
    // not JSON
  } finally {
    bytes.fill(0)
  }
  return Effect.fail(
    new DomainError.CredentialCorrupted({ credentialId: metadata.id, detail: "the payload is not a credential" })
  )
}

/** A string field of a token set, if it is one. */
export const field = (secrets: Redacted.Redacted<Readonly<Record<string, unknown>>>, name: string) => {
  const value = Redacted.value(secrets)[name]
  return typeof value === "string" && value !== "" ? value : undefined
}
