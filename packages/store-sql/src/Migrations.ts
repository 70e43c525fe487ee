/**
 * The schema of the SQL store, as @effect/sql migrations in the `patchbay` schema, and the check
 * every layer runs at start: migrate (or, with migrations disabled, insist that someone did), and
 * refuse a database migrated by a newer Patchbay.
 *
 * @since 0.1.0
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { DomainError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Admission from "./internal/admission.js"
import { fromSqlError } from "./internal/errors.js"
import { monitors } from "./internal/migrations/monitors.js"
import { reconnectWaits } from "./internal/migrations/reconnectWaits.js"
import { webhookRetention } from "./internal/migrations/webhookRetention.js"
import { webhooks } from "./internal/migrations/webhooks.js"
import { transaction } from "./internal/transaction.js"

/**
 * The PostgreSQL schema that holds every Patchbay table.
 *
 * @since 0.1.0
 */
export const schemaName = "patchbay"

/**
 * The table in which the migrator records applied migrations.
 *
 * @since 0.1.0
 */
export const migrationsTable = `${schemaName}.migrations`

const statements = (...sql: ReadonlyArray<string>): Effect.Effect<void, SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (client) =>
    Effect.forEach(sql, (statement) => client.unsafe(statement), { discard: true })
  )

/**
 * Every migration, keyed `<id>_<name>` for `Migrator.fromRecord`.
 *
 * @since 0.1.0
 */
