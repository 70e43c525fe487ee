/**
 * @patchbay/connector-mysql: the MySQL / MariaDB connector — descriptor, driver (test with the
 * least-privilege report, health, Run Query, schema discovery, guarded DDL), its connection pools,
 * the DDL classifier and the SQL policy.
 *
 * @since 0.1.0
 */
export * as DdlClassifier from "./DdlClassifier.js"
export * as MysqlConnector from "./MysqlConnector.js"
export * as MysqlDescriptor from "./MysqlDescriptor.js"
export * as MysqlPools from "./MysqlPools.js"
export * as Privileges from "./Privileges.js"
export * as SqlPolicy from "./SqlPolicy.js"
