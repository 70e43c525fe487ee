/**
 * The Connect UI end to end: a real server on 127.0.0.1 (the preset on the SQL store over the test
 * PostgreSQL, the PostgreSQL connector and an OAuth2 connector against oidc-provider), driven by
 * Debian's headless Chromium through playwright-core.
 *
 * `CONNECT_UI_SCREENSHOTS=1` refreshes the screenshots in docs/images/.
 */
import { spawnSync } from "node:child_process"
import { createServer } from "node:http"
import { join } from "node:path"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import * as Authentication from "@patchbay/api/Authentication"
import { PostgresConnector } from "@patchbay/connector-postgres"
import { type ConnectorDescriptor, ConnectorDriver, Ids, OAuth2ClientConfiguration } from "@patchbay/core"
import { OAuth2, OAuth2Clients, TokenSet } from "@patchbay/oauth2"
import { Patchbay } from "@patchbay/preset"
import { SqlStore } from "@patchbay/store-sql"
import { PostgresServer } from "@patchbay/testing"
import type {} from "@patchbay/testing/globalSetup"
import { Context, Effect, Layer, Redacted, Schema } from "effect"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"
import { inject } from "vitest"
import { ConnectUi } from "../src/index.js"
import { chromiumPath, runBrowserTests } from "./support/browser.js"
import * as TestProvider from "./support/provider.js"

const databaseUrl = inject("databaseUrl")
const screenshots = process.env.CONNECT_UI_SCREENSHOTS !== undefined
const imagesDir = new URL("../../../docs/images/", import.meta.url).pathname

/** Runs SQL as the test server's superuser through Debian's psql. */
const psql = (sql: string): void => {
  const binDir = PostgresServer.debianBinDir()
  const result = spawnSync(
    binDir === undefined ? "psql" : join(binDir, "psql"),
    [databaseUrl, "-v", "ON_ERROR_STOP=1", "-c", sql],
    {
      encoding: "utf8"
    }
  )
  if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`)
}

const orgId = "0190b000-0000-7000-8000-00000000000a"
const userId = "0190b000-0000-7000-8000-0000000000c1"

/** A generic OAuth2 API: the client settings in configuration, the token set as the oauth2 package stores it. */
const oauthDescriptor = {
  id: Ids.ConnectorId.make("00000000-0000-4000-8000-0000000000b7"),
  key: "oauth-api",
  name: "OAuth API",
  version: "1.0.0",
  authProfiles: ["oauth2_authorization_code"],
  operations: ["test_connection"],
  configuration: Schema.Struct({ oauth2: Schema.optional(OAuth2ClientConfiguration.OAuth2ClientConfiguration) }),
  credentials: TokenSet.TokenSet,
  secretFields: ["access_token", "refresh_token", "id_token", "client_secret"],
  accountFields: [],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor.ConnectorDescriptor

const oauthConnector = ConnectorDriver.make(oauthDescriptor, {
  test: () => Effect.succeed("signed in"),
  healthCheck: () => Effect.void
})

/** The provider listens only once the UI's port (its redirect URI) is known: the registration reads its issuer then. */
const issuer = { current: "http://127.0.0.1:9" }
const clients = Layer.succeed(
  OAuth2Clients.OAuth2Clients,
  OAuth2Clients.OAuth2Clients.of({
    forInstance: (instance) =>
      OAuth2Clients.make({
        connectors: {
          "oauth-api": {
            issuer: issuer.current,
            clientId: TestProvider.client.id,
            clientSecret: TestProvider.client.secret,
            scopes: ["openid"]
          }
        }
      }).forInstance(instance)
  })
)

const PatchbayLive = Patchbay.layer({
  store: SqlStore.layerPg({ url: Redacted.make(databaseUrl), maxConnections: 4 }),
  connectors: [PostgresConnector.connector, oauthConnector],
  keys: "ephemeral",
  egress: { allowLoopback: true },
  refresher: OAuth2.layer({ allowInsecureRequests: true }).pipe(Layer.provide(clients))
})

const AuthLive = Authentication.layerStatic({ actor: { orgId, userId }, role: "admin" })

const ServerLive = HttpLayerRouter.serve(ConnectUi.layer(), { disableLogger: true, disableListenLog: true }).pipe(
  Layer.provide(Layer.merge(PatchbayLive, AuthLive)),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
)

/** The running server's URL, the provider, and Chromium. */
class Harness extends Context.Tag("connect-ui/test/Harness")<
  Harness,
  { readonly baseUrl: string; readonly issuer: string; readonly browser: Browser }
>() {}

const HarnessLive = Layer.scoped(
  Harness,
  Effect.gen(function* () {
    const server = yield* HttpServer.HttpServer
    const address = server.address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("the server is not on TCP")
    const baseUrl = `http://127.0.0.1:${address.port}`
    const provider = yield* Effect.acquireRelease(
      Effect.promise(() => TestProvider.start(`${baseUrl}${ConnectUi.callbackPath}`)),
      (p) => Effect.promise(p.close)
    )
    issuer.current = provider.issuer
    const browser = yield* Effect.acquireRelease(
      Effect.promise(() => chromium.launch({ executablePath: chromiumPath! })),
      (b) => Effect.promise(() => b.close())
    )
    return { baseUrl, issuer: provider.issuer, browser }
  })
).pipe(Layer.provideMerge(ServerLive))

