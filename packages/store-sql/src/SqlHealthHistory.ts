/**
 * `HealthHistory` on @effect/sql: one row of `patchbay.health_checks` per check. Recording a check
 * also deletes the instance's rows beyond the newest `keep`; a check of a deleted instance inserts
 * nothing (and the instance's rows go with it, by cascade).
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { HealthHistory } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { guard } from "./internal/errors.js"
import { operationTimeout, type RepositoryOptions } from "./internal/options.js"

const Row = Schema.Struct({
  org_id: Schema.String,
  instance_id: Schema.String,
  checked_at: Schema.Union(Schema.DateFromSelf, Schema.DateFromString),
  latency_ms: Schema.Union(Schema.Number, Schema.NumberFromString),
  outcome: Schema.String,
  failure: Schema.NullOr(Schema.String)
})

const decodeRows = Schema.decodeUnknown(
  Schema.Array(
    Schema.transform(Row, HealthHistory.HealthCheck, {
      strict: false,
      decode: (row) => ({
        orgId: row.org_id,
        instanceId: row.instance_id,
        checkedAt: row.checked_at,
        latencyMs: row.latency_ms,
        outcome: row.outcome,
        failure: row.failure
      }),
      encode: (check) => check
    })
  )
)

/**
 * Builds the history on the `SqlClient` in context (the database must be migrated).
 *
 * @since 0.1.0
 */
export const make = (
  options?: RepositoryOptions
): Effect.Effect<HealthHistory.HealthHistoryShape, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const client = yield* SqlClient.SqlClient
    const sql = client.withoutTransforms()
    const timeout = operationTimeout(options, client)
    return HealthHistory.HealthHistory.of({
      record: Effect.fn("HealthHistory.record")(function* (check, keep) {
        const kept = Math.max(1, Math.floor(keep))
        yield* Effect.gen(function* () {
          const inserted = yield* sql`INSERT INTO patchbay.health_checks
              (org_id, instance_id, checked_at, latency_ms, outcome, failure)
            SELECT org_id, id, ${check.checkedAt}, ${check.latencyMs}, ${check.outcome}, ${check.failure}
            FROM patchbay.instances WHERE org_id = ${check.orgId} AND id = ${check.instanceId}
            RETURNING 1 AS inserted`
          if (inserted.length === 0) return
          yield* sql`DELETE FROM patchbay.health_checks WHERE id IN (
              SELECT id FROM patchbay.health_checks WHERE org_id = ${check.orgId} AND instance_id = ${check.instanceId}
              ORDER BY checked_at DESC, id DESC OFFSET ${kept})`
        }).pipe(guard("HealthHistory.record", timeout))
      }),
      latest: Effect.fn("HealthHistory.latest")(function* (orgId, instanceId, limit) {
        return yield* sql`SELECT org_id, instance_id, checked_at, latency_ms, outcome, failure
          FROM patchbay.health_checks WHERE org_id = ${orgId} AND instance_id = ${instanceId}
          ORDER BY checked_at DESC, id DESC LIMIT ${Math.max(0, Math.floor(limit))}`.pipe(
          Effect.flatMap(decodeRows),
          guard("HealthHistory.latest", timeout)
        )
      })
    })
  })

/**
 * The history as a layer over a `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer = (
  options?: RepositoryOptions
): Layer.Layer<HealthHistory.HealthHistory, never, SqlClient.SqlClient> =>
  Layer.effect(HealthHistory.HealthHistory, make(options))
