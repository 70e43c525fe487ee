/**
 * The provider catalog: every entry decodes, yields a descriptor on the HTTP driver (unless all its
 * auth modes are ones the driver does not offer yet), registers beside the ready-made descriptors,
 * and docs/catalog.md is what the generator would write today.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { ConnectorRegistry, EgressPolicy } from "@patchbay/core"
import { Effect, Layer, Option, Schema } from "effect"
import { Catalog, HttpConnector } from "../src/index.js"
import { render } from "../src/internal/catalog/markdown.js"

/** Auth modes the HTTP driver does not offer (yet). */
const isPending = (mode: Catalog.AuthMode) => Option.isNone(Catalog.profileOf(mode))

/** The URL-valued facts of an entry: base URL, OAuth2 endpoints, identity, docs links, examples of base URLs, source. */
const urlsOf = (entry: Catalog.Entry): ReadonlyArray<string> => [
  ...(entry.baseUrl === undefined ? [] : [entry.baseUrl]),
  ...Object.values(entry.oauth2 ?? {}).filter(
    (value): value is string => typeof value === "string" && value.includes("://")
  ),
  ...(entry.identity === undefined || entry.identity.endpoint.startsWith("/") ? [] : [entry.identity.endpoint]),
  ...Object.values(entry.fields).flatMap((field) => (field.docs === undefined ? [] : [field.docs])),
  ...(entry.fields.base_url?.example === undefined ? [] : [entry.fields.base_url.example]),
  entry.checked.source
]

