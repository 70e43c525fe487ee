/**
 * `AuditLog` on @effect/sql. Rows are only ever inserted; a trigger in the database refuses UPDATE
 * and DELETE of `patchbay.audit_events`, so append-only holds even for SQL written by hand.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Actor, AuditLog } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { guard } from "./internal/errors.js"
import { json, operationTimeout, type RepositoryOptions } from "./internal/options.js"

const columns = `id, org_id AS "orgId", at, actor, action, instance_id AS "instanceId", outcome, details`
const decodeEvents = Schema.decodeUnknown(Schema.Array(AuditLog.AuditEvent))
const encodeActor = Schema.encodeSync(Actor.ActorInfo)

/**
 * Builds the audit log on the `SqlClient` in context (the database must be migrated).
 *
 * @since 0.1.0
 */
export const make = (options?: RepositoryOptions): Effect.Effect<AuditLog.AuditLogShape, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const client = yield* SqlClient.SqlClient
    const sql = client.withoutTransforms()
    const timeout = operationTimeout(options, client)
    const select = sql.literal(columns)
    return AuditLog.AuditLog.of({
      append: Effect.fn("AuditLog.append")(function* (event) {
        yield* sql`INSERT INTO patchbay.audit_events (id, org_id, at, actor, action, instance_id, outcome, details)
          VALUES (${event.id}, ${event.orgId}, ${event.at}, ${json(encodeActor(event.actor))}::jsonb, ${event.action},
            ${event.instanceId}, ${event.outcome}, ${json(event.details)}::jsonb)`.pipe(
          guard("AuditLog.append", timeout)
        )
      }),
      list: Effect.fn("AuditLog.list")(function* (orgId, query) {
        const where = [sql`org_id = ${orgId}`]
        if (query.instanceId !== undefined) where.push(sql`instance_id = ${query.instanceId}`)
        if (query.action !== undefined) where.push(sql`action = ${query.action}`)
        return yield* sql`SELECT ${select} FROM patchbay.audit_events WHERE ${sql.and(where)}
          ORDER BY seq DESC LIMIT ${Math.max(0, Math.floor(query.limit))}`.pipe(
          Effect.flatMap(decodeEvents),
          guard("AuditLog.list", timeout)
        )
      })
    })
  })

/**
 * The audit log as a layer over a `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer = (options?: RepositoryOptions): Layer.Layer<AuditLog.AuditLog, never, SqlClient.SqlClient> =>
  Layer.effect(AuditLog.AuditLog, make(options))
