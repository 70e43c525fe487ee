/**
 * `CredentialRepository` on @effect/sql. An insert locks the newest version of its instance and
 * scope, takes the next version number under a unique index (an insert that loses a race is
 * retried, so concurrent writers in any number of processes get distinct, gapless versions) and
 * marks that newest version superseded, in one transaction. Every write of a version's
 * authenticated state stores the state MAC its caller computed (`StateAuthenticator`).
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Credential, CredentialRepository, CredentialScope, DomainError, Ids } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { guard } from "./internal/errors.js"
import { bytes, json, operationTimeout, type RepositoryOptions } from "./internal/options.js"
import * as RefreshState from "./internal/refreshState.js"
import { transaction } from "./internal/transaction.js"

const metadataColumns = `id, org_id, instance_id, scope_type, scope_id, version, labels, masked,
  account_fingerprint, expires_at, revoked_at, created_at, superseded_by`
const recordColumns = `${metadataColumns}, key_id, wrapped_key, nonce, ciphertext, state_mac`

const MetadataRow = Schema.Struct({
  id: Schema.String,
  org_id: Schema.String,
  instance_id: Schema.String,
  scope_type: CredentialScope.ScopeType,
  scope_id: Schema.String,
  version: Schema.Int,
  labels: Credential.CredentialLabels,
  masked: Schema.Record({ key: Schema.String, value: Schema.String }),
  account_fingerprint: Schema.NullOr(Schema.String),
  expires_at: Schema.NullOr(Schema.DateFromSelf),
  revoked_at: Schema.NullOr(Schema.DateFromSelf),
  created_at: Schema.DateFromSelf,
  superseded_by: Schema.NullOr(Schema.String)
})

const RecordRow = Schema.Struct({
  ...MetadataRow.fields,
  key_id: Schema.String,
  wrapped_key: Schema.Uint8ArrayFromSelf,
  nonce: Schema.Uint8ArrayFromSelf,
  ciphertext: Schema.Uint8ArrayFromSelf,
  state_mac: Schema.NullOr(Schema.String)
})

const toMetadata = (row: typeof MetadataRow.Type): typeof Credential.CredentialMetadata.Encoded => ({
  id: row.id,
  orgId: row.org_id,
  instanceId: row.instance_id,
  scope: { type: row.scope_type, id: row.scope_id },
  version: row.version,
  labels: row.labels,
  masked: row.masked,
  accountFingerprint: row.account_fingerprint,
  expiresAt: row.expires_at,
  revokedAt: row.revoked_at,
  createdAt: row.created_at,
  supersededBy: row.superseded_by
})

const fromMetadata = (metadata: typeof Credential.CredentialMetadata.Encoded): typeof MetadataRow.Type => ({
  id: metadata.id,
  org_id: metadata.orgId,
  instance_id: metadata.instanceId,
  scope_type: metadata.scope.type,
  scope_id: metadata.scope.id,
  version: metadata.version,
  labels: metadata.labels,
  masked: metadata.masked,
  account_fingerprint: metadata.accountFingerprint,
  expires_at: metadata.expiresAt,
  revoked_at: metadata.revokedAt,
  created_at: metadata.createdAt,
  superseded_by: metadata.supersededBy ?? null
})

/** A stored row as credential metadata. */
const MetadataFromRow = Schema.transform(MetadataRow, Credential.CredentialMetadata, {
  strict: true,
  decode: toMetadata,
  encode: fromMetadata
})

/** A stored row as a credential record (bytea columns as plain `Uint8Array`s). */
const RecordFromRow = Schema.transform(RecordRow, Credential.CredentialRecord, {
  strict: true,
  decode: (row) => ({
    metadata: toMetadata(row),
    sealed: {
      keyId: row.key_id,
      wrappedKey: bytes(row.wrapped_key),
      nonce: bytes(row.nonce),
      ciphertext: bytes(row.ciphertext)
    },
    stateMac: row.state_mac
  }),
  encode: (record) => ({
    ...fromMetadata(record.metadata),
    key_id: record.sealed.keyId,
    wrapped_key: record.sealed.wrappedKey,
    nonce: record.sealed.nonce,
    ciphertext: record.sealed.ciphertext,
    state_mac: record.stateMac ?? null
  })
})

