/**
 * @patchbay/connector-postgres: the PostgreSQL connector — descriptor, driver (test, health, Run
 * Query, schema discovery, guarded DDL), connection pools and the DDL classifier.
 *
 * @since 0.1.0
 */
export * as DdlClassifier from "./DdlClassifier.js"
export * as PostgresDescriptor from "./PostgresDescriptor.js"
export * as PostgresDriver from "./PostgresDriver.js"
export * as PostgresPools from "./PostgresPools.js"
