/**
 * The SSH tunnels of the database drivers: one tunnel per key (an instance, or a driver's pool),
 * kept while its bastion and SSH login stay the same, compared by value (a credential version with
 * another login or a changed bastion replaces it, the old one closing once its streams end). The bastion's host name is checked with the `EgressPolicy`
 * when a tunnel is made, and the tunnel connects to the approved address only.
 *
 * @since 0.1.0
 */
import { type ConnectorDriver, EgressPolicy } from "@patchbay/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Bastion from "./Bastion.js"
import * as SshTunnel from "./SshTunnel.js"
import type { TunnelConfiguration, TunnelCredentials } from "./TunnelConfiguration.js"

/**
 * Limits of the tunnels.
 *
 * @since 0.1.0
 */
export interface TunnelsOptions {
  /** How long connecting to a bastion (TCP, key exchange, login) may take. Default 10 s. */
  readonly readyTimeoutMillis?: number | undefined
  /** How long an SSH connection stays open with no forwarded stream. Default 30 s. */
  readonly idleMillis?: number | undefined
}

/**
 * @since 0.1.0
 */
export interface SshTunnelsShape {
  /**
   * The connected tunnel of the instance `key` for this bastion and credential: the current one,
   * or a new one replacing it.
   */
  readonly acquire: (
    key: string,
    configuration: TunnelConfiguration,
    credentials: TunnelCredentials
  ) => Effect.Effect<SshTunnel.Tunnel, ConnectorDriver.DriverFailure>
  /** The number of tunnels kept. */
  readonly size: Effect.Effect<number>
  /** Closes every tunnel. */
  readonly closeAll: Effect.Effect<void>
}

/**
 * The tunnels of the database drivers.
 *
 * @since 0.1.0
 */
export class SshTunnels extends Context.Tag("@patchbay/ssh-tunnel/SshTunnels")<SshTunnels, SshTunnelsShape>() {}

interface Entry {
  readonly configuration: TunnelConfiguration
  readonly credentials: TunnelCredentials
  readonly tunnel: SshTunnel.Tunnel
}

const fits = (entry: Entry, configuration: TunnelConfiguration, credentials: TunnelCredentials) =>
  Bastion.sameBastion(entry.configuration, configuration) && Bastion.sameLogin(entry.credentials, credentials)

/**
 * Tunnels on the given egress policy, closed by `closeAll` only (idle SSH connections close by
 * themselves and never keep the process alive). Prefer `make` or `layer`.
 *
 * @since 0.1.0
 */
export const unsafeMake = (egress: EgressPolicy.EgressPolicyShape, options: TunnelsOptions = {}): SshTunnelsShape => {
  const entries = new Map<string, Entry>()

  const entryFor = (key: string, configuration: TunnelConfiguration, credentials: TunnelCredentials) =>
    Effect.suspend(() => {
      const existing = entries.get(key)
      if (existing !== undefined && fits(existing, configuration, credentials)) return Effect.succeed(existing)
      return Effect.flatMap(EgressPolicy.approve(egress, configuration.host), (approved) => {
        const replaced = entries.get(key)
        if (replaced !== undefined && fits(replaced, configuration, credentials)) return Effect.succeed(replaced)
        const entry: Entry = {
          configuration,
          credentials,
          tunnel: SshTunnel.make({
            address: approved.address,
            configuration,
            credentials,
            readyTimeoutMillis: options.readyTimeoutMillis,
            idleMillis: options.idleMillis
          })
        }
        entries.set(key, entry)
        // The replaced tunnel closes once the streams still open through it have ended.
        return replaced === undefined ? Effect.succeed(entry) : Effect.as(replaced.tunnel.close, entry)
      })
    })

  return {
    acquire: Effect.fn("SshTunnels.acquire")(function* (key, configuration, credentials) {
      const entry = yield* entryFor(key, configuration, credentials)
      yield* entry.tunnel.connect
      return entry.tunnel
    }),
    size: Effect.sync(() => entries.size),
    closeAll: Effect.suspend(() => {
      const tunnels = [...entries.values()].map((entry) => entry.tunnel)
      entries.clear()
      return Effect.forEach(tunnels, (tunnel) => tunnel.close, { discard: true })
    })
  }
}

/**
 * Tunnels on the `EgressPolicy` of the context, closed with the scope.
 *
 * @since 0.1.0
 */
export const make = (
  options: TunnelsOptions = {}
): Effect.Effect<SshTunnelsShape, never, EgressPolicy.EgressPolicy | Scope.Scope> =>
  Effect.acquireRelease(
    Effect.map(EgressPolicy.EgressPolicy, (egress) => unsafeMake(egress, options)),
    (tunnels) => tunnels.closeAll
  )

/**
 * Tunnels on the `EgressPolicy` of the context, all closed when the layer is released.
 *
 * @since 0.1.0
 */
export const layer = (options: TunnelsOptions = {}): Layer.Layer<SshTunnels, never, EgressPolicy.EgressPolicy> =>
  Layer.scoped(SshTunnels, make(options))
