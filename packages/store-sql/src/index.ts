/**
 * @patchbay/store-sql: every Patchbay repository port and `RefreshLock` on SQL on
 * PostgreSQL through @effect/sql-pg (the embedded PGlite store is `@patchbay/store-pglite`).
 *
 * @since 0.1.0
 */
export * as Migrations from "./Migrations.js"
export * as SqlAuditLog from "./SqlAuditLog.js"
export * as SqlCredentialRepository from "./SqlCredentialRepository.js"
export * as SqlEventOutbox from "./SqlEventOutbox.js"
export * as SqlHealthHistory from "./SqlHealthHistory.js"
export * as SqlIdempotencyKeys from "./SqlIdempotencyKeys.js"
export * as SqlInstanceRepository from "./SqlInstanceRepository.js"
export * as SqlMonitorClaims from "./SqlMonitorClaims.js"
export * as SqlPendingAuthorizationRepository from "./SqlPendingAuthorizationRepository.js"
export * as SqlReconnectWaits from "./SqlReconnectWaits.js"
export * as SqlRefreshLock from "./SqlRefreshLock.js"
export * as SqlStore from "./SqlStore.js"
export * as SqlTransactions from "./SqlTransactions.js"
export * as SqlWebhookStore from "./SqlWebhookStore.js"