describe("Catalog", () => {
  it("holds at least 60 entries across the guide's categories, with unique keys and ids", () => {
    assert.isAtLeast(Catalog.entries.length, 60)
    const decoded = Schema.decodeUnknownEither(Catalog.Catalog)(Catalog.entries)
    assert.isTrue(decoded._tag === "Right", decoded._tag === "Left" ? String(decoded.left) : "")
    assert.strictEqual(new Set(Catalog.entries.map((entry) => entry.key)).size, Catalog.entries.length)
    const keys = new Set(Catalog.entries.map((entry) => entry.key))
    for (const key of [
      "gmail",
      "microsoft-outlook",
      "zoho-mail",
      "sendgrid",
      "mailgun",
      "postmark",
      "google-drive",
      "onedrive",
      "dropbox",
      "box",
      "aws-textract",
      "google-cloud-vision",
      "azure-ai-vision",
      "twilio",
      "slack",
      "microsoft-teams",
      "telegram",
      "whatsapp-cloud",
      "bamboohr",
      "personio",
      "hibob",
      "salesforce",
      "hubspot",
      "zoho-crm",
      "pipedrive",
      "github",
      "gitlab",
      "jira",
      "linear",
      "stripe"
    ]) {
      assert.isTrue(keys.has(key), `${key} is missing`)
    }
  })

  it("refuses duplicate keys and an OAuth2 entry without an authorization endpoint", () => {
    const [first] = Catalog.entries
    assert.isTrue(Schema.decodeUnknownEither(Catalog.Catalog)([first, first])._tag === "Left")
    const gmail = Catalog.entries.find((entry) => entry.key === "gmail")
    assert.isDefined(gmail)
    const { authorizationEndpoint: _, ...withoutAuthorize } = gmail?.oauth2 ?? { authorizationEndpoint: "" }
    assert.isTrue(Schema.decodeUnknownEither(Catalog.Entry)({ ...gmail, oauth2: withoutAuthorize })._tag === "Left")
    assert.isTrue(
      Schema.decodeUnknownEither(Catalog.Entry)({ ...gmail, baseUrl: "http://gmail.googleapis.com" })._tag === "Left"
    )
  })

  it("every entry decodes on its own and yields a descriptor unless its auth modes are all pending", () => {
    for (const entry of Catalog.entries) {
      const decoded = Schema.decodeUnknownEither(Catalog.Entry)(entry)
      assert.isTrue(decoded._tag === "Right", `${entry.key}: ${decoded._tag === "Left" ? String(decoded.left) : ""}`)
      const descriptor = Catalog.descriptor(entry)
      if (entry.auth.every(isPending)) {
        assert.isTrue(Option.isNone(descriptor), entry.key)
      } else {
        assert.isTrue(Option.isSome(descriptor), entry.key)
        const found = Option.getOrThrow(descriptor)
        assert.strictEqual(found.key, entry.key)
        assert.strictEqual(found.id, entry.id)
        assert.isAbove(found.authProfiles.length, 0)
      }
    }
    const served = Catalog.entries.filter((entry) => !entry.auth.every(isPending))
    assert.strictEqual(Catalog.descriptors.length, served.length)
    assert.isTrue(
      Catalog.entries
        .filter((entry) => !served.includes(entry))
        .every((entry) => entry.key === "aws-textract" || entry.key === "telegram")
    )
  })

  it("every URL in the catalog is https", () => {
    for (const entry of Catalog.entries) {
      const urls = urlsOf(entry)
      assert.isAbove(urls.length, 0, entry.key)
      for (const url of urls) assert.strictEqual(new URL(url).protocol, "https:", `${entry.key}: ${url}`)
    }
  })

  it("every OAuth2 entry has its endpoints and every secret field its metadata", () => {
    for (const entry of Catalog.entries) {
      if (entry.auth.includes("oauth2_authorization_code")) {
        assert.isDefined(entry.oauth2?.authorizationEndpoint, entry.key)
        assert.isDefined(entry.oauth2?.tokenEndpoint, entry.key)
        const registration = Option.getOrThrow(Catalog.registration(entry))
        assert.strictEqual(registration.authorizationEndpoint, entry.oauth2?.authorizationEndpoint)
        assert.strictEqual(registration.tokenEndpoint, entry.oauth2?.tokenEndpoint)
      }
      if (entry.auth.includes("oauth2_client_credentials")) assert.isDefined(entry.oauth2?.tokenEndpoint, entry.key)
      const descriptor = Catalog.descriptor(entry)
      if (Option.isSome(descriptor)) {
        const credentialSecrets = descriptor.value.secretFields.filter(
          (field) => !["access_token", "refresh_token", "id_token", "client_secret"].includes(field)
        )
        for (const field of credentialSecrets) {
          assert.isTrue(entry.fields[field]?.secret, `${entry.key}: fields.${field} must exist and be secret`)
        }
      }
      for (const [name, field] of Object.entries(entry.fields)) {
        if (field.pattern !== undefined && field.example !== undefined && !field.example.endsWith("…")) {
          assert.match(field.example, new RegExp(field.pattern), `${entry.key}: fields.${name}`)
        }
      }
    }
  })

  it("a comma-separated provider's scopes reach the registration pre-joined", () => {
    const slack = Catalog.entries.find((entry) => entry.key === "slack")
    assert.isDefined(slack)
    if (slack === undefined) return
    assert.deepStrictEqual(Option.getOrThrow(Catalog.registration(slack)).scopes, ["chat:write,channels:read"])
  })

  it.effect("the descriptors register beside the ready-made ones and accept their default configuration", () =>
    Effect.gen(function* () {
      const registry = yield* ConnectorRegistry.ConnectorRegistry
      for (const entry of Catalog.entries) {
        const descriptor = Catalog.descriptor(entry)
        if (Option.isNone(descriptor)) continue
        const found = yield* registry.get(entry.key)
        assert.strictEqual(found.descriptor.id, entry.id)
        const baseUrl = entry.baseUrl === undefined ? { base_url: entry.fields.base_url?.example } : {}
        const configuration = yield* ConnectorRegistry.validateConfiguration(descriptor.value, baseUrl)
        assert.strictEqual(configuration.base_url, entry.baseUrl ?? entry.fields.base_url?.example)
      }
      assert.strictEqual(registry.list.length, Catalog.descriptors.length + HttpConnector.descriptors.length)
    }).pipe(
      Effect.provide(
        ConnectorRegistry.layer(
          [...HttpConnector.descriptors, ...Catalog.descriptors].map(HttpConnector.connector)
        ).pipe(Layer.provide(EgressPolicy.layer()))
      )
    )
  )

  it("the JSON Schema describes an array of entries", () => {
    const schema = Catalog.jsonSchema as { readonly type?: unknown; readonly items?: unknown }
    assert.strictEqual(schema.type, "array")
    assert.isDefined(schema.items)
  })

  it("docs/catalog.md is what `pnpm --filter @patchbay/connector-http catalog:doc` writes today", () => {
    const path = fileURLToPath(new URL("../../../docs/catalog.md", import.meta.url))
    assert.strictEqual(
      readFileSync(path, "utf8"),
      render(Catalog.entries),
      "docs/catalog.md is stale: run pnpm --filter @patchbay/connector-http catalog:doc"
    )
  })
})
