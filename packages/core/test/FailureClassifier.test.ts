import { assert, describe, it } from "@effect/vitest"
import * as ActivityError from "../src/ActivityError.js"
import type { AuthType } from "../src/ConnectorDescriptor.js"
import * as DomainError from "../src/DomainError.js"
import * as DriverError from "../src/DriverError.js"
import * as FailureClassifier from "../src/FailureClassifier.js"

const instance = (authType: AuthType): FailureClassifier.InstanceRef => ({
  id: "0190a000-0000-7000-8000-0000000000e1",
  instanceName: "reporting",
  connectorKey: "postgres",
  authType
})

const auth = (kind: DriverError.AuthFailureKind) => new DriverError.AuthFailed({ kind, detail: "refused" })

/** Every failure of the union and the outcome docs/errors.md gives it. */
const table: ReadonlyArray<readonly [FailureClassifier.Failure, ActivityError.ActivityError["_tag"]]> = [
  [auth("invalid_credentials"), "ReconnectRequired"],
  [auth("token_expired"), "ReconnectRequired"],
  [auth("token_revoked"), "ReconnectRequired"],
  [auth("insufficient_permissions"), "ActivityRejected"],
  [new DriverError.Unreachable({ target: "db", detail: "ECONNREFUSED" }), "TransientFailure"],
  [new DriverError.TimedOut({ target: "db", afterMillis: 10 }), "TransientFailure"],
  [new DriverError.RateLimited({ target: "api" }), "TransientFailure"],
  [new DriverError.ProviderFailure({ target: "api", status: 503, detail: "down" }), "TransientFailure"],
  [new DriverError.RequestRejected({ target: "db", detail: "syntax error" }), "ActivityRejected"],
  [new DomainError.InstanceNotFound({ instanceId: "i" }), "ActivityRejected"],
  [new DomainError.InstanceDisabled({ instanceId: "i", instanceName: "n" }), "ActivityRejected"],
  [new DomainError.ConnectorNotFound({ connector: "c" }), "ActivityRejected"],
  [new DomainError.OperationUnsupported({ connector: "c", operation: "send_sms" }), "ActivityRejected"],
  [new DomainError.NameTaken({ instanceName: "n", connector: "c" }), "ActivityRejected"],
  [new DomainError.DuplicateAccount({ connector: "c", existingInstanceId: "i" }), "ActivityRejected"],
  [new DomainError.InvalidConfiguration({ connector: "c", detail: "host is missing" }), "ActivityRejected"],
  [new DomainError.InvalidInput({ detail: "sql is missing" }), "ActivityRejected"],
  [new DomainError.CredentialNotFound({ instanceId: "i", scopes: ["organization:o"] }), "ReconnectRequired"],
  [
    new DomainError.CredentialExpired({ instanceId: "i", credentialId: "c", expiredAt: new Date(0) }),
    "ReconnectRequired"
  ],
  [new DomainError.CredentialCorrupted({ credentialId: "c", detail: "tag mismatch" }), "ReconnectRequired"],
  [new DomainError.ScopeForbidden({ scope: "user:u" }), "ActivityRejected"],
  [new DomainError.BatchTooLarge({ size: 51, max: 50 }), "ActivityRejected"],
  [new DomainError.DdlNeedsReason({ tables: ["t"] }), "ActivityRejected"],
  [new DomainError.DdlRejected({ detail: "not DDL" }), "ActivityRejected"],
  [new DomainError.EgressDenied({ host: "h", address: "169.254.169.254", rule: "metadata" }), "ActivityRejected"],
  [new DomainError.StorageError({ operation: "select", detail: "connection lost" }), "TransientFailure"]
]

