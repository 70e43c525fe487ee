/**
 * `WebhookStore` on @effect/sql (tables `patchbay.webhook_subscriptions` and
 * `patchbay.webhook_deliveries`, migration `6_webhooks`). Fan-out and claim are single statements
 * that lock their rows with `FOR UPDATE SKIP LOCKED`, so many processes share the work: each
 * outbox event is taken by one fan-out, each due delivery by one claim until its lease runs out.
 * Pruning deletes expired delivered and dead rows the same way, batch by batch.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Credential, LifecycleEvents, WebhookStore } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { guard } from "./internal/errors.js"
import { bytes, json, operationTimeout, type RepositoryOptions } from "./internal/options.js"

const subscriptionColumns = `s.id::text AS id, s.org_id::text AS org_id, s.url, s.event_types::text AS event_types,
  s.enabled, s.secret_version, s.key_id, s.wrapped_key, s.nonce, s.ciphertext, s.previous_key_id,
  s.previous_wrapped_key, s.previous_nonce, s.previous_ciphertext, s.previous_until, s.created_at, s.updated_at`

const deliveryColumns = `d.id::text AS id, d.org_id::text AS org_id, d.subscription_id::text AS subscription_id,
  d.event_id::text AS event_id, d.event_type, d.status, d.attempts, d.next_attempt_at, d.last_status,
  d.last_error, d.created_at, d.updated_at, d.delivered_at`

const Bytes = Schema.Uint8ArrayFromSelf
const SubscriptionRow = Schema.Struct({
  id: Schema.String,
  org_id: Schema.String,
  url: Schema.String,
  event_types: Schema.NullOr(Schema.String),
  enabled: Schema.Boolean,
  secret_version: Schema.Number,
  key_id: Schema.String,
  wrapped_key: Bytes,
  nonce: Bytes,
  ciphertext: Bytes,
  previous_key_id: Schema.NullOr(Schema.String),
  previous_wrapped_key: Schema.NullOr(Bytes),
  previous_nonce: Schema.NullOr(Bytes),
  previous_ciphertext: Schema.NullOr(Bytes),
  previous_until: Schema.NullOr(Schema.DateFromSelf),
  created_at: Schema.DateFromSelf,
  updated_at: Schema.DateFromSelf
})
type SubscriptionRow = typeof SubscriptionRow.Type

const DeliveryRow = Schema.Struct({
  id: Schema.String,
  org_id: Schema.String,
  subscription_id: Schema.String,
  event_id: Schema.String,
  event_type: Schema.String,
  status: Schema.String,
  attempts: Schema.Number,
  next_attempt_at: Schema.DateFromSelf,
  last_status: Schema.NullOr(Schema.Number),
  last_error: Schema.NullOr(Schema.String),
  created_at: Schema.DateFromSelf,
  updated_at: Schema.DateFromSelf,
  delivered_at: Schema.NullOr(Schema.DateFromSelf)
})
type DeliveryRow = typeof DeliveryRow.Type

/** A delivery row as `row_to_json` writes it: timestamps as ISO text. */
const DeliveryRowJson = Schema.Struct({
  ...DeliveryRow.fields,
  next_attempt_at: Schema.DateFromString,
  created_at: Schema.DateFromString,
  updated_at: Schema.DateFromString,
  delivered_at: Schema.NullOr(Schema.DateFromString)
})

const decodeSubscriptionRows = Schema.decodeUnknown(Schema.Array(SubscriptionRow))
const decodeDeliveryRows = Schema.decodeUnknown(Schema.Array(DeliveryRow))
const decodeClaimedRows = Schema.decodeUnknown(
  Schema.Array(
    Schema.Struct({
      ...SubscriptionRow.fields,
      delivery: Schema.String,
      payload: Schema.String
    })
  )
)
const decodeEventTypes = Schema.decodeUnknown(Schema.parseJson(Schema.Array(WebhookStore.EventType)))
const decodeEvent = Schema.decodeUnknown(Schema.parseJson(LifecycleEvents.LifecycleEvent))
const decodeDelivery = Schema.decodeUnknown(WebhookStore.Delivery)
const decodeSubscription = Schema.decodeUnknown(WebhookStore.Subscription)
const encodeEventTypes = Schema.encodeSync(Schema.Array(WebhookStore.EventType))

const trusted = { disableValidation: true } as const

const sealed = (keyId: string, wrappedKey: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array) =>
  new Credential.SealedSecret(
    { keyId, wrappedKey: bytes(wrappedKey), nonce: bytes(nonce), ciphertext: bytes(ciphertext) },
    trusted
  )