const decodeMetadataRows = Schema.decodeUnknown(Schema.Array(MetadataFromRow))
const decodeRecordRows = Schema.decodeUnknown(Schema.Array(RecordFromRow))

// Rows of the exact stored shape skip the Schema decoders: the checks below are those of the
// row and domain schemas (the same UUID pattern, scope types, safe integers, `Date`s, string
// records, byte arrays), and the domain classes are then built without validating twice. A row
// that fails any check goes through the Schema decoders, which say what is wrong.
const trusted = { disableValidation: true } as const
const uuid = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/
const scopeTypes: ReadonlySet<unknown> = new Set<unknown>(CredentialScope.ScopeType.literals)
type Row = Readonly<Record<string, unknown>>
const isRow = (u: unknown): u is Row => typeof u === "object" && u !== null && !Array.isArray(u)
const isPlainRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && Object.getPrototypeOf(u) === Object.prototype
const isStringRecord = (u: unknown): u is Readonly<Record<string, string>> => {
  if (!isPlainRecord(u)) return false
  for (const key in u) if (typeof u[key] !== "string") return false
  return true
}
const isUuid = (u: unknown): u is string => typeof u === "string" && uuid.test(u)
const isDateOrNull = (u: unknown): u is Date | null => u === null || u instanceof Date
const isBytes = (u: unknown): u is Uint8Array => u instanceof Uint8Array

/** The metadata of a row of the stored shape, or `undefined` to leave the row to Schema. */
const fastMetadata = (row: Row): Credential.CredentialMetadata | undefined => {
  const { id, org_id, instance_id, scope_type, scope_id, version, labels, masked } = row
  const { account_fingerprint, expires_at, revoked_at, created_at, superseded_by } = row
  if (
    !isUuid(id) ||
    !isUuid(org_id) ||
    !isUuid(instance_id) ||
    !scopeTypes.has(scope_type) ||
    !isUuid(scope_id) ||
    typeof version !== "number" ||
    !Number.isSafeInteger(version) ||
    !isPlainRecord(labels) ||
    !isStringRecord(masked) ||
    (account_fingerprint !== null && typeof account_fingerprint !== "string") ||
    !isDateOrNull(expires_at) ||
    !isDateOrNull(revoked_at) ||
    !(created_at instanceof Date) ||
    (superseded_by !== null && !isUuid(superseded_by))
  ) {
    return undefined
  }
  return new Credential.CredentialMetadata(
    {
      id: Ids.CredentialId.make(id, trusted),
      orgId: Ids.OrgId.make(org_id, trusted),
      instanceId: Ids.InstanceId.make(instance_id, trusted),
      scope: new CredentialScope.CredentialScope(
        { type: scope_type as CredentialScope.ScopeType, id: scope_id },
        trusted
      ),
      version,
      labels,
      masked,
      accountFingerprint: account_fingerprint,
      expiresAt: expires_at,
      revokedAt: revoked_at,
      createdAt: created_at,
      supersededBy: superseded_by === null ? null : Ids.CredentialId.make(superseded_by, trusted)
    },
    trusted
  )
}

