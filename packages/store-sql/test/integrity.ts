/**
 * Stored metadata integrity against a holder of database write access: the vault writes versions
 * through the store under test, the "attacker" rewrites its tables with SQL on the store's own
 * client, and the resolver must fail closed with `CredentialCorrupted` — never hand out a working
 * credential, never die. Run on PGlite (store-pglite/test/integrity.test.ts) and on a real
 * PostgreSQL (integrity.test.ts here). Every attack counts its tries and failures; the totals are
 * printed at the end of each run for the security notes.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, assert, describe, layer } from "@effect/vitest"
import {
  Actor,
  type ConnectorDescriptor,
  ConnectorDriver,
  ConnectorInstances,
  ConnectorRegistry,
  Credential,
  CredentialRepository,
  CredentialScope,
  Ids
} from "@patchbay/core"
import { CredentialRefresher, CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { Envelope, Fingerprint, Keyring } from "@patchbay/crypto"
import { Cause, Clock, Effect, Exit, Layer, Option, Redacted, Schema } from "effect"
import type { SqlStore } from "../src/index.js"

const descriptor = {
  id: Ids.ConnectorId.make("00000000-0000-4000-8000-0000000001e1"),
  key: "integrity-db",
  name: "Integrity test database",
  version: "1.0.0",
  authProfiles: ["database_password"],
  operations: ["test_connection"],
  configuration: Schema.Struct({ host: Schema.String }),
  credentials: Schema.Struct({ username: Schema.String, password: Schema.Redacted(Schema.String) }),
  secretFields: ["password"],
  accountFields: [],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor.ConnectorDescriptor

const connector = ConnectorDriver.make(descriptor, { test: () => Effect.succeed("ok"), healthCheck: () => Effect.void })

/** The vault and resolver over the store in context, on one ephemeral keyring. */
const services = Layer.mergeAll(CredentialVault.layer, CredentialResolver.layer).pipe(
  Layer.provideMerge(ConnectorInstances.layer),
  Layer.provideMerge(
    Layer.mergeAll(
      ConnectorRegistry.layer([connector]),
      Envelope.layer.pipe(Layer.provideMerge(Keyring.layerEphemeral())),
      Fingerprint.layerEphemeral,
      CredentialRefresher.layerNone
    )
  )
)

/** A store under attack: its services and the `SqlClient` it runs on. */
export interface IntegritySubject {
  readonly name: string
  readonly layer: Layer.Layer<SqlStore.Services | SqlClient.SqlClient, unknown>
}

/** Tries and failures per attack, over the run. */
const tally = new Map<string, { tries: number; failures: number }>()
const count = (attack: string, failed: boolean) => {
  const entry = tally.get(attack) ?? { tries: 0, failures: 0 }
  entry.tries++
  if (failed) entry.failures++
  tally.set(attack, entry)
}

/** The live clock moved `millis` ahead. */
const ahead = (millis: number): Clock.Clock => {
  const live = Clock.make()
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => live.unsafeCurrentTimeMillis() + millis,
    currentTimeMillis: Effect.sync(() => live.unsafeCurrentTimeMillis() + millis),
    unsafeCurrentTimeNanos: () => live.unsafeCurrentTimeNanos() + BigInt(millis) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => live.unsafeCurrentTimeNanos() + BigInt(millis) * 1_000_000n),
    sleep: live.sleep
  }
}

const hour = 3_600_000

/** A person of a fresh organization, with a user id and a workspace. */
const newActor = Effect.gen(function* () {
  return Actor.ActorInfo.make({
    orgId: yield* Ids.make(Ids.OrgId),
    userId: yield* Ids.make(Ids.UserId),
    workspaceId: yield* Ids.make(Ids.WorkspaceId)
  })
})

const createInstance = (name: string) =>
  Effect.flatMap(ConnectorInstances.ConnectorInstances, (instances) =>
    instances.create({ connector: descriptor.key, instanceName: name, configuration: { host: "db.internal" } })
  )

const orgScope = (actor: Actor.ActorInfo) => ({ type: "organization" as const, id: actor.orgId })

const store = (
  instanceId: string,
  password: string,
  options: { scope?: { type: string; id: string }; expiresAt?: Date } = {}
) =>
  Effect.gen(function* () {
    const actor = yield* Actor.Actor
    const vault = yield* CredentialVault.CredentialVault
    return yield* vault.create({
      instanceId,
      scope: (options.scope ?? orgScope(actor)) as typeof CredentialScope.CredentialScope.Encoded,
      credentials: { username: "app", password },
      ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt })
    })
  })

