import { assert, describe, it } from "@effect/vitest"
import { type ConnectorDescriptor, Ids } from "@patchbay/core"
import { Schema } from "effect"
import * as Fingerprint from "../src/Fingerprint.js"

const descriptor = (accountFields: ReadonlyArray<string>) =>
  ({
    id: Ids.ConnectorId.make("00000000-0000-4000-8000-0000000000c3"),
    key: "mail-api",
    name: "Mail API",
    version: "1.0.0",
    authProfiles: ["oauth2_authorization_code"],
    operations: ["test_connection"],
    configuration: Schema.Struct({ base_url: Schema.String }),
    credentials: Schema.Struct({}),
    secretFields: [],
    accountFields,
    supportsSchemaDiscovery: false
  }) satisfies ConnectorDescriptor.ConnectorDescriptor

const http = descriptor(["base_url", "api_key", "account_identity"])
const configuration = { base_url: "https://mail.example.test" }
const identity = (subject: string) => JSON.stringify(["oidc", "https://accounts.example.test", subject])

describe("account identity", () => {
  it("two identities at one base URL differ; the base URL does not enter", () => {
    const a = Fingerprint.canonical(http, { configuration, credentials: { account_identity: identity("a") } })
    const b = Fingerprint.canonical(http, { configuration, credentials: { account_identity: identity("b") } })
    const elsewhere = Fingerprint.canonical(http, {
      configuration: { base_url: "https://other.example.test" },
      credentials: { account_identity: identity("a") }
    })
    assert.isString(a)
    assert.notStrictEqual(a, b)
    assert.strictEqual(a, elsewhere)
  })

  it("a null identity is an unknown account; without the field the account fields apply", () => {
    assert.isNull(Fingerprint.canonical(http, { configuration, credentials: { account_identity: null } }))
    assert.isNull(Fingerprint.canonical(http, { configuration, credentials: { account_identity: " " } }))
    const byKey = Fingerprint.canonical(http, { configuration, credentials: { api_key: "k1" } })
    assert.include(byKey ?? "", "k1")
    assert.include(byKey ?? "", "mail.example.test")
  })

  it("a descriptor that does not list the field ignores it", () => {
    const plain = descriptor(["base_url"])
    assert.strictEqual(
      Fingerprint.canonical(plain, { configuration, credentials: { account_identity: identity("a") } }),
      Fingerprint.canonical(plain, { configuration, credentials: {} })
    )
  })
})
