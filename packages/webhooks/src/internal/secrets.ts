/**
 * Subscription secrets: generated from the system's random generator, sealed with the keyring's
 * envelope encryption and bound to their subscription and version, so a sealed secret copied onto
 * another row (or another version of the same row) does not open.
 *
 * The sealed payload also carries the target URL (Slack, Discord or Teams incoming-webhook URLs
 * hold their credential in the path): the stored `url` is only its mask (`maskUrl`). A payload
 * sealed before URLs were (a bare `whsec_…` secret) opens with the stored `url` as the target.
 */
import { randomBytes } from "node:crypto"
import { DomainError, WebhookStore } from "@patchbay/core"
import type { Envelope } from "@patchbay/crypto"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/** A new secret: `whsec_` and 32 random bytes in base64url. */
export const generate = (): Redacted.Redacted<string> => Redacted.make(`whsec_${randomBytes(32).toString("base64url")}`)

/** A target URL as listings show it: scheme, host and port, and `/…`. */
export const maskUrl = (url: string): string => {
  const parsed = new URL(url)
  return `${parsed.protocol}//${parsed.host}/…`
}

/** What a sealed secret is bound to: the subscription's id, organization, creation and the version. */
export const aad = (
  subscription: { readonly id: string; readonly orgId: string; readonly createdAt: Date },
  version: number
): Envelope.Aad => WebhookStore.secretBinding(subscription, version)

const Payload = Schema.parseJson(Schema.Struct({ secret: Schema.String, url: Schema.String }))
const encodePayload = Schema.encodeSync(Payload)
const decodePayload = Schema.decodeUnknownEither(Payload)

/** A subscription's secret of one version, with the target URL sealed beside it. */
export interface Opened {
  readonly secret: Redacted.Redacted<string>
  readonly url: Redacted.Redacted<string>
}

/** Seals `secret` and the target `url` as version `version` of the subscription. */
export const seal = (
  envelope: Envelope.EnvelopeShape,
  subscription: { readonly id: string; readonly orgId: string; readonly createdAt: Date },
  version: number,
  secret: Redacted.Redacted<string>,
  url: Redacted.Redacted<string>
) =>
  envelope.seal(
    Redacted.make<Uint8Array>(
      Buffer.from(encodePayload({ secret: Redacted.value(secret), url: Redacted.value(url) }), "utf8")
    ),
    aad(subscription, version)
  )

const openOne = (
  envelope: Envelope.EnvelopeShape,
  sealed: WebhookStore.SubscriptionRecord["secret"],
  subscription: WebhookStore.Subscription,
  version: number
): Effect.Effect<Opened, DomainError.CredentialCorrupted> =>
  Effect.flatMap(envelope.open(sealed, aad(subscription, version)), (bytes) => {
    const text = Buffer.from(Redacted.value(bytes)).toString("utf8")
    if (text.startsWith("whsec_")) {
      return Effect.succeed<Opened>({ secret: Redacted.make(text), url: Redacted.make(subscription.url) })
    }
    const payload = decodePayload(text)
    return payload._tag === "Right"
      ? Effect.succeed<Opened>({ secret: Redacted.make(payload.right.secret), url: Redacted.make(payload.right.url) })
      : Effect.fail(
          new DomainError.CredentialCorrupted({ credentialId: subscription.id, detail: "unreadable payload" })
        )
  })

/** The current secret and the target URL. */
export const openCurrent = (
  envelope: Envelope.EnvelopeShape,
  record: WebhookStore.SubscriptionRecord
): Effect.Effect<Opened, DomainError.CredentialCorrupted> =>
  openOne(envelope, record.secret, record.subscription, record.subscription.secretVersion)

/**
 * The target URL and the secrets a delivery is signed with at `now`: the current one, and the
 * previous one while the rotation's overlap lasts.
 */
export const open = (
  envelope: Envelope.EnvelopeShape,
  record: WebhookStore.SubscriptionRecord,
  now: Date
): Effect.Effect<
  { readonly url: Redacted.Redacted<string>; readonly secrets: ReadonlyArray<Redacted.Redacted<string>> },
  DomainError.CredentialCorrupted
> =>
  Effect.gen(function* () {
    const { subscription } = record
    const current = yield* openCurrent(envelope, record)
    const until = subscription.previousSecretUntil
    if (record.previousSecret === null || until === null || until.getTime() <= now.getTime()) {
      return { url: current.url, secrets: [current.secret] }
    }
    const previous = yield* openOne(envelope, record.previousSecret, subscription, subscription.secretVersion - 1)
    return { url: current.url, secrets: [current.secret, previous.secret] }
  })
