/**
 * The repository contract: one set of cases that every store — core's memory layers, PGlite and
 * PostgreSQL — must pass. A test file calls `contract` with its store.
 */
import { assert, describe, layer } from "@effect/vitest"
import {
  AuditLog,
  ConnectorInstance,
  CredentialRefreshState,
  CredentialRepository,
  DomainError,
  Ids,
  InstanceRepository,
  PendingAuthorizationRepository,
  ReconnectWaits,
  RefreshLock,
  Transactions
} from "@patchbay/core"
import { Effect, Either, Exit, type Layer, Option, Ref, Schedule, type Scope } from "effect"
import type { SqlStore } from "../src/index.js"
import {
  auditEvent,
  connectorB,
  makeInstance,
  newCredential,
  newOrg,
  newUuid,
  pending,
  scope,
  sealed,
  storedInstance
} from "./fixtures.js"
import { idempotency } from "./idempotency.js"
import { monitorPorts } from "./monitorPorts.js"

/** A store under test. */
export interface Subject<R = never> {
  readonly name: string
  readonly layer: Layer.Layer<SqlStore.Services | R, unknown>
  /**
   * A `RefreshLock` on a second, independent connection to the same store (another pool); a
   * store that lives in one process returns its own lock.
   */
  readonly otherLock: Effect.Effect<RefreshLock.RefreshLockShape, unknown, Scope.Scope | SqlStore.Services | R>
  /** A SQL store: deleting an instance deletes its credentials and pending authorizations, and a credential needs its instance. */
  readonly sql: boolean
}

const at = (iso: string) => new Date(iso)

