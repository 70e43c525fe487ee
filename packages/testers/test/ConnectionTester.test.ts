import { assert, describe, it, layer } from "@effect/vitest"
import {
  ActivityError,
  Actor,
  AuditLog,
  ConnectorDriver,
  ConnectorInstances,
  DomainError,
  DriverError,
  FailureClassifier,
  Ids
} from "@patchbay/core"
import { CredentialRefresher, Credentials, CredentialVault } from "@patchbay/credentials"
import { Effect, Either, Layer, Redacted, Schema, TestClock } from "effect"
import * as ConnectionTester from "../src/ConnectionTester.js"

const orgId = "0190a000-0000-7000-8000-00000000000a"
const userId = "0190a000-0000-7000-8000-0000000000b1"

/**
 * A connector whose driver answers by the stored password: "good" works, "wrong" is refused,
 * "denied" lacks permissions, "down" is unreachable, "hang" never answers. It stands for a driver
 * (a port), not for a protocol: the real drivers are tested against real servers in their packages.
 */
const scripted = ConnectorDriver.make(
  {
    id: Ids.ConnectorId.make("00000000-0000-4000-8000-0000000000c1"),
    key: "scripted",
    name: "Scripted",
    version: "1.0.0",
    authProfiles: ["basic"],
    operations: ["test_connection", "health_check"],
    configuration: Schema.Struct({ endpoint: Schema.String }),
    credentials: Schema.Struct({ username: Schema.String, password: Schema.Redacted(Schema.String) }),
    secretFields: ["password"],
    accountFields: ["endpoint", "username"],
    supportsSchemaDiscovery: false
  },
  (() => {
    const answer = (password: Redacted.Redacted<string>): Effect.Effect<string, DriverError.DriverError> => {
      switch (Redacted.value(password)) {
        case "good":
          return Effect.succeed("server 1.0")
        case "wrong":
          return Effect.fail(new DriverError.AuthFailed({ kind: "invalid_credentials", detail: "password rejected" }))
        case "denied":
          return Effect.fail(new DriverError.AuthFailed({ kind: "insufficient_permissions", detail: "no access" }))
        case "down":
          return Effect.fail(new DriverError.Unreachable({ target: "scripted", detail: "ECONNREFUSED" }))
        default:
          return Effect.never
      }
    }
    return {
      test: (context) => answer(context.credentials.password),
      healthCheck: (context) => Effect.asVoid(answer(context.credentials.password))
    }
  })()
)

const TestLayer = ConnectionTester.layer.pipe(
  Layer.provideMerge(Credentials.layerMemory([scripted])),
  Layer.provideMerge(Actor.layer({ orgId, userId }))
)

/** A refresher that refuses the credential of every instance named "refused", as OAuth2 does after `invalid_grant`. */
const refusing = Layer.succeed(
  CredentialRefresher.CredentialRefresher,
  CredentialRefresher.CredentialRefresher.of({
    refresh: (instance, resolved) =>
      instance.instanceName === "refused"
        ? Effect.fail(
            new ActivityError.ReconnectRequired({
              instanceId: instance.id,
              instanceName: instance.instanceName,
              connector: instance.connectorKey,
              reason: "the authorization server refused the refresh token",
              action: "reconnect",
              reconnectUrl: "https://auth.example/authorize"
            })
          )
        : Effect.succeed(resolved),
    obtain: () => Effect.succeedNone
  })
)

const RefusingLayer = ConnectionTester.layer.pipe(
  Layer.provideMerge(Credentials.layerMemory([scripted], refusing)),
  Layer.provideMerge(Actor.layer({ orgId, userId }))
)

const instanceWith = (name: string, password: string | undefined, expiresAt?: Date) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const vault = yield* CredentialVault.CredentialVault
    const instance = yield* instances.create({
      connector: "scripted",
      instanceName: name,
      configuration: { endpoint: `https://${name}.example` }
    })
    if (password !== undefined) {
      yield* vault.create({
        instanceId: instance.id,
        scope: { type: "organization", id: orgId },
        credentials: { username: `${name}-user`, password },
        ...(expiresAt === undefined ? {} : { expiresAt })
      })
    }
    return instance.id
  })

