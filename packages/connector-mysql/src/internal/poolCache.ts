/**
 * The pool cache: one `mysql2` pool per instance and credential scope, made for one credential
 * version. A new version of the scope's credential, or a changed configuration, replaces the
 * scope's pool; credentials of other scopes (an organization's and a person's own login) get pools
 * of their own, at most `poolsPerInstance` per instance, the least recently used retired first. A
 * retired pool takes no new work and is ended once its last checked-out connection comes back
 * (mysql2's `end` would cut running queries and streams). The host is checked with the
 * `EgressPolicy` before a pool is made and again every `recheckMillis`. An instance behind an SSH
 * bastion gets the bastion checked instead (by `SshTunnels`), and each pool connects through a
 * tunnel of the same instance, scope and credential version: a new version gets a new tunnel, even
 * with the same SSH login, and the replaced one closes once its connections have ended.
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

/** Where the connections of a pool go, and how to dial them there. */
interface Route extends SshTunnels.Route {
  readonly dial: Dialer
}

interface Entry {
  /** The credential scope's key, and the id of the version the pool was made for. */
  readonly scope: string
  readonly credentialId: string
  /** The connection settings the pool was made with. */
  readonly settings: string
  readonly credentials: Credentials
  readonly address: string
  readonly tunnel: SshTunnel.Tunnel | undefined
  readonly checkedAt: number
  readonly options: mysql.ConnectionOptions
  readonly pool: mysql.Pool
  /** Checked-out connections, and whether the pool is retired (ended when the last one comes back). */
  readonly usage: { out: number; retired: boolean }
}

/** The most pools one instance keeps (one per credential scope in use). */
export const poolsPerInstance = 4

/** The SSH tunnel of an instance's credential scope. */

const settingsOf = ({ configuration, credentials }: DriverContext): string =>
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
  /** The pools of each instance, the least recently used first. */
  const entries = new Map<string, Array<Entry>>()
  const tunnels = SshTunnels.unsafeMake(egress, {
    readyTimeoutMillis: connectTimeoutMillis,
    idleMillis: options.tunnelIdleMillis
  })

  /** The route with its dialer: to the approved address, or through the tunnel. */
  const dialed =
    (context: DriverContext) =>
    (route: SshTunnels.Route): Route => ({
      ...route,
      dial:
        route.tunnel === undefined
          ? directDialer(route.address, context.configuration.port)
          : Tunnel.dialer(route.tunnel, context.configuration.host, context.configuration.port)
    })

  /** The approved address of the host, or the tunnel of the instance's credential scope. */
  const route = (context: DriverContext): Effect.Effect<Route, ConnectorDriver.DriverFailure> =>
    Effect.map(SshTunnels.route(tunnels, egress, context), dialed(context))

  /** Where a fresh connection goes: a new SSH login of its own behind a bastion, closed with the scope. */
  const freshRoute = (context: DriverContext): Effect.Effect<Route, ConnectorDriver.DriverFailure, Scope.Scope> =>
    Effect.map(SshTunnels.freshRoute(egress, context, connectTimeoutMillis), dialed(context))

  /** Retired pools some connection of which is still checked out (`closeAll` ends them too). */
  const retiring = new Set<mysql.Pool>()

  /** Takes no new work on the pool and ends it once no connection of it is checked out. */
  const retire = (entry: Entry) => {
    entry.usage.retired = true
    if (entry.usage.out === 0) entry.pool.end(ignore)
    else retiring.add(entry.pool)
  }

  /** A checkout of the entry's pool ended: a retired pool ends with its last one. */
  const settle = (entry: Entry) => {
    entry.usage.out -= 1
    if (entry.usage.retired && entry.usage.out === 0 && retiring.delete(entry.pool)) entry.pool.end(ignore)
  }

  /** Puts `entry` last (most recently used) in the instance's list, in place of `replaced` when given. */
  const touch = (id: string, entry: Entry, replaced: Entry | undefined = entry) => {
    const existing = entries.get(id)
    if (existing !== undefined && existing[existing.length - 1] === entry) return existing
    const list = (existing ?? []).filter((other) => other !== replaced)
    list.push(entry)
    entries.set(id, list)
    return list
  }

  /** Whether the entry was made for this credential version, these settings and these secrets. */
  const fits = (entry: Entry, context: DriverContext, settings: string) =>
    entry.credentialId === context.credential.id &&
    entry.settings === settings &&
    sameSecrets(entry.credentials, context.credentials)

  const entryFor = (context: DriverContext): Effect.Effect<Entry, ConnectorDriver.DriverFailure> =>
    Effect.suspend(() => {
      const id = context.instance.id
      const scope = context.credential.scope
      const settings = settingsOf(context)
      const current = entries.get(id)?.find((entry) => entry.scope === scope)
      if (current !== undefined && fits(current, context, settings) && Date.now() - current.checkedAt < recheckMillis) {
        touch(id, current)
        return Effect.succeed(current)
      }
      return Effect.flatMap(route(context), (route) => {
        const latest = entries.get(id)?.find((entry) => entry.scope === scope)
        if (
          latest !== undefined &&
          latest.address === route.address &&
          latest.tunnel === route.tunnel &&
          fits(latest, context, settings)
        ) {
          const renewed = { ...latest, checkedAt: Date.now() }
          touch(id, renewed, latest)
          return Effect.succeed(renewed)
        }
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
          scope,
          credentialId: context.credential.id,
          settings,
          credentials: context.credentials,
          address: route.address,
          tunnel: route.tunnel,
          checkedAt: Date.now(),
          options: connection,
          pool,
          usage: { out: 0, retired: false }
        }
        const list = touch(id, entry, latest)
        const evicted = list.splice(0, Math.max(0, list.length - poolsPerInstance))
        if (latest !== undefined) retire(latest)
        for (const old of evicted) retire(old)
        // A replaced pool's tunnel was replaced by `route` (same key) unless none is needed now.
        const released = [
          ...(latest?.tunnel !== undefined && route.tunnel === undefined ? [latest] : []),
          ...evicted.filter((old) => old.tunnel !== undefined)
        ].map((old) => tunnels.release(SshTunnels.scopeKey(id, old.scope)))
        return Effect.as(Effect.all(released, { discard: true }), entry)
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
        Effect.suspend(() => {
          entry.usage.out += 1
          return checkout(entry, context)
        }).pipe(
          Effect.tapErrorCause(() => Effect.sync(() => settle(entry))),
          Effect.map((client) => ({
            client,
            ...wrap(client, targetOf(context.configuration), killWith(entry.options), context.credentials)
          }))
        ),
        ({ client, health }) =>
          Effect.sync(() => {
            if (health.broken) client.destroy()
            else client.release()
            settle(entry)
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
    size: Effect.sync(() => {
      let pools = 0
      for (const list of entries.values()) pools += list.length
      return pools
    }),
    closeAll: Effect.zipRight(
      Effect.async<void>((resume) => {
        const pools = [...entries.values()].flatMap((list) => list.map((entry) => entry.pool)).concat([...retiring])
        entries.clear()
        retiring.clear()
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
