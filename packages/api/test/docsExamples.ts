/**
 * The code of docs/api.md, type-checked with the package (the docs' snippet checker cannot resolve
 * `@patchbay/api` yet). Nothing here runs.
 */
import { createServer } from "node:http"
import { FetchHttpClient, HttpLayerRouter } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { PostgresConnector } from "@patchbay/connector-postgres"
import { OAuth2, OAuth2Clients } from "@patchbay/oauth2"
import { Patchbay } from "@patchbay/preset"
import { SqlStore } from "@patchbay/store-sql"
import { Effect, Layer, Redacted, Schema } from "effect"
import { ApiRoutes, Authentication, PatchbayClient } from "../src/index.js"

const PatchbayLive = Patchbay.layer({
  store: SqlStore.layerPg(), // PATCHBAY_DATABASE_URL
  connectors: [PostgresConnector.connector],
  keys: "config",
  refresher: OAuth2.layer().pipe(Layer.provide(OAuth2Clients.layer()))
})

const AuthenticationLive = Authentication.layerBearerTokens([
  {
    token: Redacted.make(process.env.PATCHBAY_ADMIN_TOKEN ?? ""),
    principal: { actor: { orgId: "0190a000-0000-7000-8000-00000000000a" }, role: "admin" }
  }
])

export const main = () =>
  HttpLayerRouter.serve(ApiRoutes.layer({ publicUrl: "http://127.0.0.1:8080" })).pipe(
    Layer.provide([AuthenticationLive, PatchbayLive]),
    Layer.provide(NodeHttpServer.layer(createServer, { port: 8080, host: "127.0.0.1" })),
    Layer.launch,
    NodeRuntime.runMain
  )

interface Session {
  readonly orgId: string
  readonly userId: string
  readonly isAdmin: boolean
}
declare const lookupSession: (cookie: string | undefined) => Effect.Effect<Session | undefined>

export const HostAuthentication = Layer.succeed(Authentication.Authentication, {
  authenticate: (request) =>
    Effect.flatMap(lookupSession(request.cookies.session), (session) =>
      session === undefined
        ? Effect.fail(new Authentication.Unauthenticated({ message: "Sign in first" }))
        : Effect.succeed(
            Schema.decodeSync(Authentication.Principal)({
              actor: { orgId: session.orgId, userId: session.userId },
              role: session.isAdmin ? "admin" : "member"
            })
          )
    )
})

export const program = Effect.gen(function* () {
  const client = yield* PatchbayClient.make("http://127.0.0.1:8080", { token: Redacted.make("change-me") })
  const instance = yield* client.connectorInstances.create({
    headers: {},
    payload: {
      connectorId: "postgres",
      instanceName: "Analytics DB - Production",
      configuration: { host: "analytics-db.internal.company.com", database: "analytics" }
    }
  })
  const test = yield* client.operations.testConnection({ path: { instance_id: instance.id }, payload: {} })
  return test.status
}).pipe(Effect.provide(FetchHttpClient.layer))
