/**
 * The SSH bastion of an instance configured with `ssh_tunnel`: its settings (the bastion from the
 * configuration, the login from the credential's `ssh_credentials`), whether two contexts use the
 * same ones (a pool is kept only while they stay equal), and a one-off tunnel for a connection test.
 */
import { type ConnectorDriver, DriverError, EgressPolicy } from "@patchbay/core"
import { SshTunnel, type TunnelConfiguration } from "@patchbay/ssh-tunnel"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import type * as Scope from "effect/Scope"
import type { DriverContext } from "../PostgresPools.js"

/** The bastion and its login. */
export interface Settings {
  readonly configuration: TunnelConfiguration.TunnelConfiguration
  readonly credentials: TunnelConfiguration.TunnelCredentials
}

/**
 * The tunnel settings of the instance, or undefined when it connects directly. A bastion without a
 * login in the credential is `AuthFailed`: the person must store the SSH key or password.
 */
export const settingsOf = (context: DriverContext): Effect.Effect<Settings | undefined, DriverError.AuthFailed> => {
  const configuration = context.configuration.ssh_tunnel
  if (configuration === undefined) return Effect.succeed(undefined)
  const credentials = context.credentials.ssh_credentials
  if (credentials === undefined) {
    return Effect.fail(
      new DriverError.AuthFailed({
        kind: "invalid_credentials",
        detail: `the instance reaches its database through ssh://${configuration.host}:${configuration.port}, and the credential has no ssh_credentials (private_key or password)`
      })
    )
  }
  return Effect.succeed({ configuration, credentials })
}

const sameSecret = (a: unknown, b: unknown) => (a === undefined ? b === undefined : Equal.equals(a, b))

/** Whether the instance uses the same bastion and login as `settings` (both undefined: no tunnel). */
export const sameSettings = (
  settings: Settings | undefined,
  { configuration: { ssh_tunnel: configuration }, credentials: { ssh_credentials: credentials } }: DriverContext
): boolean => {
  if (settings === undefined) return configuration === undefined
  return (
    configuration !== undefined &&
    credentials !== undefined &&
    settings.configuration.host === configuration.host &&
    settings.configuration.port === configuration.port &&
    settings.configuration.username === configuration.username &&
    settings.configuration.host_key_fingerprint === configuration.host_key_fingerprint &&
    sameSecret(settings.credentials.private_key, credentials.private_key) &&
    sameSecret(settings.credentials.passphrase, credentials.passphrase) &&
    sameSecret(settings.credentials.password, credentials.password)
  )
}

/**
 * A tunnel of its own for one connection test (the bastion checked with the egress policy, a new
 * SSH login), closed with the scope.
 */
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
    ).pipe(Effect.tap((tunnel) => tunnel.connect))
  )