export const contract = <R = never>(subject: Subject<R>): void => {
  describe(`${subject.name} store`, () => {
    layer(subject.layer, { excludeTestServices: true, timeout: "120 seconds" })((it) => {
      describe("InstanceRepository", () => {
        it.effect("stores an instance and reads it back unchanged, only within its organization", () =>
          Effect.gen(function* () {
            const repo = yield* InstanceRepository.InstanceRepository
            const orgId = yield* newOrg
            const other = yield* newOrg
            const instance = yield* makeInstance(orgId, {
              description: "Warehouse, read only",
              workspaceId: Ids.WorkspaceId.make(yield* newUuid),
              lastTestedAt: at("2025-02-03T04:05:06.789Z"),
              testStatus: "failed",
              testMessage: "password authentication failed",
              accountFingerprint: "fp-a"
            })
            yield* repo.insert(instance)
            assert.deepStrictEqual(yield* repo.get(orgId, instance.id), Option.some(instance))
            assert.isTrue(Option.isNone(yield* repo.get(other, instance.id)))
            assert.isTrue(Option.isNone(yield* repo.get(orgId, (yield* makeInstance(orgId)).id)))
          })
        )

        it.effect("lists with filters, in id order, page by page", () =>
          Effect.gen(function* () {
            const repo = yield* InstanceRepository.InstanceRepository
            const orgId = yield* newOrg
            const workspaceId = Ids.WorkspaceId.make(yield* newUuid)
            const a = yield* makeInstance(orgId)
            const b = yield* makeInstance(orgId, { workspaceId })
            const c = yield* makeInstance(orgId, { connectorId: connectorB, connectorKey: "smtp", isEnabled: false })
            const d = yield* makeInstance(orgId, { status: "reconnect_required", workspaceId })
            const e = yield* makeInstance(yield* newOrg)
            for (const i of [d, a, c, b, e]) yield* repo.insert(i)
            const ids = (xs: ReadonlyArray<{ readonly id: string }>) => xs.map((x) => x.id)
            const all = [a, b, c, d].map((x) => x.id).sort()

            assert.deepStrictEqual(ids(yield* repo.list(orgId, { limit: 10 })), all)
            const first = yield* repo.list(orgId, { limit: 3 })
            assert.deepStrictEqual(ids(first), all.slice(0, 3))
            const rest = yield* repo.list(orgId, { limit: 3, after: first[2]!.id })
            assert.deepStrictEqual(ids(rest), all.slice(3))
            assert.deepStrictEqual(ids(yield* repo.list(orgId, { limit: 3, after: rest[0]!.id })), [])

            assert.deepStrictEqual(ids(yield* repo.list(orgId, { limit: 10, connectorId: connectorB })), [c.id])
            assert.deepStrictEqual(ids(yield* repo.list(orgId, { limit: 10, workspaceId })), [b.id, d.id].sort())
            assert.deepStrictEqual(ids(yield* repo.list(orgId, { limit: 10, workspaceId: null })), [a.id, c.id].sort())
            assert.deepStrictEqual(ids(yield* repo.list(orgId, { limit: 10, isEnabled: false })), [c.id])
            assert.deepStrictEqual(ids(yield* repo.list(orgId, { limit: 10, status: "reconnect_required" })), [d.id])
            assert.deepStrictEqual(
              ids(yield* repo.list(orgId, { limit: 10, workspaceId, status: "active", isEnabled: true })),
              [b.id]
            )
          })
        )

        it.effect("refuses a second name per connector and organization, compared trimmed and case-insensitively", () =>
          Effect.gen(function* () {
            const repo = yield* InstanceRepository.InstanceRepository
            const orgId = yield* newOrg
            yield* repo.insert(yield* makeInstance(orgId, { instanceName: "Prod DB" }))
            for (const name of ["Prod DB", "  prod db ", "PROD DB", "ｐｒｏｄ db"]) {
              const error = yield* Effect.flip(repo.insert(yield* makeInstance(orgId, { instanceName: name })))
              assert.strictEqual(error._tag, "NameTaken", name)
              if (error._tag === "NameTaken") {
                assert.strictEqual(error.instanceName, name)
                assert.strictEqual(error.connector, "postgres")
              }
            }
            // Another connector type or another organization may use the name.
            yield* repo.insert(
              yield* makeInstance(orgId, { instanceName: "prod db", connectorId: connectorB, connectorKey: "smtp" })
            )
            yield* repo.insert(yield* makeInstance(yield* newOrg, { instanceName: "Prod DB" }))
            assert.strictEqual((yield* repo.list(orgId, { limit: 10 })).length, 2)
          })
        )

        it.effect("of concurrent inserts with one name exactly one succeeds", () =>
          Effect.gen(function* () {
            const repo = yield* InstanceRepository.InstanceRepository
            const orgId = yield* newOrg
            const candidates = yield* Effect.forEach(
              ["Shared", "shared", " SHARED", "Shared ", "sHaReD", "shared"],
              (name) => makeInstance(orgId, { instanceName: name })
            )
            const results = yield* Effect.all(
              candidates.map((c) => Effect.either(repo.insert(c))),
              { concurrency: "unbounded" }
            )
            assert.strictEqual(results.filter(Either.isRight).length, 1)
            for (const result of results) {
              if (Either.isLeft(result)) assert.strictEqual(result.left._tag, "NameTaken")
            }
            assert.strictEqual((yield* repo.list(orgId, { limit: 10 })).length, 1)
          })
        )

        it.effect("refuses a second instance of the same account, naming the existing one", () =>
          Effect.gen(function* () {
            const repo = yield* InstanceRepository.InstanceRepository
            const orgId = yield* newOrg
            const first = yield* makeInstance(orgId, { accountFingerprint: "fp-shared" })
            yield* repo.insert(first)
            const error = yield* Effect.flip(
              repo.insert(yield* makeInstance(orgId, { accountFingerprint: "fp-shared" }))
            )
            assert.deepStrictEqual(error._tag === "DuplicateAccount" ? error.existingInstanceId : error._tag, first.id)
            // No fingerprint never clashes; other connectors and organizations may hold the account.
            yield* repo.insert(yield* makeInstance(orgId))
            yield* repo.insert(yield* makeInstance(orgId))
            yield* repo.insert(
              yield* makeInstance(orgId, {
                accountFingerprint: "fp-shared",
                connectorId: connectorB,
                connectorKey: "smtp"
              })
            )
            yield* repo.insert(yield* makeInstance(yield* newOrg, { accountFingerprint: "fp-shared" }))
            const concurrent = yield* Effect.all(
              yield* Effect.replicateEffect(makeInstance(orgId, { accountFingerprint: "fp-race" }), 5).pipe(
                Effect.map((xs) => xs.map((x) => Effect.either(repo.insert(x))))
              ),
              { concurrency: "unbounded" }
            )
            assert.strictEqual(concurrent.filter(Either.isRight).length, 1)
          })
        )

        it.effect("updates in place, keeping the uniqueness rules, and deletes", () =>
          Effect.gen(function* () {
            const repo = yield* InstanceRepository.InstanceRepository
            const orgId = yield* newOrg
            const a = yield* makeInstance(orgId, { instanceName: "Alpha" })
            const b = yield* makeInstance(orgId, { instanceName: "Beta", accountFingerprint: "fp-b" })
            yield* repo.insert(a)
            yield* repo.insert(b)
            const changed = yield* makeInstance(orgId, {
              ...a,
              instanceName: " alpha ",
              isEnabled: false,
              hasCredentials: true,
              status: "reconnect_required",
              configuration: { host: "other" },
              updatedAt: at("2025-06-01T00:00:00.000Z")
            })
            yield* repo.update(changed)
            assert.deepStrictEqual(yield* repo.get(orgId, a.id), Option.some(changed))

            const renamed = yield* Effect.flip(repo.update(yield* makeInstance(orgId, { ...a, instanceName: "BETA" })))
            assert.strictEqual(renamed._tag, "NameTaken")
            const sameAccount = yield* Effect.flip(
              repo.update(yield* makeInstance(orgId, { ...a, accountFingerprint: "fp-b" }))
            )
            assert.strictEqual(sameAccount._tag, "DuplicateAccount")
            const missing = yield* Effect.flip(repo.update(yield* makeInstance(orgId)))
            assert.strictEqual(missing._tag, "InstanceNotFound")
            const foreign = yield* Effect.flip(
              repo.update(yield* makeInstance(yield* newOrg, { ...a, orgId: yield* newOrg }))
            )
            assert.strictEqual(foreign._tag, "InstanceNotFound")
            assert.deepStrictEqual(yield* repo.get(orgId, a.id), Option.some(changed))

            assert.isFalse(yield* repo.delete(yield* newOrg, a.id))
            assert.isTrue(yield* repo.delete(orgId, a.id))
            assert.isFalse(yield* repo.delete(orgId, a.id))
            assert.isTrue(Option.isNone(yield* repo.get(orgId, a.id)))
            // The name is free again.
            yield* repo.insert(yield* makeInstance(orgId, { instanceName: "ALPHA" }))
          })
        )
      })

      describe("CredentialRepository", () => {
        it.effect("numbers versions per instance and scope and reads a version back unchanged", () =>
          Effect.gen(function* () {
            const repo = yield* CredentialRepository.CredentialRepository
            const { orgId, instance } = yield* storedInstance
            const org = scope("organization", orgId)
            const user = scope("user", yield* newUuid)
            const v1 = yield* repo.insert(
              yield* newCredential(instance, org, { expiresAt: at("2030-01-01T00:00:00Z") })
            )
            const v2 = yield* repo.insert(yield* newCredential(instance, org, { seed: 2 }))
            const u1 = yield* repo.insert(yield* newCredential(instance, user, { seed: 3 }))
            assert.deepStrictEqual([v1.metadata.version, v2.metadata.version, u1.metadata.version], [1, 2, 1])
            // v1 as written, but for the successor the store recorded when v2 superseded it.
            const storedV1 = Option.getOrThrow(yield* repo.get(orgId, v1.metadata.id))
            assert.strictEqual(storedV1.metadata.supersededBy, v2.metadata.id)
            assert.deepStrictEqual({ ...storedV1.metadata, supersededBy: null }, { ...v1.metadata })
            assert.deepStrictEqual(yield* repo.get(orgId, u1.metadata.id), Option.some(u1))
            assert.deepStrictEqual(Array.from(v2.sealed.ciphertext), [0, 255, 2, 128, 1, 2, 3])
            assert.isTrue(Option.isNone(yield* repo.get(yield* newOrg, v1.metadata.id)))
          })
        )

        it.effect("gives concurrent inserts of one scope distinct, consecutive versions", () =>
          Effect.gen(function* () {
            const repo = yield* CredentialRepository.CredentialRepository
            const { orgId, instance } = yield* storedInstance
            const org = scope("organization", orgId)
            const news = yield* Effect.replicateEffect(newCredential(instance, org), 12)
            const records = yield* Effect.all(news.map(repo.insert), { concurrency: "unbounded" })
            assert.deepStrictEqual(
              records.map((r) => r.metadata.version).sort((a, b) => a - b),
              Array.from({ length: 12 }, (_, i) => i + 1)
            )
          })
        )

        it.effect("finds the newest valid version in the first scope of the precedence that has one", () =>
          Effect.gen(function* () {
            const repo = yield* CredentialRepository.CredentialRepository
            const { orgId, instance } = yield* storedInstance
            const now = at("2026-01-01T00:00:00Z")
            const agent = scope("agent", yield* newUuid)
            const user = scope("user", yield* newUuid)
            const workspace = scope("workspace", yield* newUuid)
            const org = scope("organization", orgId)
            const precedence = [agent, user, workspace, org]
            const newest = (scopes = precedence) =>
              Effect.map(
                repo.newestValid(orgId, instance.id, scopes, now),
                Option.map((r) => r.metadata.id)
              )

            assert.isTrue(Option.isNone(yield* newest()))
            const orgV1 = yield* repo.insert(yield* newCredential(instance, org))
            const orgV2 = yield* repo.insert(yield* newCredential(instance, org))
            assert.deepStrictEqual(yield* newest(), Option.some(orgV2.metadata.id))
            // A workspace credential outranks the organization's; an expired one does not count.
            yield* repo.insert(yield* newCredential(instance, workspace, { expiresAt: at("2025-12-31T23:59:59Z") }))
            assert.deepStrictEqual(yield* newest(), Option.some(orgV2.metadata.id))
            const ws2 = yield* repo.insert(
              yield* newCredential(instance, workspace, { expiresAt: at("2026-01-01T00:00:01Z") })
            )
            assert.deepStrictEqual(yield* newest(), Option.some(ws2.metadata.id))
            // Expiring exactly now is expired.
            const exactly = yield* repo.insert(yield* newCredential(instance, user, { expiresAt: now }))
            assert.deepStrictEqual(yield* newest(), Option.some(ws2.metadata.id))
            const u2 = yield* repo.insert(yield* newCredential(instance, user))
            assert.deepStrictEqual(yield* newest(), Option.some(u2.metadata.id))
            const a1 = yield* repo.insert(yield* newCredential(instance, agent))
            assert.deepStrictEqual(yield* newest(), Option.some(a1.metadata.id))
            // Revoked versions do not count; the next older valid one of the scope does.
            yield* repo.revoke(orgId, a1.metadata.id, now)
            assert.deepStrictEqual(yield* newest(), Option.some(u2.metadata.id))
            yield* repo.revoke(orgId, u2.metadata.id, now)
            assert.deepStrictEqual(yield* newest(), Option.some(ws2.metadata.id))
            assert.notStrictEqual(exactly.metadata.id, ws2.metadata.id)
            // Only the scopes asked for, in the order given.
            assert.deepStrictEqual(yield* newest([org, workspace]), Option.some(orgV2.metadata.id))
            yield* repo.revoke(orgId, orgV2.metadata.id, now)
            assert.deepStrictEqual(yield* newest([org]), Option.some(orgV1.metadata.id))
            assert.isTrue(Option.isNone(yield* newest([])))
            assert.isTrue(Option.isNone(yield* repo.newestValid(yield* newOrg, instance.id, precedence, now)))
            const found = yield* repo.newestValid(orgId, instance.id, precedence, now)
            assert.deepStrictEqual(found, yield* repo.get(orgId, ws2.metadata.id))
          })
        )

        it.effect("lists an instance's versions newest first and revokes idempotently", () =>
          Effect.gen(function* () {
            const repo = yield* CredentialRepository.CredentialRepository
            const { orgId, instance } = yield* storedInstance
            const org = scope("organization", orgId)
            const a = yield* repo.insert(yield* newCredential(instance, org, { createdAt: at("2025-01-01T00:00:00Z") }))
            const b = yield* repo.insert(yield* newCredential(instance, org, { createdAt: at("2025-02-01T00:00:00Z") }))
            const c = yield* repo.insert(
              yield* newCredential(instance, scope("user", yield* newUuid), { createdAt: at("2025-03-01T00:00:00Z") })
            )
            const listed = yield* repo.list(orgId, instance.id)
            assert.deepStrictEqual(
              listed.map((m) => m.id),
              [c, b, a].map((r) => r.metadata.id)
            )
            assert.deepStrictEqual(listed[1], b.metadata)
            assert.deepStrictEqual(yield* repo.list(yield* newOrg, instance.id), [])

            const first = yield* repo.revoke(orgId, a.metadata.id, at("2025-04-01T00:00:00Z"))
            assert.deepStrictEqual(
              Option.map(first, (m) => m.revokedAt),
              Option.some(at("2025-04-01T00:00:00Z"))
            )
            const again = yield* repo.revoke(orgId, a.metadata.id, at("2025-05-01T00:00:00Z"))
            assert.deepStrictEqual(
              Option.map(again, (m) => m.revokedAt),
              Option.some(at("2025-04-01T00:00:00Z"))
            )
            assert.isTrue(Option.isNone(yield* repo.revoke(yield* newOrg, b.metadata.id, at("2025-04-01T00:00:00Z"))))
            assert.isNull(Option.getOrThrow(yield* repo.get(orgId, b.metadata.id)).metadata.revokedAt)
          })
        )

        it.effect("lists the current version of each scope expiring in a window, soonest first", () =>
          Effect.gen(function* () {
            const instances = yield* InstanceRepository.InstanceRepository
            const repo = yield* CredentialRepository.CredentialRepository
            const orgId = yield* newOrg
            const i1 = yield* makeInstance(orgId)
            const i2 = yield* makeInstance(orgId)
            const foreign = yield* makeInstance(yield* newOrg)
            for (const i of [i1, i2, foreign]) yield* instances.insert(i)
            const from = at("2026-01-01T00:00:00Z")
            const until = at("2026-01-02T00:00:00Z")
            const add = (i: typeof i1, s: ReturnType<typeof scope>, expiresAt: Date | null) =>
              Effect.flatMap(newCredential(i, s, { expiresAt }), repo.insert)

            // Current and inside the window.
            const late = yield* add(i1, scope("organization", orgId), at("2026-01-01T20:00:00Z"))
            const early = yield* add(i2, scope("organization", orgId), at("2026-01-01T02:00:00Z"))
            const atEnd = yield* add(i1, scope("user", yield* newUuid), until)
            // Superseded by a newer version that never expires: not current.
            const userB = scope("user", yield* newUuid)
            yield* add(i1, userB, at("2026-01-01T03:00:00Z"))
            yield* add(i1, userB, null)
            // The newest version is revoked: the older one is current again.
            const userC = scope("user", yield* newUuid)
            const olderC = yield* add(i1, userC, at("2026-01-01T04:00:00Z"))
            const newerC = yield* add(i1, userC, at("2026-01-01T05:00:00Z"))
            yield* repo.revoke(orgId, newerC.metadata.id, at("2025-12-01T00:00:00Z"))
            // A current version that is revoked is not listed.
            const revoked = yield* add(i2, scope("user", yield* newUuid), at("2026-01-01T06:00:00Z"))
            yield* repo.revoke(orgId, revoked.metadata.id, at("2025-12-01T00:00:00Z"))
            // Outside the window: exactly at `from` (exclusive), after `until`, never expiring.
            yield* add(i2, scope("workspace", yield* newUuid), from)
            yield* add(i2, scope("workspace", yield* newUuid), at("2026-01-02T00:00:01Z"))
            yield* add(i2, scope("agent", yield* newUuid), null)
            // Another organization.
            yield* add(foreign, scope("organization", foreign.orgId), at("2026-01-01T01:00:00Z"))

            const listed = yield* repo.listExpiring(orgId, from, until)
            assert.deepStrictEqual(
              listed.map((m) => m.id),
              [early, olderC, late, atEnd].map((r) => r.metadata.id)
            )
            assert.deepStrictEqual(listed[0], early.metadata)
          })
        )

        it.effect("lists versions whose refresh-token deadline label lies in the window; odd labels never fail", () =>
          Effect.gen(function* () {
            const instances = yield* InstanceRepository.InstanceRepository
            const repo = yield* CredentialRepository.CredentialRepository
            const orgId = yield* newOrg
            const instance = yield* makeInstance(orgId)
            yield* instances.insert(instance)
            const from = at("2026-01-01T00:00:00Z")
            const until = at("2026-01-02T00:00:00Z")
            const seconds = (iso: string) => at(iso).getTime() / 1000
            const add = (labels: Record<string, unknown>, expiresAt: Date | null = null) =>
              Effect.gen(function* () {
                const fresh = yield* newCredential(instance, scope("user", yield* newUuid), { expiresAt })
                return yield* repo.insert({ ...fresh, metadata: { ...fresh.metadata, labels } })
              })
            const deadline = (iso: string) => ({ refresh_token_expires_at: seconds(iso) })
            const inside = yield* add(deadline("2026-01-01T10:00:00Z"))
            // Expiry and deadline both in the window: listed once, at the sooner of the two.
            const both = yield* add(deadline("2026-01-01T12:00:00Z"), at("2026-01-01T08:00:00Z"))
            yield* add(deadline("2026-01-02T00:00:01Z"))
            yield* add(deadline("2026-01-01T00:00:00Z"))
            yield* add({ refresh_token_expires_at: "2026-01-01T10:00:00Z" })
            yield* add({ refresh_token_expires_at: -1e300 })
            yield* add({ refresh_token_expires_at: { nested: true } })
            const listed = yield* repo.listExpiring(orgId, from, until)
            assert.deepStrictEqual(
              listed.map((m) => m.id),
              [both, inside].map((r) => r.metadata.id)
            )
          })
        )

        it.effect("finds and re-seals versions under other keys for key rotation", () =>
          Effect.gen(function* () {
            const repo = yield* CredentialRepository.CredentialRepository
            const { orgId, instance } = yield* storedInstance
            const suffix = yield* newUuid
            const oldKey = `old-${suffix}`
            const newKey = `new-${suffix}`
            const org = scope("organization", orgId)
            const a = yield* repo.insert(yield* newCredential(instance, org, { keyId: oldKey }))
            const b = yield* repo.insert(yield* newCredential(instance, org, { keyId: oldKey, seed: 5 }))
            const keys = yield* repo.keyIds
            assert.include(keys, oldKey)
            assert.notInclude(keys, newKey)

            const pendingIds = (yield* repo.sealedWithOtherKey(newKey, 100_000)).map((r) => r.metadata.id)
            assert.includeMembers(pendingIds, [a.metadata.id, b.metadata.id])
            assert.strictEqual((yield* repo.sealedWithOtherKey(newKey, 1)).length, 1)

            const before = Option.getOrThrow(yield* repo.get(orgId, a.metadata.id))
            const resealed = sealed(newKey, 77)
            assert.isTrue(yield* repo.replaceSealed(a.metadata.id, oldKey, resealed))
            // Only while it is still sealed under the expected key.
            assert.isFalse(yield* repo.replaceSealed(a.metadata.id, oldKey, resealed))
            const stored = Option.getOrThrow(yield* repo.get(orgId, a.metadata.id))
            assert.deepStrictEqual(stored.sealed, resealed)
            assert.deepStrictEqual(stored.metadata, before.metadata)
            assert.strictEqual(stored.stateMac, before.stateMac)
            const still = (yield* repo.sealedWithOtherKey(newKey, 100_000)).map((r) => r.metadata.id)
            assert.notInclude(still, a.metadata.id)
            assert.include(still, b.metadata.id)
            assert.include(yield* repo.keyIds, newKey)
          })
        )

        it.effect("re-seals a batch in one write, each row only while it is still under its expected key", () =>
          Effect.gen(function* () {
            const repo = yield* CredentialRepository.CredentialRepository
            const { orgId, instance } = yield* storedInstance
            const suffix = yield* newUuid
            const oldKey = `old-${suffix}`
            const newKey = `new-${suffix}`
            const org = scope("organization", orgId)
            const a = yield* repo.insert(yield* newCredential(instance, org, { keyId: oldKey }))
            const b = yield* repo.insert(yield* newCredential(instance, org, { keyId: oldKey, seed: 5 }))
            const c = yield* repo.insert(yield* newCredential(instance, org, { keyId: oldKey, seed: 9 }))
            assert.deepStrictEqual(yield* repo.replaceSealedBatch([]), [])
            // b was re-sealed by someone else meanwhile: the batch leaves it as it is.
            const other = sealed(`other-${suffix}`, 3)
            assert.isTrue(yield* repo.replaceSealed(b.metadata.id, oldKey, other))
            const batch = [a, b, c].map((r, i) => ({
              id: r.metadata.id,
              expectedKeyId: oldKey,
              sealed: sealed(newKey, 40 + i)
            }))
            const replaced = yield* repo.replaceSealedBatch(batch)
            assert.sameMembers([...replaced], [a.metadata.id, c.metadata.id])
            assert.deepStrictEqual(Option.getOrThrow(yield* repo.get(orgId, a.metadata.id)).sealed, batch[0]!.sealed)
            assert.deepStrictEqual(Option.getOrThrow(yield* repo.get(orgId, b.metadata.id)).sealed, other)
            assert.deepStrictEqual(Option.getOrThrow(yield* repo.get(orgId, c.metadata.id)).sealed, batch[2]!.sealed)
            assert.deepStrictEqual(Option.getOrThrow(yield* repo.get(orgId, c.metadata.id)).metadata, c.metadata)
            // Again: nothing is under the expected key any more.
            assert.deepStrictEqual(yield* repo.replaceSealedBatch(batch), [])
          })
        )

        it.effect("records a version's refresh state durably, within its organization only", () =>
          Effect.gen(function* () {
            const repo = yield* CredentialRepository.CredentialRepository
            const { orgId, instance } = yield* storedInstance
            const v1 = yield* repo.insert(yield* newCredential(instance, scope("organization", orgId)))
            const id = v1.metadata.id
            assert.isTrue(Option.isNone(yield* repo.refreshState(orgId, id)))
            const attempted = CredentialRefreshState.CredentialRefreshState.make({
              ...CredentialRefreshState.empty(orgId, id),
              attemptedAt: at("2030-01-01T00:00:00Z"),
              failures: 2,
              retryAt: at("2030-01-01T00:00:04Z")
            })
            yield* repo.putRefreshState(attempted)
            assert.deepStrictEqual(yield* repo.refreshState(orgId, id), Option.some(attempted))
            const refused = CredentialRefreshState.CredentialRefreshState.make({
              ...attempted,
              attemptedAt: null,
              refusedAt: at("2030-01-01T00:01:00Z"),
              refusedReason: "refused",
              reconnect: CredentialRefreshState.ReconnectLink.make({
                sealed: sealed("k1", 9),
                expiresAt: at("2030-01-01T00:11:00Z")
              })
            })
            yield* repo.putRefreshState(refused)
            assert.deepStrictEqual(yield* repo.refreshState(orgId, id), Option.some(refused))
            // Another organization neither reads nor writes it.
            const other = yield* newOrg
            assert.isTrue(Option.isNone(yield* repo.refreshState(other, id)))
            yield* repo.putRefreshState(CredentialRefreshState.empty(other, id))
            assert.deepStrictEqual(yield* repo.refreshState(orgId, id), Option.some(refused))
          })
        )

        it.effect("pages the versions under other keys in id order from a cursor, each exactly once", () =>
          Effect.gen(function* () {
            const repo = yield* CredentialRepository.CredentialRepository
            const { orgId, instance } = yield* storedInstance
            const suffix = yield* newUuid
            const org = scope("organization", orgId)
            const ours: Array<string> = []
            for (let seed = 0; seed < 5; seed++) {
              const stored = yield* repo.insert(yield* newCredential(instance, org, { keyId: `old-${suffix}`, seed }))
              ours.push(stored.metadata.id)
            }
            const seen: Array<string> = []
            let after: Ids.CredentialId | undefined
            while (true) {
              const page = yield* repo.sealedWithOtherKey(`primary-${suffix}`, 3, after)
              if (page.length === 0) break
              for (const record of page) {
                if (after !== undefined) assert.isTrue(record.metadata.id > after)
                seen.push(record.metadata.id)
                after = record.metadata.id
              }
            }
            assert.deepStrictEqual(seen, [...seen].sort())
            assert.strictEqual(new Set(seen).size, seen.length)
            assert.includeMembers(seen, ours)
          })
        )

        if (subject.sql) {
          it.effect("deleting an instance deletes its credentials and pending authorizations", () =>
            Effect.gen(function* () {
              const instances = yield* InstanceRepository.InstanceRepository
              const repo = yield* CredentialRepository.CredentialRepository
              const pendings = yield* PendingAuthorizationRepository.PendingAuthorizationRepository
              const orgId = yield* newOrg
              const instance = yield* makeInstance(orgId)
              yield* instances.insert(instance)
              const v1 = yield* repo.insert(yield* newCredential(instance, scope("organization", orgId)))
              const state = `state-${yield* newUuid}`
              yield* pendings.insert(pending(instance, state, at("2099-01-01T00:00:00Z")))
              assert.isTrue(yield* instances.delete(orgId, instance.id))
              assert.isTrue(Option.isNone(yield* repo.get(orgId, v1.metadata.id)))
              assert.deepStrictEqual(yield* repo.list(orgId, instance.id), [])
              assert.isTrue(Option.isNone(yield* pendings.take(state, at("2025-01-01T00:00:00Z"))))
            })
          )

          it.effect("refuses a credential of an unknown instance with a StorageError that quotes no value", () =>
            Effect.gen(function* () {
              const repo = yield* CredentialRepository.CredentialRepository
              const orgId = yield* newOrg
              const ghost = yield* makeInstance(orgId)
              const credential = yield* newCredential(ghost, scope("organization", orgId))
              const error = yield* Effect.flip(
                repo.insert({
                  ...credential,
                  metadata: {
                    ...credential.metadata,
                    labels: { note: "hunter2-label" },
                    accountFingerprint: "fp-hunter2"
                  }
                })
              )
              assert.strictEqual(error._tag, "StorageError")
              assert.include(error.message, "23503")
              for (const value of ["hunter2", ghost.id, orgId]) assert.notInclude(error.message, value)
            })
          )
        }
      })

      describe("AuditLog", () => {
        it.effect("appends, and lists newest first with filters; a row reads back unchanged", () =>
          Effect.gen(function* () {
            const log = yield* AuditLog.AuditLog
            const orgId = yield* newOrg
            const instanceId = Ids.InstanceId.make(yield* newUuid)
            const e1 = yield* auditEvent(orgId)
            const e2 = yield* auditEvent(orgId, { action: "credential.store", instanceId, outcome: "failure" })
            const e3 = yield* auditEvent(orgId, { action: "instance.create", instanceId, details: {} })
            const foreign = yield* auditEvent(yield* newOrg)
            for (const e of [e1, e2, e3, foreign]) yield* log.append(e)

            assert.deepStrictEqual(yield* log.list(orgId, { limit: 10 }), [e3, e2, e1])
            assert.deepStrictEqual(yield* log.list(orgId, { limit: 2 }), [e3, e2])
            assert.deepStrictEqual(yield* log.list(orgId, { limit: 10, instanceId }), [e3, e2])
            assert.deepStrictEqual(yield* log.list(orgId, { limit: 10, action: "instance.create" }), [e3, e1])
            assert.deepStrictEqual(yield* log.list(orgId, { limit: 10, action: "instance.create", instanceId }), [e3])
          })
        )

        it.effect("offers no way to change or remove a row", () =>
          Effect.gen(function* () {
            const log = yield* AuditLog.AuditLog
            assert.deepStrictEqual(Object.keys(log).sort(), ["append", "list"])
          })
        )
      })

      describe("ReconnectWaits", () => {
        it.effect("lists the waits on one instance of one organization, oldest first, until removed", () =>
          Effect.gen(function* () {
            const waits = yield* ReconnectWaits.ReconnectWaits
            const orgA = yield* newOrg
            const orgB = yield* newOrg
            const instance = Ids.InstanceId.make(yield* newUuid)
            const other = Ids.InstanceId.make(yield* newUuid)
            const wait = (token: string, orgId: Ids.OrgId, instanceId: Ids.InstanceId, iso: string) =>
              ReconnectWaits.ReconnectWait.make({
                token: `${orgA}/${token}`,
                orgId,
                instanceId,
                scopes: [scope("organization", orgId)],
                registeredAt: at(iso)
              })
            const tokens = (orgId: Ids.OrgId) =>
              Effect.map(waits.waitingOn(orgId, instance), (found) => found.map((w) => w.token.split("/")[1]))
            const w1 = wait("t1", orgA, instance, "2026-01-01T00:00:01Z")
            yield* waits.register(w1)
            yield* waits.register(wait("t2", orgA, instance, "2026-01-01T00:00:02Z"))
            yield* waits.register(wait("t3", orgA, other, "2026-01-01T00:00:03Z"))
            yield* waits.register(wait("t4", orgB, instance, "2026-01-01T00:00:04Z"))
            assert.deepStrictEqual(yield* tokens(orgA), ["t1", "t2"])
            // a wait reads back unchanged
            assert.deepStrictEqual((yield* waits.waitingOn(orgA, instance))[0], w1)
            // registering a token again replaces its wait
            yield* waits.register(wait("t1", orgA, instance, "2026-01-01T00:00:05Z"))
            assert.deepStrictEqual(yield* tokens(orgA), ["t2", "t1"])
            yield* waits.remove(`${orgA}/t2`)
            yield* waits.remove(`${orgA}/never registered`)
            assert.deepStrictEqual(yield* tokens(orgA), ["t1"])
            assert.deepStrictEqual(yield* tokens(orgB), ["t4"])
          })
        )
      })

      describe("PendingAuthorizationRepository", () => {
        it.effect("hands out an authorization once, and never after it expired", () =>
          Effect.gen(function* () {
            const instances = yield* InstanceRepository.InstanceRepository
            const repo = yield* PendingAuthorizationRepository.PendingAuthorizationRepository
            const instance = yield* makeInstance(yield* newOrg)
            yield* instances.insert(instance)
            const now = at("2025-05-01T00:05:00Z")
            const state = `state-${yield* newUuid}`
            const stored = pending(instance, state, at("2025-05-01T00:10:00Z"))
            yield* repo.insert(stored)
            assert.deepStrictEqual(yield* repo.take(state, now), Option.some(stored))
            assert.isTrue(Option.isNone(yield* repo.take(state, now)))

            const expired = `expired-${yield* newUuid}`
            yield* repo.insert(pending(instance, expired, now))
            assert.isTrue(Option.isNone(yield* repo.take(expired, now)))
            assert.isTrue(Option.isNone(yield* repo.take(expired, at("2020-01-01T00:00:00Z"))))
          })
        )

        it.effect("of concurrent takes of one state exactly one succeeds", () =>
          Effect.gen(function* () {
            const instances = yield* InstanceRepository.InstanceRepository
            const repo = yield* PendingAuthorizationRepository.PendingAuthorizationRepository
            const instance = yield* makeInstance(yield* newOrg)
            yield* instances.insert(instance)
            const state = `state-${yield* newUuid}`
            yield* repo.insert(pending(instance, state, at("2099-01-01T00:00:00Z")))
            const taken = yield* Effect.all(
              Array.from({ length: 8 }, () => repo.take(state, at("2025-01-01T00:00:00Z"))),
              { concurrency: "unbounded" }
            )
            assert.strictEqual(taken.filter(Option.isSome).length, 1)
          })
        )

        it.effect("purges expired authorizations", () =>
          Effect.gen(function* () {
            const instances = yield* InstanceRepository.InstanceRepository
            const repo = yield* PendingAuthorizationRepository.PendingAuthorizationRepository
            const instance = yield* makeInstance(yield* newOrg)
            yield* instances.insert(instance)
            // Far in the past, so no other test's rows are expired at this instant.
            const now = at("1990-01-01T00:10:00Z")
            const early = `a-${yield* newUuid}`
            const edge = `b-${yield* newUuid}`
            const live = `c-${yield* newUuid}`
            yield* repo.insert(pending(instance, early, at("1990-01-01T00:00:00Z"), at("1989-12-31T00:00:00Z")))
            yield* repo.insert(pending(instance, edge, now, at("1989-12-31T00:00:00Z")))
            yield* repo.insert(pending(instance, live, at("1990-01-01T00:20:00Z"), at("1989-12-31T00:00:00Z")))
            assert.strictEqual(yield* repo.purgeExpired(now), 2)
            assert.strictEqual(yield* repo.purgeExpired(now), 0)
            assert.isTrue(Option.isSome(yield* repo.take(live, now)))
          })
        )
      })

      describe("Transactions", () => {
        it.effect(
          "a failed unit leaves nothing behind: instance, version, revocation, audit event, authorization",
          () =>
            Effect.gen(function* () {
              const transactions = yield* Transactions.Transactions
              const instances = yield* InstanceRepository.InstanceRepository
              const credentials = yield* CredentialRepository.CredentialRepository
              const log = yield* AuditLog.AuditLog
              const pendings = yield* PendingAuthorizationRepository.PendingAuthorizationRepository
              const { orgId, instance: kept } = yield* storedInstance
              const first = yield* credentials.insert(yield* newCredential(kept, scope("organization", orgId)))
              const fresh = yield* makeInstance(orgId, { accountFingerprint: "fp-unit" })
              const state = `unit-${yield* newUuid}`
              const boom = new DomainError.StorageError({ operation: "test", detail: "boom" })
              const exit = yield* Effect.exit(
                transactions.run(
                  Effect.gen(function* () {
                    yield* instances.insert(fresh)
                    yield* instances.update(
                      ConnectorInstance.ConnectorInstance.make({
                        ...kept,
                        hasCredentials: true,
                        accountFingerprint: "fp-k"
                      })
                    )
                    yield* credentials.insert(yield* newCredential(fresh, scope("organization", orgId)))
                    yield* credentials.revoke(orgId, first.metadata.id, at("2025-06-01T00:00:00Z"))
                    yield* log.append(yield* auditEvent(orgId, { instanceId: fresh.id }))
                    yield* pendings.insert(pending(fresh, state, at("2099-01-01T00:00:00Z")))
                    // A nested unit joins the enclosing one.
                    yield* transactions.run(log.append(yield* auditEvent(orgId, { instanceId: kept.id })))
                    return yield* boom
                  })
                )
              )
              assert.deepStrictEqual(exit, Exit.fail(boom))
              assert.isTrue(Option.isNone(yield* instances.get(orgId, fresh.id)))
              assert.deepStrictEqual(yield* instances.get(orgId, kept.id), Option.some(kept))
              assert.deepStrictEqual(yield* credentials.list(orgId, fresh.id), [])
              assert.deepStrictEqual(yield* credentials.list(orgId, kept.id), [first.metadata])
              assert.deepStrictEqual(yield* log.list(orgId, { limit: 10 }), [])
              assert.isTrue(Option.isNone(yield* pendings.take(state, at("2025-01-01T00:00:00Z"))))
            })
        )

        it.effect("a refused write inside a unit is typed, and the unit goes on and commits", () =>
          Effect.gen(function* () {
            const transactions = yield* Transactions.Transactions
            const instances = yield* InstanceRepository.InstanceRepository
            const log = yield* AuditLog.AuditLog
            const orgId = yield* newOrg
            const holder = yield* makeInstance(orgId, { accountFingerprint: "fp-held" })
            yield* instances.insert(holder)
            const other = yield* makeInstance(orgId)
            const event = yield* auditEvent(orgId, { instanceId: other.id })
            const refused = yield* transactions.run(
              Effect.gen(function* () {
                yield* instances.insert(other)
                const clash = yield* Effect.flip(
                  instances.update(
                    ConnectorInstance.ConnectorInstance.make({ ...other, accountFingerprint: "fp-held" })
                  )
                )
                const sameName = yield* Effect.flip(
                  instances.insert(yield* makeInstance(orgId, { instanceName: holder.instanceName }))
                )
                yield* log.append(event)
                return [clash, sameName] as const
              })
            )
            assert.deepStrictEqual(
              refused.map((e) => e._tag),
              ["DuplicateAccount", "NameTaken"]
            )
            assert.strictEqual(refused[0]._tag === "DuplicateAccount" ? refused[0].existingInstanceId : "", holder.id)
            assert.deepStrictEqual(yield* instances.get(orgId, other.id), Option.some(other))
            assert.deepStrictEqual(yield* log.list(orgId, { limit: 10 }), [event])
          })
        )
      })

      describe("RefreshLock", () => {
        it.scoped("excludes holders of one key across two connections, not holders of different keys", () =>
          Effect.gen(function* () {
            const one = yield* RefreshLock.RefreshLock
            const two = yield* subject.otherLock
            const key = `credential-${yield* newUuid}`
            const inside = yield* Ref.make(0)
            const most = yield* Ref.make(0)
            const critical = Effect.gen(function* () {
              const now = yield* Ref.updateAndGet(inside, (n) => n + 1)
              yield* Ref.update(most, (m) => Math.max(m, now))
              yield* Effect.sleep("15 millis")
              yield* Ref.update(inside, (n) => n - 1)
            })
            yield* Effect.all(
              Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? one : two).withLock(key, critical)),
              { concurrency: "unbounded" }
            )
            assert.strictEqual(yield* Ref.get(most), 1)

            // Two different keys are held at once: each holder waits for the other to be inside.
            const [a, b] = [yield* Ref.make(false), yield* Ref.make(false)]
            const meet = (mine: Ref.Ref<boolean>, theirs: Ref.Ref<boolean>) =>
              Effect.zipRight(
                Ref.set(mine, true),
                Effect.repeat(Ref.get(theirs), { until: (x) => x, schedule: Schedule.spaced("5 millis") })
              )
            yield* Effect.all([one.withLock(`${key}-a`, meet(a, b)), two.withLock(`${key}-b`, meet(b, a))], {
              concurrency: "unbounded"
            }).pipe(Effect.timeout("10 seconds"))
          })
        )

        it.effect("releases the lock when the holder fails, and returns the holder's value", () =>
          Effect.gen(function* () {
            const lock = yield* RefreshLock.RefreshLock
            const key = `credential-${yield* newUuid}`
            const exit = yield* Effect.exit(lock.withLock(key, Effect.fail("refresh failed" as const)))
            assert.deepStrictEqual(exit, Exit.fail("refresh failed" as const))
            assert.strictEqual(yield* lock.withLock(key, Effect.succeed(42)).pipe(Effect.timeout("5 seconds")), 42)
          })
        )
      })
      idempotency(it)
      monitorPorts(it)
    })
  })
}
