/**
 * The embedded default: every Patchbay repository port and `RefreshLock` on PGlite in this
 * process, persistent in `dataDir` or in memory without one. A new database starts from the
 * prebuilt data directory shipped in this package (see `PrebuiltDataDir`), so no initdb runs.
 *
 * @since 0.1.0
 */
import { DomainError, RefreshLock } from "@patchbay/core"
import { type Migrations, SqlStore } from "@patchbay/store-sql"
import * as Layer from "effect/Layer"
import * as PgliteClient from "./PgliteClient.js"
import * as PrebuiltDataDir from "./PrebuiltDataDir.js"

/**
 * Options of `layer`.
 *
 * @since 0.1.0
 */
export interface Options extends SqlStore.Options {
  /**
   * Where PGlite keeps the database; in memory (gone at shutdown) when absent. One process per
   * directory. A directory that holds a database is opened as it is (and migrated unless
   * `migrate: false`); a new or empty one starts from the prebuilt data directory.
   */
  readonly dataDir?: string | undefined
}

/**
 * The store on PGlite in this process. PGlite is a single session, so `RefreshLock` is the
 * in-process lock (no other process can share the database) and does not hold the session while
 * the guarded effect runs.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<SqlStore.Services, Migrations.StartupError> =>
  Layer.provide(
    SqlStore.layerFromSqlClient(options, RefreshLock.layerMemory),
    PgliteClient.layer({ dataDir: options.dataDir, initialDataDir: PrebuiltDataDir.load }).pipe(
      Layer.mapError(
        (e) =>
          new DomainError.StorageError({ operation: "PgliteStore.layer", detail: `PGlite did not start: ${e.message}` })
      )
    )
  )
