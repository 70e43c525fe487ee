/**
 * The environment every process of the demo shares: the database URL, a keyring and a fingerprint
 * key. Runners get it as environment variables; the process that provisions instances reads it
 * through a `ConfigProvider`, so both decrypt the same credentials.
 */
import { randomBytes } from "node:crypto"
import { Keyring } from "@patchbay/crypto"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

/** The shared variables, by name. */
export type SharedEnv = Readonly<Record<string, string>>

/**
 * Variables for a database and fresh keys (a keyring of one key and a different fingerprint key);
 * `NOTIFY_ALLOW_LOOPBACK` is set because the demo's peers listen on 127.0.0.1.
 */
export const make = (databaseUrl: Redacted.Redacted): SharedEnv => ({
  PATCHBAY_DATABASE_URL: Redacted.value(databaseUrl),
  PATCHBAY_KEYRING: `demo:${randomBytes(Keyring.keyLength).toString("base64")}`,
  PATCHBAY_PRIMARY_KEY_ID: "demo",
  PATCHBAY_FINGERPRINT_KEY: randomBytes(32).toString("base64"),
  NOTIFY_ALLOW_LOOPBACK: "true"
})

/** The variables as this process's configuration. */
export const layerConfig = (env: SharedEnv): Layer.Layer<never> =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
