/**
 * Rebuilds assets/data-dir.tar.gz and assets/data-dir.json: run it after changing PGlite's version
 * or the migrations (`pnpm --filter @patchbay/store-pglite build:data-dir`).
 */
import { writeFileSync } from "node:fs"
import { Effect, Schema } from "effect"
import { PrebuiltDataDir } from "../src/index.js"

const program = Effect.gen(function* () {
  const { tarball, manifest } = yield* PrebuiltDataDir.build
  writeFileSync(PrebuiltDataDir.tarballPath, tarball)
  const json = yield* Schema.encode(PrebuiltDataDir.Manifest)(manifest)
  writeFileSync(PrebuiltDataDir.manifestPath, `${JSON.stringify(json, null, 2)}\n`)
  yield* Effect.log(`wrote ${PrebuiltDataDir.tarballPath} (${tarball.byteLength} bytes) for ${JSON.stringify(json)}`)
})

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