/** A row of the stored shape as a record, or `undefined` to leave the row to Schema. */
const fastRecord = (row: Row): Credential.CredentialRecord | undefined => {
  const { key_id, wrapped_key, nonce, ciphertext, state_mac } = row
  if (
    typeof key_id !== "string" ||
    !isBytes(wrapped_key) ||
    !isBytes(nonce) ||
    !isBytes(ciphertext) ||
    (state_mac !== null && typeof state_mac !== "string")
  ) {
    return undefined
  }
  const metadata = fastMetadata(row)
  if (metadata === undefined) return undefined
  const sealed = new Credential.SealedSecret(
    { keyId: key_id, wrappedKey: bytes(wrapped_key), nonce: bytes(nonce), ciphertext: bytes(ciphertext) },
    trusted
  )
  return new Credential.CredentialRecord({ metadata, sealed, stateMac: state_mac }, trusted)
}

/** Decodes rows with `fast`, or all of them with `slow` as soon as one is not of the stored shape. */
const decodeWith =
  <A, E>(fast: (row: Row) => A | undefined, slow: (rows: unknown) => Effect.Effect<ReadonlyArray<A>, E>) =>
  (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>, E> => {
    const out: Array<A> = []
    for (const row of rows) {
      const decoded = isRow(row) ? fast(row) : undefined
      if (decoded === undefined) return slow(rows)
      out.push(decoded)
    }
    return Effect.succeed(out)
  }

const decodeMetadata = decodeWith(fastMetadata, decodeMetadataRows)
const decodeRecords = decodeWith(fastRecord, decodeRecordRows)
const KeyIdRows = Schema.decodeUnknown(Schema.Array(Schema.Struct({ key_id: Schema.String })))
const IdRows = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: Ids.CredentialId })))
const hex = (value: Uint8Array) => Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex")

/**
 * The newest valid version of the best-ranked scope that has one, in one statement: the scopes as
 * a ranked VALUES list (parameters 1 to 2n: type and id of each), then organization, instance and
 * the instant of validity. By number of scopes. Each scope is read by a LATERAL subquery that
 * walks the slot index from the newest version down and stops at the first valid one, so the cost
 * does not grow with the versions a scope has accumulated (a plain join sorted them all).
 */
const newestValidTexts = new Map<number, string>()
const newestValidText = (scopes: number): string => {
  let text = newestValidTexts.get(scopes)
  if (text === undefined) {
    const ranked = Array.from(
      { length: scopes },
      (_, rank) => `($${2 * rank + 1}::text, $${2 * rank + 2}::uuid, ${rank})`
    )
    const at = 2 * scopes
    text = `SELECT c.* FROM (VALUES ${ranked.join(", ")}) AS s (wanted_type, wanted_id, rank)
  CROSS JOIN LATERAL (
    SELECT ${recordColumns} FROM patchbay.credentials
    WHERE org_id = $${at + 1} AND instance_id = $${at + 2} AND scope_type = s.wanted_type
      AND scope_id = s.wanted_id AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $${at + 3})
    ORDER BY version DESC
    LIMIT 1) AS c
  ORDER BY s.rank
  LIMIT 1`
    newestValidTexts.set(scopes, text)
  }
  return text
}

/** How many times an insert that lost the race for a version number is tried again. */
const versionAttempts = 20

/**
 * Builds the repository on the `SqlClient` in context (the database must be migrated).
 *
 * @since 0.1.0
 */
