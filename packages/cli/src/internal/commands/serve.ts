/**
 * `patchbay serve`: the HTTP API, the MCP endpoint and the Connect UI in one server.
 */
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"

export const serve = Command.make("serve", {}, () => Effect.void).pipe(
  Command.withDescription("Serve the HTTP API, MCP and the Connect UI")
)
