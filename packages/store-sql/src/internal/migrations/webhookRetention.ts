/** Migration 9: the indexes `WebhookStore.prune` reads, so pruning does not scan every delivery. */
export const webhookRetention: ReadonlyArray<string> = [
  "CREATE INDEX webhook_deliveries_delivered ON patchbay.webhook_deliveries (delivered_at) WHERE status = 'delivered'",
  "CREATE INDEX webhook_deliveries_dead ON patchbay.webhook_deliveries (updated_at) WHERE status = 'dead'"
]
