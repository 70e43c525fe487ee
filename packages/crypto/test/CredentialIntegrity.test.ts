import { assert, describe, it } from "@effect/vitest"
import { Credential, CredentialRepository, Ids } from "@patchbay/core"
import { Cause, Effect, Exit, Option } from "effect"
import * as CredentialIntegrity from "../src/CredentialIntegrity.js"
import * as Envelope from "../src/Envelope.js"
import { credentialId, envelopeOf, freshKey, instanceId, orgId, orgScope, text, utf8 } from "./fixtures.js"

const k1 = freshKey()
const k2 = freshKey()
const envelope = envelopeOf({ k1, k2 }, "k1")
const createdAt = new Date("2026-01-01T00:00:00Z")
const expiresAt = new Date("2027-01-01T00:00:00Z")

/** The format 2 binding of a version of the org scope. */
const bound = (id: Ids.CredentialId, overrides: Partial<Envelope.Aad> = {}): Envelope.Aad => ({
  ...Envelope.aadOf({ id, orgId, instanceId, scope: orgScope, expiresAt, createdAt }),
  ...overrides
})

/** The tag of an effect's typed failure ("success" when it succeeds); a defect fails the test. */
const outcome = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(effect)
    if (Exit.isSuccess(exit)) return "success"
    const failure = Cause.failureOption(exit.cause)
    assert.isTrue(Option.isSome(failure), `expected a typed failure, got ${Cause.pretty(exit.cause)}`)
    return Option.isSome(failure) ? failure.value._tag : "defect"
  })