export const migrations: Record<string, Effect.Effect<void, SqlError, SqlClient.SqlClient>> = {
  "1_initial": statements(
    `CREATE TABLE patchbay.instances (
      id uuid PRIMARY KEY,
      org_id uuid NOT NULL,
      connector_id uuid NOT NULL,
      connector_key text NOT NULL,
      instance_name text NOT NULL,
      name_key text NOT NULL,
      description text,
      workspace_id uuid,
      configuration jsonb NOT NULL,
      auth_type text NOT NULL,
      is_enabled boolean NOT NULL,
      last_tested_at timestamptz,
      test_status text NOT NULL,
      test_message text,
      has_credentials boolean NOT NULL,
      status text NOT NULL,
      account_fingerprint text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT instances_org_id_key UNIQUE (org_id, id)
    )`,
    "CREATE UNIQUE INDEX instances_name_unique ON patchbay.instances (org_id, connector_id, name_key)",
    `CREATE UNIQUE INDEX instances_account_unique ON patchbay.instances (org_id, connector_id, account_fingerprint)
      WHERE account_fingerprint IS NOT NULL`,
    `CREATE TABLE patchbay.credentials (
      id uuid PRIMARY KEY,
      org_id uuid NOT NULL,
      instance_id uuid NOT NULL,
      scope_type text NOT NULL CHECK (scope_type IN ('organization', 'workspace', 'user', 'agent')),
      scope_id uuid NOT NULL,
      version integer NOT NULL CHECK (version > 0),
      labels jsonb NOT NULL,
      masked jsonb NOT NULL,
      account_fingerprint text,
      expires_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz NOT NULL,
      key_id text NOT NULL,
      wrapped_key bytea NOT NULL,
      nonce bytea NOT NULL,
      ciphertext bytea NOT NULL,
      CONSTRAINT credentials_instance_fkey FOREIGN KEY (org_id, instance_id)
        REFERENCES patchbay.instances (org_id, id) ON DELETE CASCADE
    )`,
    `CREATE UNIQUE INDEX credentials_slot_version
      ON patchbay.credentials (org_id, instance_id, scope_type, scope_id, version)`,
    `CREATE INDEX credentials_expiring ON patchbay.credentials (org_id, expires_at)
      WHERE revoked_at IS NULL AND expires_at IS NOT NULL`,
    "CREATE INDEX credentials_key_id ON patchbay.credentials (key_id)",
    `CREATE TABLE patchbay.audit_events (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id uuid NOT NULL UNIQUE,
      org_id uuid NOT NULL,
      at timestamptz NOT NULL,
      actor jsonb NOT NULL,
      action text NOT NULL,
      instance_id uuid,
      outcome text NOT NULL,
      details jsonb NOT NULL
    )`,
    "CREATE INDEX audit_events_org ON patchbay.audit_events (org_id, seq DESC)",
    `CREATE INDEX audit_events_instance ON patchbay.audit_events (org_id, instance_id, seq DESC)
      WHERE instance_id IS NOT NULL`,
    `CREATE FUNCTION patchbay.audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'patchbay.audit_events is append-only';
      END
    $$`,
    `CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON patchbay.audit_events
      FOR EACH ROW EXECUTE FUNCTION patchbay.audit_events_append_only()`,
    `CREATE TABLE patchbay.pending_authorizations (
      state_hash text PRIMARY KEY,
      org_id uuid NOT NULL,
      instance_id uuid NOT NULL,
      scope_type text NOT NULL,
      scope_id uuid NOT NULL,
      redirect_uri text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      key_id text NOT NULL,
      wrapped_key bytea NOT NULL,
      nonce bytea NOT NULL,
      ciphertext bytea NOT NULL,
      CONSTRAINT pending_authorizations_instance_fkey FOREIGN KEY (org_id, instance_id)
        REFERENCES patchbay.instances (org_id, id) ON DELETE CASCADE
    )`,
    "CREATE INDEX pending_authorizations_expires ON patchbay.pending_authorizations (expires_at)"
  ),
  // What the OAuth2 refresh protocol records per credential version (attempts, back-off, refusal).
  "2_credential_refresh_state": statements(
    `CREATE TABLE patchbay.credential_refresh_state (
      credential_id uuid PRIMARY KEY REFERENCES patchbay.credentials (id) ON DELETE CASCADE,
      org_id uuid NOT NULL,
      attempted_at timestamptz,
      failures integer NOT NULL CHECK (failures >= 0),
      retry_at timestamptz,
      refused_at timestamptz,
      refused_reason text,
      reconnect_expires_at timestamptz,
      reconnect_key_id text,
      reconnect_wrapped_key bytea,
      reconnect_nonce bytea,
      reconnect_ciphertext bytea
    )`
  ),
  // Authenticated state of credential versions: the successor of a superseded version and the
  // keyed MAC over each version's state (null for versions stored before; see docs/security.md).
  "3_credential_integrity": statements(
    `ALTER TABLE patchbay.credentials
      ADD COLUMN superseded_by uuid,
      ADD COLUMN state_mac text`
  ),
  // Idempotency keys of creates and stores: the request's fingerprint and the result, written in
  // the transaction of the write itself; expired rows are removed as new keys are claimed.
  "4_idempotency": statements(
    `CREATE TABLE patchbay.idempotency_keys (
      org_id uuid NOT NULL,
      operation text NOT NULL,
      idempotency_key text NOT NULL,
      fingerprint text NOT NULL,
      result jsonb,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (org_id, operation, idempotency_key)
    )`,
    "CREATE INDEX idempotency_keys_expires ON patchbay.idempotency_keys (expires_at)"
  ),
  // Lifecycle events, written in the transaction of the change they describe; ids are UUIDv7, so
  // id order is creation order. Pending (undelivered) rows are found through a partial index.
  "5_outbox": statements(
    `CREATE TABLE patchbay.event_outbox (
      id uuid PRIMARY KEY,
      org_id uuid NOT NULL,
      type text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      delivered_at timestamptz
    )`,
    "CREATE INDEX event_outbox_pending ON patchbay.event_outbox (id) WHERE delivered_at IS NULL"
  ),
  "6_webhooks": statements(...webhooks),
  "7_monitors": statements(...monitors),
  "8_reconnect_waits": statements(...reconnectWaits),
  "9_webhook_retention": statements(...webhookRetention)
}

/**
 * The id of the newest migration this version of Patchbay knows.
 *
 * @since 0.1.0
 */
export const latest: number = Math.max(...Object.keys(migrations).map((key) => Number.parseInt(key, 10)))

/**
 * The database's schema version does not match this Patchbay: it was never migrated (`found: 0`)
 * or migrated only partly while migrations are disabled, or it was migrated by a newer Patchbay.
 *
 * @since 0.1.0
 */