const toSubscription = (row: SubscriptionRow) =>
  Effect.gen(function* () {
    const eventTypes = row.event_types === null ? null : yield* decodeEventTypes(row.event_types)
    return yield* decodeSubscription({
      id: row.id,
      orgId: row.org_id,
      url: row.url,
      eventTypes,
      enabled: row.enabled,
      secretVersion: row.secret_version,
      previousSecretUntil: row.previous_until?.toISOString() ?? null,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString()
    })
  })

const toRecord = (row: SubscriptionRow) =>
  Effect.map(toSubscription(row), (subscription) =>
    WebhookStore.SubscriptionRecord.make({
      subscription,
      secret: sealed(row.key_id, row.wrapped_key, row.nonce, row.ciphertext),
      previousSecret:
        row.previous_key_id !== null &&
        row.previous_wrapped_key !== null &&
        row.previous_nonce !== null &&
        row.previous_ciphertext !== null
          ? sealed(row.previous_key_id, row.previous_wrapped_key, row.previous_nonce, row.previous_ciphertext)
          : null
    })
  )

const toDelivery = (row: DeliveryRow) =>
  decodeDelivery({
    id: row.id,
    orgId: row.org_id,
    subscriptionId: row.subscription_id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at.toISOString(),
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    deliveredAt: row.delivered_at?.toISOString() ?? null
  })

const count = (limit: number) => Math.max(0, Math.floor(limit))

const hex = (value: Uint8Array) => Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex")
const decodeKeyIdRows = Schema.decodeUnknown(Schema.Array(Schema.Struct({ key_id: Schema.String })))
const decodeIdRows = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: WebhookStore.SubscriptionId })))

/**
 * Builds the store on the `SqlClient` in context (the database must be migrated).
 *
 * @since 0.1.0
 */
