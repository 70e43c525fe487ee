/**
 * @patchbay/monitors: the monitors a host schedules — health checks with a latency history,
 * expiry and refresh-token deadline warnings, and the OAuth2 refresh sweep — each claiming its
 * work so that many processes running the same schedules do it once.
 *
 * @since 0.1.0
 */
export * as ExpiryMonitor from "./ExpiryMonitor.js"
export * as HealthMonitor from "./HealthMonitor.js"
export * as Monitors from "./Monitors.js"
export * as SweepMonitor from "./SweepMonitor.js"