export class SchemaVersionMismatch extends Schema.TaggedError<SchemaVersionMismatch>(
  "@patchbay/store-sql/SchemaVersionMismatch"
)("SchemaVersionMismatch", { found: Schema.Int, expected: Schema.Int }) {
  readonly retryable = false
  override get message(): string {
    return this.found > this.expected
      ? `The Patchbay database schema is at migration ${this.found}, newer than the ${this.expected} this version knows: it was migrated by a newer Patchbay. Upgrade this process instead of running it against that database.`
      : this.found === 0
        ? `The Patchbay database is not migrated (no ${migrationsTable} table) and migrations are disabled: run them (migrate: true) or point at a migrated database.`
        : `The Patchbay database schema is at migration ${this.found}, but this version needs ${this.expected} and migrations are disabled: run them (migrate: true).`
  }
}

/**
 * A migration failed; the transaction that ran it was rolled back.
 *
 * @since 0.1.0
 */
export class MigrationFailed extends Schema.TaggedError<MigrationFailed>("@patchbay/store-sql/MigrationFailed")(
  "MigrationFailed",
  { detail: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return `Migrating the Patchbay database failed: ${this.detail}`
  }
}

/**
 * Why a SQL store could not start.
 *
 * @since 0.1.0
 */
export type StartupError = SchemaVersionMismatch | MigrationFailed | DomainError.StorageError

const VersionRow = Schema.Struct({ version: Schema.NullOr(Schema.Int) })

/**
 * The id of the newest migration applied to the database, 0 when it was never migrated.
 *
 * @since 0.1.0
 */
export const current: Effect.Effect<number, DomainError.StorageError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const exists = yield* sql<{ readonly table: unknown }>`SELECT to_regclass(${migrationsTable}) AS "table"`
  if (exists[0]?.table === null || exists[0]?.table === undefined) return 0
  const rows = yield* sql`SELECT max(migration_id)::int AS version FROM patchbay.migrations`
  const [row] = yield* Schema.decodeUnknown(Schema.Tuple(VersionRow))(rows)
  return row.version ?? 0
}).pipe(
  Effect.catchTags({
    SqlError: (e) => Effect.fail(fromSqlError("Migrations.current", e)),
    ParseError: () =>
      Effect.fail(
        new DomainError.StorageError({ operation: "Migrations.current", detail: "unreadable migrations table" })
      )
  })
)

// An advisory lock key ("patchbay" in ASCII) that serialises concurrent starts against one database.
const startupLock = "8097881575290724729"

/**
 * Brings the database to `latest` (when `migrate`) or checks that it is there. Concurrent starts
 * of many processes are serialised by an advisory lock, so exactly one of them migrates.
 *
 * @since 0.1.0
 */
export const ensure = (options: {
  readonly migrate: boolean
}): Effect.Effect<void, StartupError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const client = yield* SqlClient.SqlClient
    const sql = client.withoutTransforms()
    if (!options.migrate) {
      const found = yield* current
      if (found !== latest) return yield* new SchemaVersionMismatch({ found, expected: latest })
      return
    }
    yield* transaction(
      sql,
      "Migrations.ensure",
      Admission.of(client)
    )(
      Effect.gen(function* () {
        yield* sql.unsafe(`SELECT pg_advisory_xact_lock(${startupLock}::bigint)`)
        const found = yield* current
        if (found > latest) return yield* new SchemaVersionMismatch({ found, expected: latest })
        if (found === latest) return
        yield* sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schemaName}`)
        // The migrator's own "does the table exist" probe fails a statement, which would abort this
        // transaction; the table is created here first, in the migrator's layout.
        yield* sql.unsafe(`CREATE TABLE IF NOT EXISTS ${migrationsTable} (
          migration_id integer PRIMARY KEY,
          created_at timestamptz NOT NULL DEFAULT now(),
          name text NOT NULL
        )`)
        yield* Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: migrationsTable }).pipe(
          Effect.catchTag("MigrationError", (e) => Effect.fail(new MigrationFailed({ detail: e.message }))),
          // The migrator reports a failed migration as a defect; at this boundary it is a typed failure.
          Effect.catchAllDefect((defect) =>
            Effect.fail(
              new MigrationFailed({
                detail: Predicate.hasProperty(defect, "message") ? String(defect.message) : "a migration failed"
              })
            )
          )
        )
      })
    ).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(fromSqlError("Migrations.ensure", e))))
  }).pipe(Effect.withSpan("Migrations.ensure"))
