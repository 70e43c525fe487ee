/**
 * `MonitorClaims` on @effect/sql: a claim is an `INSERT … ON CONFLICT DO NOTHING` on the primary
 * key `(monitor, key, slot)` of `patchbay.monitor_claims`, so exactly one process gets each claim;
 * inside a transaction a concurrent claim of the same row waits for it to commit or roll back.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { MonitorClaims } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { guard } from "./internal/errors.js"
import { operationTimeout, type RepositoryOptions } from "./internal/options.js"

/**
 * Builds the claims on the `SqlClient` in context (the database must be migrated).
 *
 * @since 0.1.0
 */
export const make = (
  options?: RepositoryOptions
): Effect.Effect<MonitorClaims.MonitorClaimsShape, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const client = yield* SqlClient.SqlClient
    const sql = client.withoutTransforms()
    const timeout = operationTimeout(options, client)
    return MonitorClaims.MonitorClaims.of({
      claim: Effect.fn("MonitorClaims.claim")(function* (claim) {
        const rows = yield* sql`INSERT INTO patchbay.monitor_claims (monitor, key, slot, claimed_at, expires_at)
          VALUES (${claim.monitor}, ${claim.key}, ${String(Math.floor(claim.slot))}::bigint, now(), ${claim.expiresAt})
          ON CONFLICT (monitor, key, slot) DO NOTHING
          RETURNING 1 AS claimed`.pipe(guard("MonitorClaims.claim", timeout))
        return rows.length > 0
      }),
      prune: Effect.fn("MonitorClaims.prune")(function* (now) {
        const rows = yield* sql`DELETE FROM patchbay.monitor_claims WHERE expires_at < ${now}
          RETURNING 1 AS removed`.pipe(guard("MonitorClaims.prune", timeout))
        return rows.length
      })
    })
  })

/**
 * The claims as a layer over a `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer = (
  options?: RepositoryOptions
): Layer.Layer<MonitorClaims.MonitorClaims, never, SqlClient.SqlClient> =>
  Layer.effect(MonitorClaims.MonitorClaims, make(options))
