/**
 * How the CLI fails: one message, one exit code a script can branch on.
 *
 * | code | meaning |
 * | --- | --- |
 * | 0 | done |
 * | 1 | the command ran and found a problem (a test failed, an instance is unhealthy, keys are missing) |
 * | 2 | usage: unknown command, missing or malformed option |
 * | 3 | configuration: keys or settings missing or invalid |
 * | 4 | storage: the store cannot be reached, or its schema is newer than this Patchbay |
 * | 5 | refused: Patchbay answered with a typed error (not found, invalid input, ...) |
 */
import * as ConfigError from "effect/ConfigError"
import * as Data from "effect/Data"
import * as Predicate from "effect/Predicate"

/** @internal */
export const exitCodes = {
  "failed-check": 1,
  usage: 2,
  configuration: 3,
  storage: 4,
  refused: 5
} as const

/** @internal */
export type Kind = keyof typeof exitCodes

/** @internal */
export class CliFailure extends Data.TaggedError("CliFailure")<{ readonly kind: Kind; readonly message: string }> {}

/** @internal */
export const failure = (kind: Kind, message: string): CliFailure => new CliFailure({ kind, message })

const storageTags = new Set(["StorageError", "MigrationFailed", "SchemaVersionMismatch"])
const configurationTags = new Set(["InvalidKeyring", "MissingKey", "ConfigError"])

/** Any failure of a command as a `CliFailure`: typed errors by tag, their messages kept. */
export const classify = (error: unknown): CliFailure => {
  if (error instanceof CliFailure) return error
  if (Predicate.hasProperty(error, "_tag") && typeof error._tag === "string") {
    const message =
      Predicate.hasProperty(error, "message") && typeof error.message === "string" && error.message !== ""
        ? error.message
        : error._tag
    if (storageTags.has(error._tag)) return failure("storage", message)
    if (configurationTags.has(error._tag) || ConfigError.isConfigError(error)) return failure("configuration", message)
    return failure("refused", `${error._tag}: ${message}`)
  }
  return failure("refused", String(error))
}
