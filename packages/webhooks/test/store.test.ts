/**
 * The `WebhookStore` contract (`support/storeCases.ts`), on the memory layer and on PostgreSQL
 * (`SqlWebhookStore` through `SqlStore.layerPg` on a fresh database of the run's server); PGlite
 * runs the same cases in packages/store-pglite.
 */
import { randomBytes } from "node:crypto"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import { describe } from "@effect/vitest"
import { InstanceRepository, type LifecycleEvents, WebhookStore } from "@patchbay/core"
import { SqlStore } from "@patchbay/store-sql"
import type {} from "@patchbay/testing/globalSetup"
import { Effect, Layer, Redacted } from "effect"
import { inject } from "vitest"
import { storeCases } from "./support/storeCases.js"

const admin = (url: string, statement: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(
    Effect.provide(PgClient.layer({ url: Redacted.make(url) })),
    Effect.orDie
  )

/** `layerPg` on a new database of the run's server, dropped when the layer is released. */
const pgLayer = Layer.unwrapScoped(
  Effect.gen(function* () {
    const server = inject("databaseUrl")
    const name = `patchbay_webhook_store_${randomBytes(4).toString("hex")}`
    yield* Effect.acquireRelease(admin(server, `CREATE DATABASE ${name}`), () =>
      admin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).pipe(Effect.ignore)
    )
    const url = new URL(server)
    url.pathname = `/${name}`
    return SqlStore.layerPg({ url: Redacted.make(url.toString()), maxConnections: 2 })
  })
)

const stores: ReadonlyArray<
  readonly [string, Layer.Layer<WebhookStore.WebhookStore | LifecycleEvents.EventOutbox, unknown>]
> = [
  ["memory", WebhookStore.layerMemory.pipe(Layer.provideMerge(InstanceRepository.layerMemory))],
  ["PostgreSQL", pgLayer]
]

describe.each(stores)("WebhookStore on %s", (_, layer) => storeCases(layer))
