/**
 * The SSH bastion of an instance configured with `ssh_tunnel`: the bastion (configuration) with its
 * login (the credential's `ssh_credentials`), the dialer that opens a connection's stream through a
 * tunnel, and a tunnel of its own for a connection test.
 */
import { type ConnectorDriver, DriverError, EgressPolicy } from "@patchbay/core"
import { SshTunnel, type TunnelConfiguration } from "@patchbay/ssh-tunnel"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import type * as Scope from "effect/Scope"
import type { DriverContext } from "../MysqlPools.js"
import type { Dialer } from "./connection.js"

/** A bastion and the login it takes. */
export interface Settings {
  readonly configuration: TunnelConfiguration.TunnelConfiguration
  readonly credentials: TunnelConfiguration.TunnelCredentials
}

/**
 * The instance's bastion, or undefined when it connects directly. A bastion with no login in the
 * credential is `AuthFailed`: the person must store the SSH key or password.
 */
export const settingsOf = (context: DriverContext): Effect.Effect<Settings | undefined, DriverError.AuthFailed> => {
  const configuration = context.configuration.ssh_tunnel
  if (configuration === undefined) return Effect.succeed(undefined)
  const credentials = context.credentials.ssh_credentials
  return credentials === undefined
    ? Effect.fail(
        new DriverError.AuthFailed({
          kind: "invalid_credentials",
          detail: `the instance reaches its database through ssh://${configuration.host}:${configuration.port}, and the credential has no ssh_credentials (private_key or password)`
        })
      )
    : Effect.succeed({ configuration, credentials })
}

const sameSecret = (a: unknown, b: unknown) => (a === undefined || b === undefined ? a === b : Equal.equals(a, b))

/** Whether two credentials hold the same SSH login (both none included). */
export const sameLogin = (
  a: TunnelConfiguration.TunnelCredentials | undefined,
  b: TunnelConfiguration.TunnelCredentials | undefined
): boolean =>
  a === undefined || b === undefined
    ? a === b
    : sameSecret(a.private_key, b.private_key) &&
      sameSecret(a.passphrase, b.passphrase) &&
      sameSecret(a.password, b.password)

/** Opens each connection's stream as a channel through `tunnel` to `host:port`, resolved by the bastion. */
export const dialer =
  (tunnel: SshTunnel.Tunnel, host: string, port: number): Dialer =>
  () =>
    tunnel.socket(host, port).connect()

/** A tunnel of its own (the bastion checked with the egress policy, a new login), closed with the scope. */
export const fresh = (
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
    )
  ).pipe(Effect.tap((tunnel) => tunnel.connect))
