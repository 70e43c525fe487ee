/**
 * What only the embedded store shows: a data directory that persists across restarts, and the
 * start-up check on an unmigrated one.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { CredentialRepository, InstanceRepository } from "@patchbay/core"
import { Context, Effect, Layer, Option } from "effect"
import { PgliteStore } from "../src/index.js"
import { makeInstance, newCredential, newOrg, scope } from "../../store-sql/test/fixtures.js"

describe("layerEmbedded with a data directory", () => {
  it.live(
    "refuses an unmigrated directory when migrations are disabled; keeps what it stored across restarts",
    () =>
      Effect.gen(function* () {
        const dataDir = yield* Effect.acquireRelease(
          Effect.sync(() => mkdtempSync(join(tmpdir(), "patchbay-pglite-"))),
          (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
        )
        const unmigrated = yield* Effect.flip(
          Effect.scoped(Layer.build(PgliteStore.layer({ dataDir, migrate: false })))
        )
        assert.strictEqual(unmigrated._tag, "SchemaVersionMismatch")
        assert.include(unmigrated.message, "not migrated")

        const orgId = yield* newOrg
        const instance = yield* makeInstance(orgId, { instanceName: "Persistent" })
        const stored = yield* Effect.scoped(
          Effect.gen(function* () {
            const context = yield* Layer.build(PgliteStore.layer({ dataDir }))
            yield* Context.get(context, InstanceRepository.InstanceRepository).insert(instance)
            return yield* Context.get(context, CredentialRepository.CredentialRepository).insert(
              yield* newCredential(instance, scope("organization", orgId))
            )
          })
        )

        yield* Effect.scoped(
          Effect.gen(function* () {
            const context = yield* Layer.build(PgliteStore.layer({ dataDir, migrate: false }))
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
})