describe("ConnectionTester.testConnection", () => {
  it.layer(TestLayer)((it) => {
    it.effect("records a success on the instance", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const instances = yield* ConnectorInstances.ConnectorInstances
        const id = yield* instanceWith("works", "good")
        const result = yield* tester.testConnection(id)
        assert.strictEqual(result.status, "success")
        assert.strictEqual(result.message, "server 1.0")
        const after = yield* instances.get(id)
        assert.strictEqual(after.testStatus, "success")
        assert.strictEqual(after.testMessage, "server 1.0")
        assert.deepStrictEqual(after.lastTestedAt, result.testedAt)
      })
    )

    it.effect("an authentication failure marks the instance reconnect_required; a later success clears it", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const instances = yield* ConnectorInstances.ConnectorInstances
        const vault = yield* CredentialVault.CredentialVault
        const id = yield* instanceWith("rotated", "wrong")
        const failed = yield* tester.testConnection(id)
        assert.strictEqual(failed.status, "failed")
        assert.strictEqual(failed.failure, "AuthFailed")
        assert.include(failed.message, "password rejected")
        assert.notInclude(failed.message, "wrong")
        assert.strictEqual((yield* instances.get(id)).status, "reconnect_required")
        assert.strictEqual((yield* instances.get(id)).testStatus, "failed")

        yield* vault.create({
          instanceId: id,
          scope: { type: "organization", id: orgId },
          credentials: { username: "rotated-user", password: "good" }
        })
        assert.strictEqual((yield* tester.testConnection(id)).status, "success")
        assert.strictEqual((yield* instances.get(id)).status, "active")
        const audit = yield* AuditLog.AuditLog
        const actions = (yield* audit.list(Ids.OrgId.make(orgId), {
          instanceId: Ids.InstanceId.make(id),
          limit: 20
        })).map((e) => e.action)
        assert.includeMembers(actions, ["instance.reconnect_required", "instance.active", "instance.tested"])
      })
    )

    it.effect("missing permissions and unreachable servers fail the test without asking to reconnect", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const instances = yield* ConnectorInstances.ConnectorInstances
        for (const [name, password, failure] of [
          ["no-perms", "denied", "AuthFailed"],
          ["offline", "down", "Unreachable"]
        ] as const) {
          const id = yield* instanceWith(name, password)
          const result = yield* tester.testConnection(id)
          assert.strictEqual(result.failure, failure)
          assert.strictEqual((yield* instances.get(id)).status, "active")
        }
      })
    )

    it.effect("no stored credential is a failed test that asks to reconnect, as an activity would", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const instances = yield* ConnectorInstances.ConnectorInstances
        const id = yield* instanceWith("empty", undefined)
        const result = yield* tester.testConnection(id)
        assert.strictEqual(result.status, "failed")
        assert.strictEqual(result.failure, "CredentialNotFound")
        assert.strictEqual((yield* instances.get(id)).status, "reconnect_required")
      })
    )

    it.effect("an expired credential is a failed test that asks to reconnect", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const instances = yield* ConnectorInstances.ConnectorInstances
        const id = yield* instanceWith("expiring", "good", new Date(Date.now() + 60_000))
        assert.strictEqual((yield* tester.testConnection(id)).status, "success")
        yield* TestClock.setTime(Date.now() + 120_000)
        const result = yield* tester.testConnection(id)
        assert.strictEqual(result.failure, "CredentialExpired")
        assert.strictEqual((yield* instances.get(id)).status, "reconnect_required")
      })
    )

    it.effect("marks reconnect_required exactly when the failure classifier says ReconnectRequired", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const instances = yield* ConnectorInstances.ConnectorInstances
        const cases: ReadonlyArray<readonly [string, string | undefined, FailureClassifier.Failure, string]> = [
          [
            "pin-wrong",
            "wrong",
            new DriverError.AuthFailed({ kind: "invalid_credentials", detail: "password rejected" }),
            "reconnect_required"
          ],
          [
            "pin-denied",
            "denied",
            new DriverError.AuthFailed({ kind: "insufficient_permissions", detail: "no access" }),
            "active"
          ],
          ["pin-down", "down", new DriverError.Unreachable({ target: "scripted", detail: "ECONNREFUSED" }), "active"],
          [
            "pin-empty",
            undefined,
            new DomainError.CredentialNotFound({ instanceId: "pin-empty", scopes: [] }),
            "reconnect_required"
          ]
        ]
        for (const [name, password, failure, status] of cases) {
          const id = yield* instanceWith(name, password)
          const result = yield* tester.testConnection(id)
          assert.strictEqual(result.failure, failure._tag, name)
          const instance = yield* instances.getInstance(id)
          assert.strictEqual(instance.status, status, name)
          // What an activity would fail with on the same failure agrees.
          const outcome = FailureClassifier.classify(instance, failure)
          assert.strictEqual(outcome._tag === "ReconnectRequired", status === "reconnect_required", name)
        }
      })
    )

    it.effect("an explicit scope the actor is not in is refused", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const id = yield* instanceWith("scoped", "good")
        const error = yield* Effect.flip(
          tester.testConnection(id, { scope: { type: "user", id: "0190a000-0000-7000-8000-0000000000b2" } })
        )
        assert.strictEqual(error._tag, "ScopeForbidden")
        const other = yield* Effect.flip(
          tester.testConnection(id).pipe(Effect.provide(Actor.layer({ orgId: "0190b000-0000-7000-8000-00000000000b" })))
        )
        assert.strictEqual(other._tag, "InstanceNotFound")
      })
    )
  })
})

