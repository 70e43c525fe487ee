/**
 * The MySQL / MariaDB connector descriptor: what an instance is configured with (host, port,
 * database, TLS mode, read-only) and which credentials it needs (a database user and its password).
 *
 * @since 0.1.0
 */
import { type ConnectorDescriptor, Ids } from "@patchbay/core"
import * as Schema from "effect/Schema"

/**
 * How the connection uses TLS: `disable` never, `require` always (certificate not verified),
 * `verify-full` always with the certificate checked against the system CAs and the host name.
 *
 * @since 0.1.0
 */
export const SslMode = Schema.Literal("disable", "require", "verify-full")
/** @since 0.1.0 */
export type SslMode = typeof SslMode.Type

/**
 * Non-sensitive configuration of an instance. `read_only` makes Run Query use READ ONLY
 * transactions and refuses DDL.
 *
 * @since 0.1.0
 */
export const Configuration = Schema.Struct({
  host: Schema.Trim.pipe(
    Schema.minLength(1, { message: () => "host must not be empty" }),
    Schema.pattern(/^[^/\s]+$/, { message: () => "host must be a host name or an IP address" })
  ),
  port: Schema.optionalWith(
    Schema.Int.pipe(Schema.between(1, 65535, { message: () => "port must be between 1 and 65535" })),
    { default: () => 3306 }
  ),
  database: Schema.String.pipe(Schema.minLength(1, { message: () => "database must not be empty" })),
  ssl_mode: Schema.optionalWith(SslMode, { default: () => "require" as const }),
  read_only: Schema.optionalWith(Schema.Boolean, { default: () => false })
})
/** @since 0.1.0 */
export type Configuration = typeof Configuration.Type

/**
 * Credentials: the database user and its password (`Redacted` once decoded).
 *
 * @since 0.1.0
 */
export const Credentials = Schema.Struct({
  username: Schema.String.pipe(Schema.minLength(1, { message: () => "username must not be empty" })),
  password: Schema.Redacted(Schema.String)
})
/** @since 0.1.0 */
export type Credentials = typeof Credentials.Type

/**
 * The descriptor's stable id.
 *
 * @since 0.1.0
 */
export const id: Ids.ConnectorId = Ids.ConnectorId.make("8b2e4d6f-1a3c-4e5b-9d7f-0c2a4e6b8d13")

/**
 * The MySQL / MariaDB connector descriptor (key `mysql`).
 *
 * @since 0.1.0
 */
export const descriptor = {
  id,
  key: "mysql",
  name: "MySQL / MariaDB",
  version: "1.0.0",
  authProfiles: ["database_password"],
  operations: ["test_connection", "health_check", "run_query", "get_schema", "execute_ddl"],
  configuration: Configuration,
  credentials: Credentials,
  secretFields: ["password"],
  accountFields: ["host", "port", "database", "username"],
  supportsSchemaDiscovery: true
} satisfies ConnectorDescriptor.ConnectorDescriptor<typeof Configuration, typeof Credentials>
