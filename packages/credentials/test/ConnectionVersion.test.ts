import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Connection from "../src/Connection.js"
import { CredentialVault } from "../src/CredentialVault.js"
import { admin, as, createInstance, memory, orgA } from "./fixtures.js"

describe("Connection.open and credential versions", () => {
  it.effect("the driver context names the credential version in use, and a new version changes it", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const instance = yield* createInstance("Analytics")
      const first = yield* vault.create({
        instanceId: instance.id,
        scope: { type: "organization", id: orgA },
        credentials: { username: "reader", password: "s3cret" }
      })
      const opened = yield* Connection.open(instance)
      assert.deepStrictEqual(opened.context.credential, {
        id: first.id,
        version: first.version,
        scope: `organization:${orgA}`
      })
      const next = yield* vault.supersede(first, {
        credentials: { username: "reader", password: "s3cret" },
        reason: "password_rotation"
      })
      const reopened = yield* Connection.open(instance)
      assert.deepStrictEqual(reopened.context.credential, {
        id: next.id,
        version: 2,
        scope: `organization:${orgA}`
      })
      assert.notStrictEqual(next.id, first.id)
    }).pipe(as(admin), Effect.provide(memory()))
  )
})
