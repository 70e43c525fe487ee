/**
 * The SSH tunnels of the database drivers: one tunnel per key (the drivers use an instance and a
 * credential scope), kept while the credential version, the bastion and the SSH login stay the
 * same. A new credential version replaces the key's tunnel even with the same login, as does a
 * changed bastion or login; the replaced tunnel closes once its streams end. The bastion's host
 * name is checked with the `EgressPolicy` when a tunnel is made, and the tunnel connects to the
 * approved address only.
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
   * The connected tunnel of `key` for this bastion, login and credential `version` (the version's
   * id; without one, tunnels are compared by bastion and login only): the current one, or a new one
   * replacing it.
   */
  readonly acquire: (
    key: string,
    configuration: TunnelConfiguration,
    credentials: TunnelCredentials,
    version?: string | undefined
  ) => Effect.Effect<SshTunnel.Tunnel, ConnectorDriver.DriverFailure>
  /** Forgets the tunnel of `key`, which closes once the streams still open through it have ended. */
  readonly release: (key: string) => Effect.Effect<void>
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
  readonly version: string | undefined
  readonly tunnel: SshTunnel.Tunnel
}

const fits = (
  entry: Entry,
  configuration: TunnelConfiguration,
  credentials: TunnelCredentials,
  version: string | undefined
) =>
  entry.version === version &&
  Bastion.sameBastion(entry.configuration, configuration) &&
  Bastion.sameLogin(entry.credentials, credentials)

/**
 * Tunnels on the given egress policy, closed by `closeAll` only (idle SSH connections close by
 * themselves and never keep the process alive). Prefer `make` or `layer`.
 *
 * @since 0.1.0
 */
export const unsafeMake = (egress: EgressPolicy.EgressPolicyShape, options: TunnelsOptions = {}): SshTunnelsShape => {
  const entries = new Map<string, Entry>()

  const entryFor = (
    key: string,
    configuration: TunnelConfiguration,
    credentials: TunnelCredentials,
    version: string | undefined
  ) =>
    Effect.suspend(() => {
      const existing = entries.get(key)
      if (existing !== undefined && fits(existing, configuration, credentials, version)) {
        return Effect.succeed(existing)
      }
      return Effect.flatMap(EgressPolicy.approve(egress, configuration.host), (approved) => {
        const replaced = entries.get(key)
        if (replaced !== undefined && fits(replaced, configuration, credentials, version)) {
          return Effect.succeed(replaced)
        }
        const entry: Entry = {
          configuration,
          credentials,
          version,
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
    acquire: Effect.fn("SshTunnels.acquire")(function* (key, configuration, credentials, version) {
      const entry = yield* entryFor(key, configuration, credentials, version)
      yield* entry.tunnel.connect
      return entry.tunnel
    }),
    release: (key) =>
      Effect.suspend(() => {
        const entry = entries.get(key)
        if (entry === undefined) return Effect.void
        entries.delete(key)
        return entry.tunnel.close
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

/**
 * The key of an instance's credential scope among the tunnels: what `acquire` and `release` take.
 *
 * @since 0.1.0
 */
export const scopeKey = (instanceId: string, scope: string): string => JSON.stringify([instanceId, scope])

/**
 * What a route is worked out from: the driver context of a database connector.
 *
 * @since 0.1.0
 */
export interface RouteTarget {
  readonly instance: { readonly id: string }
  readonly credential: { readonly id: string; readonly scope: string }
  readonly configuration: { readonly host: string; readonly ssh_tunnel?: TunnelConfiguration | undefined }
  readonly credentials: { readonly ssh_credentials?: TunnelCredentials | undefined }
}

/**
 * Where a database driver's connections go: the egress-approved address of the host, or the
 * configured host as the bastion resolves it, through `tunnel`.
 *
 * @since 0.1.0
 */
export interface Route {
  readonly address: string
  readonly tunnel: SshTunnel.Tunnel | undefined
  /** The bastion and login the tunnel was made with. */
  readonly settings: Bastion.Settings | undefined
}

const direct = (egress: EgressPolicy.EgressPolicyShape, target: RouteTarget) =>
  Effect.map(
    egress.check(target.configuration.host),
    (address): Route => ({ address, tunnel: undefined, settings: undefined })
  )

const through = (target: RouteTarget, tunnel: SshTunnel.Tunnel, settings: Bastion.Settings): Route => ({
  address: target.configuration.host,
  tunnel,
  settings
})

/**
 * The route of a pool: the approved address of the host, or the tunnel of the instance's credential
 * scope, kept for its credential version (the bastion checked when the tunnel is made).
 *
 * @since 0.1.0
 */
export const route = (
  tunnels: SshTunnelsShape,
  egress: EgressPolicy.EgressPolicyShape,
  target: RouteTarget
): Effect.Effect<Route, ConnectorDriver.DriverFailure> =>
  Effect.flatMap(Bastion.settingsOf(target.configuration, target.credentials), (settings) =>
    settings === undefined
      ? direct(egress, target)
      : Effect.map(
          tunnels.acquire(
            scopeKey(target.instance.id, target.credential.scope),
            settings.configuration,
            settings.credentials,
            target.credential.id
          ),
          (tunnel) => through(target, tunnel, settings)
        )
  )

/**
 * A route of its own (a connection test): behind a bastion, a new SSH login closed with the scope.
 *
 * @since 0.1.0
 */
export const freshRoute = (
  egress: EgressPolicy.EgressPolicyShape,
  target: RouteTarget,
  readyTimeoutMillis: number
): Effect.Effect<Route, ConnectorDriver.DriverFailure, Scope.Scope> =>
  Effect.flatMap(Bastion.settingsOf(target.configuration, target.credentials), (settings) =>
    settings === undefined
      ? direct(egress, target)
      : Effect.map(Bastion.open(egress, settings, readyTimeoutMillis), (tunnel) => through(target, tunnel, settings))
  )
