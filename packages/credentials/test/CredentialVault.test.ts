import { assert, describe, it } from "@effect/vitest"
import { ConnectorInstances, CredentialRepository, Ids } from "@patchbay/core"
import { Mask } from "@patchbay/crypto"
import { Duration, Effect, TestClock } from "effect"
import { CredentialVault } from "../src/CredentialVault.js"
import {
  admin,
  agent1,
  as,
  assertNoSecret,
  auditRows,
  createInstance,
  failure,
  memory,
  orgA,
  orgB,
  user1,
  user2,
  workspace1,
  workspace2
} from "./fixtures.js"

const password = "s3cur3_p4ssw0rd-do-not-leak"
const orgScope = { type: "organization", id: orgA } as const

describe("CredentialVault", () => {
  it.effect("stores a sealed version and returns masked metadata only", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const instance = yield* createInstance("Analytics")
      const metadata = yield* vault.create({
        instanceId: instance.id,
        scope: orgScope,
        credentials: { username: "reader", password },
        labels: { label: "Production read-only user" },
        expiresAt: "2031-12-31T23:59:59Z"
      })
      assert.strictEqual(metadata.version, 1)
      assert.deepStrictEqual(metadata.masked, { password: Mask.bullets, username: "reader" })
      assert.deepStrictEqual(metadata.labels, { label: "Production read-only user" })
      assert.strictEqual(metadata.expiresAt?.toISOString(), "2031-12-31T23:59:59.000Z")
      assert.match(metadata.accountFingerprint ?? "", /^v1:/)
      assertNoSecret(metadata, [password])

      const stored = yield* (yield* CredentialRepository.CredentialRepository).get(metadata.orgId, metadata.id)
      assert.strictEqual(stored._tag, "Some")
      if (stored._tag === "Some") {
        assert.strictEqual(stored.value.sealed.keyId, "ephemeral")
        assert.isFalse(Buffer.from(stored.value.sealed.ciphertext).includes(Buffer.from(password)))
      }

      const after = yield* (yield* ConnectorInstances.ConnectorInstances).getUsable(instance.id)
      assert.isTrue(after.hasCredentials)
      assert.strictEqual(after.accountFingerprint, metadata.accountFingerprint)

      const audit = yield* auditRows()
      const created = audit.find((row) => row.action === "credential.created")
      assert.deepStrictEqual(created?.details.credentialId, metadata.id)
      assert.deepStrictEqual(created?.details.fields, ["password", "username"])
      assertNoSecret(audit, [password])
    }).pipe(as(admin), Effect.provide(memory()))
  )

  it.effect("numbers write-once versions per instance and scope, and lists them newest first", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const instance = yield* createInstance("Analytics")
      const store = (scope: { type: "organization" | "user"; id: string }, n: number) =>
        vault
          .create({ instanceId: instance.id, scope, credentials: { username: "reader", password: `p-${n}` } })
          .pipe(Effect.zipLeft(TestClock.adjust(Duration.seconds(1))))
      const v1 = yield* store(orgScope, 1)
      const v2 = yield* store(orgScope, 2)
      const u1 = yield* store({ type: "user", id: user1 }, 3)
      assert.deepStrictEqual([v1.version, v2.version, u1.version], [1, 2, 1])
      const listed = yield* vault.list(instance.id)
      assert.deepStrictEqual(
        listed.map((m) => m.id),
        [u1.id, v2.id, v1.id]
      )
      assertNoSecret(listed, ["p-1", "p-2", "p-3"])
    }).pipe(as(admin), Effect.provide(memory()))
  )

  it.effect("refuses credentials that do not match the schema, without quoting them, and stores nothing", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const instance = yield* createInstance("Analytics")
      const missing = yield* failure(
        vault.create({ instanceId: instance.id, scope: orgScope, credentials: { username: "reader" } })
      )
      assert.strictEqual(missing._tag, "InvalidConfiguration")
      assert.include(missing.message, "password")
      const wrongType = yield* failure(
        vault.create({ instanceId: instance.id, scope: orgScope, credentials: { username: 42, password } })
      )
      assert.strictEqual(wrongType._tag, "InvalidConfiguration")
      assertNoSecret(wrongType, [password])
      const excess = yield* failure(
        vault.create({
          instanceId: instance.id,
          scope: orgScope,
          credentials: { username: "reader", password },
          expires_at: "2030-01-01"
        } as never)
      )
      assert.strictEqual(excess._tag, "InvalidInput")
      assertNoSecret(excess, [password])
      const past = yield* failure(
        vault.create({
          instanceId: instance.id,
          scope: orgScope,
          credentials: { username: "reader", password },
          expiresAt: new Date(-1000)
        })
      )
      assert.strictEqual(past._tag, "InvalidInput")
      assert.deepStrictEqual(yield* vault.list(instance.id), [])
      assert.isFalse((yield* (yield* ConnectorInstances.ConnectorInstances).getUsable(instance.id)).hasCredentials)
    }).pipe(as(admin), Effect.provide(memory()))
  )

  it.effect("lets an actor write only the scopes it belongs to", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const instance = yield* createInstance("Analytics")
      const bound = yield* createInstance("Team DB", {
        workspaceId: workspace1,
        configuration: { host: "team.internal", database: "team" }
      })
      const credentials = { username: "reader", password }
      const attempt = (
        instanceId: string,
        scope: { type: "organization" | "workspace" | "user" | "agent"; id: string }
      ) =>
        vault.create({ instanceId, scope, credentials }).pipe(
          Effect.as("stored"),
          Effect.catchAll((error) => Effect.succeed(error._tag))
        )
      const outcomes = {
        ownOrg: yield* attempt(instance.id, orgScope),
        otherOrg: yield* attempt(instance.id, { type: "organization", id: orgB }),
        ownWorkspace: yield* attempt(instance.id, { type: "workspace", id: workspace1 }),
        otherWorkspace: yield* attempt(instance.id, { type: "workspace", id: workspace2 }),
        ownUser: yield* attempt(instance.id, { type: "user", id: user1 }),
        otherUser: yield* attempt(instance.id, { type: "user", id: user2 }),
        agentNotActedFor: yield* attempt(instance.id, { type: "agent", id: agent1 }),
        boundOwnWorkspace: yield* attempt(bound.id, { type: "workspace", id: workspace1 }),
        otherOrgInstance: yield* attempt(instance.id, orgScope).pipe(as({ orgId: orgB }))
      }
      assert.deepStrictEqual(outcomes, {
        ownOrg: "stored",
        otherOrg: "ScopeForbidden",
        ownWorkspace: "stored",
        otherWorkspace: "ScopeForbidden",
        ownUser: "stored",
        otherUser: "ScopeForbidden",
        agentNotActedFor: "ScopeForbidden",
        boundOwnWorkspace: "stored",
        otherOrgInstance: "InstanceNotFound"
      })
      // A workspace-level instance does not exist for actors of another workspace.
      const elsewhere = yield* attempt(bound.id, { type: "workspace", id: workspace2 }).pipe(
        as({ orgId: orgA, workspaceId: workspace2 })
      )
      assert.strictEqual(elsewhere, "InstanceNotFound")
      // An actor acting for an agent may write that agent's scope.
      assert.strictEqual(
        yield* attempt(instance.id, { type: "agent", id: agent1 }).pipe(as({ ...admin, agentId: agent1 })),
        "stored"
      )
    }).pipe(as(admin), Effect.provide(memory()))
  )

  it.effect("refuses the same account on a second instance of the connector, writing nothing", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const instances = yield* ConnectorInstances.ConnectorInstances
      const first = yield* createInstance("Analytics")
      // The same server spelled differently: the fingerprint is canonical.
      const second = yield* createInstance("Analytics again", {
        configuration: { host: " DB.Internal. ", port: 5432, database: "analytics" }
      })
      yield* vault.create({ instanceId: first.id, scope: orgScope, credentials: { username: "reader", password } })
      const duplicate = yield* failure(
        vault.create({
          instanceId: second.id,
          scope: { type: "user", id: user1 },
          credentials: { username: "reader", password: "another" }
        })
      )
      assert.strictEqual(duplicate._tag, "DuplicateAccount")
      assert.strictEqual(duplicate._tag === "DuplicateAccount" ? duplicate.existingInstanceId : "", first.id)
      assertNoSecret(duplicate, [password, "another"])
      assert.deepStrictEqual(yield* vault.list(second.id), [])
      const untouched = yield* instances.getUsable(second.id)
      assert.isFalse(untouched.hasCredentials)
      assert.isNull(untouched.accountFingerprint)
      assert.strictEqual((yield* auditRows()).filter((r) => r.action === "credential.created").length, 1)

      // Another account on the second instance is fine; so is the same account in another organization.
      yield* vault.create({ instanceId: second.id, scope: orgScope, credentials: { username: "writer", password } })
      const elsewhere = yield* createInstance("Analytics").pipe(as({ orgId: orgB }))
      const other = yield* vault
        .create({
          instanceId: elsewhere.id,
          scope: { type: "organization", id: orgB },
          credentials: { username: "reader", password }
        })
        .pipe(as({ orgId: orgB }))
      assert.strictEqual(other.version, 1)
    }).pipe(as(admin), Effect.provide(memory()))
  )

  it.effect("revokes a version, audits it once, and clears has_credentials when none is left", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const instances = yield* ConnectorInstances.ConnectorInstances
      const instance = yield* createInstance("Analytics")
      const created = yield* vault.create({
        instanceId: instance.id,
        scope: { type: "user", id: user1 },
        credentials: { username: "reader", password }
      })
      // Another user's personal version does not exist for this user (no existence leak).
      assert.strictEqual(
        (yield* failure(vault.revoke(created.id).pipe(as({ orgId: orgA, userId: user2 }))))._tag,
        "CredentialVersionNotFound"
      )
      assert.strictEqual(
        (yield* failure(vault.revoke(created.id).pipe(as({ orgId: orgB }))))._tag,
        "CredentialVersionNotFound"
      )
      assert.strictEqual((yield* failure(vault.revoke("not-an-id")))._tag, "CredentialVersionNotFound")
      yield* TestClock.adjust(Duration.minutes(5))
      const revoked = yield* vault.revoke(created.id)
      assert.strictEqual(revoked.revokedAt?.getTime(), Duration.toMillis(Duration.minutes(5)))
      yield* TestClock.adjust(Duration.minutes(5))
      const again = yield* vault.revoke(created.id)
      assert.strictEqual(again.revokedAt?.getTime(), Duration.toMillis(Duration.minutes(5)))
      const after = yield* instances.getUsable(instance.id)
      assert.isFalse(after.hasCredentials)
      assert.isNull(after.accountFingerprint)
      const audit = yield* auditRows()
      assert.strictEqual(audit.filter((r) => r.action === "credential.revoked").length, 1)
      assertNoSecret(audit, [password])
    }).pipe(as(admin), Effect.provide(memory()))
  )

  it.effect("supersedes a version with new values in the same scope, carrying labels", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const instance = yield* createInstance("Analytics")
      const first = yield* vault.create({
        instanceId: instance.id,
        scope: { type: "workspace", id: workspace1 },
        credentials: { username: "reader", password },
        labels: { label: "team" }
      })
      const next = yield* vault.supersede(first, {
        credentials: { username: "reader", password: "rotated-password" },
        reason: "password_rotation"
      })
      assert.strictEqual(next.version, 2)
      assert.strictEqual(next.scope.key, first.scope.key)
      assert.deepStrictEqual(next.labels, { label: "team" })
      const audit = (yield* auditRows()).find((r) => r.action === "credential.superseded")
      assert.deepStrictEqual(audit?.details.previousId, first.id)
      assert.deepStrictEqual(audit?.details.reason, "password_rotation")
      assertNoSecret(yield* auditRows(), [password, "rotated-password"])
    }).pipe(as(admin), Effect.provide(memory()))
  )

  it.effect("lists credentials about to expire, soonest first, with fractional days", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const day = 86_400_000
      yield* TestClock.setTime(Date.UTC(2030, 0, 1))
      const now = Date.UTC(2030, 0, 1)
      const analytics = yield* createInstance("Analytics")
      const reporting = yield* createInstance("Reporting", {
        configuration: { host: "reporting.internal", database: "r" }
      })
      const store = (instanceId: string, scope: { type: "organization" | "user"; id: string }, days: number | null) =>
        vault.create({
          instanceId,
          scope,
          credentials: { username: "reader", password },
          expiresAt: days === null ? null : new Date(now + days * day)
        })
      yield* store(analytics.id, orgScope, 12.25)
      const soon = yield* store(reporting.id, orgScope, 1.5)
      yield* store(analytics.id, { type: "user", id: user1 }, 40)
      yield* store(reporting.id, { type: "user", id: user1 }, null)
      const listed = yield* vault.listExpiring({ daysAhead: 30 })
      assert.deepStrictEqual(
        listed.map((e) => [e.instanceName, e.scope.type, e.daysRemaining]),
        [
          ["Reporting", "organization", 1.5],
          ["Analytics", "organization", 12.25]
        ]
      )
      assert.strictEqual(listed[0]!.connectorName, "Demo database")
      assert.strictEqual(listed[0]!.credentialId, soon.id)
      assertNoSecret(listed, [password])
      yield* TestClock.adjust(Duration.days(2))
      assert.deepStrictEqual(
        (yield* vault.listExpiring({ daysAhead: 30 })).map((e) => [e.instanceName, e.daysRemaining]),
        [["Analytics", 10.25]]
      )
      assert.strictEqual((yield* failure(vault.listExpiring({ daysAhead: -1 })))._tag, "InvalidInput")
      assert.deepStrictEqual(yield* vault.listExpiring({ daysAhead: 30 }).pipe(as({ orgId: orgB })), [])
    }).pipe(as(admin), Effect.provide(memory()))
  )

  it.effect("refuses an unknown instance id without a hint", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const id = Ids.InstanceId.make("0190a000-0000-7000-8000-0000000000ff")
      assert.strictEqual((yield* failure(vault.list(id)))._tag, "InstanceNotFound")
      assert.strictEqual(
        (yield* failure(vault.create({ instanceId: "x", scope: orgScope, credentials: {} })))._tag,
        "InstanceNotFound"
      )
    }).pipe(as(admin), Effect.provide(memory()))
  )
})
