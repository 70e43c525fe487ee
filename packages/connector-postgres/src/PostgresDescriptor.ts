/**
 * The PostgreSQL connector descriptor: what an instance is configured with (host, port, database,
 * TLS mode, read-only, an optional SSH bastion) and which credentials it needs (a database user and
 * its password, a client certificate, the SSH login of the bastion).
 *
 * @since 0.1.0
 */
import { type ConnectorDescriptor, Ids } from "@patchbay/core"
import { TunnelConfiguration } from "@patchbay/ssh-tunnel"
import * as Schema from "effect/Schema"

/**
 * How the connection uses TLS, as libpq's `sslmode`: `disable` never, `prefer` when the server
 * offers it (certificate not verified), `require` always (certificate not verified), `verify-ca`
 * always with the certificate chain checked against `ssl_root_cert` (or the system CAs),
 * `verify-full` as `verify-ca` and the certificate must also name the host. A TLS mode never falls
 * back to plain text, and a certificate that fails the check is `RequestRejected`.
 *
 * @since 0.1.0
 */
export const SslMode = Schema.Literal("disable", "prefer", "require", "verify-ca", "verify-full")
/** @since 0.1.0 */
export type SslMode = typeof SslMode.Type

/**
 * Non-sensitive configuration of an instance. `read_only` makes Run Query use READ ONLY
 * transactions and refuses DDL. `allow_side_effect_functions` lets Run Query and DDL call the
 * side-effect functions of the SQL policy (dblink, session advisory locks, server files…); a
 * read-only instance refuses them whatever it says. `ssh_tunnel` reaches the database through an
 * SSH bastion (its login is the credential's `ssh_credentials`); `host` is then resolved by the
 * bastion.
 *
 * @since 0.1.0
 */
export const Configuration = Schema.Struct({
  host: Schema.Trim.pipe(
    Schema.minLength(1, { message: () => "host must not be empty" }),
    Schema.filter((host) => !host.includes("@"), {
      message: () =>
        "host must not carry a user or a password (user:password@host): store them as the credential's username and password"
    }),
    Schema.pattern(/^[^/\s@]+$/, { message: () => "host must be a host name or an IP address" })
  ),
  port: Schema.optionalWith(
    Schema.Int.pipe(Schema.between(1, 65535, { message: () => "port must be between 1 and 65535" })),
    { default: () => 5432 }
  ),
  database: Schema.String.pipe(Schema.minLength(1, { message: () => "database must not be empty" })),
  ssl_mode: Schema.optionalWith(SslMode, { default: () => "prefer" as const }),
  /** PEM CA certificates the server's certificate must chain to (`verify-ca`, `verify-full`); default the system CAs. */
  ssl_root_cert: Schema.optional(
    Schema.String.pipe(
      Schema.pattern(/-----BEGIN CERTIFICATE-----/, { message: () => "ssl_root_cert must be PEM certificates" })
    )
  ),
  read_only: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  allow_side_effect_functions: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  ssh_tunnel: Schema.optional(TunnelConfiguration.TunnelConfiguration)
})
/** @since 0.1.0 */
export type Configuration = typeof Configuration.Type

/**
 * Credentials: the database user and its password (`Redacted` once decoded; optional for a role
 * that logs in by client certificate alone), optionally a TLS client certificate (PEM) and its
 * private key (`Redacted`) for servers that authenticate by certificate, and the SSH login (`private_key` with its `passphrase`, or `password`, all
 * `Redacted`) of an instance configured with `ssh_tunnel`.
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
export const id: Ids.ConnectorId = Ids.ConnectorId.make("4f0c6a7e-2d1b-4c3a-9e58-7b6d5c4a3f21")

/**
 * The PostgreSQL connector descriptor (key `postgres`).
 *
 * @since 0.1.0
 */
export const descriptor = {
  id,
  key: "postgres",
  name: "PostgreSQL",
  version: "1.0.0",
  authProfiles: ["database_password"],
  operations: ["test_connection", "health_check", "run_query", "get_schema", "execute_ddl"],
  configuration: Configuration,
  credentials: Credentials,
  secretFields: ["password", "ssl_key", "ssh_credentials", "private_key", "passphrase"],
  accountFields: ["host", "port", "database", "username"],
  supportsSchemaDiscovery: true
} satisfies ConnectorDescriptor.ConnectorDescriptor<typeof Configuration, typeof Credentials>
