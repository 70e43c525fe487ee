/**
 * `PendingAuthorizationRepository` on @effect/sql. `take` is a single DELETE … RETURNING, so of two
 * concurrent callbacks with the same state exactly one gets the authorization.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { CredentialScope, PendingAuthorizationRepository } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { guard } from "./internal/errors.js"
import { bytes, operationTimeout, type RepositoryOptions } from "./internal/options.js"

const columns = `state_hash, org_id, instance_id, scope_type, scope_id, redirect_uri, created_at, expires_at,
  key_id, wrapped_key, nonce, ciphertext`

const Row = Schema.Struct({
  state_hash: Schema.String,
  org_id: Schema.String,
  instance_id: Schema.String,
  scope_type: CredentialScope.ScopeType,
  scope_id: Schema.String,
  redirect_uri: Schema.String,
  created_at: Schema.DateFromSelf,
  expires_at: Schema.DateFromSelf,
  key_id: Schema.String,
  wrapped_key: Schema.Uint8ArrayFromSelf,
  nonce: Schema.Uint8ArrayFromSelf,
  ciphertext: Schema.Uint8ArrayFromSelf
})

const PendingFromRow = Schema.transform(Row, PendingAuthorizationRepository.PendingAuthorization, {
  strict: true,
  decode: (row) => ({
    stateHash: row.state_hash,
    orgId: row.org_id,
    instanceId: row.instance_id,
    scope: { type: row.scope_type, id: row.scope_id },
    redirectUri: row.redirect_uri,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    sealed: {
      keyId: row.key_id,
      wrappedKey: bytes(row.wrapped_key),
      nonce: bytes(row.nonce),
      ciphertext: bytes(row.ciphertext)
    }
  }),
  encode: (pending) => ({
    state_hash: pending.stateHash,
    org_id: pending.orgId,
    instance_id: pending.instanceId,
    scope_type: pending.scope.type,
    scope_id: pending.scope.id,
    redirect_uri: pending.redirectUri,
    created_at: pending.createdAt,
    expires_at: pending.expiresAt,
    key_id: pending.sealed.keyId,
    wrapped_key: pending.sealed.wrappedKey,
    nonce: pending.sealed.nonce,
    ciphertext: pending.sealed.ciphertext
  })
})

const decodeRows = Schema.decodeUnknown(Schema.Array(PendingFromRow))
const decodeCount = Schema.decodeUnknown(Schema.Tuple(Schema.Struct({ purged: Schema.Int })))

/**
 * Builds the repository on the `SqlClient` in context (the database must be migrated).
 *
 * @since 0.1.0
 */
export const make = (
  options?: RepositoryOptions
): Effect.Effect<PendingAuthorizationRepository.PendingAuthorizationRepositoryShape, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const client = yield* SqlClient.SqlClient
    const sql = client.withoutTransforms()
    const timeout = operationTimeout(options, client)
    const select = sql.literal(columns)
    return PendingAuthorizationRepository.PendingAuthorizationRepository.of({
      insert: Effect.fn("PendingAuthorizationRepository.insert")(function* (pending) {
        const s = pending.sealed
        // Like the memory store, a second insert for the same state replaces the first.
        yield* sql`INSERT INTO patchbay.pending_authorizations (state_hash, org_id, instance_id, scope_type, scope_id,
            redirect_uri, created_at, expires_at, key_id, wrapped_key, nonce, ciphertext)
          VALUES (${pending.stateHash}, ${pending.orgId}, ${pending.instanceId}, ${pending.scope.type},
            ${pending.scope.id}, ${pending.redirectUri}, ${pending.createdAt}, ${pending.expiresAt}, ${s.keyId},
            ${s.wrappedKey}, ${s.nonce}, ${s.ciphertext})
          ON CONFLICT (state_hash) DO UPDATE SET org_id = EXCLUDED.org_id, instance_id = EXCLUDED.instance_id,
            scope_type = EXCLUDED.scope_type, scope_id = EXCLUDED.scope_id, redirect_uri = EXCLUDED.redirect_uri,
            created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, key_id = EXCLUDED.key_id,
            wrapped_key = EXCLUDED.wrapped_key, nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext`.pipe(
          guard("PendingAuthorizationRepository.insert", timeout)
        )
      }),
      take: Effect.fn("PendingAuthorizationRepository.take")(function* (stateHash, now) {
        const rows = yield* sql`DELETE FROM patchbay.pending_authorizations WHERE state_hash = ${stateHash}
          RETURNING ${select}`.pipe(Effect.flatMap(decodeRows), guard("PendingAuthorizationRepository.take", timeout))
        return Option.fromNullable(rows[0]).pipe(Option.filter((p) => p.expiresAt.getTime() > now.getTime()))
      }),
      purgeExpired: Effect.fn("PendingAuthorizationRepository.purgeExpired")(function* (now) {
        const rows = yield* sql`WITH purged AS (
            DELETE FROM patchbay.pending_authorizations WHERE expires_at <= ${now} RETURNING 1)
          SELECT count(*)::int AS purged FROM purged`.pipe(
          Effect.flatMap(decodeCount),
          guard("PendingAuthorizationRepository.purgeExpired", timeout)
        )
        return rows[0].purged
      })
    })
  })

/**
 * The repository as a layer over a `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer = (
  options?: RepositoryOptions
): Layer.Layer<PendingAuthorizationRepository.PendingAuthorizationRepository, never, SqlClient.SqlClient> =>
  Layer.effect(PendingAuthorizationRepository.PendingAuthorizationRepository, make(options))