export const make = (
  options?: RepositoryOptions
): Effect.Effect<WebhookStore.WebhookStoreShape, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const client = yield* SqlClient.SqlClient
    const sql = client.withoutTransforms()
    const timeout = operationTimeout(options, client)

    const selectSubscription = (orgId: string, id: string) =>
      sql`SELECT ${sql.literal(subscriptionColumns)} FROM patchbay.webhook_subscriptions s
        WHERE s.org_id = ${orgId} AND s.id = ${id}`.pipe(Effect.flatMap(decodeSubscriptionRows))

    return WebhookStore.WebhookStore.of({
      create: Effect.fn("WebhookStore.create")(function* (record) {
        const s = record.subscription
        const secret = record.secret
        yield* sql`INSERT INTO patchbay.webhook_subscriptions (id, org_id, url, event_types, enabled, secret_version,
            key_id, wrapped_key, nonce, ciphertext, created_at, updated_at)
          VALUES (${s.id}, ${s.orgId}, ${s.url},
            ${s.eventTypes === null ? null : json(encodeEventTypes(s.eventTypes))}::jsonb, ${s.enabled},
            ${s.secretVersion}, ${secret.keyId}, ${secret.wrappedKey}::bytea, ${secret.nonce}::bytea,
            ${secret.ciphertext}::bytea, ${s.createdAt}, ${s.updatedAt})`.pipe(guard("WebhookStore.create", timeout))
      }),
      get: Effect.fn("WebhookStore.get")(function* (orgId, id) {
        const rows = yield* selectSubscription(orgId, id).pipe(guard("WebhookStore.get", timeout))
        const row = rows[0]
        if (row === undefined) return Option.none()
        return Option.some(yield* toRecord(row).pipe(guard("WebhookStore.get", timeout)))
      }),
      list: Effect.fn("WebhookStore.list")(function* (orgId) {
        return yield* sql`SELECT ${sql.literal(subscriptionColumns)} FROM patchbay.webhook_subscriptions s
          WHERE s.org_id = ${orgId} ORDER BY s.created_at, s.id`.pipe(
          Effect.flatMap(decodeSubscriptionRows),
          Effect.flatMap(Effect.forEach(toSubscription)),
          guard("WebhookStore.list", timeout)
        )
      }),
      update: Effect.fn("WebhookStore.update")(function* (orgId, id, patch, at) {
        const sets = [sql`updated_at = ${at}`]
        if (patch.enabled !== undefined) sets.push(sql`enabled = ${patch.enabled}`)
        if (patch.url !== undefined) sets.push(sql`url = ${patch.url}`)
        const fence = patch.secret === undefined ? sql`` : sql`AND s.secret_version = ${patch.secret.version}`
        if (patch.secret !== undefined) {
          const sealed = patch.secret.sealed
          sets.push(
            sql`key_id = ${sealed.keyId}, wrapped_key = ${sealed.wrappedKey}::bytea, nonce = ${sealed.nonce}::bytea,
              ciphertext = ${sealed.ciphertext}::bytea`
          )
        }
        if (patch.eventTypes !== undefined) {
          sets.push(
            sql`event_types = ${patch.eventTypes === null ? null : json(encodeEventTypes(patch.eventTypes))}::jsonb`
          )
        }
        const rows = yield* sql`UPDATE patchbay.webhook_subscriptions s SET ${sql.csv(sets)}
          WHERE s.org_id = ${orgId} AND s.id = ${id} ${fence} RETURNING ${sql.literal(subscriptionColumns)}`.pipe(
          Effect.flatMap(decodeSubscriptionRows),
          Effect.flatMap(Effect.forEach(toSubscription)),
          guard("WebhookStore.update", timeout)
        )
        return Option.fromNullable(rows[0])
      }),
      rotate: Effect.fn("WebhookStore.rotate")(function* (orgId, id, secrets, at) {
        const next = secrets.secret
        const previous = secrets.previousSecret
        const rows = yield* sql`UPDATE patchbay.webhook_subscriptions s SET
            secret_version = ${secrets.version}, key_id = ${next.keyId}, wrapped_key = ${next.wrappedKey}::bytea,
            nonce = ${next.nonce}::bytea, ciphertext = ${next.ciphertext}::bytea,
            previous_key_id = ${previous.keyId}, previous_wrapped_key = ${previous.wrappedKey}::bytea,
            previous_nonce = ${previous.nonce}::bytea, previous_ciphertext = ${previous.ciphertext}::bytea,
            previous_until = ${secrets.previousSecretUntil}, updated_at = ${at}
          WHERE s.org_id = ${orgId} AND s.id = ${id} AND s.secret_version = ${secrets.version - 1}
          RETURNING ${sql.literal(subscriptionColumns)}`.pipe(
          Effect.flatMap(decodeSubscriptionRows),
          Effect.flatMap(Effect.forEach(toSubscription)),
          guard("WebhookStore.rotate", timeout)
        )
        return Option.fromNullable(rows[0])
      }),
      remove: Effect.fn("WebhookStore.remove")(function* (orgId, id) {
        const rows = yield* sql`DELETE FROM patchbay.webhook_subscriptions WHERE org_id = ${orgId} AND id = ${id}
          RETURNING id`.pipe(guard("WebhookStore.remove", timeout))
        return rows.length > 0
      }),
      fanOut: Effect.fn("WebhookStore.fanOut")(function* ({ limit, at }) {
        // One statement: the events are locked (skipping those another fan-out holds), their
        // deliveries inserted and the events marked, or nothing happens.
        const rows = yield* sql`WITH taken AS (
            SELECT id, org_id, type FROM patchbay.event_outbox
            WHERE delivered_at IS NULL ORDER BY id LIMIT ${count(limit)}
            FOR UPDATE SKIP LOCKED
          ), inserted AS (
            INSERT INTO patchbay.webhook_deliveries (id, org_id, subscription_id, event_id, event_type, status,
              attempts, next_attempt_at, created_at, updated_at)
            SELECT gen_random_uuid(), e.org_id, s.id, e.id, e.type, 'pending', 0, ${at}, ${at}, ${at}
            FROM taken e JOIN patchbay.webhook_subscriptions s ON s.org_id = e.org_id AND s.enabled
              AND (s.event_types IS NULL OR s.event_types @> to_jsonb(e.type))
            ON CONFLICT ON CONSTRAINT webhook_deliveries_once DO NOTHING
          )
          UPDATE patchbay.event_outbox o SET delivered_at = ${at} FROM taken WHERE o.id = taken.id
          RETURNING o.id`.pipe(guard("WebhookStore.fanOut", timeout))
        return rows.length
      }),
      claim: Effect.fn("WebhookStore.claim")(function* ({ limit, now, leaseUntil }) {
        const rows = yield* sql`WITH due AS (
            SELECT d.id FROM patchbay.webhook_deliveries d
            JOIN patchbay.webhook_subscriptions s ON s.id = d.subscription_id
            WHERE d.status = 'pending' AND d.next_attempt_at <= ${now}
              AND (d.lease_until IS NULL OR d.lease_until <= ${now}) AND s.enabled
            ORDER BY d.next_attempt_at, d.id LIMIT ${count(limit)}
            FOR UPDATE OF d SKIP LOCKED
          ), claimed AS (
            UPDATE patchbay.webhook_deliveries d SET lease_until = ${leaseUntil}, attempts = d.attempts + 1,
              updated_at = ${now}
            FROM due WHERE d.id = due.id
            RETURNING d.*
          )
          SELECT ${sql.literal(subscriptionColumns)}, o.payload::text AS payload,
            (SELECT row_to_json(x)::text FROM (SELECT ${sql.literal(deliveryColumns)}) x) AS delivery
          FROM claimed d
          JOIN patchbay.webhook_subscriptions s ON s.id = d.subscription_id
          JOIN patchbay.event_outbox o ON o.id = d.event_id
          ORDER BY d.next_attempt_at, d.id`.pipe(
          Effect.flatMap(decodeClaimedRows),
          guard("WebhookStore.claim", timeout)
        )
        return yield* Effect.forEach(rows, (row) =>
          Effect.gen(function* () {
            const delivery = yield* Schema.decodeUnknown(Schema.parseJson(DeliveryRowJson))(row.delivery)
            return {
              delivery: yield* toDelivery(delivery),
              event: yield* decodeEvent(row.payload),
              subscription: yield* toRecord(row)
            }
          })
        ).pipe(guard("WebhookStore.claim", timeout))
      }),
      record: Effect.fn("WebhookStore.record")(function* ({ id, attempt, outcome, at }) {
        const fields =
          outcome._tag === "Delivered"
            ? sql`status = 'delivered', last_status = ${outcome.status}, last_error = NULL, delivered_at = ${at}`
            : outcome._tag === "Retry"
              ? sql`last_status = ${outcome.status}, last_error = ${outcome.error},
                  next_attempt_at = ${outcome.nextAttemptAt}`
              : sql`status = 'dead', last_status = ${outcome.status}, last_error = ${outcome.error}`
        const rows = yield* sql`UPDATE patchbay.webhook_deliveries SET ${fields}, lease_until = NULL, updated_at = ${at}
          WHERE id = ${id} AND status = 'pending' AND attempts = ${attempt} RETURNING id`.pipe(
          guard("WebhookStore.record", timeout)
        )
        return rows.length > 0
      }),
      deliveries: Effect.fn("WebhookStore.deliveries")(function* (orgId, query) {
        const where = [sql`d.org_id = ${orgId}`]
        if (query.status !== undefined) where.push(sql`d.status = ${query.status}`)
        if (query.subscriptionId !== undefined) where.push(sql`d.subscription_id = ${query.subscriptionId}`)
        return yield* sql`SELECT ${sql.literal(deliveryColumns)} FROM patchbay.webhook_deliveries d
          WHERE ${sql.and(where)} ORDER BY d.created_at DESC, d.id DESC LIMIT ${count(query.limit)}`.pipe(
          Effect.flatMap(decodeDeliveryRows),
          Effect.flatMap(Effect.forEach(toDelivery)),
          guard("WebhookStore.deliveries", timeout)
        )
      }),
      redeliver: Effect.fn("WebhookStore.redeliver")(function* (orgId, id, at) {
        const rows = yield* sql`UPDATE patchbay.webhook_deliveries d SET status = 'pending', attempts = 0,
            next_attempt_at = ${at}, lease_until = NULL, updated_at = ${at}
          WHERE d.org_id = ${orgId} AND d.id = ${id} AND d.status = 'dead'
          RETURNING ${sql.literal(deliveryColumns)}`.pipe(
          Effect.flatMap(decodeDeliveryRows),
          Effect.flatMap(Effect.forEach(toDelivery)),
          guard("WebhookStore.redeliver", timeout)
        )
        return Option.fromNullable(rows[0])
      }),
      prune: Effect.fn("WebhookStore.prune")(function* ({ deliveredBefore, deadBefore, limit }) {
        const expired = [
          ...(deliveredBefore === null ? [] : [sql`(status = 'delivered' AND delivered_at < ${deliveredBefore})`]),
          ...(deadBefore === null ? [] : [sql`(status = 'dead' AND updated_at < ${deadBefore})`])
        ]
        if (expired.length === 0 || count(limit) === 0) return 0
        // The rows are locked as they are picked, skipping those another prune or a redelivery
        // holds; a row redelivered meanwhile is pending again and no longer matches.
        const rows = yield* sql`WITH expired AS (
            SELECT id FROM patchbay.webhook_deliveries WHERE ${sql.or(expired)}
            LIMIT ${count(limit)} FOR UPDATE SKIP LOCKED
          )
          DELETE FROM patchbay.webhook_deliveries d USING expired WHERE d.id = expired.id
          RETURNING d.id`.pipe(guard("WebhookStore.prune", timeout))
        return rows.length
      }),
      keyIds: Effect.gen(function* () {
        const rows = yield* sql`SELECT key_id FROM patchbay.webhook_subscriptions
          UNION SELECT previous_key_id FROM patchbay.webhook_subscriptions WHERE previous_key_id IS NOT NULL
          ORDER BY key_id`.pipe(Effect.flatMap(decodeKeyIdRows), guard("WebhookStore.keyIds", timeout))
        return rows.map((row) => row.key_id)
      }).pipe(Effect.withSpan("WebhookStore.keyIds")),
      sealedWithOtherKey: Effect.fn("WebhookStore.sealedWithOtherKey")(function* (keyId, limit, after) {
        const from = after === undefined ? sql`` : sql`AND s.id > ${after}`
        return yield* sql`SELECT ${sql.literal(subscriptionColumns)} FROM patchbay.webhook_subscriptions s
          WHERE (s.key_id <> ${keyId} OR s.previous_key_id <> ${keyId}) ${from}
          ORDER BY s.id LIMIT ${count(limit)}`.pipe(
          Effect.flatMap(decodeSubscriptionRows),
          Effect.flatMap(Effect.forEach(toRecord)),
          guard("WebhookStore.sealedWithOtherKey", timeout)
        )
      }),
      // One statement per batch, as for credentials: the replacements travel as one JSON array
      // (bytes as hex), each fenced by the secret version and the key ids it was read with.
      replaceSealedBatch: (replacements) =>
        replacements.length === 0
          ? Effect.succeed([])
          : sql`UPDATE patchbay.webhook_subscriptions s SET key_id = u.key_id,
                wrapped_key = decode(u.wrapped_key, 'hex'), nonce = decode(u.nonce, 'hex'),
                ciphertext = decode(u.ciphertext, 'hex'), previous_key_id = u.previous_key_id,
                previous_wrapped_key = decode(u.previous_wrapped_key, 'hex'),
                previous_nonce = decode(u.previous_nonce, 'hex'),
                previous_ciphertext = decode(u.previous_ciphertext, 'hex')
              FROM jsonb_to_recordset(${json(
                replacements.map((r) => ({
                  id: r.id,
                  secret_version: r.secretVersion,
                  expected_key_id: r.expectedKeyId,
                  expected_previous_key_id: r.expectedPreviousKeyId,
                  key_id: r.secret.keyId,
                  wrapped_key: hex(r.secret.wrappedKey),
                  nonce: hex(r.secret.nonce),
                  ciphertext: hex(r.secret.ciphertext),
                  previous_key_id: r.previousSecret?.keyId ?? null,
                  previous_wrapped_key: r.previousSecret === null ? null : hex(r.previousSecret.wrappedKey),
                  previous_nonce: r.previousSecret === null ? null : hex(r.previousSecret.nonce),
                  previous_ciphertext: r.previousSecret === null ? null : hex(r.previousSecret.ciphertext)
                }))
              )}::jsonb)
                AS u(id uuid, secret_version int, expected_key_id text, expected_previous_key_id text, key_id text,
                  wrapped_key text, nonce text, ciphertext text, previous_key_id text, previous_wrapped_key text,
                  previous_nonce text, previous_ciphertext text)
              WHERE s.id = u.id AND s.secret_version = u.secret_version AND s.key_id = u.expected_key_id
                AND s.previous_key_id IS NOT DISTINCT FROM u.expected_previous_key_id
              RETURNING s.id::text AS id`.pipe(
              Effect.flatMap(decodeIdRows),
              Effect.map((rows) => rows.map((row) => row.id)),
              guard("WebhookStore.replaceSealedBatch", timeout),
              Effect.withSpan("WebhookStore.replaceSealedBatch", { attributes: { rows: replacements.length } })
            )
    })
  })

/**
 * The store as a layer over a `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer = (
  options?: RepositoryOptions
): Layer.Layer<WebhookStore.WebhookStore, never, SqlClient.SqlClient> =>
  Layer.effect(WebhookStore.WebhookStore, make(options))
