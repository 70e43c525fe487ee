/** Migration 8: workflow executions waiting for an instance to be reconnected. */
export const reconnectWaits: ReadonlyArray<string> = [
  // No foreign key to the instance: the waits on a deleted instance are what wakes its workflows.
  `CREATE TABLE patchbay.reconnect_waits (
    token text PRIMARY KEY,
    org_id uuid NOT NULL,
    instance_id uuid NOT NULL,
    scopes jsonb NOT NULL,
    registered_at timestamptz NOT NULL
  )`,
  "CREATE INDEX reconnect_waits_instance ON patchbay.reconnect_waits (org_id, instance_id, registered_at)"
]
