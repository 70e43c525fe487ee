/**
 * The embedded server's key file: with no `PATCHBAY_KEYRING` in the environment and the store in a
 * data directory, the keys live in `<data-dir>/keys.env` (mode 0600), made on first use. Its lines
 * are the same variables a host would set (`PATCHBAY_KEYRING`, `PATCHBAY_PRIMARY_KEY_ID`,
 * `PATCHBAY_FINGERPRINT_KEY`), read through a `ConfigProvider`, so the keyring is built by the same
 * `Keyring.layerConfig` either way.
 */

import { randomBytes } from "node:crypto"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import type { CliFailure } from "./failure.js"
import { failure } from "./failure.js"

/** The key file's name inside a data directory. */
export const fileName = "keys.env"

/** A fresh key: 32 bytes from the OS generator, base64. */
export const freshKey = (): string => randomBytes(32).toString("base64")

/**
 * A key id: `k`, the time to the second and three random hex digits, e.g. `k261201120000a3f` (two
 * keys made in the same second, by `migrate` then `keys rotate`, get different ids; 16 characters,
 * so messages show the id itself).
 */
export const freshKeyId = (now: Date): string =>
  `k${now.toISOString().slice(2, 19).replace(/[-:T]/g, "")}${randomBytes(2).toString("hex").slice(0, 3)}`

/** The key variables of a key file or the environment. */
export interface KeyVariables {
  readonly PATCHBAY_KEYRING: string
  readonly PATCHBAY_PRIMARY_KEY_ID: string
  readonly PATCHBAY_FINGERPRINT_KEY: string
}

const render = (keys: KeyVariables): string =>
  [
    "# Patchbay's keys for this data directory. Keep this file secret and backed up apart from the data:",
    "# without it every stored credential is unreadable.",
    `PATCHBAY_KEYRING=${keys.PATCHBAY_KEYRING}`,
    `PATCHBAY_PRIMARY_KEY_ID=${keys.PATCHBAY_PRIMARY_KEY_ID}`,
    `PATCHBAY_FINGERPRINT_KEY=${keys.PATCHBAY_FINGERPRINT_KEY}`,
    ""
  ].join("\n")

const parse = (text: string): Map<string, string> => {
  const values = new Map<string, string>()
  for (const line of text.split("\n")) {
    const trimmed = line.trim()
    if (trimmed === "" || trimmed.startsWith("#")) continue
    const eq = trimmed.indexOf("=")
    if (eq > 0) values.set(trimmed.slice(0, eq), trimmed.slice(eq + 1))
  }
  return values
}

/** The key file of `dataDir` as a map of variables; made with fresh keys when absent. */
export const load = (
  dataDir: string
): Effect.Effect<Map<string, string>, CliFailure, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = (yield* Path.Path).join(dataDir, fileName)
    const exists = yield* fs.exists(path)
    if (!exists) {
      const id = freshKeyId(new Date())
      yield* write(dataDir, {
        PATCHBAY_KEYRING: `${id}:${freshKey()}`,
        PATCHBAY_PRIMARY_KEY_ID: id,
        PATCHBAY_FINGERPRINT_KEY: freshKey()
      })
    }
    return parse(yield* fs.readFileString(path))
  }).pipe(Effect.mapError((error) => failure("configuration", `cannot read or create the key file: ${error.message}`)))

/** Writes the key file of `dataDir` (mode 0600), replacing it atomically. */
export const write = (dataDir: string, keys: KeyVariables) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(dataDir, { recursive: true })
    const target = path.join(dataDir, fileName)
    const temporary = `${target}.tmp`
    yield* fs.writeFileString(temporary, render(keys), { mode: 0o600 })
    yield* fs.rename(temporary, target)
  })

/** The environment, then the key file's variables: what `Keyring.layerConfig` reads. */
export const configProvider = (file: Map<string, string>): ConfigProvider.ConfigProvider =>
  ConfigProvider.fromEnv().pipe(ConfigProvider.orElse(() => ConfigProvider.fromMap(file)))
