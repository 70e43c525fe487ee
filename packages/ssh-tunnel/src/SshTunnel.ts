/**
 * One SSH tunnel: an SSH connection to a bastion, at an address the egress policy approved, whose
 * host key must have the configured fingerprint (an unknown or changed key is refused, never
 * trusted on first use), logged in with the private key or the password of the credential. It
 * forwards streams to hosts behind the bastion (`forwardOut`), connects again when a stream is
 * asked for after its connection closed, and closes its connection when no stream has been open
 * for `idleMillis`.
 *
 * @since 0.1.0
 */

import { createHash } from "node:crypto"
import type { Duplex } from "node:stream"
import { DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { Client, type ClientChannel, type ConnectConfig } from "ssh2"
import { ForwardedSocket } from "./internal/forwardedSocket.js"
import type { TunnelConfiguration, TunnelCredentials } from "./TunnelConfiguration.js"

/**
 * What a tunnel is made of.
 *
 * @since 0.1.0
 */
export interface TunnelOptions {
  /** The bastion's address, as the egress policy approved it: the tunnel never resolves the name. */
  readonly address: string
  readonly configuration: TunnelConfiguration
  readonly credentials: TunnelCredentials
  /** How long connecting (TCP, key exchange, login) may take. Default 10 s. */
  readonly readyTimeoutMillis?: number | undefined
  /** How long the SSH connection stays open with no forwarded stream. Default 30 s. */
  readonly idleMillis?: number | undefined
}

/**
 * A socket-like stream through the tunnel for drivers that take one (pg's `stream`): its channel
 * opens when the driver calls `connect`.
 *
 * @since 0.1.0
 */
export type TunnelSocket = Duplex & {
  connect(...args: ReadonlyArray<unknown>): TunnelSocket
  setNoDelay(): TunnelSocket
  setKeepAlive(): TunnelSocket
  ref(): TunnelSocket
  unref(): TunnelSocket
}

/**
 * A tunnel through one bastion.
 *
 * @since 0.1.0
 */
export interface Tunnel {
  /** `ssh://user@host:port`, named in errors. */
  readonly target: string
  /** Connects and logs in unless connected already. */
  readonly connect: Effect.Effect<void, DriverError.DriverError>
  /** A stream to `host:port` as seen from the bastion. */
  readonly forward: (host: string, port: number) => Effect.Effect<Duplex, DriverError.DriverError>
  /** A socket-like stream to `host:port` as seen from the bastion, opened on `connect`. */
  readonly socket: (host: string, port: number) => TunnelSocket
  /** SSH connections made so far. */
  readonly connections: () => number
  /** Forwarded streams open now. */
  readonly openStreams: () => number
  /** Closes the SSH connection once its forwarded streams have ended; the tunnel forwards nothing more. */
  readonly close: Effect.Effect<void>
}

/**
 * The fingerprint of an SSH public key blob as `ssh-keygen -lf` prints it.
 *
 * @since 0.1.0
 */
export const fingerprintOf = (key: Uint8Array): string =>
  `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`

const sameFingerprint = (a: string, b: string) => a.replace(/=+$/, "") === b.replace(/=+$/, "")

type Callback<A> = (error: DriverError.DriverError | undefined, value?: A) => void

/**
 * A tunnel; nothing connects before a stream is asked for or `connect` runs.
 *
 * @since 0.1.0
 */
export const make = (options: TunnelOptions): Tunnel => {
  const { address, configuration, credentials } = options
  const readyTimeoutMillis = options.readyTimeoutMillis ?? 10_000
  const idleMillis = options.idleMillis ?? 30_000
  const target = `ssh://${configuration.username}@${configuration.host}:${configuration.port}`
  const method = credentials.private_key !== undefined ? "private key" : "password"

  let current: Client | undefined
  let ready = false
  let waiters: Array<Callback<Client>> = []
  let connections = 0
  let streams = 0
  let closed = false
  let idleTimer: ReturnType<typeof setTimeout> | undefined

  const flush = (error: DriverError.DriverError | undefined, client?: Client) => {
    const waiting = waiters
    waiters = []
    for (const waiter of waiting) waiter(error, client)
  }

  const toError = (cause: unknown, refusedKey: string | undefined): DriverError.DriverError => {
    if (refusedKey !== undefined) {
      return new DriverError.RequestRejected({
        target,
        detail: `the bastion's host key ${refusedKey} is not the expected ${configuration.host_key_fingerprint}; refused`
      })
    }
    const level = typeof cause === "object" && cause !== null ? (cause as { level?: unknown }).level : undefined
    const code = typeof cause === "object" && cause !== null ? (cause as { code?: unknown }).code : undefined
    const message = cause instanceof Error ? cause.message : String(cause)
    if (level === "client-authentication") {
      return new DriverError.AuthFailed({
        kind: "invalid_credentials",
        detail: `the bastion ${target} refused the ${method} of ${configuration.username}`
      })
    }
    if (level === "client-timeout") return new DriverError.TimedOut({ target, afterMillis: readyTimeoutMillis })
    return new DriverError.Unreachable({ target, detail: typeof code === "string" ? code : message })
  }

  const drop = (client: Client) => {
    if (current !== client) return
    current = undefined
    ready = false
    if (idleTimer !== undefined) clearTimeout(idleTimer)
    idleTimer = undefined
  }

  const whenIdle = () => {
    if (streams > 0 || current === undefined) return
    if (closed) {
      current.end()
      return
    }
    if (idleTimer !== undefined) clearTimeout(idleTimer)
    const client = current
    idleTimer = setTimeout(() => {
      if (current !== client || streams > 0) return
      // Forgotten before it ends: a stream asked for from now on gets a new connection.
      drop(client)
      client.end()
    }, idleMillis)
    idleTimer.unref()
  }

  const start = () => {
    const client = new Client()
    current = client
    connections++
    let refusedKey: string | undefined
    let failure: DriverError.DriverError | undefined
    client.on("ready", () => {
      if (current !== client) return client.end()
      ready = true
      flush(undefined, client)
      whenIdle()
    })
    client.on("error", (cause: unknown) => {
      failure ??= toError(cause, refusedKey)
      if (current === client && !ready) {
        drop(client)
        flush(failure)
      }
    })
    client.on("close", () => {
      const wasCurrent = current === client
      drop(client)
      if (wasCurrent && waiters.length > 0) {
        flush(failure ?? new DriverError.Unreachable({ target, detail: "the bastion closed the connection" }))
      }
    })
    const config: ConnectConfig = {
      host: address,
      port: configuration.port,
      username: configuration.username,
      readyTimeout: readyTimeoutMillis,
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer) => {
        const seen = fingerprintOf(key)
        if (sameFingerprint(seen, configuration.host_key_fingerprint)) return true
        refusedKey = seen
        return false
      },
      ...(credentials.private_key !== undefined
        ? {
            privateKey: Redacted.value(credentials.private_key),
            ...(credentials.passphrase !== undefined ? { passphrase: Redacted.value(credentials.passphrase) } : {})
          }
        : {}),
      ...(credentials.password !== undefined ? { password: Redacted.value(credentials.password) } : {})
    }
    try {
      client.connect(config)
    } catch (thrown) {
      // ssh2 reads the private key before connecting: an unreadable key or a wrong passphrase.
      drop(client)
      const reason = thrown instanceof Error ? thrown.message : "unreadable"
      flush(
        new DriverError.AuthFailed({
          kind: "invalid_credentials",
          detail: `the ssh private key cannot be used: ${reason.replace(/^Cannot parse privateKey: /, "")}`
        })
      )
    }
  }

  const withClient = (callback: Callback<Client>) => {
    if (closed) return callback(new DriverError.Unreachable({ target, detail: "the tunnel was closed" }))
    if (current !== undefined && ready) return callback(undefined, current)
    waiters.push(callback)
    if (current === undefined) start()
  }

  const open = (host: string, port: number, callback: Callback<ClientChannel>) =>
    withClient((error, client) => {
      if (error !== undefined || client === undefined) return callback(error)
      if (idleTimer !== undefined) clearTimeout(idleTimer)
      idleTimer = undefined
      streams++
      let counted = true
      const release = () => {
        if (!counted) return
        counted = false
        streams--
        whenIdle()
      }
      client.forwardOut("127.0.0.1", 0, host, port, (cause, channel) => {
        if (cause) {
          release()
          return callback(
            new DriverError.Unreachable({
              target: `${host}:${port} through ${target}`,
              detail: cause.message
            })
          )
        }
        channel.once("close", release)
        callback(undefined, channel)
      })
    })

  return {
    target,
    connect: Effect.async<void, DriverError.DriverError>((resume) => {
      withClient((error) => resume(error === undefined ? Effect.void : Effect.fail(error)))
    }),
    forward: (host, port) =>
      Effect.async<Duplex, DriverError.DriverError>((resume) => {
        let wanted = true
        open(host, port, (error, channel) => {
          if (!wanted) return channel?.destroy()
          resume(
            channel !== undefined
              ? Effect.succeed(channel)
              : Effect.fail(error ?? new DriverError.Unreachable({ target, detail: "no channel was opened" }))
          )
        })
        return Effect.sync(() => {
          wanted = false
        })
      }),
    socket: (host, port) => new ForwardedSocket((callback) => open(host, port, callback)) as unknown as TunnelSocket,
    connections: () => connections,
    openStreams: () => streams,
    close: Effect.sync(() => {
      closed = true
      flush(new DriverError.Unreachable({ target, detail: "the tunnel was closed" }))
      whenIdle()
    })
  }
}
