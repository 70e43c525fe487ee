import { assert, describe, it } from "@effect/vitest"
import {
  Actor,
  type ConnectorInstance,
  ConnectorRegistry,
  Credential,
  CredentialRepository,
  CredentialScope,
  type ResolvedCredential
} from "@patchbay/core"
import { Duration, Effect, FastCheck as fc, Layer, Option, Redacted, Schema, TestClock } from "effect"
import { CredentialRefresher, layerNone } from "../src/CredentialRefresher.js"
import { CredentialResolver } from "../src/CredentialResolver.js"
import { CredentialVault } from "../src/CredentialVault.js"
import {
  admin,
  agent1,
  agent2,
  as,
  assertNoSecret,
  createInstance,
  databaseConnector,
  failure,
  memory,
  orgA,
  orgB,
  user1,
  user2,
  workspace1,
  workspace2
} from "./fixtures.js"

type Scope = { readonly type: "organization" | "workspace" | "user" | "agent"; readonly id: string }

const scopes = {
  org: { type: "organization", id: orgA },
  ws1: { type: "workspace", id: workspace1 },
  u1: { type: "user", id: user1 },
  g1: { type: "agent", id: agent1 }
} as const satisfies Record<string, Scope>

/** Stores one credential per scope, whose password names the scope. */
const storeEach = (instance: ConnectorInstance.ConnectorInstance, which: ReadonlyArray<keyof typeof scopes>) =>
  Effect.gen(function* () {
    const vault = yield* CredentialVault
    for (const name of which) {
      const scope = scopes[name]
      // The writer belongs to the scope it writes.
      const writer = { ...admin, ...(scope.type === "agent" ? { agentId: agent1 } : {}) }
      yield* vault
        .create({ instanceId: instance.id, scope, credentials: { username: "reader", password: `secret-${name}` } })
        .pipe(as(writer))
    }
  })

/** The password the actor resolves, or the failure's tag. */
const resolvedBy = (
  instance: ConnectorInstance.ConnectorInstance,
  actor: Parameters<typeof as>[0],
  options?: { scope: Scope }
) =>
  Effect.flatMap(CredentialResolver, (resolver) => resolver.resolve(instance, options)).pipe(
    Effect.map((resolved) => String(Redacted.value(resolved.secrets).password)),
    Effect.catchAll((error) => Effect.succeed(error._tag)),
    as(actor)
  )

const actors = {
  orgOnly: { orgId: orgA },
  ws1: { orgId: orgA, workspaceId: workspace1 },
  ws2: { orgId: orgA, workspaceId: workspace2 },
  u1InWs1: { orgId: orgA, workspaceId: workspace1, userId: user1 },
  u2InWs1: { orgId: orgA, workspaceId: workspace1, userId: user2 },
  u2: { orgId: orgA, userId: user2 },
  g1ForU1: { orgId: orgA, workspaceId: workspace1, userId: user1, agentId: agent1 },
  g2InWs1: { orgId: orgA, workspaceId: workspace1, agentId: agent2 },
  g1: { orgId: orgA, agentId: agent1 },
  g2: { orgId: orgA, agentId: agent2 },
  u1InOrgB: { orgId: orgB, userId: user1, workspaceId: workspace1 }
} as const

