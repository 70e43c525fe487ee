/**
 * The SSH bastion of one database instance as its driver reads it: the `ssh_tunnel` configuration
 * with the login from the credential's `ssh_credentials`, whether two of them are the same (a pool
 * and its tunnel are kept only while they are), and a tunnel of its own for a connection test.
 *
 * @since 0.1.0
 */
import { type ConnectorDriver, DriverError, EgressPolicy } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import type * as Scope from "effect/Scope"
import * as SshTunnel from "./SshTunnel.js"
import type { TunnelConfiguration, TunnelCredentials } from "./TunnelConfiguration.js"

/**
 * A bastion and the login it takes.
 *
 * @since 0.1.0
 */
export interface Settings {
  readonly configuration: TunnelConfiguration
  readonly credentials: TunnelCredentials
}

/**
 * The instance's bastion, or undefined when it connects directly. A bastion with no login in the
 * credential is `AuthFailed`: the person must store the SSH key or password.
 *
 * @since 0.1.0
 */
export const settingsOf = (
  configuration: { readonly ssh_tunnel?: TunnelConfiguration | undefined },
  credentials: { readonly ssh_credentials?: TunnelCredentials | undefined }
): Effect.Effect<Settings | undefined, DriverError.AuthFailed> => {
  const bastion = configuration.ssh_tunnel
  if (bastion === undefined) return Effect.succeed(undefined)
  const login = credentials.ssh_credentials
  return login === undefined
    ? Effect.fail(
        new DriverError.AuthFailed({
          kind: "invalid_credentials",
          detail: `the instance reaches its database through ssh://${bastion.host}:${bastion.port}, and the credential has no ssh_credentials (private_key or password)`
        })
      )
    : Effect.succeed({ configuration: bastion, credentials: login })
}

const sameSecret = (a: unknown, b: unknown) => (a === undefined || b === undefined ? a === b : Equal.equals(a, b))

/**
 * Whether two bastion configurations are the same (both none included).
 *
 * @since 0.1.0
 */
export const sameBastion = (a: TunnelConfiguration | undefined, b: TunnelConfiguration | undefined): boolean =>
  a === undefined || b === undefined
    ? a === b
    : a.host === b.host &&
      a.port === b.port &&
      a.username === b.username &&
      a.host_key_fingerprint === b.host_key_fingerprint

/**
 * Whether two credentials hold the same SSH login (both none included).
 *
 * @since 0.1.0
 */
export const sameLogin = (a: TunnelCredentials | undefined, b: TunnelCredentials | undefined): boolean =>
  a === undefined || b === undefined
    ? a === b
    : sameSecret(a.private_key, b.private_key) &&
      sameSecret(a.passphrase, b.passphrase) &&
      sameSecret(a.password, b.password)

/**
 * A tunnel of its own (the bastion checked with the egress policy, a new SSH login), connected,
 * closed with the scope.
 *
 * @since 0.1.0
 */
export const open = (
  egress: EgressPolicy.EgressPolicyShape,
  settings: Settings,
  readyTimeoutMillis: number
): Effect.Effect<SshTunnel.Tunnel, ConnectorDriver.DriverFailure, Scope.Scope> =>
  Effect.flatMap(EgressPolicy.approve(egress, settings.configuration.host), (approved) =>
    Effect.acquireRelease(
      Effect.sync(() =>
        SshTunnel.make({
          address: approved.address,
          configuration: settings.configuration,
          credentials: settings.credentials,
          readyTimeoutMillis
        })
      ),
      (tunnel) => tunnel.close
    ).pipe(Effect.tap((tunnel) => tunnel.connect))
  )
