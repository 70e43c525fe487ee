/**
 * What an SSH tunnel is configured with: the bastion (host, port, user) and the fingerprint its
 * host key must have, in the instance configuration; the private key or the password, in the
 * credential.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A host key fingerprint as `ssh-keygen -lf` prints it: `SHA256:` and 43 base64 characters.
 *
 * @since 0.1.0
 */
export const HostKeyFingerprint = Schema.Trim.pipe(
  Schema.pattern(/^SHA256:[A-Za-z0-9+/]{43}=?$/, {
    message: () => "host_key_fingerprint must be a SHA256 fingerprint as `ssh-keygen -lf` prints it (SHA256:…)"
  })
)

/**
 * The bastion of a tunnel (non-sensitive). The host key fingerprint is required: a bastion whose
 * key differs is refused, never trusted on first use.
 *
 * @since 0.1.0
 */
export const TunnelConfiguration = Schema.Struct({
  host: Schema.Trim.pipe(
    Schema.minLength(1, { message: () => "ssh_tunnel.host must not be empty" }),
    Schema.filter((host) => !host.includes("@"), {
      message: () =>
        "ssh_tunnel.host must not carry a user or a password (user:password@host): the user is ssh_tunnel.username, the password or key belongs in the credential"
    }),
    Schema.pattern(/^[^/\s@]+$/, { message: () => "ssh_tunnel.host must be a host name or an IP address" })
  ),
  port: Schema.optionalWith(
    Schema.Int.pipe(Schema.between(1, 65535, { message: () => "ssh_tunnel.port must be between 1 and 65535" })),
    { default: () => 22 }
  ),
  username: Schema.String.pipe(Schema.minLength(1, { message: () => "ssh_tunnel.username must not be empty" })),
  host_key_fingerprint: HostKeyFingerprint
})
/** @since 0.1.0 */
export type TunnelConfiguration = typeof TunnelConfiguration.Type

/**
 * How the tunnel logs in (`Redacted` once decoded): a private key (OpenSSH or PEM, with its
 * passphrase when encrypted), or a password.
 *
 * @since 0.1.0
 */
export const TunnelCredentials = Schema.Struct({
  private_key: Schema.optional(Schema.Redacted(Schema.String.pipe(Schema.minLength(1)))),
  passphrase: Schema.optional(Schema.Redacted(Schema.String)),
  password: Schema.optional(Schema.Redacted(Schema.String.pipe(Schema.minLength(1))))
}).pipe(
  Schema.filter((credentials) =>
    credentials.private_key !== undefined || credentials.password !== undefined
      ? undefined
      : "the ssh credential needs a private_key or a password"
  )
)
/** @since 0.1.0 */
export type TunnelCredentials = typeof TunnelCredentials.Type
