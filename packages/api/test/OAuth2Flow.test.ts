/**
 * The authorization-code flow through the API against a real OAuth2 server (oidc-provider, from
 * `@patchbay/oauth2`'s test support): the authorization URL, the consent, the callback that
 * exchanges the code, then reconnect and a connection test.
 */
import { assert, describe, layer } from "@effect/vitest"
import { OAuth2Clients } from "@patchbay/oauth2"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll } from "vitest"
import {
  appClient,
  authorizeInBrowser,
  redirectUri,
  start,
  type TestProvider
} from "../../oauth2/test/support/provider.js"
import { connector } from "../../oauth2/test/support/stack.js"
import { call, Patchbay, serverOn } from "./support.js"

let provider: TestProvider
beforeAll(async () => {
  provider = await start()
})
afterAll(() => provider.close())

// The provider knows one redirect URI; a proxy in front of the API would forward it to the callback.
const ServerLive = Layer.suspend(() =>
  serverOn(Patchbay.layerMemory, {
    connectors: [connector],
    oauth2: { allowInsecureRequests: true },
    clients: OAuth2Clients.layer({
      connectors: {
        "oauth-api": { issuer: provider.issuer, clientId: appClient.id, clientSecret: appClient.secret, redirectUri }
      }
    }),
    routes: { redirectUri }
  })
)

describe("OAuth2 through the API", () => {
  layer(ServerLive, { excludeTestServices: true })((it) => {
    it.effect("authorization URL → consent → callback stores the token set; reconnect hands out a new URL", () =>
      Effect.gen(function* () {
        const created = yield* call("POST", "/api/v1/connector-instances", {
          as: "admin",
          body: {
            connector_id: "oauth-api",
            instance_name: "Signed in",
            auth_type: "oauth2_authorization_code",
            configuration: {
              oauth2: { scopes: ["openid", "offline_access"], authorization_parameters: { prompt: "consent" } }
            }
          }
        })
        assert.strictEqual(created.status, 201, created.text)
        const instanceId: string = created.json.id

        const start = yield* call("POST", `/api/v1/connector-instances/${instanceId}/oauth2/authorize`, {
          as: "admin",
          body: { scope_type: "organization" }
        })
        assert.strictEqual(start.status, 200, start.text)
        const authorizationUrl = new URL(start.json.authorization_url)
        assert.strictEqual(authorizationUrl.origin, provider.issuer)
        assert.strictEqual(authorizationUrl.searchParams.get("redirect_uri"), redirectUri)
        assert.strictEqual(authorizationUrl.searchParams.get("code_challenge_method"), "S256")

        const callback = new URL(yield* Effect.promise(() => authorizeInBrowser(start.json.authorization_url)))
        const completed = yield* call("GET", `/api/v1/oauth2/callback${callback.search}`, { as: "admin" })
        assert.strictEqual(completed.status, 200, completed.text)
        assert.strictEqual(completed.json.instance_id, instanceId)
        assert.strictEqual(completed.json.scope_type, "organization")
        assert.isString(completed.json.masked.access_token)

        // The state works once.
        const replay = yield* call("GET", `/api/v1/oauth2/callback${callback.search}`, { as: "admin" })
        assert.strictEqual(replay.status, 422, replay.text)
        assert.strictEqual(replay.json._tag, "OAuth2Rejected")

        const instance = yield* call("GET", `/api/v1/connector-instances/${instanceId}`, { as: "viewer" })
        assert.strictEqual(instance.json.has_credentials, true)
        assert.strictEqual(instance.json.status, "active")

        const tested = yield* call("POST", `/api/v1/connector-instances/${instanceId}/test-connection`, {
          as: "member",
          body: {}
        })
        assert.strictEqual(tested.json.status, "success", tested.text)

        const reconnect = yield* call("POST", `/api/v1/connector-instances/${instanceId}/reconnect`, {
          as: "admin",
          body: {}
        })
        assert.strictEqual(reconnect.json.action, "reconnect", reconnect.text)
        assert.strictEqual(new URL(reconnect.json.authorization_url).origin, provider.issuer)

        // A member may not start a sign-in into the organization's scope.
        const forbidden = yield* call("POST", `/api/v1/connector-instances/${instanceId}/oauth2/authorize`, {
          as: "member",
          body: { scope_type: "organization" }
        })
        assert.strictEqual(forbidden.status, 403)
      })
    )
  })
})
