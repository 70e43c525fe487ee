/**
 * @patchbay/connector-postgres: the PostgreSQL connector — descriptor, driver (test, health, Run
 * Query, schema discovery, guarded DDL), its connection pools, the DDL classifier and the SQL policy.
 *
 * @since 0.1.0
 */
export * as DdlClassifier from "./DdlClassifier.js"
export * as PostgresConnector from "./PostgresConnector.js"
export * as PostgresDescriptor from "./PostgresDescriptor.js"
export * as PostgresPools from "./PostgresPools.js"
export * as SqlPolicy from "./SqlPolicy.js"