describe("CredentialResolver", () => {
  it.effect("resolves by precedence agent → user → workspace → organization, within the actor's scopes only", () =>
    Effect.gen(function* () {
      const instance = yield* createInstance("Analytics").pipe(as(admin))
      yield* storeEach(instance, ["org", "ws1", "u1", "g1"])
      const outcome: Record<string, string> = {}
      for (const [name, actor] of Object.entries(actors)) outcome[name] = yield* resolvedBy(instance, actor)
      assert.deepStrictEqual(outcome, {
        orgOnly: "secret-org",
        ws1: "secret-ws1",
        ws2: "secret-org",
        u1InWs1: "secret-u1",
        u2InWs1: "secret-ws1",
        u2: "secret-org",
        g1ForU1: "secret-g1",
        g2InWs1: "secret-ws1",
        g1: "secret-g1",
        g2: "secret-org",
        u1InOrgB: "InstanceNotFound"
      })
    }).pipe(Effect.provide(memory()))
  )

  it.effect("never resolves a user's, agent's or workspace's credential for anyone outside it", () =>
    Effect.gen(function* () {
      const instance = yield* createInstance("Analytics").pipe(as(admin))
      yield* storeEach(instance, ["ws1", "u1", "g1"])
      const outcome: Record<string, string> = {}
      for (const [name, actor] of Object.entries(actors)) outcome[name] = yield* resolvedBy(instance, actor)
      assert.deepStrictEqual(outcome, {
        orgOnly: "CredentialNotFound",
        ws1: "secret-ws1",
        ws2: "CredentialNotFound",
        u1InWs1: "secret-u1",
        u2InWs1: "secret-ws1",
        u2: "CredentialNotFound",
        g1ForU1: "secret-g1",
        g2InWs1: "secret-ws1",
        g1: "secret-g1",
        g2: "CredentialNotFound",
        u1InOrgB: "InstanceNotFound"
      })
      // The same instance in another organization's hands resolves nothing of this one.
      const foreign = yield* createInstance("Analytics").pipe(as({ orgId: orgB }))
      assert.strictEqual(yield* resolvedBy(foreign, actors.u1InOrgB), "CredentialNotFound")
      assert.strictEqual(yield* resolvedBy(foreign, actors.u1InWs1), "InstanceNotFound")
    }).pipe(Effect.provide(memory()))
  )

  it.effect("honours an explicit scope only where the actor belongs", () =>
    Effect.gen(function* () {
      const instance = yield* createInstance("Analytics").pipe(as(admin))
      yield* storeEach(instance, ["org", "ws1", "u1", "g1"])
      const matrix: Record<string, Record<string, string>> = {}
      for (const [actorName, actor] of Object.entries(actors)) {
        if (actor.orgId !== orgA) continue
        matrix[actorName] = {}
        for (const [scopeName, scope] of Object.entries(scopes)) {
          const outcome = yield* resolvedBy(instance, actor, { scope })
          const allowed = CredentialScope.allows(
            Schema.decodeSync(Actor.ActorInfo)(actor),
            CredentialScope.CredentialScope.make(scope)
          )
          assert.strictEqual(
            outcome,
            allowed ? `secret-${scopeName}` : "ScopeForbidden",
            `${actorName} asking for ${scopeName}`
          )
          matrix[actorName]![scopeName] = outcome
        }
      }
      assert.deepStrictEqual(matrix.u2InWs1, {
        org: "secret-org",
        ws1: "secret-ws1",
        u1: "ScopeForbidden",
        g1: "ScopeForbidden"
      })
      assert.strictEqual(
        yield* resolvedBy(instance, actors.u1InWs1, { scope: { type: "user", id: "not-a-uuid" } }),
        "InvalidInput"
      )
    }).pipe(Effect.provide(memory()))
  )

  it.effect("picks the newest valid version, skipping expired and revoked ones, under TestClock", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const resolver = yield* CredentialResolver
      const instance = yield* createInstance("Analytics")
      const day = 86_400_000
      const store = (password: string, expiresInDays: number | null) =>
        vault
          .create({
            instanceId: instance.id,
            scope: scopes.org,
            credentials: { username: "reader", password },
            expiresAt: expiresInDays === null ? null : new Date(expiresInDays * day)
          })
          .pipe(Effect.zipLeft(TestClock.adjust(Duration.millis(1))))
      const password = Effect.map(resolver.resolve(instance), (r) => Redacted.value(r.secrets).password)

      yield* store("v1", 10)
      const v2 = yield* store("v2", 1)
      const v3 = yield* store("v3", null)
      assert.strictEqual(yield* password, "v3")
      yield* vault.revoke(v3.id)
      assert.strictEqual(yield* password, "v2")
      yield* TestClock.setTime(day)
      assert.strictEqual(yield* password, "v1")
      yield* TestClock.setTime(10 * day)
      const expired = yield* failure(resolver.resolve(instance))
      assert.strictEqual(expired._tag, "CredentialExpired")
      assert.strictEqual(expired._tag === "CredentialExpired" ? expired.credentialId : "", v2.id)
      yield* vault.revoke(v2.id)
      // v1 (expired) is now the newest unrevoked.
      assert.strictEqual((yield* failure(resolver.resolve(instance)))._tag, "CredentialExpired")
      const fresh = yield* store("v4", 20)
      assert.strictEqual(yield* password, "v4")
      yield* vault.revoke(fresh.id)
      for (const m of yield* vault.list(instance.id)) yield* vault.revoke(m.id)
      const none = yield* failure(resolver.resolve(instance))
      assert.strictEqual(none._tag, "CredentialNotFound")
    }).pipe(as(admin), Effect.provide(memory()))
  )

  it.effect("falls back to a lower scope when the higher one has only expired versions", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const resolver = yield* CredentialResolver
      const instance = yield* createInstance("Analytics")
      yield* vault.create({
        instanceId: instance.id,
        scope: scopes.u1,
        credentials: { username: "reader", password: "mine" },
        expiresAt: new Date(1000)
      })
      yield* vault.create({
        instanceId: instance.id,
        scope: scopes.org,
        credentials: { username: "reader", password: "shared" }
      })
      assert.strictEqual(Redacted.value((yield* resolver.resolve(instance)).secrets).password, "mine")
      yield* TestClock.adjust(Duration.seconds(2))
      const resolved = yield* resolver.resolve(instance)
      assert.strictEqual(Redacted.value(resolved.secrets).password, "shared")
      assert.strictEqual(resolved.metadata.scope.type, "organization")
      // Asked for explicitly, the user's scope reports its expiry.
      assert.strictEqual((yield* failure(resolver.resolve(instance, { scope: scopes.u1 })))._tag, "CredentialExpired")
    }).pipe(as(admin), Effect.provide(memory()))
  )

  it.effect("fails with CredentialCorrupted when a row's ciphertext is swapped with another's, leaking nothing", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const resolver = yield* CredentialResolver
      const repository = yield* CredentialRepository.CredentialRepository
      const first = yield* createInstance("Analytics")
      const second = yield* createInstance("Reporting", { configuration: { host: "reporting", database: "r" } })
      const a = yield* vault.create({
        instanceId: first.id,
        scope: scopes.org,
        credentials: { username: "a", password: "password-of-A" }
      })
      const b = yield* vault.create({
        instanceId: second.id,
        scope: scopes.org,
        credentials: { username: "b", password: "password-of-B" }
      })
      const sealedA = (yield* repository.get(a.orgId, a.id)).pipe((o) =>
        o._tag === "Some" ? o.value.sealed : undefined
      )!
      const sealedB = (yield* repository.get(b.orgId, b.id)).pipe((o) =>
        o._tag === "Some" ? o.value.sealed : undefined
      )!
      assert.isTrue(yield* repository.replaceSealed(a.id, sealedA.keyId, sealedB))
      const error = yield* failure(resolver.resolve(first))
      assert.strictEqual(error._tag, "CredentialCorrupted")
      assertNoSecret(error, ["password-of-A", "password-of-B"])
      assert.strictEqual(Redacted.value((yield* resolver.resolve(second)).secrets).password, "password-of-B")
      // One flipped byte is as fatal.
      const tampered = Uint8Array.from(sealedB.ciphertext)
      tampered[0] = tampered[0]! ^ 0x80
      yield* repository.replaceSealed(
        b.id,
        sealedB.keyId,
        Credential.SealedSecret.make({ ...sealedB, ciphertext: tampered })
      )
      assert.strictEqual((yield* failure(resolver.resolve(second)))._tag, "CredentialCorrupted")
    }).pipe(as(admin), Effect.provide(memory()))
  )

  it.effect("returns secrets drivers decode with driverContext, and metadata without them", () =>
    Effect.gen(function* () {
      const vault = yield* CredentialVault
      const resolver = yield* CredentialResolver
      const instance = yield* createInstance("Analytics")
      yield* vault.create({
        instanceId: instance.id,
        scope: scopes.org,
        credentials: { username: "reader", password: "pw-123456" }
      })
      const resolved = yield* resolver.resolve(instance)
      assertNoSecret(resolved, ["pw-123456"])
      assertNoSecret(resolved.metadata, ["pw-123456"])
      const context = yield* ConnectorRegistry.driverContext(
        databaseConnector,
        instance,
        Redacted.value(resolved.secrets),
        { id: "credential-1", version: 1, scope: "organization:test" }
      )
      const credentials = context.credentials as { username: string; password: Redacted.Redacted<string> }
      assert.strictEqual(credentials.username, "reader")
      assert.strictEqual(Redacted.value(credentials.password), "pw-123456")
    }).pipe(as(admin), Effect.provide(memory()))
  )

  it.effect.prop(
    "random secrets round-trip exactly through vault and resolver",
    [fc.string({ minLength: 1, maxLength: 64 }), fc.string({ unit: "grapheme", maxLength: 256 })],
    ([username, password]) =>
      Effect.gen(function* () {
        const vault = yield* CredentialVault
        const resolver = yield* CredentialResolver
        const instance = yield* createInstance("Analytics")
        yield* vault.create({ instanceId: instance.id, scope: scopes.u1, credentials: { username, password } })
        const resolved = yield* resolver.resolve(instance)
        assert.deepStrictEqual(Redacted.value(resolved.secrets), { username, password })
      }).pipe(as(admin), Effect.provide(memory())),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect("passes every resolution through the CredentialRefresher it requires", () =>
    Effect.gen(function* () {
      const calls: Array<string> = []
      const refresher = Layer.succeed(
        CredentialRefresher,
        CredentialRefresher.of({
          refresh: (instance, resolved: ResolvedCredential.ResolvedCredential) =>
            Effect.sync(() => {
              calls.push(instance.instanceName)
              if (instance.authType !== "oauth2_authorization_code") return resolved
              return {
                ...resolved,
                secrets: Redacted.make({ ...Redacted.value(resolved.secrets), access_token: "fresh" })
              }
            }),
          obtain: () => Effect.succeedNone
        })
      )
      yield* Effect.gen(function* () {
        const vault = yield* CredentialVault
        const resolver = yield* CredentialResolver
        const api = yield* createInstance("API", { connector: "demo-oauth" })
        const db = yield* createInstance("Analytics")
        yield* vault.create({
          instanceId: api.id,
          scope: scopes.org,
          credentials: { access_token: "stale", refresh_token: "r" }
        })
        yield* vault.create({ instanceId: db.id, scope: scopes.org, credentials: { username: "u", password: "p" } })
        assert.strictEqual(Redacted.value((yield* resolver.resolve(api)).secrets).access_token, "fresh")
        assert.strictEqual(Redacted.value((yield* resolver.resolve(db)).secrets).password, "p")
        assert.deepStrictEqual(calls, ["API", "Analytics"])
      }).pipe(as(admin), Effect.provide(memory(refresher)))
    })
  )

  it.effect(
    "asks the refresher to obtain a first credential only when none is stored, and only in a candidate scope",
    () =>
      Effect.gen(function* () {
        const obtained: Array<string> = []
        /** Obtains a credential in the organization scope, or in another user's for "Elsewhere". */
        const refresher = Layer.succeed(
          CredentialRefresher,
          CredentialRefresher.of({
            refresh: (_instance, resolved) => Effect.succeed(resolved),
            obtain: (instance) =>
              Effect.sync(() => {
                obtained.push(instance.instanceName)
                const scope =
                  instance.instanceName === "Elsewhere" ? ({ type: "user", id: user2 } as const) : scopes.org
                return Option.some({
                  metadata: Credential.CredentialMetadata.make({
                    id: "0190a000-0000-7000-8000-0000000000f1" as Credential.CredentialMetadata["id"],
                    orgId: instance.orgId,
                    instanceId: instance.id,
                    scope: Schema.decodeSync(CredentialScope.CredentialScope)(scope),
                    version: 1,
                    labels: {},
                    masked: {},
                    accountFingerprint: null,
                    expiresAt: null,
                    revokedAt: null,
                    createdAt: new Date(0)
                  }),
                  secrets: Redacted.make({ username: "machine" })
                })
              })
          })
        )
        yield* Effect.gen(function* () {
          const vault = yield* CredentialVault
          const resolver = yield* CredentialResolver
          const fetched = yield* createInstance("Fetched")
          assert.strictEqual(Redacted.value((yield* resolver.resolve(fetched)).secrets).username, "machine")
          const stored = yield* createInstance("Stored")
          yield* vault.create({
            instanceId: stored.id,
            scope: scopes.org,
            credentials: { username: "u", password: "p" }
          })
          assert.strictEqual(Redacted.value((yield* resolver.resolve(stored)).secrets).username, "u")
          // A credential obtained for a scope the actor does not resolve is not handed out.
          const elsewhere = yield* createInstance("Elsewhere")
          assert.strictEqual((yield* failure(resolver.resolve(elsewhere)))._tag, "CredentialNotFound")
          assert.deepStrictEqual(obtained, ["Fetched", "Elsewhere"])
        }).pipe(as(admin), Effect.provide(memory(refresher)))
      })
  )

  it.effect("without OAuth2 (CredentialRefresher.layerNone) a missing credential stays missing", () =>
    Effect.gen(function* () {
      const resolver = yield* CredentialResolver
      const instance = yield* createInstance("API", { connector: "demo-oauth" })
      assert.strictEqual((yield* failure(resolver.resolve(instance)))._tag, "CredentialNotFound")
    }).pipe(as(admin), Effect.provide(memory(layerNone)))
  )
})