/** A fresh browser context for a test; requests leaving 127.0.0.1 are refused and recorded. */
const withPage = <A>(
  use: (
    page: Page,
    harness: { readonly baseUrl: string; readonly issuer: string; readonly external: Array<string> }
  ) => Promise<A>
) =>
  Effect.gen(function* () {
    const harness = yield* Harness
    const context = yield* Effect.acquireRelease(
      Effect.promise(() => harness.browser.newContext({ viewport: { width: 1100, height: 720 } })),
      (c: BrowserContext) => Effect.promise(() => c.close())
    )
    const external: Array<string> = []
    yield* Effect.promise(() =>
      context.route("**/*", (route) => {
        const url = route.request().url()
        if (url.startsWith("http://127.0.0.1:")) return route.continue()
        external.push(url)
        return route.abort()
      })
    )
    const page = yield* Effect.promise(() => context.newPage())
    return yield* Effect.promise(() => use(page, { baseUrl: harness.baseUrl, issuer: harness.issuer, external }))
  }).pipe(Effect.scoped)

const shot = async (page: Page, name: string) => {
  if (screenshots) await page.screenshot({ path: `${imagesDir}${name}.png` })
}

const row = (page: Page, name: string) => page.locator("tr", { has: page.locator("td.name", { hasText: name }) })

const role = "connect_ui_app"
const firstPassword = "first-Secret-1"
const secondPassword = "second-Secret-2"

/** Fills the Connect PostgreSQL form. */
const fillPostgres = async (
  page: Page,
  baseUrl: string,
  name: string,
  fields: Partial<Record<string, string>> = {}
) => {
  await page.goto(`${baseUrl}/`)
  await page.getByRole("link", { name: "Connect PostgreSQL" }).click()
  await page.fill("#f-instance_name", name)
  const values: Record<string, string> = {
    "configuration.host": "127.0.0.1",
    "configuration.port": new URL(databaseUrl).port,
    "configuration.database": role,
    "credentials.username": role,
    "credentials.password": firstPassword,
    ...fields
  }
  for (const [field, value] of Object.entries(values)) await page.fill(`[name="${field}"]`, value)
}

