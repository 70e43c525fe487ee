/**
 * `GET /credentials/expiring` warns before an OAuth2 refresh token dies, with where to reconnect:
 * an instance signed in through oidc-provider, whose registration documents a 7-day refresh-token
 * lifetime (the provider announces none), is listed with `kind: "refresh_token"` and a
 * `reconnect_url` at the provider.
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

const week = 7 * 86400

const ServerLive = Layer.suspend(() =>
  serverOn(Patchbay.layerMemory, {
    connectors: [connector],
    oauth2: { allowInsecureRequests: true },
    clients: OAuth2Clients.layer({
      connectors: {
        "oauth-api": {
          issuer: provider.issuer,
          clientId: appClient.id,
          clientSecret: appClient.secret,
          redirectUri,
          refreshTokenLifetime: week
        }
      }
    }),
    routes: { redirectUri }
  })
)

describe("expiring credentials through the API", () => {
  layer(ServerLive, { excludeTestServices: true })((it) => {
    it.effect("a refresh token's documented deadline is listed with kind and reconnect_url", () =>
      Effect.gen(function* () {
        const created = yield* call("POST", "/api/v1/connector-instances", {
          as: "admin",
          body: {
            connector_id: "oauth-api",
            instance_name: "Refresh deadline",
            auth_type: "oauth2_authorization_code",
            configuration: {
              oauth2: { scopes: ["openid", "offline_access"], authorization_parameters: { prompt: "consent" } }
            }
          }
        })
        assert.strictEqual(created.status, 201, created.text)
        const instanceId: string = created.json.id
        const started = yield* call("POST", `/api/v1/connector-instances/${instanceId}/oauth2/authorize`, {
          as: "admin",
          body: { scope_type: "organization" }
        })
        assert.strictEqual(started.status, 200, started.text)
        const callback = new URL(yield* Effect.promise(() => authorizeInBrowser(started.json.authorization_url)))
        const completed = yield* call("GET", `/api/v1/oauth2/callback${callback.search}`, { as: "admin" })
        assert.strictEqual(completed.status, 200, completed.text)

        const soon = yield* call("GET", "/api/v1/credentials/expiring?days_ahead=8", { as: "admin" })
        assert.strictEqual(soon.status, 200, soon.text)
        const mine = (soon.json as Array<Record<string, unknown>>).filter((item) => item.instance_id === instanceId)
        assert.deepStrictEqual(
          mine.map((item) => item.kind),
          ["refresh_token"]
        )
        const days = mine[0]!.days_remaining as number
        assert.isTrue(days > 6.9 && days <= 7, String(days))
        const reconnect = new URL(mine[0]!.reconnect_url as string)
        assert.strictEqual(reconnect.origin, provider.issuer)
        assert.strictEqual(reconnect.searchParams.get("code_challenge_method"), "S256")

        const later = yield* call("GET", "/api/v1/credentials/expiring?days_ahead=6", { as: "admin" })
        assert.isUndefined(
          (later.json as Array<Record<string, unknown>>).find((item) => item.instance_id === instanceId)
        )
      })
    )
  })
})
