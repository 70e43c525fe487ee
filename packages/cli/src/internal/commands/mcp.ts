/**
 * `patchbay mcp --org ID --agent ID [--workspace ID] [--role member]`: the MCP tools over
 * stdin/stdout for one agent, until stdin ends. Standard output carries the protocol only; logs go
 * to standard error.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Authentication, Permissions } from "@patchbay/api"
import { McpStdio, McpTools } from "@patchbay/mcp"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Server from "../../Server.js"
import { classify, failure } from "../failure.js"
import * as Settings from "../settings.js"

const agent = Options.text("agent").pipe(Options.withDescription("The agent id the tools act as"))
const workspace = Options.text("workspace").pipe(Options.optional, Options.withDescription("The agent's workspace id"))
const role = Options.choice("role", Permissions.Role.literals).pipe(
  Options.withDefault("member" as const),
  Options.withDescription("What the agent may do (viewer: list only; member: tests and activities)")
)

export const mcp = Command.make(
  "mcp",
  { store: Settings.store, org: Settings.org, agent, workspace, role },
  ({ agent, org, role, store, workspace }) =>
    Effect.gen(function* () {
      const principal = yield* Schema.decodeUnknown(Authentication.Principal)({
        actor: {
          orgId: org,
          agentId: agent,
          ...Option.match(workspace, { onNone: () => ({}), onSome: (id) => ({ workspaceId: id }) })
        },
        role
      }).pipe(Effect.mapError(() => failure("usage", "--org, --agent and --workspace must be UUIDs")))
      return yield* McpStdio.run(principal).pipe(
        Effect.scoped,
        Effect.provide(McpTools.layer.pipe(Layer.provide(Settings.patchbay(store, Server.refresher()))))
      )
    }).pipe(Effect.mapError(classify))
).pipe(Command.withDescription("Serve the MCP tools over stdio as one agent"))
