/**
 * The dialer that opens a MySQL connection's stream through an instance's SSH tunnel (the bastion's
 * settings and one-off tunnels are `@patchbay/ssh-tunnel`'s `Bastion`).
 */
import type { SshTunnel } from "@patchbay/ssh-tunnel"
import type { Dialer } from "./connection.js"

/** Opens each connection's stream as a channel through `tunnel` to `host:port`, resolved by the bastion. */
export const dialer =
  (tunnel: SshTunnel.Tunnel, host: string, port: number): Dialer =>
  () =>
    tunnel.socket(host, port).connect()
