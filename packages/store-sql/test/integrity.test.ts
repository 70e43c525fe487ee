import * as PgClient from "@effect/sql-pg/PgClient"
import { Effect, Layer, Redacted } from "effect"
import { SqlStore } from "../src/index.js"
import { integrity } from "./integrity.js"
import { freshDatabase } from "./support.js"

integrity({
  name: "PostgreSQL",
  layer: Layer.unwrapScoped(
    Effect.map(freshDatabase(), (db) =>
      SqlStore.layerFromSqlClient().pipe(Layer.provideMerge(PgClient.layer({ url: Redacted.make(db.url) })))
    )
  )
})