/** Every tag of the union but the outcomes themselves: a new failure makes this fail to compile. */
const tags: Record<Exclude<FailureClassifier.Failure["_tag"], ActivityError.ActivityError["_tag"]>, true> = {
  AuthFailed: true,
  Unreachable: true,
  TimedOut: true,
  RateLimited: true,
  ProviderFailure: true,
  RequestRejected: true,
  InstanceNotFound: true,
  InstanceDisabled: true,
  ConnectorNotFound: true,
  OperationUnsupported: true,
  NameTaken: true,
  DuplicateAccount: true,
  InvalidConfiguration: true,
  InvalidInput: true,
  CredentialNotFound: true,
  CredentialExpired: true,
  CredentialCorrupted: true,
  ScopeForbidden: true,
  BatchTooLarge: true,
  DdlNeedsReason: true,
  DdlRejected: true,
  EgressDenied: true,
  StorageError: true
}

describe("FailureClassifier.classify", () => {
  it("the table covers every failure of the union", () => {
    assert.deepStrictEqual(new Set(table.map(([failure]) => failure._tag)), new Set(Object.keys(tags)))
  })

  it("gives every failure of the union the outcome of the error model", () => {
    for (const [failure, expected] of table) {
      const outcome = FailureClassifier.classify(instance("basic"), failure)
      assert.strictEqual(outcome._tag, expected, failure._tag)
      assert.strictEqual(outcome.retryable, expected === "TransientFailure", failure._tag)
      assert.strictEqual(FailureClassifier.needsReconnect(instance("basic"), failure), expected === "ReconnectRequired")
      if (outcome._tag !== "TransientFailure") assert.strictEqual(outcome.reason, failure.message)
    }
  })

  it("asks to reconnect an authorization-code instance and to replace the credentials of any other", () => {
    const failures = table.filter(([, expected]) => expected === "ReconnectRequired").map(([failure]) => failure)
    const expectations: ReadonlyArray<readonly [AuthType, ActivityError.ReconnectAction]> = [
      ["oauth2_authorization_code", "reconnect"],
      ["oauth2_client_credentials", "replace_credentials"],
      ["database_password", "replace_credentials"],
      ["basic", "replace_credentials"],
      ["api_key", "replace_credentials"],
      ["bearer", "replace_credentials"]
    ]
    for (const failure of failures) {
      for (const [authType, action] of expectations) {
        const outcome = FailureClassifier.classify(instance(authType), failure)
        assert.strictEqual(outcome._tag, "ReconnectRequired")
        if (outcome._tag !== "ReconnectRequired") continue
        assert.strictEqual(outcome.action, action, `${failure._tag} on ${authType}`)
        assert.strictEqual(outcome.instanceName, "reporting")
        assert.strictEqual(outcome.connector, "postgres")
        assert.isUndefined(outcome.reconnectUrl)
      }
    }
  })

  it("keeps the provider's Retry-After as the hint of a transient failure", () => {
    const limited = FailureClassifier.classify(
      instance("api_key"),
      new DriverError.RateLimited({ target: "api", retryAfterMillis: 2_000 })
    )
    assert.strictEqual(limited._tag, "TransientFailure")
    if (limited._tag === "TransientFailure") assert.strictEqual(limited.retryAfterMillis, 2_000)
    const down = FailureClassifier.classify(
      instance("api_key"),
      new DriverError.Unreachable({ target: "a", detail: "x" })
    )
    if (down._tag === "TransientFailure") assert.isUndefined(down.retryAfterMillis)
  })

  it("passes an outcome already decided through unchanged, reconnect URL included", () => {
    const refused = new ActivityError.ReconnectRequired({
      instanceId: "i",
      instanceName: "crm",
      connector: "oauth-api",
      reason: "the authorization server refused the refresh token",
      action: "reconnect",
      reconnectUrl: "https://auth.example/authorize?state=s"
    })
    assert.strictEqual(FailureClassifier.classify(instance("basic"), refused), refused)
    const transient = new ActivityError.TransientFailure({ instanceId: "i", reason: "busy" })
    assert.strictEqual(FailureClassifier.classify(instance("basic"), transient), transient)
    const rejected = new ActivityError.ActivityRejected({ instanceId: "i", reason: "no" })
    assert.strictEqual(FailureClassifier.classify(instance("basic"), rejected), rejected)
  })
})