const supersede = (previous: Credential.CredentialMetadata, password: string) =>
  Effect.flatMap(CredentialVault.CredentialVault, (vault) =>
    vault.supersede(previous, { credentials: { username: "app", password }, reason: "rotated" })
  )

const revoke = (id: string) => Effect.flatMap(CredentialVault.CredentialVault, (vault) => vault.revoke(id))

/**
 * What resolving the instance gives: the password handed out, or the failure's tag. A defect
 * fails the test outright.
 */
const resolve = (instanceId: string) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const resolver = yield* CredentialResolver.CredentialResolver
    const instance = yield* instances.getUsable(instanceId)
    const exit = yield* Effect.exit(resolver.resolve(instance))
    if (Exit.isSuccess(exit)) return `password:${passwordOf(exit.value.secrets)}`
    const failure = Cause.failureOption(exit.cause)
    if (Option.isNone(failure)) return yield* Effect.die(new Error(`resolve died: ${Cause.pretty(exit.cause)}`))
    return failure.value._tag
  })

const passwordOf = (secrets: Redacted.Redacted<Readonly<Record<string, unknown>>>): string => {
  const password = Redacted.value(secrets).password
  return Redacted.isRedacted(password) ? String(Redacted.value(password)) : String(password)
}

/** Rewrites the store's tables as a holder of database write access would. */
const tamper = (statement: string, params: ReadonlyArray<unknown> = []) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement, params)).pipe(Effect.orDie)

const stateMacOf = (id: string) =>
  Effect.map(
    tamper("SELECT state_mac FROM patchbay.credentials WHERE id = $1", [id]),
    (rows) => (rows[0] as { readonly state_mac: string | null }).state_mac
  )

/** Runs `attack` and checks that resolving afterwards fails closed; counts the try. */
const expectCorrupted = (attack: string, instanceId: string, clock?: Clock.Clock) =>
  Effect.gen(function* () {
    const outcome = yield* clock === undefined ? resolve(instanceId) : Effect.withClock(resolve(instanceId), clock)
    count(attack, outcome !== "CredentialCorrupted")
    assert.strictEqual(outcome, "CredentialCorrupted", attack)
  })

