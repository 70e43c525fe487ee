/**
 * @patchbay/telemetry: Patchbay's metrics and traces exported through @effect/opentelemetry.
 *
 * @since 0.1.0
 */
export * as OutboxLag from "./OutboxLag.js"
export * as Telemetry from "./Telemetry.js"
