/**
 * @patchbay/webhooks: signed webhook delivery of Patchbay's lifecycle events, with per-subscriber
 * delivery state, retries with backoff, dead letters, and the verification helper for receivers.
 *
 * @since 0.1.0
 */
export * as WebhookReceiver from "./WebhookReceiver.js"
export * as WebhookSignature from "./WebhookSignature.js"
export * as WebhookSubscriptions from "./WebhookSubscriptions.js"
export * as WebhookWorker from "./WebhookWorker.js"
