/**
 * What only the embedded store shows: a new database starts migrated from the prebuilt data
 * directory, a data directory persists across restarts and is then opened as it is, and
 * directories that are not what they should be are refused.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { CredentialRepository, InstanceRepository } from "@patchbay/core"
import { Context, Effect, Layer, Option } from "effect"
import { makeInstance, newCredential, newOrg, scope } from "../../store-sql/test/fixtures.js"
import { PgliteClient, PgliteStore, PrebuiltDataDir } from "../src/index.js"

/** A new temporary directory, removed with the scope. */
const temporaryDirectory = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "patchbay-pglite-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** The store's services, built from `options` within the current scope. */
const open = (options: PgliteStore.Options) => Layer.build(PgliteStore.layer(options))

describe("PgliteStore.layer", () => {
  it.live(
    "a fresh store in memory is migrated and usable",
    () =>
      Effect.gen(function* () {
        // Whether the prebuilt data directory is current is test/PrebuiltDataDir.test.ts's concern:
        // behind or not, the store starts migrated.
        const context = yield* open({})
        const instances = Context.get(context, InstanceRepository.InstanceRepository)
        const instance = yield* makeInstance(yield* newOrg)
        yield* instances.insert(instance)
        assert.deepStrictEqual(yield* instances.get(instance.orgId, instance.id), Option.some(instance))
      }).pipe(Effect.scoped),
    120_000
  )

  it.live(
    "a new data directory starts migrated, keeps what it stored across a restart, and is then opened as it is",
    () =>
      Effect.gen(function* () {
        // A directory that does not exist yet (its parent does).
        const dataDir = join(yield* temporaryDirectory, "store")
        const orgId = yield* newOrg
        const instance = yield* makeInstance(orgId, { instanceName: "Persistent" })
        const stored = yield* Effect.scoped(
          Effect.gen(function* () {
            const context = yield* open({ dataDir })
            yield* Context.get(context, InstanceRepository.InstanceRepository).insert(instance)
            return yield* Context.get(context, CredentialRepository.CredentialRepository).insert(
              yield* newCredential(instance, scope("organization", orgId))
            )
          })
        )
        assert.include(readdirSync(dataDir), "PG_VERSION")

        // Opened as it is, with nothing left to migrate: unpacking the prebuilt directory over it
        // would fail or lose the rows.
        yield* Effect.scoped(
          Effect.gen(function* () {
            const context = yield* open({ dataDir, migrate: false })
            assert.deepStrictEqual(
              yield* Context.get(context, InstanceRepository.InstanceRepository).get(orgId, instance.id),
              Option.some(instance)
            )
            assert.deepStrictEqual(
              yield* Context.get(context, CredentialRepository.CredentialRepository).get(orgId, stored.metadata.id),
              Option.some(stored)
            )
          })
        )
      }).pipe(Effect.scoped),
    120_000
  )

  it.live(
    "an existing unmigrated database is refused while migrations are disabled, and migrated on top otherwise",
    () =>
      Effect.gen(function* () {
        const dataDir = yield* temporaryDirectory
        yield* Effect.scoped(
          Effect.gen(function* () {
            const client = yield* Layer.build(
              PgliteClient.layer({ dataDir, initialDataDir: PrebuiltDataDir.load })
            ).pipe(Effect.map(Context.get(PgliteClient.PgliteClient)))
            yield* client.unsafe("DROP SCHEMA patchbay CASCADE")
          })
        )

        const unmigrated = yield* Effect.flip(Effect.scoped(open({ dataDir, migrate: false })))
        assert.strictEqual(unmigrated._tag, "SchemaVersionMismatch")
        assert.include(unmigrated.message, "not migrated")

        yield* Effect.scoped(
          Effect.gen(function* () {
            const context = yield* open({ dataDir })
            const instance = yield* makeInstance(yield* newOrg)
            yield* Context.get(context, InstanceRepository.InstanceRepository).insert(instance)
          })
        )
        yield* Effect.scoped(open({ dataDir, migrate: false }))
      }).pipe(Effect.scoped),
    120_000
  )

  it.live("refuses a directory that holds other files instead of writing a database into it", () =>
    Effect.gen(function* () {
      const dataDir = join(yield* temporaryDirectory, "not-a-database")
      mkdirSync(dataDir)
      writeFileSync(join(dataDir, "notes.txt"), "mine")
      const refused = yield* Effect.flip(Effect.scoped(open({ dataDir })))
      assert.strictEqual(refused._tag, "StorageError")
      assert.include(refused.message, "is not empty and holds no database")
      assert.deepStrictEqual(readdirSync(dataDir), ["notes.txt"])
    }).pipe(Effect.scoped)
  )
})
