/**
 * `LifecycleEvents.EventOutbox` on @effect/sql: events are rows of `patchbay.event_outbox`,
 * inserted through the connection of the running transaction, so an event commits or rolls back
 * with the change it describes.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"
import { LifecycleEvents } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { guard } from "./internal/errors.js"
import { json, operationTimeout, type RepositoryOptions } from "./internal/options.js"

const encodeEvent = Schema.encodeSync(LifecycleEvents.LifecycleEvent)
const decodeRows = Schema.decodeUnknown(
  Schema.Array(Schema.Struct({ payload: Schema.parseJson(LifecycleEvents.LifecycleEvent) }))
)

/**
 * Builds the outbox on the `SqlClient` in context (the database must be migrated).
 *
 * @since 0.1.0
 */
export const make = (
  options?: RepositoryOptions
): Effect.Effect<LifecycleEvents.EventOutboxShape, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const client = yield* SqlClient.SqlClient
    const sql = client.withoutTransforms()
    const timeout = operationTimeout(options, client)
    const select = (
      operation: string,
      query: { readonly after?: LifecycleEvents.LifecycleEventId | undefined; readonly limit: number },
      where: Array<Statement.Fragment>
    ) =>
      Effect.gen(function* () {
        const conditions = query.after === undefined ? where : [...where, sql`id > ${query.after}`]
        const filter = conditions.length === 0 ? sql`` : sql`WHERE ${sql.and(conditions)}`
        const rows = yield* sql`SELECT payload::text AS payload FROM patchbay.event_outbox ${filter}
          ORDER BY id LIMIT ${Math.max(0, Math.floor(query.limit))}`.pipe(
          Effect.flatMap(decodeRows),
          guard(operation, timeout)
        )
        return rows.map((row) => row.payload)
      }).pipe(Effect.withSpan(operation))
    return LifecycleEvents.EventOutbox.of({
      append: Effect.fn("EventOutbox.append")(function* (event) {
        yield* sql`INSERT INTO patchbay.event_outbox (id, org_id, type, payload, created_at)
          VALUES (${event.id}, ${event.orgId}, ${event._tag}, ${json(encodeEvent(event))}::jsonb, ${event.at})`.pipe(
          guard("EventOutbox.append", timeout)
        )
      }),
      pending: (query) => select("EventOutbox.pending", query, [sql`delivered_at IS NULL`]),
      read: (query) => select("EventOutbox.read", query, []),
      newest: sql<{ id: string }>`SELECT id FROM patchbay.event_outbox ORDER BY id DESC LIMIT 1`.pipe(
        Effect.map(([row]) => (row === undefined ? undefined : LifecycleEvents.LifecycleEventId.make(row.id))),
        guard("EventOutbox.newest", timeout),
        Effect.withSpan("EventOutbox.newest")
      ),
      markDelivered: Effect.fn("EventOutbox.markDelivered")(function* (ids, at) {
        if (ids.length === 0) return
        yield* sql`UPDATE patchbay.event_outbox SET delivered_at = ${at}
          WHERE delivered_at IS NULL AND ${sql.in("id", ids)}`.pipe(guard("EventOutbox.markDelivered", timeout))
      })
    })
  })

/**
 * The outbox as a layer over a `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer = (
  options?: RepositoryOptions
): Layer.Layer<LifecycleEvents.EventOutbox, never, SqlClient.SqlClient> =>
  Layer.effect(LifecycleEvents.EventOutbox, make(options))
