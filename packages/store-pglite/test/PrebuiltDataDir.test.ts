/**
 * The shipped data directory must be what `build:data-dir` would build today: from this
 * package's PGlite, with exactly this package's migrations, and a schema that those migrations
 * produce. A stale asset still works (the missing migrations run at start) but costs start-up
 * time, so the suite fails until it is rebuilt.
 */
import { readFileSync } from "node:fs"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Migrations } from "@patchbay/store-sql"
import { Array as Arr, Context, Effect, Layer, Schema } from "effect"
import { PgliteClient, PrebuiltDataDir } from "../src/index.js"

const rebuild = "rebuild it: pnpm --filter @patchbay/store-pglite build:data-dir"

const readManifest = Effect.try(() => readFileSync(PrebuiltDataDir.manifestPath, "utf8")).pipe(
  Effect.flatMap(Schema.decodeUnknown(Schema.parseJson(PrebuiltDataDir.Manifest)))
)

/** Every object of the `patchbay` schema, one line each, in a stable order. */
const schemaObjects = Effect.gen(function* () {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const rows = yield* sql<{ readonly line: string }>`
    SELECT line FROM (
      SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
        || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
        || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
        || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END AS line
      FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relnamespace = 'patchbay'::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
      UNION ALL
      SELECT 'constraint ' || conrelid::regclass::text || '.' || conname || ' ' || pg_get_constraintdef(oid)
      FROM pg_constraint WHERE connamespace = 'patchbay'::regnamespace
      UNION ALL
      SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'patchbay'
      UNION ALL
      SELECT 'trigger ' || pg_get_triggerdef(t.oid)
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE c.relnamespace = 'patchbay'::regnamespace AND NOT t.tgisinternal
      UNION ALL
      SELECT 'function ' || pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.pronamespace = 'patchbay'::regnamespace
    ) objects ORDER BY line`
  return rows.map((row) => row.line)
})

const appliedMigrations = Effect.gen(function* () {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const rows = yield* sql<{ readonly key: string }>`
    SELECT migration_id || '_' || name AS key FROM patchbay.migrations ORDER BY migration_id`
  return rows.map((row) => row.key)
})

/** What the package expects of the asset. */
interface Expected {
  readonly pglite: string
  readonly migrations: ReadonlyArray<string>
  /** Brings a database without the `patchbay` schema to the expected schema. */
  readonly migrate: Effect.Effect<void, unknown, SqlClient.SqlClient>
}

/**
 * Why the shipped asset (tarball and manifest) is not what `expected` describes; empty when it is.
 * The schema check unpacks the tarball, compares its `patchbay` schema with the one the migrations
 * build after dropping it, and so needs no initdb.
 */
const staleness = (expected: Expected) =>
  Effect.gen(function* () {
    const manifest = yield* readManifest
    const problems: Array<string> = []
    if (manifest.pglite !== expected.pglite) {
      problems.push(`built with PGlite ${manifest.pglite}, but this package runs PGlite ${expected.pglite}`)
    }
    if (!Arr.getEquivalence<string>((a, b) => a === b)(manifest.migrations, expected.migrations)) {
      problems.push(`built with migrations [${manifest.migrations}], but the package has [${expected.migrations}]`)
    }
    const client = yield* Layer.build(PgliteClient.layer({ initialDataDir: PrebuiltDataDir.load })).pipe(
      Effect.map(Context.get(PgliteClient.PgliteClient))
    )
    yield* Effect.gen(function* () {
      const applied = yield* appliedMigrations
      if (!Arr.getEquivalence<string>((a, b) => a === b)(applied, manifest.migrations)) {
        problems.push(`the tarball holds migrations [${applied}], but its manifest says [${manifest.migrations}]`)
      }
      const shipped = yield* schemaObjects
      yield* client.unsafe("DROP SCHEMA patchbay CASCADE")
      yield* expected.migrate
      const fresh = yield* schemaObjects
      const missing = Arr.difference(fresh, shipped)
      const extra = Arr.difference(shipped, fresh)
      if (missing.length > 0 || extra.length > 0) {
        problems.push(
          `its schema differs from the migrations' (missing: ${missing.join("; ") || "none"}; extra: ${extra.join("; ") || "none"})`
        )
      }
    }).pipe(Effect.provideService(SqlClient.SqlClient, client))
    return problems
  }).pipe(Effect.scoped)

const current: Effect.Effect<Expected, unknown> = Effect.map(PrebuiltDataDir.pgliteVersion, (pglite) => ({
  pglite,
  migrations: Object.keys(Migrations.migrations).sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10)),
  migrate: Migrations.ensure({ migrate: true })
}))

describe("PrebuiltDataDir", () => {
  it.live(
    "the shipped data directory is built from this package's PGlite and migrations",
    () =>
      Effect.gen(function* () {
        const problems = yield* staleness(yield* current)
        assert.deepStrictEqual(problems, [], `The prebuilt data directory is stale; ${rebuild}.`)
      }),
    120_000
  )

  it.live(
    "an asset built before a PGlite upgrade and a new migration is reported stale",
    () =>
      Effect.gen(function* () {
        const today = yield* current
        const problems = yield* staleness({
          pglite: "0.9.0",
          migrations: [...today.migrations, "99_next"],
          migrate: Effect.andThen(
            today.migrate,
            Effect.flatMap(SqlClient.SqlClient, (sql) =>
              sql.unsafe("CREATE INDEX instances_by_connector ON patchbay.instances (connector_key)")
            )
          )
        })
        assert.strictEqual(problems.length, 3, problems.join("\n"))
        assert.include(problems[0], "this package runs PGlite 0.9.0")
        assert.include(problems[1], "99_next")
        assert.include(problems[2], "missing: index CREATE INDEX instances_by_connector")
      }),
    120_000
  )
})
