/**
 * `patchbay keys generate | rotate | verify`.
 *
 * - `generate` prints a new key entry (`id:base64` of 32 random bytes) to add to `PATCHBAY_KEYRING`.
 * - `rotate` re-wraps every data key under the primary key. With the embedded store and its key
 *   file it first adds a fresh key and makes it primary; otherwise the operator has already added
 *   the new key to `PATCHBAY_KEYRING` and named it in `PATCHBAY_PRIMARY_KEY_ID`.
 * - `verify` checks that the keyring holds every key stored credentials and webhook secrets name
 *   (exit 1 if not) and lists the keys nothing uses any more.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Keyring, Rotation } from "@patchbay/crypto"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { classify, failure } from "../failure.js"
import * as KeyFile from "../keyFile.js"
import { print } from "../output.js"
import * as Settings from "../settings.js"

const keyId = Options.text("id").pipe(Options.optional, Options.withDescription("Key id (default: from the time)"))

const generate = Command.make("generate", { json: Settings.json, id: keyId }, ({ id, json }) => {
  const entry = { id: Option.getOrElse(id, () => KeyFile.freshKeyId(new Date())), key: KeyFile.freshKey() }
  return print(json, entry, ({ id, key }) => [
    `${id}:${key}`,
    "",
    `Add it to PATCHBAY_KEYRING (comma-separated), set PATCHBAY_PRIMARY_KEY_ID=${id}, restart, then run: patchbay keys rotate`
  ])
}).pipe(Command.withDescription("Print a new key entry for PATCHBAY_KEYRING"))

const batchSize = Options.integer("batch-size").pipe(
  Options.withDefault(500),
  Options.withDescription("Credentials re-wrapped per batch")
)

/** With the embedded store's key file: a fresh key joins the ring as its primary. */
const addPrimaryToKeyFile = (settings: Settings.StoreSettings) =>
  Effect.gen(function* () {
    if (Option.isSome(settings.databaseUrl) || process.env.PATCHBAY_KEYRING !== undefined) return
    const file = yield* KeyFile.load(settings.dataDir)
    const id = KeyFile.freshKeyId(new Date())
    yield* KeyFile.write(settings.dataDir, {
      PATCHBAY_KEYRING: `${file.get("PATCHBAY_KEYRING") ?? ""},${id}:${KeyFile.freshKey()}`,
      PATCHBAY_PRIMARY_KEY_ID: id,
      PATCHBAY_FINGERPRINT_KEY: file.get("PATCHBAY_FINGERPRINT_KEY") ?? KeyFile.freshKey()
    }).pipe(Effect.mapError((error) => failure("configuration", `cannot update the key file: ${error.message}`)))
    yield* Console.error(`added key ${id} to the key file as the primary key`)
  })

const rotate = Command.make(
  "rotate",
  { store: Settings.store, json: Settings.json, batchSize },
  ({ batchSize, json, store }) =>
    addPrimaryToKeyFile(store).pipe(
      Effect.zipRight(
        Effect.gen(function* () {
          const report = yield* Rotation.run({
            batchSize,
            // Progress goes to standard error, so it never mixes with --json on standard output.
            onBatch: (progress) =>
              Console.error(
                `re-wrapped ${progress.rewrapped} credentials, ${progress.webhookRewrapped} webhook subscriptions (${progress.batches} batches)`
              )
          })
          yield* print(json, report, (r) => [
            `primary key ${r.primary}: ${r.rewrapped} re-wrapped, ${r.raced} re-wrapped by another process, ${r.failed.length} failed`,
            `webhook secrets: ${r.webhookRewrapped} subscriptions re-wrapped, ${r.webhookRaced} changed meanwhile, ${r.webhookFailed.length} failed`,
            ...r.failed.map((f) => `  failed ${f.credentialId}: ${f.detail}`),
            ...r.webhookFailed.map((f) => `  failed webhook subscription ${f.subscriptionId}: ${f.detail}`)
          ])
          if (report.failed.length + report.webhookFailed.length > 0) {
            return yield* failure(
              "failed-check",
              `${report.failed.length} credentials and ${report.webhookFailed.length} webhook subscriptions could not be re-wrapped`
            )
          }
        }).pipe(Effect.mapError(classify), Effect.provide(Settings.patchbay(store)))
      )
    )
).pipe(Command.withDescription("Re-wrap every stored data key under the primary key, with progress"))

const verify = Command.make("verify", { store: Settings.store, json: Settings.json }, ({ json, store }) =>
  Effect.gen(function* () {
    const keyring = yield* Keyring.Keyring
    const missing = yield* Rotation.missingWebhookKeys
    if (missing.length > 0) {
      if (json) yield* print(true, { ok: false, missing, webhookSecrets: true }, () => [])
      return yield* failure("failed-check", `the keyring lacks keys webhook secrets use: ${missing.join(", ")}`)
    }
    const retirable = yield* Rotation.retirable
    yield* print(json, { ok: true, primary: keyring.primary, keys: keyring.ids, retirable }, (r) => [
      `keyring holds every key stored credentials and webhook secrets use; primary ${r.primary}`,
      r.retirable.length === 0 ? "no key can be retired" : `nothing uses: ${r.retirable.join(", ")}`
    ])
  }).pipe(
    Effect.provide(Settings.patchbayUnclassified(store)),
    Effect.catchTag("MissingKey", (error) =>
      Effect.zipRight(
        json ? print(true, { ok: false, missing: error.keyIds }, () => []) : Effect.void,
        Effect.fail(
          failure("failed-check", `the keyring lacks keys stored credentials use: ${error.keyIds.join(", ")}`)
        )
      )
    ),
    Effect.mapError(classify)
  )
).pipe(
  Command.withDescription(
    "Check the keyring against the stored credentials and webhook secrets (exit 1 if a key is missing)"
  )
)

export const keys = Command.make("keys").pipe(
  Command.withDescription("Key management"),
  Command.withSubcommands([generate, rotate, verify])
)
