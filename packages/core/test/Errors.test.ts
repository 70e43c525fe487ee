import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as ActivityError from "../src/ActivityError.js"
import * as DomainError from "../src/DomainError.js"
import * as DriverError from "../src/DriverError.js"

describe("errors", () => {
  it("say whether a retry can help", () => {
    assert.isFalse(new DriverError.AuthFailed({ kind: "invalid_credentials", detail: "password rejected" }).retryable)
    assert.isTrue(new DriverError.Unreachable({ target: "db:5432", detail: "ECONNREFUSED" }).retryable)
    assert.isTrue(new DriverError.RateLimited({ target: "api", retryAfterMillis: 2000 }).retryable)
    assert.isFalse(new DomainError.InstanceDisabled({ instanceId: "i", instanceName: "n" }).retryable)
    assert.isTrue(new DomainError.StorageError({ operation: "insert", detail: "connection lost" }).retryable)
    assert.isFalse(
      new ActivityError.ReconnectRequired({
        instanceId: "i",
        instanceName: "pg-reporting-stage",
        connector: "postgres",
        reason: "password rejected",
        action: "replace_credentials"
      }).retryable
    )
  })

  it("carry messages a person can act on", () => {
    assert.strictEqual(
      new DriverError.RateLimited({ target: "api.example.com", retryAfterMillis: 2500 }).message,
      "api.example.com is rate limiting requests; retry after 3 s"
    )
    assert.strictEqual(
      new ActivityError.ReconnectRequired({
        instanceId: "i",
        instanceName: "gmail-prod-ankit",
        connector: "gmail",
        reason: "the refresh token was revoked",
        action: "reconnect",
        reconnectUrl: "https://host/reconnect"
      }).message,
      'Connection "gmail-prod-ankit" (gmail) needs attention: the refresh token was revoked. Please reconnect it at https://host/reconnect.'
    )
  })

  it.effect("survive a round trip through their schema (they cross workflow boundaries)", () =>
    Effect.gen(function* () {
      const error = new ActivityError.TransientFailure({ instanceId: "i", reason: "timed out", retryAfterMillis: 100 })
      const encoded = yield* Schema.encode(ActivityError.ActivityError)(error)
      const decoded = yield* Schema.decodeUnknown(ActivityError.ActivityError)(JSON.parse(JSON.stringify(encoded)))
      assert.strictEqual(decoded._tag, "TransientFailure")
      assert.isTrue(decoded.retryable)
      assert.strictEqual(decoded.message, error.message)
    })
  )
})
