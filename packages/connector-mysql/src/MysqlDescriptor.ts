/**
 * The MySQL / MariaDB connector descriptor: what an instance is configured with (host, port,
 * database, TLS mode and CA, read-only, an optional SSH bastion) and which credentials it needs (a
 * database user, its password, optionally a TLS client certificate and the bastion's SSH login).
 *
 * @since 0.1.0
 */
import { isIP } from "node:net"
import { type ConnectorDescriptor, Ids } from "@patchbay/core"
import { TunnelConfiguration } from "@patchbay/ssh-tunnel"
import * as Schema from "effect/Schema"

/**
 * How the connection uses TLS: `disable` never, `require` always (certificate not verified),
 * `verify-ca` always with the certificate chain checked against `ssl_root_cert` (or the system
 * CAs), `verify-full` as `verify-ca` and the certificate must also name the host. A TLS mode never
 * falls back to plain text, and a certificate that fails the check is `RequestRejected`.
 *
 * @since 0.1.0
 */
export const SslMode = Schema.Literal("disable", "require", "verify-ca", "verify-full")
/** @since 0.1.0 */
export type SslMode = typeof SslMode.Type

/**
 * Non-sensitive configuration of an instance. `read_only` makes Run Query use READ ONLY
 * transactions and refuses DDL. `ssh_tunnel` reaches the database through an SSH bastion (its login
 * is the credential's `ssh_credentials`); `host` is then resolved by the bastion.
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
  /** PEM CA certificates the server's certificate must chain to (`verify-ca`, `verify-full`); default the system CAs. */
  ssl_root_cert: Schema.optional(
    Schema.String.pipe(
      Schema.pattern(/-----BEGIN CERTIFICATE-----/, { message: () => "ssl_root_cert must be PEM certificates" })
    )
  ),
  read_only: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  ssh_tunnel: Schema.optional(TunnelConfiguration.TunnelConfiguration)
}).pipe(
  // mysql2 checks a certificate's name only for a host name (an IP address would be checked as
  // "localhost"): verify-full is refused for an address rather than checking the wrong name.
  Schema.filter((configuration) =>
    configuration.ssl_mode === "verify-full" && isIP(configuration.host) !== 0
      ? "ssl_mode verify-full needs host to be the host name the certificate names, not an IP address (verify-ca checks the chain only)"
      : undefined
  )
)
/** @since 0.1.0 */
export type Configuration = typeof Configuration.Type

/**
 * Credentials: the database user and its password (`Redacted` once decoded; optional for an account
 * that logs in by client certificate alone), and optionally a TLS
 * client certificate (PEM) and its private key (`Redacted`) for accounts created `REQUIRE X509`
 * (or `REQUIRE SUBJECT/ISSUER`), and the SSH login (`private_key` with its `passphrase`, or
 * `password`, all `Redacted`) of an instance configured with `ssh_tunnel`.
 *
 * @since 0.1.0
 */
export const Credentials = Schema.Struct({
  username: Schema.String.pipe(Schema.minLength(1, { message: () => "username must not be empty" })),
  password: Schema.optional(Schema.Redacted(Schema.String)),
  ssl_cert: Schema.optional(
    Schema.String.pipe(
      Schema.pattern(/-----BEGIN CERTIFICATE-----/, { message: () => "ssl_cert must be a PEM certificate" })
    )
  ),
  ssl_key: Schema.optional(Schema.Redacted(Schema.String.pipe(Schema.minLength(1)))),
  ssh_credentials: Schema.optional(TunnelConfiguration.TunnelCredentials)
}).pipe(
  Schema.filter((credentials) =>
    (credentials.ssl_cert === undefined) === (credentials.ssl_key === undefined)
      ? undefined
      : "ssl_cert and ssl_key go together"
  )
)
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
  secretFields: ["password", "ssl_key", "ssh_credentials", "private_key", "passphrase"],
  accountFields: ["host", "port", "database", "username"],
  supportsSchemaDiscovery: true
} satisfies ConnectorDescriptor.ConnectorDescriptor<typeof Configuration, typeof Credentials>
