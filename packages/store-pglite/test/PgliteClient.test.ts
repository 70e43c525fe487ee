/**
 * What the PGlite client adds to PGlite: the checkpoints single-user PostgreSQL does not take.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { assert, describe, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { PgliteClient, PrebuiltDataDir } from "../src/index.js"

describe("PgliteClient", () => {
  it.effect(
    "checkpoints every five minutes, so the WAL of a database in memory does not grow with every write",
    () =>
      Effect.gen(function* () {
        const sql = yield* PgliteClient.make({ initialDataDir: PrebuiltDataDir.load })
        const walSegments = Effect.map(
          sql<{ readonly n: number }>`SELECT count(*)::int AS n FROM pg_ls_waldir()`,
          (rows) => rows[0]!.n
        )
        yield* sql`CREATE TABLE filler (x text)`
        yield* sql`INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 40000)`
        const written = yield* walSegments
        assert.isAbove(written, 32)

        yield* TestClock.adjust("4 minutes")
        assert.isAtLeast(yield* walSegments, written)

        yield* TestClock.adjust("1 minute")
        // The checkpoint holds the session while it runs; read until a read lands after it.
        const left = yield* walSegments.pipe(Effect.repeat({ until: (n) => n < written, times: 100 }))
        assert.isBelow(left, written)
        // max_wal_size of the prebuilt data directory: 16 segments of 1MB, and the current one.
        assert.isAtMost(left, 17)
      }).pipe(Effect.scoped, Effect.provide(Reactivity.layer)),
    120_000
  )
})