describe.skipIf(!runBrowserTests)("Connect UI in Chromium", () => {
  layer(HarnessLive, { excludeTestServices: true, timeout: "120 seconds" })((it) => {
    it.effect(
      "connects a PostgreSQL instance, shows it in My Connections and tests it",
      () =>
        withPage(async (page, { baseUrl, external }) => {
          psql(`DROP DATABASE IF EXISTS ${role} WITH (FORCE)`)
          psql(`DROP ROLE IF EXISTS ${role}`)
          psql(`CREATE ROLE ${role} LOGIN PASSWORD '${firstPassword}'`)
          psql(`CREATE DATABASE ${role} OWNER ${role}`)

          await page.goto(`${baseUrl}/`)
          assert.strictEqual(await page.locator("h1").textContent(), "Predefined Apps")
          assert.deepStrictEqual(await page.locator(".apps h2").allTextContents(), ["PostgreSQL", "OAuth API"])
          await shot(page, "predefined-apps")

          await fillPostgres(page, baseUrl, "pg-reporting-stage")
          assert.strictEqual(await page.getAttribute('[name="credentials.password"]', "type"), "password")
          assert.strictEqual(await page.getAttribute('[name="credentials.username"]', "type"), "text")
          assert.include(await page.locator("form").textContent(), "a number between 1 and 65535")
          await shot(page, "connect-postgres")
          await page.getByRole("button", { name: "Save" }).click()

          await page.waitForURL(`${baseUrl}/connections?notice=saved`)
          const saved = row(page, "pg-reporting-stage")
          assert.strictEqual(await saved.locator("td").nth(1).textContent(), "PostgreSQL")
          assert.strictEqual(await saved.locator(".status").first().textContent(), "active")
          const credential = await saved.locator("td").nth(5).textContent()
          assert.include(credential, "password:")
          assert.notInclude(credential, firstPassword)

          await saved.getByRole("button", { name: "Test" }).click()
          await page.waitForURL(`${baseUrl}/connections?notice=tested`)
          const tested = row(page, "pg-reporting-stage")
          assert.strictEqual(await tested.locator("td").nth(3).locator(".status").textContent(), "success")
          assert.include(await tested.locator(".test-message").textContent(), "PostgreSQL")
          await shot(page, "my-connections")
          assert.deepStrictEqual(external, [])
        }),
      120_000
    )

    it.effect(
      "a password changed outside shows reconnect required; a new credential makes it active again",
      () =>
        withPage(async (page, { baseUrl }) => {
          psql(`ALTER ROLE ${role} PASSWORD '${secondPassword}'`)
          await page.goto(`${baseUrl}/connections`)
          await row(page, "pg-reporting-stage").getByRole("button", { name: "Test" }).click()
          await page.waitForURL(`${baseUrl}/connections?notice=tested`)
          const refused = row(page, "pg-reporting-stage")
          assert.strictEqual(await refused.locator(".status").first().textContent(), "reconnect required")
          assert.strictEqual(await refused.locator("td").nth(3).locator(".status").textContent(), "failed")

          await refused.getByRole("link", { name: "Reconnect" }).click()
          assert.strictEqual(await page.getAttribute('[name="credentials.password"]', "type"), "password")
          await page.fill('[name="credentials.username"]', role)
          await page.fill('[name="credentials.password"]', secondPassword)
          await shot(page, "reconnect")
          await page.getByRole("button", { name: "Save and test" }).click()
          await page.waitForURL(`${baseUrl}/connections?notice=reconnected`)
          const active = row(page, "pg-reporting-stage")
          assert.strictEqual(await active.locator(".status").first().textContent(), "active")
          assert.strictEqual(await active.locator("td").nth(3).locator(".status").textContent(), "success")
          assert.strictEqual(await active.getByRole("link", { name: "Reconnect" }).count(), 0)

          // View: the configuration, and both credential versions (write-once), masked.
          await active.getByRole("link", { name: "pg-reporting-stage" }).click()
          assert.strictEqual(await page.locator("h1").textContent(), "pg-reporting-stage")
          assert.include(await page.locator("table.configuration").textContent(), "127.0.0.1")
          const versions = page.locator("table.credentials tbody tr")
          assert.deepStrictEqual(await versions.locator("td:first-child").allTextContents(), ["2", "1"])
          const shown = await page.locator("table.credentials").textContent()
          assert.notInclude(shown, firstPassword)
          assert.notInclude(shown, secondPassword)
          await shot(page, "view")
        }),
      120_000
    )

    it.effect(
      "connects an OAuth2 instance through oidc-provider's sign-in and consent pages",
      () =>
        withPage(async (page, { baseUrl, issuer: providerIssuer }) => {
          await page.goto(`${baseUrl}/`)
          await page.getByRole("link", { name: "Connect OAuth API" }).click()
          assert.strictEqual(await page.locator('[name^="credentials."]').count(), 0)
          await page.fill("#f-instance_name", "oauth-api-team1")
          await page.getByRole("button", { name: "Save and sign in" }).click()

          await page.waitForURL(`${providerIssuer}/**`)
          await page.fill('input[name="login"]', "test-user")
          await page.fill('input[name="password"]', "any password")
          await page.getByRole("button", { name: "Sign-in" }).click()
          await page.getByRole("button", { name: "Continue" }).click()

          await page.waitForURL(`${baseUrl}/connections?notice=connected`)
          const connected = row(page, "oauth-api-team1")
          assert.strictEqual(await connected.locator("td").nth(1).textContent(), "OAuth API")
          assert.strictEqual(await connected.locator(".status").first().textContent(), "active")
          assert.include(await connected.locator("td").nth(5).textContent(), "access_token:")
          assert.notStrictEqual(await connected.locator("td").nth(4).textContent(), "—")
          await shot(page, "my-connections-oauth")
        }),
      120_000
    )

    it.effect(
      "says in words why a connection was not saved: NameTaken, field messages, DuplicateAccount",
      () =>
        withPage(async (page, { baseUrl }) => {
          await fillPostgres(page, baseUrl, "  PG-Reporting-Stage ", { "credentials.password": secondPassword })
          await page.getByRole("button", { name: "Save" }).click()
          assert.include(await page.locator(".alert.error").textContent(), 'named "PG-Reporting-Stage" already exists')

          await fillPostgres(page, baseUrl, "pg-invalid", { "configuration.host": "", "configuration.port": "70000" })
          await page.getByRole("button", { name: "Save" }).click()
          const messages = await page.locator(".field-error").allTextContents()
          assert.include(messages.join("\n"), "host must not be empty")
          assert.include(messages.join("\n"), "port must be between 1 and 65535")
          await shot(page, "connect-errors")

          await fillPostgres(page, baseUrl, "pg-reporting-copy", { "credentials.password": secondPassword })
          await page.getByRole("button", { name: "Save" }).click()
          assert.include(await page.locator(".alert.error").textContent(), "account is already connected")
          await page.goto(`${baseUrl}/connections`)
          assert.strictEqual(await row(page, "pg-reporting-copy").count(), 0)
        }),
      120_000
    )

    it.effect(
      "escapes a malicious connection name; refuses a POST without the form token or from another origin; delete offers to disable first",
      () =>
        withPage(async (page, { baseUrl }) => {
          const name = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">"'&`
          const dialogs: Array<string> = []
          page.on("dialog", (dialog) => {
            dialogs.push(dialog.message())
            void dialog.dismiss()
          })
          await fillPostgres(page, baseUrl, name, { "credentials.username": "nobody" })
          await page.getByRole("button", { name: "Save" }).click()
          await page.waitForURL(`${baseUrl}/connections?notice=saved`)

          const raw = await (await page.request.get(`${baseUrl}/connections`)).text()
          assert.include(
            raw,
            "&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;&quot;&#39;&amp;"
          )
          assert.notInclude(raw, "<script>window.__pwned")
          assert.strictEqual(await page.locator("main script, main img").count(), 0)
          assert.strictEqual(await page.evaluate("window.__pwned"), undefined)
          const target = row(page, "window.__pwned")
          assert.strictEqual(await target.locator("td.name").textContent(), name)
          const id = (await target.getAttribute("data-instance-id"))!

          const token = (await page.locator('input[name="_csrf"]').first().getAttribute("value"))!
          const post = (form: Record<string, string>, headers: Record<string, string> = {}) =>
            page.request.post(`${baseUrl}/connections/${id}/delete`, { form, headers, maxRedirects: 0 })
          assert.strictEqual((await post({})).status(), 403)
          assert.strictEqual((await post({ _csrf: "x".repeat(43) })).status(), 403)
          assert.strictEqual((await post({ _csrf: token }, { origin: "http://evil.example" })).status(), 403)
          assert.strictEqual((await post({ _csrf: token }, { "sec-fetch-site": "cross-site" })).status(), 403)
          await page.goto(`${baseUrl}/connections`)
          assert.strictEqual(await row(page, "window.__pwned").count(), 1)

          await row(page, "window.__pwned").getByRole("link", { name: "Delete" }).click()
          assert.strictEqual(await page.getByRole("button", { name: "Disable instead" }).count(), 1)
          await shot(page, "delete")
          await page.getByRole("button", { name: "Disable instead" }).click()
          await page.waitForURL(`${baseUrl}/connections?notice=disabled`)
          assert.strictEqual(await row(page, "window.__pwned").locator(".status").first().textContent(), "disabled")
          await row(page, "window.__pwned").getByRole("link", { name: "Delete" }).click()
          await page.getByRole("button", { name: "Delete permanently" }).click()
          await page.waitForURL(`${baseUrl}/connections?notice=deleted`)
          assert.strictEqual(await row(page, "window.__pwned").count(), 0)
          assert.deepStrictEqual(dialogs, [])
        }),
      120_000
    )
  })
})