export const make = (
  options?: RepositoryOptions
): Effect.Effect<CredentialRepository.CredentialRepositoryShape, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const client = yield* SqlClient.SqlClient
    const sql = client.withoutTransforms()
    const timeout = operationTimeout(options, client)
    const metadata = sql.literal(metadataColumns)
    const record = sql.literal(recordColumns)

    /** The newest version of a slot, locked until the enclosing transaction ends. */
    const lockedHead = (m: CredentialRepository.NewCredential["metadata"]) =>
      sql`SELECT ${record} FROM patchbay.credentials
        WHERE org_id = ${m.orgId} AND instance_id = ${m.instanceId} AND scope_type = ${m.scope.type}
          AND scope_id = ${m.scope.id}
        ORDER BY version DESC LIMIT 1 FOR UPDATE`.pipe(Effect.flatMap(decodeRecords))

    /**
     * One try at the next version: none when a concurrent insert took its number first (ON
     * CONFLICT DO NOTHING returns no row without aborting the transaction; the caller tries again,
     * then locking the winner as the newest version).
     */
    const insertOnce = (credential: CredentialRepository.NewCredential) =>
      Effect.gen(function* () {
        const m = credential.metadata
        const s = credential.sealed
        const [head] = yield* lockedHead(m)
        const fresh = Credential.CredentialRecord.make({
          metadata: Credential.CredentialMetadata.make({
            ...m,
            version: (head?.metadata.version ?? 0) + 1,
            supersededBy: null
          }),
          sealed: s
        })
        const mac = credential.authenticate === undefined ? null : yield* credential.authenticate(fresh, undefined)
        const [inserted] = yield* sql`INSERT INTO patchbay.credentials (id, org_id, instance_id, scope_type, scope_id,
            version, labels, masked, account_fingerprint, expires_at, revoked_at, created_at, key_id, wrapped_key,
            nonce, ciphertext, state_mac)
          VALUES (${m.id}::uuid, ${m.orgId}::uuid, ${m.instanceId}::uuid, ${m.scope.type}::text, ${m.scope.id}::uuid,
            ${fresh.metadata.version}::integer, ${json(m.labels)}::jsonb, ${json(m.masked)}::jsonb,
            ${m.accountFingerprint}::text, ${m.expiresAt}::timestamptz, ${m.revokedAt}::timestamptz,
            ${m.createdAt}::timestamptz, ${s.keyId}::text, ${s.wrappedKey}::bytea, ${s.nonce}::bytea,
            ${s.ciphertext}::bytea, ${mac}::text)
          ON CONFLICT (org_id, instance_id, scope_type, scope_id, version) DO NOTHING
          RETURNING ${record}`.pipe(Effect.flatMap(decodeRecords))
        if (inserted === undefined || head === undefined) return inserted
        const superseded = Credential.CredentialRecord.make({
          metadata: Credential.CredentialMetadata.make({ ...head.metadata, supersededBy: fresh.metadata.id }),
          sealed: head.sealed
        })
        const headMac = credential.authenticate === undefined ? null : yield* credential.authenticate(superseded, head)
        yield* sql`UPDATE patchbay.credentials SET superseded_by = ${fresh.metadata.id}, state_mac = ${headMac}
          WHERE id = ${head.metadata.id}`
        return inserted
      })

    return CredentialRepository.CredentialRepository.of({
      insert: Effect.fn("CredentialRepository.insert")(function* (credential) {
        const inserted = yield* transaction(
          sql,
          "CredentialRepository.insert",
          timeout.admission
        )(
          Effect.gen(function* () {
            for (let attempt = 0; attempt < versionAttempts; attempt++) {
              const inserted = yield* insertOnce(credential)
              if (inserted !== undefined) return Option.some(inserted)
            }
            return Option.none()
          }).pipe(guard("CredentialRepository.insert", timeout))
        )
        if (Option.isSome(inserted)) return inserted.value
        return yield* new DomainError.StorageError({
          operation: "CredentialRepository.insert",
          detail: `no free version number after ${versionAttempts} attempts`
        })
      }),
      get: Effect.fn("CredentialRepository.get")(function* (orgId, id) {
        const rows = yield* sql`SELECT ${record} FROM patchbay.credentials WHERE org_id = ${orgId} AND id = ${id}`.pipe(
          Effect.flatMap(decodeRecords),
          guard("CredentialRepository.get", timeout)
        )
        return Option.fromNullable(rows[0])
      }),
      // The hot path of every credential resolution: no span of its own (the statement has its
      // `sql.execute` span) and its statement text built once per number of scopes.
      newestValid: (orgId, instanceId, scopes, now) => {
        if (scopes.length === 0) return Effect.succeedNone
        const params: Array<unknown> = []
        for (const scope of scopes) params.push(scope.type, scope.id)
        params.push(orgId, instanceId, now)
        return sql.unsafe(newestValidText(scopes.length), params).pipe(
          Effect.flatMap(decodeRecords),
          Effect.map((records) => Option.fromNullable(records[0])),
          guard("CredentialRepository.newestValid", timeout)
        )
      },
      list: Effect.fn("CredentialRepository.list")(function* (orgId, instanceId) {
        return yield* sql`SELECT ${metadata} FROM patchbay.credentials
          WHERE org_id = ${orgId} AND instance_id = ${instanceId}
          ORDER BY created_at DESC, version DESC`.pipe(
          Effect.flatMap(decodeMetadata),
          guard("CredentialRepository.list", timeout)
        )
      }),
      revoke: Effect.fn("CredentialRepository.revoke")(function* (orgId, id, at, authenticate) {
        return yield* transaction(
          sql,
          "CredentialRepository.revoke",
          timeout.admission
        )(
          Effect.gen(function* () {
            const [previous] = yield* sql`SELECT ${record} FROM patchbay.credentials
              WHERE org_id = ${orgId} AND id = ${id} FOR UPDATE`.pipe(Effect.flatMap(decodeRecords))
            if (previous === undefined) return Option.none()
            const next = Credential.CredentialRecord.make({
              metadata: Credential.CredentialMetadata.make({
                ...previous.metadata,
                revokedAt: previous.metadata.revokedAt ?? at
              }),
              sealed: previous.sealed
            })
            const mac = authenticate === undefined ? null : yield* authenticate(next, previous)
            const rows = yield* sql`UPDATE patchbay.credentials
              SET revoked_at = COALESCE(revoked_at, ${at}), state_mac = ${mac}
              WHERE org_id = ${orgId} AND id = ${id}
              RETURNING ${metadata}`.pipe(Effect.flatMap(decodeMetadata))
            return Option.fromNullable(rows[0])
          }).pipe(guard("CredentialRepository.revoke", timeout))
        )
      }),
      laterVersions: Effect.fn("CredentialRepository.laterVersions")(function* (orgId, instanceId, scope, version) {
        return yield* sql`SELECT ${record} FROM patchbay.credentials
          WHERE org_id = ${orgId} AND instance_id = ${instanceId} AND scope_type = ${scope.type}
            AND scope_id = ${scope.id} AND version > ${version}
          ORDER BY version`.pipe(Effect.flatMap(decodeRecords), guard("CredentialRepository.laterVersions", timeout))
      }),
      listExpiring: Effect.fn("CredentialRepository.listExpiring")(function* (orgId, from, until) {
        // Candidates: an expiry in the window (from the partial expiry index), or a refresh-token
        // deadline label (a JSON number of epoch seconds, compared as numeric: no cast can fail on
        // a caller's label). A candidate counts only when no newer version of its (instance, scope)
        // is unrevoked (the slot index answers that).
        const fromSeconds = from.getTime() / 1000
        const untilSeconds = until.getTime() / 1000
        const deadline = sql`CASE WHEN jsonb_typeof(c.labels -> 'refresh_token_expires_at') = 'number'
          THEN (c.labels -> 'refresh_token_expires_at')::numeric END`
        return yield* sql`SELECT ${metadata} FROM patchbay.credentials c
          WHERE c.org_id = ${orgId} AND c.revoked_at IS NULL
            AND ((c.expires_at IS NOT NULL AND c.expires_at > ${from} AND c.expires_at <= ${until})
              OR (${deadline} > ${fromSeconds} AND ${deadline} <= ${untilSeconds}))
            AND NOT EXISTS (
              SELECT 1 FROM patchbay.credentials n
              WHERE n.org_id = c.org_id AND n.instance_id = c.instance_id AND n.scope_type = c.scope_type
                AND n.scope_id = c.scope_id AND n.version > c.version AND n.revoked_at IS NULL)
          ORDER BY LEAST(c.expires_at, to_timestamp(GREATEST(LEAST(${deadline}, 253402300799), 0)::double precision)), c.id`.pipe(
          Effect.flatMap(decodeMetadata),
          guard("CredentialRepository.listExpiring", timeout)
        )
      }),
      keyIds: Effect.gen(function* () {
        const rows = yield* sql`SELECT DISTINCT key_id FROM patchbay.credentials ORDER BY key_id`.pipe(
          Effect.flatMap(KeyIdRows),
          guard("CredentialRepository.keyIds", timeout)
        )
        return rows.map((row) => row.key_id)
      }).pipe(Effect.withSpan("CredentialRepository.keyIds")),
      // Key order from the cursor: the primary key's index is read from `after` on, so a batch
      // costs the same at the end of a rotation as at its start (no re-scan of re-wrapped rows).
      sealedWithOtherKey: Effect.fn("CredentialRepository.sealedWithOtherKey")(function* (keyId, limit, after) {
        const from = after === undefined ? sql`` : sql`AND id > ${after}`
        return yield* sql`SELECT ${record} FROM patchbay.credentials WHERE key_id <> ${keyId} ${from}
          ORDER BY id LIMIT ${Math.max(0, Math.floor(limit))}`.pipe(
          Effect.flatMap(decodeRecords),
          guard("CredentialRepository.sealedWithOtherKey", timeout)
        )
      }),
      replaceSealed: Effect.fn("CredentialRepository.replaceSealed")(function* (
        id: Ids.CredentialId,
        expectedKeyId,
        sealed
      ) {
        const rows = yield* sql`UPDATE patchbay.credentials SET key_id = ${sealed.keyId},
            wrapped_key = ${sealed.wrappedKey}, nonce = ${sealed.nonce}, ciphertext = ${sealed.ciphertext}
          WHERE id = ${id} AND key_id = ${expectedKeyId}
          RETURNING id`.pipe(guard("CredentialRepository.replaceSealed", timeout))
        return rows.length > 0
      }),
      // One statement per batch: the replacements travel as one JSON array (bytes as hex), which
      // node-postgres and PGlite pass alike, and each row keeps its compare-and-set on the key id.
      replaceSealedBatch: (replacements) =>
        replacements.length === 0
          ? Effect.succeed([])
          : sql`UPDATE patchbay.credentials c SET key_id = u.key_id, wrapped_key = decode(u.wrapped_key, 'hex'),
                nonce = decode(u.nonce, 'hex'), ciphertext = decode(u.ciphertext, 'hex')
              FROM jsonb_to_recordset(${json(
                replacements.map(({ expectedKeyId, id, sealed }) => ({
                  id,
                  expected_key_id: expectedKeyId,
                  key_id: sealed.keyId,
                  wrapped_key: hex(sealed.wrappedKey),
                  nonce: hex(sealed.nonce),
                  ciphertext: hex(sealed.ciphertext)
                }))
              )}::jsonb)
                AS u(id uuid, expected_key_id text, key_id text, wrapped_key text, nonce text, ciphertext text)
              WHERE c.id = u.id AND c.key_id = u.expected_key_id
              RETURNING c.id`.pipe(
              Effect.flatMap(IdRows),
              Effect.map((rows) => rows.map((row) => row.id)),
              guard("CredentialRepository.replaceSealedBatch", timeout),
              Effect.withSpan("CredentialRepository.replaceSealedBatch", { attributes: { rows: replacements.length } })
            ),
      ...RefreshState.make(sql, timeout)
    })
  })

/**
 * The repository as a layer over a `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer = (
  options?: RepositoryOptions
): Layer.Layer<CredentialRepository.CredentialRepository, never, SqlClient.SqlClient> =>
  Layer.effect(CredentialRepository.CredentialRepository, make(options))
