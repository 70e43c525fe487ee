import * as PgClient from "@effect/sql-pg/PgClient"
import { RefreshLock } from "@patchbay/core"
import { Context, Effect, Layer, Redacted } from "effect"
import { SqlRefreshLock, SqlStore } from "../src/index.js"
import { contract } from "./contract.js"
import { freshDatabase } from "./support.js"

class Database extends Context.Tag("test/Database")<Database, { readonly url: string }>() {}

contract({
  name: "PostgreSQL (layerPg)",
  layer: Layer.unwrapScoped(
    Effect.map(freshDatabase(), (db) =>
      Layer.merge(SqlStore.layerPg({ url: Redacted.make(db.url) }), Layer.succeed(Database, db))
    )
  ),
  // A second pool on the same database: the advisory lock must exclude across connections.
  otherLock: Effect.gen(function* () {
    const { url } = yield* Database
    const context = yield* Layer.build(
      SqlRefreshLock.layer().pipe(Layer.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 4 })))
    )
    return Context.get(context, RefreshLock.RefreshLock)
  }),
  sql: true
})
