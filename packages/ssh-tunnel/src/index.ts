/**
 * SSH tunnels for database drivers.
 *
 * @since 0.1.0
 */
export * as Bastion from "./Bastion.js"
export * as SshTunnel from "./SshTunnel.js"
export * as SshTunnels from "./SshTunnels.js"
export * as TunnelConfiguration from "./TunnelConfiguration.js"
