/**
 * `ReconnectWaits` on @effect/sql: one row of `patchbay.reconnect_waits` per waiting execution,
 * keyed by its deferred's token, found by organization and instance. The rows outlive the
 * instance (no cascade): a waker reads them when the instance is deleted.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { CredentialScope, ReconnectWaits } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { guard } from "./internal/errors.js"
import { json, operationTimeout, type RepositoryOptions } from "./internal/options.js"

const Row = Schema.Struct({
  token: Schema.String,
  org_id: Schema.String,
  instance_id: Schema.String,
  scopes: Schema.Array(Schema.encodedSchema(CredentialScope.CredentialScope)),
  registered_at: Schema.Union(Schema.DateFromSelf, Schema.DateFromString)
})

const decodeRows = Schema.decodeUnknown(
  Schema.Array(
    Schema.transform(Row, ReconnectWaits.ReconnectWait, {
      strict: false,
      decode: (row) => ({
        token: row.token,
        orgId: row.org_id,
        instanceId: row.instance_id,
        scopes: row.scopes,
        registeredAt: row.registered_at
      }),
      encode: (wait) => wait
    })
  )
)

/**
 * Builds the waits on the `SqlClient` in context (the database must be migrated).
 *
 * @since 0.1.0
 */
export const make = (
  options?: RepositoryOptions
): Effect.Effect<ReconnectWaits.ReconnectWaitsShape, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const client = yield* SqlClient.SqlClient
    const sql = client.withoutTransforms()
    const timeout = operationTimeout(options, client)
    return ReconnectWaits.ReconnectWaits.of({
      register: Effect.fn("ReconnectWaits.register")(function* (wait) {
        const scopes = json(wait.scopes.map((scope) => ({ type: scope.type, id: scope.id })))
        yield* sql`INSERT INTO patchbay.reconnect_waits (token, org_id, instance_id, scopes, registered_at)
          VALUES (${wait.token}, ${wait.orgId}, ${wait.instanceId}, ${scopes}::jsonb, ${wait.registeredAt})
          ON CONFLICT (token) DO UPDATE SET org_id = EXCLUDED.org_id, instance_id = EXCLUDED.instance_id,
            scopes = EXCLUDED.scopes, registered_at = EXCLUDED.registered_at`.pipe(
          guard("ReconnectWaits.register", timeout)
        )
      }),
      waitingOn: Effect.fn("ReconnectWaits.waitingOn")(function* (orgId, instanceId) {
        return yield* sql`SELECT token, org_id, instance_id, scopes, registered_at FROM patchbay.reconnect_waits
          WHERE org_id = ${orgId} AND instance_id = ${instanceId} ORDER BY registered_at, token`.pipe(
          Effect.flatMap(decodeRows),
          guard("ReconnectWaits.waitingOn", timeout)
        )
      }),
      remove: Effect.fn("ReconnectWaits.remove")(function* (token) {
        yield* sql`DELETE FROM patchbay.reconnect_waits WHERE token = ${token}`.pipe(
          guard("ReconnectWaits.remove", timeout)
        )
      })
    })
  })

/**
 * The waits as a layer over a `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer = (
  options?: RepositoryOptions
): Layer.Layer<ReconnectWaits.ReconnectWaits, never, SqlClient.SqlClient> =>
  Layer.effect(ReconnectWaits.ReconnectWaits, make(options))
