/** Migration 6: webhook subscriptions and per-subscriber delivery state. */
export const webhooks: ReadonlyArray<string> = []
