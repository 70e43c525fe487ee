import { assert, describe, it } from "@effect/vitest"
import { type ConnectorDescriptor, Ids } from "@patchbay/core"
import { FastCheck as fc, Redacted, Schema } from "effect"
import * as Mask from "../src/Mask.js"

const descriptor = {
  id: Ids.ConnectorId.make("00000000-0000-4000-8000-000000000002"),
  key: "demo-api",
  name: "Demo API",
  version: "1.0.0",
  authProfiles: ["api_key"],
  operations: ["test_connection"],
  configuration: Schema.Struct({}),
  credentials: Schema.Struct({}),
  secretFields: ["password", "apiKey"],
  accountFields: ["username", "accountId"],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor.ConnectorDescriptor

const mask = (values: Record<string, unknown>) => Mask.mask(descriptor, Redacted.make(values))

describe("Mask", () => {
  it("shows identifying fields and masks secret ones", () => {
    assert.deepStrictEqual(
      mask({ username: "reader", password: "hunter2", apiKey: "sk_live_0123456789abcdefWXYZ", accountId: 42 }),
      {
        accountId: "42",
        apiKey: "••••••••WXYZ",
        password: "••••••••",
        username: "reader"
      }
    )
  })

  it("never shows a suffix of a password, however long", () => {
    assert.deepStrictEqual(mask({ password: "a-very-long-password-of-many-characters" }), { password: Mask.bullets })
  })

  it("masks fields named like secrets even when the descriptor forgets them, and never shows structures", () => {
    assert.deepStrictEqual(
      mask({ refresh_token: "abc", client_secret: "def", settings: { a: 1 }, tokens: ["x"], note: null }),
      {
        client_secret: "••••••••",
        refresh_token: "••••••••",
        settings: "{…}",
        tokens: "••••••••"
      }
    )
  })

  it.prop("never shows more than a 4-character suffix of a secret", [fc.string({ maxLength: 300 })], ([secret]) => {
    const masked = Mask.maskSecret(secret)
    assert.isTrue(masked.startsWith(Mask.bullets))
    const shown = masked.slice(Mask.bullets.length)
    assert.isAtMost(shown.length, 4)
    if (secret.length < 20) assert.strictEqual(shown, "")
    else assert.strictEqual(shown, secret.slice(-4))
  })
})
