/**
 * `patchbay serve --port N --data-dir DIR`: the HTTP API, MCP and the Connect UI on embedded
 * PGlite (or PostgreSQL with `--database-url`), as one organization administrator.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Server from "../../Server.js"
import { classify } from "../failure.js"
import * as Settings from "../settings.js"

/** The organization and user of a local server when none is named. */
const localOrg = "00000000-0000-7000-8000-000000000001"
const localUser = "00000000-0000-7000-8000-000000000002"

const port = Options.integer("port").pipe(
  Options.withFallbackConfig(Config.integer("PORT")),
  Options.withDefault(4300),
  Options.withDescription("Port to listen on (PORT)")
)
const host = Options.text("host").pipe(
  Options.withDefault("127.0.0.1"),
  Options.withDescription("Address to listen on; the server has one user, keep it private")
)
const publicUrl = Options.text("public-url").pipe(
  Options.optional,
  Options.withDescription("Origin people reach the server at (OAuth2 callbacks)")
)
const org = Settings.org.pipe(Options.withDefault(localOrg))

export const serve = Command.make(
  "serve",
  { store: Settings.store, port, host, publicUrl, org },
  ({ host, org, port, publicUrl, store }) =>
    Effect.gen(function* () {
      const actor = yield* Settings.operator(org)
      const server = Server.layer(
        {
          port,
          host,
          publicUrl: Option.getOrUndefined(publicUrl),
          principal: { actor: { orgId: actor.orgId, userId: localUser }, role: "admin" },
          onListening: (address) => {
            const origin = Option.getOrElse(
              publicUrl,
              () => `http://${address._tag === "TcpAddress" ? `${host}:${address.port}` : host}`
            )
            return Console.log(
              `Patchbay on ${origin}: Connect UI ${origin}/, API reference ${origin}/docs, OpenAPI ${origin}/openapi.json, MCP ${origin}/mcp`
            )
          }
        },
        Settings.patchbay(store, Server.refresher())
      )
      return yield* Layer.launch(server)
    }).pipe(Effect.mapError(classify))
).pipe(Command.withDescription("Serve the HTTP API, MCP and the Connect UI (embedded store by default)"))
