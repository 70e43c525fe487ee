/**
 * `IdempotencyKeys` on @effect/sql. A claim is an `INSERT … ON CONFLICT` on the key's primary key
 * inside the write's transaction: a concurrent transaction holding the same key makes it wait
 * until that one commits (then the claim reads its record) or rolls back (then the claim takes the
 * key). An expired record is taken over in the same statement. Each claim that takes a key also
 * deletes a few expired records, skipping rows another transaction holds.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { DomainError, Idempotency } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { guard } from "./internal/errors.js"
import { json, operationTimeout, type RepositoryOptions } from "./internal/options.js"

/** Expired records each claim removes at most. */
const sweepBatch = 16

const RecordRows = Schema.Array(Schema.Struct({ fingerprint: Schema.String, result: Schema.Unknown }))

/**
 * Builds the keys on the `SqlClient` in context (the database must be migrated).
 *
 * @since 0.1.0
 */
export const make = (
  options?: RepositoryOptions
): Effect.Effect<Idempotency.IdempotencyKeysShape, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const client = yield* SqlClient.SqlClient
    const sql = client.withoutTransforms()
    const timeout = operationTimeout(options, client)

    return Idempotency.IdempotencyKeys.of({
      claim: Effect.fn("IdempotencyKeys.claim")(function* (claim) {
        return yield* Effect.gen(function* () {
          const claimed = yield* sql`INSERT INTO patchbay.idempotency_keys AS k
              (org_id, operation, idempotency_key, fingerprint, result, created_at, expires_at)
            VALUES (${claim.orgId}, ${claim.operation}, ${claim.key}, ${claim.fingerprint}, NULL, ${claim.at},
              ${claim.expiresAt})
            ON CONFLICT (org_id, operation, idempotency_key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
              result = NULL, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
              WHERE k.expires_at <= EXCLUDED.created_at
            RETURNING 1 AS claimed`
          if (claimed.length > 0) {
            // After the claim, not before: the sweep never waits (SKIP LOCKED), so a claim waits only
            // for units that claimed or swept that key first, never in a cycle with them.
            yield* sql`DELETE FROM patchbay.idempotency_keys WHERE ctid IN (
                SELECT ctid FROM patchbay.idempotency_keys WHERE expires_at <= ${claim.at}
                ORDER BY expires_at LIMIT ${sweepBatch} FOR UPDATE SKIP LOCKED)`
            return Option.none()
          }
          const rows = yield* sql`SELECT fingerprint, result FROM patchbay.idempotency_keys
            WHERE org_id = ${claim.orgId} AND operation = ${claim.operation} AND idempotency_key = ${claim.key}`.pipe(
            Effect.flatMap(Schema.decodeUnknown(RecordRows))
          )
          // The INSERT above locked the live record it met, so inside a transaction it is still there.
          const [row] = rows
          if (row === undefined) {
            return yield* new DomainError.StorageError({
              operation: "IdempotencyKeys.claim",
              detail: "the record of the idempotency key vanished while it was claimed"
            })
          }
          return Option.some<Idempotency.Recorded>({ fingerprint: row.fingerprint, result: row.result ?? undefined })
        }).pipe(guard("IdempotencyKeys.claim", timeout))
      }),
      complete: Effect.fn("IdempotencyKeys.complete")(function* (claim, result) {
        yield* sql`UPDATE patchbay.idempotency_keys SET result = ${json(result)}::jsonb
          WHERE org_id = ${claim.orgId} AND operation = ${claim.operation} AND idempotency_key = ${claim.key}`.pipe(
          guard("IdempotencyKeys.complete", timeout)
        )
      })
    })
  })

/**
 * The keys as a layer over a `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer = (
  options?: RepositoryOptions
): Layer.Layer<Idempotency.IdempotencyKeys, never, SqlClient.SqlClient> =>
  Layer.effect(Idempotency.IdempotencyKeys, make(options))
