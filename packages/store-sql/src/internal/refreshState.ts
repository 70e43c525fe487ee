/**
 * The refresh state of credential versions (`CredentialRepository.refreshState` and
 * `putRefreshState`) in `patchbay.credential_refresh_state`: one row per version, removed with it.
 * Each write is one statement, committed on its own unless the caller runs it in a transaction.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { CredentialRefreshState, type CredentialRepository, type Ids } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { guard } from "./errors.js"
import { type Bound, bytes } from "./options.js"

const Row = Schema.Struct({
  credential_id: Schema.String,
  org_id: Schema.String,
  attempted_at: Schema.NullOr(Schema.DateFromSelf),
  failures: Schema.Int,
  retry_at: Schema.NullOr(Schema.DateFromSelf),
  refused_at: Schema.NullOr(Schema.DateFromSelf),
  refused_reason: Schema.NullOr(Schema.String),
  reconnect_expires_at: Schema.NullOr(Schema.DateFromSelf),
  reconnect_key_id: Schema.NullOr(Schema.String),
  reconnect_wrapped_key: Schema.NullOr(Schema.Uint8ArrayFromSelf),
  reconnect_nonce: Schema.NullOr(Schema.Uint8ArrayFromSelf),
  reconnect_ciphertext: Schema.NullOr(Schema.Uint8ArrayFromSelf)
})

const decodeRows = Schema.decodeUnknown(Schema.Array(Row))
const decodeState = Schema.decodeUnknown(CredentialRefreshState.CredentialRefreshState)

const fromRow = (row: typeof Row.Type) =>
  decodeState({
    credentialId: row.credential_id,
    orgId: row.org_id,
    attemptedAt: row.attempted_at,
    failures: row.failures,
    retryAt: row.retry_at,
    refusedAt: row.refused_at,
    refusedReason: row.refused_reason,
    reconnect:
      row.reconnect_expires_at === null ||
      row.reconnect_key_id === null ||
      row.reconnect_wrapped_key === null ||
      row.reconnect_nonce === null ||
      row.reconnect_ciphertext === null
        ? null
        : {
            expiresAt: row.reconnect_expires_at,
            sealed: {
              keyId: row.reconnect_key_id,
              wrappedKey: bytes(row.reconnect_wrapped_key),
              nonce: bytes(row.reconnect_nonce),
              ciphertext: bytes(row.reconnect_ciphertext)
            }
          }
  })

const columns = `credential_id, org_id, attempted_at, failures, retry_at, refused_at, refused_reason,
  reconnect_expires_at, reconnect_key_id, reconnect_wrapped_key, reconnect_nonce, reconnect_ciphertext`

/** The two operations on `sql`, each bounded by `bound`. */
export const make = (
  sql: SqlClient.SqlClient,
  bound: Bound
): Pick<CredentialRepository.CredentialRepositoryShape, "refreshState" | "putRefreshState"> => ({
  refreshState: Effect.fn("CredentialRepository.refreshState")(function* (orgId: Ids.OrgId, id: Ids.CredentialId) {
    const rows = yield* sql`SELECT ${sql.literal(columns)} FROM patchbay.credential_refresh_state
      WHERE org_id = ${orgId} AND credential_id = ${id}`.pipe(
      Effect.flatMap(decodeRows),
      Effect.flatMap((rows) => Effect.forEach(rows, fromRow)),
      guard("CredentialRepository.refreshState", bound)
    )
    return Option.fromNullable(rows[0])
  }),
  putRefreshState: Effect.fn("CredentialRepository.putRefreshState")(function* (state) {
    const link = state.reconnect
    // Only for a version of the same organization that still exists (no row, no error, otherwise).
    yield* sql`INSERT INTO patchbay.credential_refresh_state (${sql.literal(columns)})
      SELECT c.id, c.org_id, ${state.attemptedAt}::timestamptz, ${state.failures}::integer,
        ${state.retryAt}::timestamptz, ${state.refusedAt}::timestamptz, ${state.refusedReason}::text,
        ${link?.expiresAt ?? null}::timestamptz, ${link?.sealed.keyId ?? null}::text,
        ${link?.sealed.wrappedKey ?? null}::bytea, ${link?.sealed.nonce ?? null}::bytea,
        ${link?.sealed.ciphertext ?? null}::bytea
      FROM patchbay.credentials c WHERE c.org_id = ${state.orgId} AND c.id = ${state.credentialId}
      ON CONFLICT (credential_id) DO UPDATE SET attempted_at = EXCLUDED.attempted_at,
        failures = EXCLUDED.failures, retry_at = EXCLUDED.retry_at, refused_at = EXCLUDED.refused_at,
        refused_reason = EXCLUDED.refused_reason, reconnect_expires_at = EXCLUDED.reconnect_expires_at,
        reconnect_key_id = EXCLUDED.reconnect_key_id, reconnect_wrapped_key = EXCLUDED.reconnect_wrapped_key,
        reconnect_nonce = EXCLUDED.reconnect_nonce, reconnect_ciphertext = EXCLUDED.reconnect_ciphertext`.pipe(
      guard("CredentialRepository.putRefreshState", bound)
    )
  })
})
