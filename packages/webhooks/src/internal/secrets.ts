/**
 * Subscription secrets: generated from the system's random generator, sealed with the keyring's
 * envelope encryption and bound to their subscription and version, so a sealed secret copied onto
 * another row (or another version of the same row) does not open.
 */
import { randomBytes } from "node:crypto"
import { type DomainError, WebhookStore } from "@patchbay/core"
import type { Envelope } from "@patchbay/crypto"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"

/** A new secret: `whsec_` and 32 random bytes in base64url. */
export const generate = (): Redacted.Redacted<string> => Redacted.make(`whsec_${randomBytes(32).toString("base64url")}`)

/** What a sealed secret is bound to: the subscription's id, organization, creation and the version. */
export const aad = (
  subscription: { readonly id: string; readonly orgId: string; readonly createdAt: Date },
  version: number
): Envelope.Aad => WebhookStore.secretBinding(subscription, version)

/** Seals `secret` as version `version` of the subscription. */
export const seal = (
  envelope: Envelope.EnvelopeShape,
  subscription: { readonly id: string; readonly orgId: string; readonly createdAt: Date },
  version: number,
  secret: Redacted.Redacted<string>
) => envelope.seal(Redacted.make<Uint8Array>(Buffer.from(Redacted.value(secret), "utf8")), aad(subscription, version))

/**
 * The secrets a delivery is signed with at `now`: the current one, and the previous one while the
 * rotation's overlap lasts.
 */
export const open = (
  envelope: Envelope.EnvelopeShape,
  record: WebhookStore.SubscriptionRecord,
  now: Date
): Effect.Effect<ReadonlyArray<Redacted.Redacted<string>>, DomainError.CredentialCorrupted> =>
  Effect.gen(function* () {
    const { subscription } = record
    const text = (bytes: Redacted.Redacted<Uint8Array>) =>
      Redacted.make(Buffer.from(Redacted.value(bytes)).toString("utf8"))
    const current = text(yield* envelope.open(record.secret, aad(subscription, subscription.secretVersion)))
    const until = subscription.previousSecretUntil
    if (record.previousSecret === null || until === null || until.getTime() <= now.getTime()) return [current]
    const previous = text(
      yield* envelope.open(record.previousSecret, aad(subscription, subscription.secretVersion - 1))
    )
    return [current, previous]
  })
