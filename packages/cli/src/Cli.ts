/**
 * The `patchbay` operator CLI: `serve`, `mcp`, `migrate`, `keys`, `credentials`, `instances`. Every
 * command takes `--json` for scripts and exits with a code that says what happened (see
 * `exitCodes`).
 *
 * @since 0.1.0
 */

import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { credentials } from "./internal/commands/credentials.js"
import { instances } from "./internal/commands/instances.js"
import { keys } from "./internal/commands/keys.js"
import { mcp } from "./internal/commands/mcp.js"
import { migrate } from "./internal/commands/migrate.js"
import { serve } from "./internal/commands/serve.js"
import { classify, exitCodes as codes } from "./internal/failure.js"

/**
 * The exit codes: 0 done; 1 the command found a problem (a failed test, an unhealthy instance, a
 * missing key); 2 usage; 3 configuration (keys, settings); 4 storage unreachable or too new;
 * 5 refused by Patchbay (not found, invalid input, ...).
 *
 * @since 0.1.0
 */
export const exitCodes = { ok: 0, ...codes } as const

/**
 * The command tree.
 *
 * @since 0.1.0
 */
export const command = Command.make("patchbay").pipe(
  Command.withDescription("Patchbay operator CLI"),
  Command.withSubcommands([serve, mcp, migrate, keys, credentials, instances])
)

const cli = Command.run(command, { name: "patchbay", version: "0.1.0" })

/**
 * Runs the CLI on `argv` (as `process.argv`) and answers the exit code; failures are printed to
 * standard error, never thrown.
 *
 * @since 0.1.0
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number, never, CliApp.CliApp.Environment> =>
  cli(argv).pipe(
    Effect.as(exitCodes.ok),
    Effect.catchAll((error) => {
      // @effect/cli has printed its own help text for a usage error.
      if (ValidationError.isValidationError(error)) return Effect.succeed<number>(exitCodes.usage)
      const failure = classify(error)
      // Standard error: standard output is data (--json, or the MCP protocol on stdio).
      return Effect.as(Console.error(failure.message), exitCodes[failure.kind])
    })
  )
