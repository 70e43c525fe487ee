/**
 * @patchbay/activities: Send Email, Run Query, Fetch File, Send SMS, Get Schema and Execute DDL
 * with typed outcomes.
 *
 * @since 0.1.0
 */
export * as Activities from "./Activities.js"
