/**
 * `patchbay migrate`: brings the store's schema to this Patchbay's version, and says which.
 */
import * as Command from "@effect/cli/Command"
import { Migrations } from "@patchbay/store-sql"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { classify } from "../failure.js"
import { print } from "../output.js"
import * as Settings from "../settings.js"

export const migrate = Command.make("migrate", { store: Settings.store, json: Settings.json }, ({ json, store }) =>
  Layer.build(Settings.storeLayer(store)).pipe(
    Effect.mapError(classify),
    Effect.zipRight(
      print(json, { schemaVersion: Migrations.latest }, ({ schemaVersion }) => [
        `store migrated: schema version ${schemaVersion}`
      ])
    ),
    Effect.scoped
  )
).pipe(Command.withDescription("Apply pending migrations to the store (embedded or --database-url)"))
