/**
 * @patchbay/testers: test connection, health check and bulk operations.
 *
 * @since 0.1.0
 */
export * as ConnectionTester from "./ConnectionTester.js"