describe("ConnectionTester.testConnection with a refresher", () => {
  // `layer`, not `it.layer`: @effect/vitest's `it.layer` callback reassigns the shared `it`, so a
  // later top-level `it.layer` would build inside the first one's memo map (and reuse its resolver).
  layer(RefusingLayer)((it) => {
    it.effect("a refresh the provider refused is a failed test that asks to reconnect", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const instances = yield* ConnectorInstances.ConnectorInstances
        const id = yield* instanceWith("refused", "good")
        const result = yield* tester.testConnection(id)
        assert.strictEqual(result.status, "failed")
        assert.strictEqual(result.failure, "ReconnectRequired")
        assert.include(result.message, "refused the refresh token")
        assert.strictEqual((yield* instances.get(id)).status, "reconnect_required")
        assert.strictEqual((yield* tester.testConnection(yield* instanceWith("fine", "good"))).status, "success")
      })
    )
  })
})

describe("ConnectionTester.healthCheck", () => {
  it.layer(TestLayer)((it) => {
    it.effect("reports healthy with a latency", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const result = yield* tester.healthCheck(yield* instanceWith("healthy", "good"))
        assert.strictEqual(result.status, "healthy")
        assert.isAtLeast(result.latencyMs, 0)
      })
    )
  })
  layer(TestLayer, { excludeTestServices: true })((it) => {
    it.effect("honours the timeout when the peer never answers", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const id = yield* instanceWith("hanging", "hang")
        const result = yield* tester.healthCheck(id, { timeout: "200 millis" })
        assert.strictEqual(result.status, "unhealthy")
        assert.strictEqual(result.failure, "TimedOut")
        assert.isAtLeast(result.latencyMs, 190)
        assert.isBelow(result.latencyMs, 5_000)
      })
    )
  })
})

describe("ConnectionTester.bulkOperation", () => {
  it.layer(TestLayer)((it) => {
    it.effect("more than 50 instances is BatchTooLarge and nothing runs", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const instances = yield* ConnectorInstances.ConnectorInstances
        const id = yield* instanceWith("untouched", "good")
        const ids = [
          id,
          ...Array.from({ length: 50 }, (_, i) => `0190a000-0000-7000-8000-${String(i).padStart(12, "0")}`)
        ]
        const error = yield* Effect.flip(tester.bulkOperation({ instanceIds: ids, action: "test_connection" }))
        assert.strictEqual(error._tag, "BatchTooLarge")
        assert.include(error.message, "at most 50")
        assert.strictEqual((yield* instances.get(id)).testStatus, "pending")
      })
    )
  })
  layer(TestLayer, { excludeTestServices: true })((it) => {
    it.effect("one result per instance, each with its own outcome; one failure never fails the batch", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const good = yield* instanceWith("bulk-good", "good")
        const down = yield* instanceWith("bulk-down", "down")
        const hang = yield* instanceWith("bulk-hang", "hang")
        const missing = "0190a000-0000-7000-8000-00000000dead"
        const results = yield* tester.bulkOperation({
          instanceIds: [good, down, hang, missing, good],
          action: "health_check",
          timeout: "300 millis"
        })
        assert.deepStrictEqual(
          results.map((r) => r.instanceId),
          [good, down, hang, missing]
        )
        const statuses = results.map((r) =>
          Either.match(r.result, { onLeft: (e) => e._tag, onRight: (v) => ("status" in v ? v.status : "refreshed") })
        )
        assert.deepStrictEqual(statuses, ["healthy", "unhealthy", "unhealthy", "InstanceNotFound"])
      })
    )

    it.effect("refresh_credentials reports the version in use", () =>
      Effect.gen(function* () {
        const tester = yield* ConnectionTester.ConnectionTester
        const id = yield* instanceWith("refresh", "good")
        const [result] = yield* tester.bulkOperation({ instanceIds: [id], action: "refresh_credentials" })
        assert.isTrue(Either.isRight(result!.result))
        if (Either.isRight(result!.result)) assert.strictEqual((result!.result.right as { version: number }).version, 1)
      })
    )
  })
})
