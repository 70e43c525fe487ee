/**
 * Migration 6: webhook subscriptions and per-subscriber delivery state. A subscription's secret is
 * stored sealed (key id, wrapped data key, nonce, ciphertext), as credentials are; the previous
 * secret is kept while a rotation's overlap lasts. One delivery per (subscription, event); pending
 * deliveries are found through a partial index on when they are due.
 */
export const webhooks: ReadonlyArray<string> = [
  `CREATE TABLE patchbay.webhook_subscriptions (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL,
    url text NOT NULL,
    event_types jsonb,
    enabled boolean NOT NULL,
    secret_version integer NOT NULL CHECK (secret_version > 0),
    key_id text NOT NULL,
    wrapped_key bytea NOT NULL,
    nonce bytea NOT NULL,
    ciphertext bytea NOT NULL,
    previous_key_id text,
    previous_wrapped_key bytea,
    previous_nonce bytea,
    previous_ciphertext bytea,
    previous_until timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
  )`,
  "CREATE INDEX webhook_subscriptions_org ON patchbay.webhook_subscriptions (org_id, created_at)",
  `CREATE TABLE patchbay.webhook_deliveries (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL,
    subscription_id uuid NOT NULL REFERENCES patchbay.webhook_subscriptions (id) ON DELETE CASCADE,
    event_id uuid NOT NULL REFERENCES patchbay.event_outbox (id),
    event_type text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts integer NOT NULL CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    lease_until timestamptz,
    last_status integer,
    last_error text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    delivered_at timestamptz,
    CONSTRAINT webhook_deliveries_once UNIQUE (subscription_id, event_id)
  )`,
  "CREATE INDEX webhook_deliveries_due ON patchbay.webhook_deliveries (next_attempt_at) WHERE status = 'pending'",
  "CREATE INDEX webhook_deliveries_org ON patchbay.webhook_deliveries (org_id, status, created_at DESC)"
]
