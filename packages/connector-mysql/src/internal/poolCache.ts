/**
 * The pool cache: one `mysql2` pool per instance, keyed by its configuration and credentials. A
 * new credential version or a changed configuration replaces the pool (the old one is ended); the
 * host is checked with the `EgressPolicy` before a pool is made and again every `recheckMillis`.
 * An instance behind an SSH bastion gets the bastion checked instead (by `SshTunnels`), and its
 * pool connects through a tunnel of its own (keyed like the pool): a credential version with
 * another SSH login replaces the tunnel with the pool, and the old one closes once its connections
 * have ended (one that changes only the database password keeps the tunnel).
 */
import type { ConnectorDriver, DriverError, EgressPolicy } from "@patchbay/core"
import { Bastion, type SshTunnel, SshTunnels } from "@patchbay/ssh-tunnel"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import mysql from "mysql2"
import type { Credentials } from "../MysqlDescriptor.js"
import type { DriverContext, MysqlPoolsShape, PoolOptions } from "../MysqlPools.js"
import {
  connectionOptions,
  type Dialer,
  direct as directDialer,
  ignore,
  killWith,
  targetOf,
  wrap
} from "./connection.js"
import { toDriverError } from "./errors.js"
import * as Tunnel from "./tunnel.js"

/** Where the connections of a pool go: an approved address, or the host through a tunnel. */
interface Route {
  /** The approved address, or the configured host as the bastion resolves it. */
  readonly address: string
  readonly tunnel: SshTunnel.Tunnel | undefined
  readonly dial: Dialer
}

interface Entry {
  readonly id: string
  readonly credentials: Credentials
  readonly address: string
  readonly tunnel: SshTunnel.Tunnel | undefined
  readonly checkedAt: number
  readonly options: mysql.ConnectionOptions
  readonly pool: mysql.Pool
}

const idOf = ({ configuration, credentials }: DriverContext): string =>
  JSON.stringify([
    configuration.host,
    configuration.port,
    configuration.database,
    configuration.ssl_mode,
    configuration.ssl_root_cert ?? null,
    configuration.read_only,
    credentials.username,
    credentials.ssl_cert ?? null,
    configuration.ssh_tunnel ?? null
  ])

const sameSecret = (a: Redacted.Redacted<string> | undefined, b: Redacted.Redacted<string> | undefined) =>
  a === undefined || b === undefined ? a === b : Equal.equals(a, b)

/** The secrets of a credential version are those the pool was made with. */
const sameSecrets = (a: Credentials, b: Credentials) =>
  sameSecret(a.password, b.password) &&
  sameSecret(a.ssl_key, b.ssl_key) &&
  Bastion.sameLogin(a.ssh_credentials, b.ssh_credentials)