/** The attack cases on `subject`, `rounds` times each. */
export const integrity = (subject: IntegritySubject, rounds = 3): void => {
  describe(`${subject.name}: stored metadata integrity`, () => {
    afterAll(() => {
      const lines = [...tally].map(
        ([attack, { tries, failures }]) => `  ${attack}: ${tries} tries, ${failures} failures`
      )
      console.log(`stored metadata integrity on ${subject.name}\n${lines.join("\n")}`)
    })
    layer(subject.layer, { excludeTestServices: true, timeout: "120 seconds" })((it) => {
      it.layer(services)((it) => {
        it.effect("legitimate writes keep working: supersede, revoke the newest, fall back to the previous", () =>
          Effect.gen(function* () {
            const instance = yield* createInstance("Legit")
            const v1 = yield* store(instance.id, "one")
            assert.strictEqual(yield* resolve(instance.id), "password:one")
            const v2 = yield* supersede(v1, "two")
            assert.strictEqual(yield* resolve(instance.id), "password:two")
            yield* revoke(v2.id)
            assert.strictEqual(yield* resolve(instance.id), "password:one")
            yield* revoke(v1.id)
            assert.strictEqual(yield* resolve(instance.id), "CredentialNotFound")
            const repository = yield* CredentialRepository.CredentialRepository
            const actor = yield* Actor.Actor
            const stored = yield* repository.get(actor.orgId, v1.id)
            assert.isTrue(Option.isSome(stored) && stored.value.metadata.supersededBy === v2.id)
            assert.isTrue(Option.isSome(stored) && stored.value.stateMac !== null)
          }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
        )

        for (let round = 1; round <= rounds; round++) {
          describe(`round ${round}`, () => {
            it.effect("clearing a revocation", () =>
              Effect.gen(function* () {
                const instance = yield* createInstance("Unrevoke")
                const v1 = yield* store(instance.id, "one")
                yield* revoke(v1.id)
                assert.strictEqual(yield* resolve(instance.id), "CredentialNotFound")
                yield* tamper("UPDATE patchbay.credentials SET revoked_at = NULL WHERE id = $1", [v1.id])
                yield* expectCorrupted("un-revoke", instance.id)
              }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
            )

            it.effect("clearing a supersession and revoking the successor", () =>
              Effect.gen(function* () {
                const instance = yield* createInstance("Unsupersede")
                const v1 = yield* store(instance.id, "one")
                const v2 = yield* supersede(v1, "two")
                yield* tamper("UPDATE patchbay.credentials SET superseded_by = NULL WHERE id = $1", [v1.id])
                yield* tamper("UPDATE patchbay.credentials SET revoked_at = now() WHERE id = $1", [v2.id])
                yield* expectCorrupted("clear supersession + revoke successor", instance.id)
              }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
            )

            it.effect("revoking, expiring, deleting or moving the successor of a superseded version", () =>
              Effect.gen(function* () {
                const attacks: ReadonlyArray<readonly [string, string]> = [
                  ["revoke successor", "UPDATE patchbay.credentials SET revoked_at = now() WHERE id = $1"],
                  [
                    "expire successor",
                    "UPDATE patchbay.credentials SET expires_at = now() - interval '1 day' WHERE id = $1"
                  ],
                  ["delete successor", "DELETE FROM patchbay.credentials WHERE id = $1"],
                  [
                    "move successor to another scope",
                    "UPDATE patchbay.credentials SET scope_id = gen_random_uuid() WHERE id = $1"
                  ]
                ]
                for (const [attack, statement] of attacks) {
                  const instance = yield* createInstance(`Successor ${attack}`)
                  const v1 = yield* store(instance.id, "one")
                  const v2 = yield* supersede(v1, "two")
                  yield* tamper(statement, [v2.id])
                  yield* expectCorrupted(attack, instance.id)
                }
              }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
            )

            it.effect("extending an expiry, of an expired version and of a valid one", () =>
              Effect.gen(function* () {
                const instance = yield* createInstance("Extend")
                yield* store(instance.id, "one", { expiresAt: new Date(Date.now() + hour) })
                const later = ahead(2 * hour)
                assert.strictEqual(yield* Effect.withClock(resolve(instance.id), later), "CredentialExpired")
                yield* tamper(
                  "UPDATE patchbay.credentials SET expires_at = expires_at + interval '1 year' WHERE instance_id = $1",
                  [instance.id]
                )
                yield* expectCorrupted("extend expiry (expired)", instance.id, later)
                yield* expectCorrupted("extend expiry (valid)", instance.id)
              }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
            )

            it.effect("moving a version to another scope, user or instance", () =>
              Effect.gen(function* () {
                const actor = yield* Actor.Actor
                const toUser = yield* createInstance("To user")
                yield* store(toUser.id, "one")
                yield* tamper(
                  "UPDATE patchbay.credentials SET scope_type = 'user', scope_id = $1 WHERE instance_id = $2",
                  [actor.userId, toUser.id]
                )
                yield* expectCorrupted("move to the actor's user scope", toUser.id)

                const toWorkspace = yield* createInstance("To workspace")
                yield* store(toWorkspace.id, "one")
                yield* tamper(
                  "UPDATE patchbay.credentials SET scope_type = 'workspace', scope_id = $1 WHERE instance_id = $2",
                  [actor.workspaceId, toWorkspace.id]
                )
                yield* expectCorrupted("move to the actor's workspace scope", toWorkspace.id)

                const from = yield* createInstance("Moved from")
                const to = yield* createInstance("Moved to")
                yield* store(from.id, "one")
                yield* tamper("UPDATE patchbay.credentials SET instance_id = $1 WHERE instance_id = $2", [
                  to.id,
                  from.id
                ])
                yield* expectCorrupted("move to another instance", to.id)
              }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
            )

            it.effect("swapping ciphertexts, or only the state MACs, between rows", () =>
              Effect.gen(function* () {
                const a = yield* createInstance("Swap A")
                const b = yield* createInstance("Swap B")
                const va = yield* store(a.id, "alpha")
                const vb = yield* store(b.id, "bravo")
                yield* tamper(
                  `UPDATE patchbay.credentials AS t SET key_id = s.key_id, wrapped_key = s.wrapped_key, nonce = s.nonce,
                     ciphertext = s.ciphertext
                   FROM patchbay.credentials AS s WHERE (t.id, s.id) IN (($1::uuid, $2::uuid), ($2::uuid, $1::uuid))`,
                  [va.id, vb.id]
                )
                yield* expectCorrupted("swap ciphertexts", a.id)
                yield* expectCorrupted("swap ciphertexts", b.id)

                const c = yield* createInstance("Swap C")
                const d = yield* createInstance("Swap D")
                const vc = yield* store(c.id, "charlie")
                const vd = yield* store(d.id, "delta")
                yield* tamper(
                  `UPDATE patchbay.credentials AS t SET state_mac = s.state_mac
                   FROM patchbay.credentials AS s WHERE (t.id, s.id) IN (($1::uuid, $2::uuid), ($2::uuid, $1::uuid))`,
                  [vc.id, vd.id]
                )
                yield* expectCorrupted("swap state MACs", c.id)
              }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
            )

            it.effect("rolling a state MAC back to an older value, renumbering, dropping or downgrading it", () =>
              Effect.gen(function* () {
                // v1's MAC from before it was superseded, replayed after its successor was revoked.
                const rolled = yield* createInstance("Rollback")
                const v1 = yield* store(rolled.id, "one")
                const before = yield* stateMacOf(v1.id)
                const v2 = yield* supersede(v1, "two")
                yield* revoke(v2.id)
                assert.strictEqual(yield* resolve(rolled.id), "password:one")
                yield* tamper("UPDATE patchbay.credentials SET state_mac = $1 WHERE id = $2", [before, v1.id])
                yield* expectCorrupted("roll back a MAC", rolled.id)

                const renumbered = yield* createInstance("Renumber")
                const r1 = yield* store(renumbered.id, "one")
                yield* tamper("UPDATE patchbay.credentials SET version = 7 WHERE id = $1", [r1.id])
                yield* expectCorrupted("renumber a version", renumbered.id)

                const dropped = yield* createInstance("Drop MAC")
                const d1 = yield* store(dropped.id, "one")
                yield* tamper("UPDATE patchbay.credentials SET state_mac = NULL WHERE id = $1", [d1.id])
                yield* expectCorrupted("drop the MAC", dropped.id)

                // Relabelled as envelope format 1 (whose rows may lack a MAC): the binding no longer matches.
                const downgraded = yield* createInstance("Downgrade")
                const g1 = yield* store(downgraded.id, "one")
                yield* tamper(
                  "UPDATE patchbay.credentials SET state_mac = NULL, wrapped_key = set_byte(wrapped_key, 0, 1) WHERE id = $1",
                  [g1.id]
                )
                yield* expectCorrupted("downgrade to the unauthenticated format", downgraded.id)

                // A forged newest version: a copy of a row under a new id and number.
                const forged = yield* createInstance("Forged")
                const f1 = yield* store(forged.id, "one")
                yield* tamper(
                  `INSERT INTO patchbay.credentials (id, org_id, instance_id, scope_type, scope_id, version, labels, masked,
                     account_fingerprint, expires_at, revoked_at, created_at, key_id, wrapped_key, nonce, ciphertext,
                     superseded_by, state_mac)
                   SELECT gen_random_uuid(), org_id, instance_id, scope_type, scope_id, version + 1, labels, masked,
                     account_fingerprint, expires_at, revoked_at, created_at, key_id, wrapped_key, nonce, ciphertext,
                     superseded_by, state_mac
                   FROM patchbay.credentials WHERE id = $1`,
                  [f1.id]
                )
                yield* expectCorrupted("forge a newer version from a copy", forged.id)
              }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
            )
          })
        }

        it.effect("versions sealed before authenticated state (format 1, no MAC) still resolve", () =>
          Effect.gen(function* () {
            const actor = yield* Actor.Actor
            const envelope = yield* Envelope.Envelope
            const repository = yield* CredentialRepository.CredentialRepository
            const instance = yield* createInstance("Legacy")
            const id = yield* Ids.make(Ids.CredentialId)
            const scope = CredentialScope.CredentialScope.make(orgScope(actor))
            const plaintext = new TextEncoder().encode(JSON.stringify({ username: "app", password: "legacy" }))
            // The binding of format 1: no organization, expiry or creation time.
            const sealed = yield* envelope.seal(
              Redacted.make(plaintext),
              Envelope.aadOf({ id, instanceId: instance.id, scope })
            )
            assert.strictEqual(sealed.wrappedKey[0], 1)
            yield* repository.insert({
              metadata: {
                id,
                orgId: actor.orgId,
                instanceId: instance.id,
                scope,
                labels: {},
                masked: {},
                accountFingerprint: null,
                expiresAt: null,
                revokedAt: null,
                createdAt: new Date()
              },
              sealed
            })
            assert.strictEqual(yield* resolve(instance.id), "password:legacy")
          }).pipe(Effect.provideServiceEffect(Actor.Actor, newActor))
        )
      })
    })
  })
}
