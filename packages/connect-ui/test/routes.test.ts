/**
 * The pages without a browser, through `HttpLayerRouter.toWebHandler` on the memory store: the
 * prefix reaches every link, authentication and roles decide what is shown and allowed, and a POST
 * without the form token is refused.
 */
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Authentication from "@patchbay/api/Authentication"
import { PostgresConnector } from "@patchbay/connector-postgres"
import { Actor, Ids } from "@patchbay/core"
import { OAuth2, OAuth2Clients } from "@patchbay/oauth2"
import { Patchbay } from "@patchbay/preset"
import { Effect, Layer, Schema } from "effect"
import { ConnectUi } from "../src/index.js"

const orgId = "0190b000-0000-7000-8000-00000000000b"

/** The role comes from a header; no header, no principal. */
const AuthLive = Layer.succeed(
  Authentication.Authentication,
  Authentication.Authentication.of({
    authenticate: (request) => {
      const role = request.headers["x-role"]
      return Schema.is(Authentication.Principal.fields.role)(role)
        ? Effect.succeed(
            Authentication.Principal.make({ actor: Actor.ActorInfo.make({ orgId: Ids.OrgId.make(orgId) }), role })
          )
        : Effect.fail(new Authentication.Unauthenticated({ message: "Sign in to manage connections." }))
    }
  })
)

const PatchbayLive = Patchbay.layer({
  store: Patchbay.layerMemory,
  connectors: [PostgresConnector.connector],
  keys: "ephemeral",
  egress: { allowLoopback: true },
  refresher: OAuth2.layer().pipe(Layer.provide(OAuth2Clients.layer()))
})

const { handler, dispose } = HttpLayerRouter.toWebHandler(
  ConnectUi.layer({ prefix: "/connect-ui", publicUrl: "http://ui.example" }).pipe(
    Layer.provide(Layer.merge(PatchbayLive, AuthLive))
  ),
  { disableLogger: true }
)
afterAll(() => dispose())

const get = (path: string, role?: string) =>
  Effect.promise(() =>
    handler(new Request(`http://ui.example${path}`, { headers: role === undefined ? {} : { "x-role": role } }))
  )

describe("Connect UI routes", () => {
  it.effect("serves the pages under the prefix, with every link and asset under it", () =>
    Effect.gen(function* () {
      const response = yield* get("/connect-ui/", "admin")
      assert.strictEqual(response.status, 200)
      assert.include(response.headers.get("content-security-policy"), "default-src 'none'")
      assert.include(response.headers.get("set-cookie"), "patchbay_csrf=")
      const body = yield* Effect.promise(() => response.text())
      assert.include(body, 'href="/connect-ui/assets/connect-ui.css"')
      assert.include(body, 'href="/connect-ui/connect/postgres"')
      const css = yield* get("/connect-ui/assets/connect-ui.css")
      assert.strictEqual(css.headers.get("content-type"), "text/css; charset=utf-8")
    })
  )

  it.effect("asks for sign-in without a principal, and shows a viewer no Connect", () =>
    Effect.gen(function* () {
      const anonymous = yield* get("/connect-ui/connections")
      assert.strictEqual(anonymous.status, 401)
      assert.include(yield* Effect.promise(() => anonymous.text()), "Sign in to manage connections.")
      const viewer = yield* get("/connect-ui/", "viewer")
      assert.strictEqual(viewer.status, 200)
      assert.notInclude(yield* Effect.promise(() => viewer.text()), "/connect-ui/connect/postgres")
      assert.strictEqual((yield* get("/connect-ui/connect/postgres", "viewer")).status, 403)
    })
  )

  it.effect("refuses a form POST without the token, or from another origin", () =>
    Effect.gen(function* () {
      const post = (headers: Record<string, string>, body: string) =>
        Effect.promise(() =>
          handler(
            new Request("http://ui.example/connect-ui/connect/postgres", {
              method: "POST",
              headers: { "x-role": "admin", "content-type": "application/x-www-form-urlencoded", ...headers },
              body
            })
          )
        )
      const token = "a".repeat(43)
      assert.strictEqual((yield* post({}, "instance_name=x")).status, 403)
      assert.strictEqual((yield* post({ cookie: `patchbay_csrf=${token}` }, `_csrf=${"b".repeat(43)}`)).status, 403)
      assert.strictEqual(
        (yield* post({ cookie: `patchbay_csrf=${token}`, origin: "http://evil.example" }, `_csrf=${token}`)).status,
        403
      )
      // The same token from this origin passes the check and reaches the form's own validation.
      const accepted = yield* post({ cookie: `patchbay_csrf=${token}`, origin: "http://ui.example" }, `_csrf=${token}`)
      assert.strictEqual(accepted.status, 422)
      assert.include(yield* Effect.promise(() => accepted.text()), "Connection Name: enter a name")
    })
  )
})