/** The pools of every instance. */
export const make = (egress: EgressPolicy.EgressPolicyShape, options: PoolOptions = {}): MysqlPoolsShape => {
  const maxConnections = options.maxConnections ?? 10
  const idleTimeoutMillis = options.idleTimeoutMillis ?? 30_000
  const connectTimeoutMillis = options.connectTimeoutMillis ?? 10_000
  const recheckMillis = options.recheckMillis ?? 60_000
  const entries = new Map<string, Entry>()
  const tunnels = SshTunnels.unsafeMake(egress, {
    readyTimeoutMillis: connectTimeoutMillis,
    idleMillis: options.tunnelIdleMillis
  })

  const direct = (context: DriverContext): Effect.Effect<Route, ConnectorDriver.DriverFailure> =>
    Effect.map(egress.check(context.configuration.host), (address) => ({
      address,
      tunnel: undefined,
      dial: directDialer(address, context.configuration.port)
    }))

  const through = (tunnel: SshTunnel.Tunnel, context: DriverContext): Route => ({
    address: context.configuration.host,
    tunnel,
    dial: Tunnel.dialer(tunnel, context.configuration.host, context.configuration.port)
  })

  /** The approved address of the host, or the pool's tunnel (its bastion checked when the tunnel is made). */
  const route = (id: string, context: DriverContext): Effect.Effect<Route, ConnectorDriver.DriverFailure> =>
    Effect.flatMap(Bastion.settingsOf(context.configuration, context.credentials), (settings) =>
      settings === undefined
        ? direct(context)
        : Effect.map(tunnels.acquire(id, settings.configuration, settings.credentials), (tunnel) =>
            through(tunnel, context)
          )
    )

  /** Where a fresh connection goes: a new SSH login of its own behind a bastion, closed with the scope. */
  const freshRoute = (context: DriverContext): Effect.Effect<Route, ConnectorDriver.DriverFailure, Scope.Scope> =>
    Effect.flatMap(Bastion.settingsOf(context.configuration, context.credentials), (settings) =>
      settings === undefined
        ? direct(context)
        : Effect.map(Bastion.open(egress, settings, connectTimeoutMillis), (tunnel) => through(tunnel, context))
    )

  const entryFor = (context: DriverContext): Effect.Effect<Entry, ConnectorDriver.DriverFailure> =>
    Effect.suspend(() => {
      const id = idOf(context)
      const current = entries.get(id)
      const now = Date.now()
      if (
        current !== undefined &&
        sameSecrets(current.credentials, context.credentials) &&
        now - current.checkedAt < recheckMillis
      ) {
        return Effect.succeed(current)
      }
      return Effect.map(route(id, context), (route) => {
        const latest = entries.get(id)
        if (
          latest !== undefined &&
          latest.address === route.address &&
          latest.tunnel === route.tunnel &&
          sameSecrets(latest.credentials, context.credentials)
        ) {
          const renewed = { ...latest, checkedAt: Date.now() }
          entries.set(id, renewed)
          return renewed
        }
        if (latest !== undefined) latest.pool.end(ignore)
        const connection = connectionOptions(context, route.dial, connectTimeoutMillis)
        const pool = mysql.createPool({
          ...connection,
          connectionLimit: maxConnections,
          maxIdle: maxConnections,
          idleTimeout: idleTimeoutMillis,
          queueLimit: 0
        })
        pool.on("connection", (c) => c.on("error", ignore))
        const entry: Entry = {
          id,
          credentials: context.credentials,
          address: route.address,
          tunnel: route.tunnel,
          checkedAt: Date.now(),
          options: connection,
          pool
        }
        entries.set(id, entry)
        return entry
      })
    })

  const errorContext = (context: DriverContext) => ({
    target: targetOf(context.configuration),
    timeoutMillis: connectTimeoutMillis,
    credentials: context.credentials
  })

  const checkout = (entry: Entry, context: DriverContext) =>
    Effect.async<mysql.PoolConnection, DriverError.DriverError>((resume) => {
      let interrupted = false
      entry.pool.getConnection((error, connection) => {
        if (interrupted) {
          if (connection) connection.release()
          return
        }
        if (error) return resume(Effect.fail(toDriverError(error, errorContext(context))))
        resume(Effect.succeed(connection))
      })
      return Effect.sync(() => {
        interrupted = true
      })
    })

  const connect = (options: mysql.ConnectionOptions, context: DriverContext) =>
    Effect.async<mysql.Connection, DriverError.DriverError>((resume) => {
      const connection = mysql.createConnection(options)
      connection.on("error", ignore)
      connection.connect((error) => {
        if (error) {
          connection.destroy()
          return resume(Effect.fail(toDriverError(error, errorContext(context))))
        }
        resume(Effect.succeed(connection))
      })
      return Effect.sync(() => connection.destroy())
    })

  const connection: MysqlPoolsShape["connection"] = (context) =>
    Effect.flatMap(entryFor(context), (entry) =>
      Effect.acquireRelease(
        Effect.map(checkout(entry, context), (client) => ({
          client,
          ...wrap(client, targetOf(context.configuration), killWith(entry.options), context.credentials)
        })),
        ({ client, health }) =>
          Effect.sync(() => {
            if (health.broken) client.destroy()
            else client.release()
          })
      )
    ).pipe(Effect.map(({ connection }) => connection))

  const withConnection: MysqlPoolsShape["withConnection"] = (context, use) =>
    Effect.scoped(Effect.flatMap(connection(context), use))

  const withNewConnection: MysqlPoolsShape["withNewConnection"] = (context, use) =>
    Effect.scoped(
      Effect.flatMap(freshRoute(context), (route) => {
        const options = connectionOptions(context, route.dial, connectTimeoutMillis)
        return Effect.acquireUseRelease(
          connect(options, context),
          (client) =>
            use(wrap(client, targetOf(context.configuration), killWith(options), context.credentials).connection),
          (client) => Effect.sync(() => client.end(ignore))
        )
      })
    )

  return {
    connection,
    withConnection,
    withNewConnection,
    size: Effect.sync(() => entries.size),
    closeAll: Effect.zipRight(
      Effect.async<void>((resume) => {
        const pools = [...entries.values()].map((e) => e.pool)
        entries.clear()
        let left = pools.length
        if (left === 0) return resume(Effect.void)
        for (const pool of pools) {
          pool.end(() => {
            left -= 1
            if (left === 0) resume(Effect.void)
          })
        }
      }),
      tunnels.closeAll
    )
  }
}
