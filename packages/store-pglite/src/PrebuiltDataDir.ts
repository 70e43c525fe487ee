/**
 * The data directory a new embedded database starts from: the output of PGlite's initdb with every
 * Patchbay migration applied, shipped in this package as a tarball (`assets/data-dir.tar.gz`) with
 * a manifest of what produced it (`assets/data-dir.json`). Unpacking it replaces initdb, which
 * costs seconds and hundreds of megabytes at every fresh start.
 *
 * The asset is rebuilt by `pnpm --filter @patchbay/store-pglite build:data-dir` whenever PGlite or
 * the migrations change; the package's tests fail while it is stale. A store whose asset is behind
 * still works: the missing migrations run on top of it at start.
 *
 * @since 0.1.0
 */

import { readFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { fileURLToPath, pathToFileURL } from "node:url"
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { Migrations } from "@patchbay/store-sql"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as PgliteClient from "./PgliteClient.js"

/**
 * Where the tarball lives, beside the package's `src/` and `dist/`.
 *
 * @since 0.1.0
 */
export const tarballPath: string = fileURLToPath(new URL("../assets/data-dir.tar.gz", import.meta.url))

/**
 * Where the manifest lives.
 *
 * @since 0.1.0
 */
export const manifestPath: string = fileURLToPath(new URL("../assets/data-dir.json", import.meta.url))

/**
 * What produced the tarball: the PGlite release that ran initdb, its PostgreSQL version, and the
 * migrations applied, in order, keyed as in `Migrations.migrations`.
 *
 * @since 0.1.0
 */
export class Manifest extends Schema.Class<Manifest>("@patchbay/store-pglite/PrebuiltDataDir/Manifest")({
  pglite: Schema.String,
  postgres: Schema.String,
  migrations: Schema.Array(Schema.String)
}) {}

/**
 * The shipped tarball, as PGlite's `loadDataDir` takes it.
 *
 * @since 0.1.0
 */
export const load: Effect.Effect<Blob, SqlError> = Effect.tryPromise({
  try: async () => new Blob([await readFile(tarballPath)], { type: "application/gzip" }),
  catch: (cause) =>
    new SqlError({
      cause,
      message: `PGlite: the prebuilt data directory ${tarballPath} is missing; reinstall @patchbay/store-pglite`
    })
})

const PackageVersion = Schema.parseJson(Schema.Struct({ version: Schema.String }))

/**
 * The version of `@electric-sql/pglite` this package runs on (its exports map hides
 * `package.json`, so it is read beside the resolved entry point).
 *
 * @since 0.1.0
 */
export const pgliteVersion: Effect.Effect<string, SqlError> = Effect.try({
  try: () => {
    const entry = pathToFileURL(createRequire(import.meta.url).resolve("@electric-sql/pglite"))
    return readFileSync(new URL("../package.json", entry), "utf8")
  },
  catch: (cause) => new SqlError({ cause, message: "PGlite: cannot read @electric-sql/pglite's package.json" })
}).pipe(
  Effect.flatMap(Schema.decode(PackageVersion)),
  Effect.map((pkg) => pkg.version),
  Effect.catchTag("ParseError", (cause) =>
    Effect.fail(new SqlError({ cause, message: "PGlite: @electric-sql/pglite's package.json has no version" }))
  )
)

const Applied = Schema.Array(Schema.Struct({ migration_id: Schema.Int, name: Schema.String }))
const ServerVersion = Schema.Tuple(Schema.Struct({ server_version: Schema.String }))

/**
 * Runs PGlite's initdb in memory, applies every migration, and dumps the result: the tarball
 * (gzip) and its manifest.
 *
 * The unpacked directory stays in memory (and its unpacking costs about three times its size in
 * transient buffers), so it is kept small: WAL segments of 1MB instead of 16MB, the WAL left
 * after the last checkpoint only, and no `template0`/`template1` databases (two thirds of the
 * size; Patchbay never creates a database, and `CREATE DATABASE … TEMPLATE postgres` still works).
 * Its `postgresql.auto.conf` sets `min_wal_size` 2MB and `max_wal_size` 16MB, which bound the WAL
 * a checkpoint leaves in place.
 *
 * @since 0.1.0
 */
export const build: Effect.Effect<
  { readonly tarball: Uint8Array; readonly manifest: Manifest },
  SqlError | Migrations.StartupError
> = Effect.gen(function* () {
  const client = yield* PgliteClient.make({
    initdbArgs: ["--wal-segsize=1"],
    settings: { min_wal_size: "2MB", max_wal_size: "4MB" }
  })
  yield* Migrations.ensure({ migrate: true }).pipe(Effect.provideService(SqlClient.SqlClient, client))
  const sql = client.withoutTransforms()
  const applied = yield* sql
    .unsafe(`SELECT migration_id, name FROM ${Migrations.migrationsTable} ORDER BY migration_id`)
    .pipe(Effect.flatMap(Schema.decodeUnknown(Applied)))
  const [{ server_version }] = yield* sql`SHOW server_version`.pipe(Effect.flatMap(Schema.decodeUnknown(ServerVersion)))
  // What a checkpoint leaves of WAL in a database started from this directory (in memory, it is
  // resident): 1MB segments allow far less than initdb's 80MB/1GB.
  yield* sql.unsafe("ALTER SYSTEM SET min_wal_size = '2MB'")
  yield* sql.unsafe("ALTER SYSTEM SET max_wal_size = '16MB'")
  for (const template of ["template0", "template1"]) {
    yield* sql.unsafe(`ALTER DATABASE ${template} IS_TEMPLATE false`)
    yield* sql.unsafe(`DROP DATABASE ${template}`)
  }
  // Checkpoints in new segments let PostgreSQL drop the older ones, and leave next to no WAL to
  // replay when the copy starts.
  for (let i = 0; i < 3; i++) {
    yield* sql`SELECT pg_switch_wal()`
    yield* sql`CHECKPOINT`
  }
  const dump = yield* Effect.tryPromise({
    try: async () => new Uint8Array(await (await client.pglite.dumpDataDir("gzip")).arrayBuffer()),
    catch: (cause) => new SqlError({ cause, message: "PGlite: dumping the data directory failed" })
  })
  return {
    tarball: dump,
    manifest: new Manifest({
      pglite: yield* pgliteVersion,
      postgres: server_version,
      migrations: applied.map((m) => `${m.migration_id}_${m.name}`)
    })
  }
}).pipe(
  Effect.catchTag("ParseError", (cause) =>
    Effect.fail(new SqlError({ cause, message: "PGlite: unexpected rows while building the data directory" }))
  ),
  Effect.scoped,
  Effect.provide(Reactivity.layer),
  Effect.withSpan("PrebuiltDataDir.build")
)