describe("envelope format 2", () => {
  it.effect("binds organization, expiry and creation time: any change fails to open", () =>
    Effect.gen(function* () {
      const id = credentialId(1)
      const sealed = yield* envelope.seal(utf8("secret"), bound(id))
      assert.strictEqual(sealed.wrappedKey[0], 2)
      assert.strictEqual(text(yield* envelope.open(sealed, bound(id))), "secret")
      const changes: ReadonlyArray<Partial<Envelope.Aad>> = [
        { orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000b") },
        { expiresAt: new Date(expiresAt.getTime() + 1) },
        { expiresAt: null },
        { createdAt: new Date(createdAt.getTime() - 1) },
        { scopeType: "user" },
        { instanceId: Ids.InstanceId.make("0190a000-0000-7000-8000-0000000000b2") },
        { orgId: undefined }
      ]
      for (const change of changes) {
        assert.strictEqual(yield* outcome(envelope.open(sealed, bound(id, change))), "CredentialCorrupted")
      }
    })
  )

  it.effect("format 1 envelopes still open; relabelling either format as the other fails", () =>
    Effect.gen(function* () {
      const id = credentialId(2)
      const legacyAad = Envelope.aadOf({ id, instanceId, scope: orgScope })
      const legacy = yield* envelope.seal(utf8("old"), legacyAad)
      assert.strictEqual(legacy.wrappedKey[0], 1)
      // Read with the full metadata, as stored versions are: format 1 ignores the fields it never bound.
      assert.strictEqual(text(yield* envelope.open(legacy, bound(id))), "old")
      const current = yield* envelope.seal(utf8("new"), bound(id))
      const relabel = (sealed: Credential.SealedSecret, format: number) => {
        const wrappedKey = Uint8Array.from(sealed.wrappedKey)
        wrappedKey[0] = format
        return Credential.SealedSecret.make({ ...sealed, wrappedKey })
      }
      assert.strictEqual(yield* outcome(envelope.open(relabel(current, 1), bound(id))), "CredentialCorrupted")
      assert.strictEqual(yield* outcome(envelope.open(relabel(legacy, 2), bound(id))), "CredentialCorrupted")
      assert.strictEqual(yield* outcome(envelope.open(relabel(current, 3), bound(id))), "CredentialCorrupted")
    })
  )

  it.effect("re-wrapping under a new primary keeps the format and the state MAC", () =>
    Effect.gen(function* () {
      const id = credentialId(3)
      const sealed = yield* envelope.seal(utf8("secret"), bound(id))
      const mac = yield* envelope.stateMac(sealed, bound(id), "state")
      const rotated = envelopeOf({ k1, k2 }, "k2")
      const rewrapped = yield* rotated.rewrap(sealed, bound(id))
      assert.strictEqual(rewrapped.keyId, "k2")
      assert.strictEqual(rewrapped.wrappedKey[0], 2)
      assert.strictEqual(text(yield* rotated.open(rewrapped, bound(id))), "secret")
      assert.strictEqual(yield* outcome(rotated.verifyState(rewrapped, bound(id), "state", mac)), "success")
    })
  )
})

describe("state MAC", () => {
  it.effect("verifies only the state, row and keyring it was made for", () =>
    Effect.gen(function* () {
      const a = yield* envelope.seal(utf8("a"), bound(credentialId(4)))
      const b = yield* envelope.seal(utf8("b"), bound(credentialId(5)))
      const mac = yield* envelope.stateMac(a, bound(credentialId(4)), "revoked: null")
      assert.match(mac, /^v1:[A-Za-z0-9_-]{43}$/)
      const verify = (sealed: Credential.SealedSecret, id: number, state: string, stored: string | null) =>
        outcome(envelope.verifyState(sealed, bound(credentialId(id)), state, stored))
      assert.strictEqual(yield* verify(a, 4, "revoked: null", mac), "success")
      assert.strictEqual(yield* verify(a, 4, "revoked: 2026", mac), "CredentialCorrupted")
      assert.strictEqual(yield* verify(b, 5, "revoked: null", mac), "CredentialCorrupted")
      assert.strictEqual(yield* verify(a, 4, "revoked: null", null), "CredentialCorrupted")
      // One character of the MAC changed: the first (all six bits count; the last character's low
      // bits are padding, so changing only them would decode to the same MAC).
      const tampered = `v1:${mac[3] === "A" ? "B" : "A"}${mac.slice(4)}`
      assert.strictEqual(yield* verify(a, 4, "revoked: null", tampered), "CredentialCorrupted")
      assert.strictEqual(yield* verify(a, 4, "revoked: null", "v1:"), "CredentialCorrupted")
      const otherKeyring = envelopeOf({ k1: freshKey() }, "k1")
      assert.strictEqual(
        yield* outcome(otherKeyring.stateMac(a, bound(credentialId(4)), "revoked: null")),
        "CredentialCorrupted"
      )
      // A format 1 version stored before state was authenticated may have none.
      const legacy = yield* envelope.seal(
        utf8("old"),
        Envelope.aadOf({ id: credentialId(6), instanceId, scope: orgScope })
      )
      assert.strictEqual(yield* verify(legacy, 6, "anything", null), "success")
    })
  )
})

describe("CredentialIntegrity on the memory repository", () => {
  /** Two versions of one scope written as the vault writes them, the first superseded by the second. */
  const twoVersions = Effect.gen(function* () {
    const repository = yield* CredentialRepository.CredentialRepository
    const authenticate = CredentialIntegrity.authenticator(envelope)
    const write = (n: number, at: Date) =>
      Effect.gen(function* () {
        const id = credentialId(n)
        const sealed = yield* envelope.seal(
          utf8(`secret ${n}`),
          Envelope.aadOf({ id, orgId, instanceId, scope: orgScope, expiresAt: null, createdAt: at })
        )
        return yield* repository.insert({
          metadata: {
            id,
            orgId,
            instanceId,
            scope: orgScope,
            labels: {},
            masked: {},
            accountFingerprint: null,
            expiresAt: null,
            revokedAt: null,
            createdAt: at
          },
          sealed,
          authenticate
        })
      })
    const v1 = yield* write(10, createdAt)
    const v2 = yield* write(11, expiresAt)
    return { repository, authenticate, v1, v2 }
  })

  const current = (repository: CredentialRepository.CredentialRepositoryShape, now = new Date()) =>
    Effect.flatMap(repository.newestValid(orgId, instanceId, [orgScope], now), (found) =>
      Option.match(found, {
        onNone: () => Effect.succeed("none"),
        onSome: (record) =>
          Effect.as(CredentialIntegrity.verifyCurrent(envelope, repository, record, now), record.metadata.id)
      })
    )

  it.effect("legitimate supersession and revocation verify; the previous version is current after a revocation", () =>
    Effect.gen(function* () {
      const { repository, authenticate, v1, v2 } = yield* twoVersions
      const stored = Option.getOrThrow(yield* repository.get(orgId, v1.metadata.id))
      assert.strictEqual(stored.metadata.supersededBy, v2.metadata.id)
      assert.strictEqual(yield* current(repository), v2.metadata.id)
      yield* repository.revoke(orgId, v2.metadata.id, new Date(), authenticate)
      assert.strictEqual(yield* current(repository), v1.metadata.id)
    }).pipe(Effect.provide(CredentialRepository.layerMemory))
  )

  it.effect("a revocation written without the keyring makes the previous version fail closed", () =>
    Effect.gen(function* () {
      const { repository, v1, v2 } = yield* twoVersions
      // The store's own API, without an authenticator: what a writer without the keyring can do.
      yield* repository.revoke(orgId, v2.metadata.id, new Date())
      assert.strictEqual(yield* outcome(current(repository)), "CredentialCorrupted")
      assert.strictEqual(
        yield* outcome(
          CredentialIntegrity.verify(envelope, Option.getOrThrow(yield* repository.get(orgId, v1.metadata.id)))
        ),
        "success"
      )
    }).pipe(Effect.provide(CredentialRepository.layerMemory))
  )

  it.effect("a legitimate write never launders a tampered version", () =>
    Effect.gen(function* () {
      const { authenticate, v2 } = yield* twoVersions
      // v2 as an attacker left it: un-revoked state under a MAC made for another state.
      const tampered = Credential.CredentialRecord.make({
        ...v2,
        metadata: Credential.CredentialMetadata.make({ ...v2.metadata, version: 9 })
      })
      const next = Credential.CredentialRecord.make({
        ...tampered,
        metadata: Credential.CredentialMetadata.make({ ...tampered.metadata, revokedAt: new Date() })
      })
      const mac = yield* authenticate(next, tampered)
      assert.strictEqual(
        yield* outcome(
          CredentialIntegrity.verify(envelope, Credential.CredentialRecord.make({ ...next, stateMac: mac }))
        ),
        "CredentialCorrupted"
      )
    }).pipe(Effect.provide(CredentialRepository.layerMemory))
  )
})
