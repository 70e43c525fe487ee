import { randomBytes } from "node:crypto"
import { Credential, CredentialRepository, CredentialScope, Ids } from "@patchbay/core"
import { Either, Redacted } from "effect"
import * as Envelope from "../src/Envelope.js"
import * as Keyring from "../src/Keyring.js"

export const orgId = Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a")
export const instanceId = Ids.InstanceId.make("0190a000-0000-7000-8000-0000000000b1")

/** A fresh key as base64, the form configuration carries. */
export const freshKey = (): string => randomBytes(32).toString("base64")

/** A keyring shape from ids and base64 keys; throws on invalid input (tests only). */
export const keyring = (keys: Record<string, string>, primary: string): Keyring.KeyringShape =>
  Either.getOrThrow(
    Keyring.build({
      keys: Object.entries(keys).map(([id, key]) => ({ id, key: Redacted.make(key) })),
      primary
    })
  )

export const envelopeOf = (keys: Record<string, string>, primary: string) =>
  Envelope.fromKeyring(keyring(keys, primary))

export const credentialId = (n: number) =>
  Ids.CredentialId.make(`0190a000-0000-7000-8000-${n.toString(16).padStart(12, "0")}`)

export const orgScope = CredentialScope.CredentialScope.make({ type: "organization", id: orgId })

export const utf8 = (text: string) => Redacted.make<Uint8Array>(new TextEncoder().encode(text))
export const text = (bytes: Redacted.Redacted<Uint8Array>) => new TextDecoder().decode(Redacted.value(bytes))

/** A new credential version for the memory repository, sealed by `envelope`. */
export const newCredential = (
  id: Ids.CredentialId,
  sealed: Credential.SealedSecret
): CredentialRepository.NewCredential => ({
  metadata: {
    id,
    orgId,
    instanceId,
    scope: orgScope,
    labels: {},
    masked: {},
    accountFingerprint: null,
    expiresAt: null,
    revokedAt: null,
    createdAt: new Date(0)
  },
  sealed
})

export const aad = (id: Ids.CredentialId): Envelope.Aad => Envelope.aadOf({ id, instanceId, scope: orgScope })
