/** Migration 7: health-check history and monitor claims. */
export const monitors: ReadonlyArray<string> = [
  // One row per health check; the store keeps the newest few of each instance.
  `CREATE TABLE patchbay.health_checks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id uuid NOT NULL,
    instance_id uuid NOT NULL,
    checked_at timestamptz NOT NULL,
    latency_ms double precision NOT NULL CHECK (latency_ms >= 0),
    outcome text NOT NULL CHECK (outcome IN ('success', 'failed')),
    failure text,
    CONSTRAINT health_checks_instance_fkey FOREIGN KEY (org_id, instance_id)
      REFERENCES patchbay.instances (org_id, id) ON DELETE CASCADE
  )`,
  "CREATE INDEX health_checks_instance ON patchbay.health_checks (org_id, instance_id, checked_at DESC, id DESC)",
  // A monitor's unit of work in one time bucket: the first process to insert the row does the work.
  `CREATE TABLE patchbay.monitor_claims (
    monitor text NOT NULL,
    key text NOT NULL,
    slot bigint NOT NULL,
    claimed_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (monitor, key, slot)
  )`,
  "CREATE INDEX monitor_claims_expires ON patchbay.monitor_claims (expires_at)"
]
