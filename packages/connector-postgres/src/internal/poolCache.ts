/**
 * The pool cache: one `pg` pool per instance and credential scope, made for one credential
 * version. A new version of the scope's credential, or a changed configuration, replaces the
 * scope's pool (the old one is closed once its clients come back); credentials of other scopes
 * (an organization's and a person's own login) get pools of their own, at most
 * `poolsPerInstance` per instance, the least recently used closed first (once its clients come
 * back). The host is checked with the `EgressPolicy` before a pool is made and again every
 * `recheckMillis`, and the pool connects to the address the policy returned, never to the name
 * again; unused pools are closed after `poolIdleMillis`. An instance behind an SSH bastion gets
 * the bastion checked instead (by `SshTunnels`), and each pool connects through a tunnel of the
 * same instance, scope and credential version: a new version gets a new tunnel, even with the same
 * SSH login, and the replaced one closes once its streams end.
 */
import type { ConnectorDriver, DriverError, EgressPolicy } from "@patchbay/core"
import { Bastion, type SshTunnel, SshTunnels } from "@patchbay/ssh-tunnel"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import pg from "pg"
import type { DriverContext, PoolOptions } from "../PostgresPools.js"
import { clientConfig, ignore, refusedTls, targetOf } from "./connection.js"
import { toDriverError } from "./errors.js"
import * as Tunnel from "./tunnel.js"

/** What a pool is made for: the connection's configuration and user (the password is compared apart). */
interface Key {
  readonly host: string
  readonly port: number
  readonly database: string
  readonly sslMode: string
  readonly sslRootCert: string | undefined
  readonly sslCert: string | undefined
  readonly readOnly: boolean
  readonly username: string
}

/** The pool of one instance and credential scope. */
export interface Entry {
  /** The credential scope's key, and the id of the version the pool was made for. */
  readonly scope: string
  readonly credentialId: string
  readonly key: Key
  readonly password: Redacted.Redacted<string> | undefined
  readonly sslKey: Redacted.Redacted<string> | undefined
  readonly address: string
  /** The SSH tunnel the pool connects through, and what it was made with. */
  readonly tunnel: SshTunnel.Tunnel | undefined
  readonly settings: Bastion.Settings | undefined
  readonly checkedAt: number
  /** Type names of non-built-in OIDs seen on this instance. */
  readonly typeCache: Map<number, string>
  pool: pg.Pool
  /** The server refused TLS and `ssl_mode` is `prefer`: the pool connects in plain text. */
  plain: boolean
  lastUsed: number
}

/** Where the connections of an instance go: an approved address, or the host through a tunnel. */
export type Route = SshTunnels.Route

/** The pools of every instance, and what the pooled call needs of them. */
export interface PoolCache {
  readonly connectTimeoutMillis: number
  readonly egress: EgressPolicy.EgressPolicyShape
  /** Where a fresh connection of the instance goes: a new SSH login for an instance behind a bastion, closed with the scope. */
  readonly freshRoute: (context: DriverContext) => Effect.Effect<Route, ConnectorDriver.DriverFailure, Scope.Scope>
  /** The current pool of the instance and credential scope, made or replaced as needed. */
  readonly entryFor: (context: DriverContext) => Effect.Effect<Entry, ConnectorDriver.DriverFailure>
  /** A client of the entry's pool; `prefer` falls back to plain text when the server offers no TLS. */
  readonly checkout: (entry: Entry, context: DriverContext) => Effect.Effect<pg.PoolClient, DriverError.DriverError>
  /** The server process id of a pooled client, learnt when it connected. */
  readonly processId: (client: pg.ClientBase) => number | undefined
  readonly size: Effect.Effect<number>
  readonly closeAll: Effect.Effect<void>
}

const keyOf = ({ configuration, credentials }: DriverContext): Key => ({
  host: configuration.host,
  port: configuration.port,
  database: configuration.database,
  sslMode: configuration.ssl_mode,
  sslRootCert: configuration.ssl_root_cert,
  sslCert: credentials.ssl_cert,
  readOnly: configuration.read_only,
  username: credentials.username
})

/** Whether the entry's pool was made for this configuration and these credentials. */
const fits = (entry: Entry, context: DriverContext): boolean => {
  const { configuration, credentials } = context
  return (
    entry.key.host === configuration.host &&
    entry.key.port === configuration.port &&
    entry.key.database === configuration.database &&
    entry.key.sslMode === configuration.ssl_mode &&
    entry.key.sslRootCert === configuration.ssl_root_cert &&
    entry.key.sslCert === credentials.ssl_cert &&
    (entry.sslKey === undefined
      ? credentials.ssl_key === undefined
      : credentials.ssl_key !== undefined && Equal.equals(entry.sslKey, credentials.ssl_key)) &&
    entry.key.readOnly === configuration.read_only &&
    entry.key.username === credentials.username &&
    (entry.password === undefined
      ? credentials.password === undefined
      : credentials.password !== undefined && Equal.equals(entry.password, credentials.password)) &&
    Tunnel.sameSettings(entry.settings, context)
  )
}

/** Unused pools are looked for at most this often (every call would otherwise scan them all). */
const sweepEveryMillis = 1_000

/** The most pools one instance keeps (one per credential scope in use). */
export const poolsPerInstance = 4

/** Pools on the given egress policy. */
export const make = (egress: EgressPolicy.EgressPolicyShape, options: PoolOptions = {}): PoolCache => {
  const maxConnections = options.maxConnections ?? 10
  const idleTimeoutMillis = options.idleTimeoutMillis ?? 30_000
  const connectTimeoutMillis = options.connectTimeoutMillis ?? 10_000
  const poolIdleMillis = options.poolIdleMillis ?? 300_000
  const recheckMillis = options.recheckMillis ?? 60_000
  /** The pools of each instance, the least recently used first. */
  const entries = new Map<string, Array<Entry>>()
  const processIds = new WeakMap<pg.ClientBase, number>()
  const tunnels = SshTunnels.unsafeMake(egress, {
    readyTimeoutMillis: connectTimeoutMillis,
    idleMillis: options.tunnelIdleMillis
  })

  /** The approved address of the host, or the tunnel of the instance's credential scope. */
  const route = (context: DriverContext) => SshTunnels.route(tunnels, egress, context)

  const freshRoute: PoolCache["freshRoute"] = (context) => SshTunnels.freshRoute(egress, context, connectTimeoutMillis)

  const newPool = (context: DriverContext, route: Route, plain: boolean) => {
    const pool = new pg.Pool({
      ...clientConfig(context, route.address, plain, connectTimeoutMillis, route.tunnel),
      max: maxConnections,
      idleTimeoutMillis,
      allowExitOnIdle: true,
      // The process id lets another connection cancel this one's statement (`pg_cancel_backend`).
      onConnect: (client) =>
        client.query<{ pid: number }>("SELECT pg_catalog.pg_backend_pid() AS pid").then((result) => {
          const pid = result.rows[0]?.pid
          if (typeof pid === "number") processIds.set(client, pid)
        })
    })
    // An idle client whose server went away emits "error" on the pool; pg discards it.
    pool.on("error", ignore)
    return pool
  }

  const end = (pool: pg.Pool) => {
    pool.end().catch(ignore)
  }

  /** Closes an entry's pool (once its clients come back) and forgets its tunnel (closed once its streams end). */
  const retire = (instanceId: string, entry: Entry): Effect.Effect<void> => {
    end(entry.pool)
    return entry.tunnel === undefined ? Effect.void : tunnels.release(SshTunnels.scopeKey(instanceId, entry.scope))
  }

  let lastSweep = 0
  /** Forgets the pools unused for `poolIdleMillis` with no client out, and closes them. */
  const sweep = (now: number): Effect.Effect<void> => {
    lastSweep = now
    const retired: Array<Effect.Effect<void>> = []
    for (const [id, list] of entries) {
      const kept = list.filter((entry) => {
        const idle = now - entry.lastUsed > poolIdleMillis && entry.pool.idleCount === entry.pool.totalCount
        if (idle) retired.push(retire(id, entry))
        return !idle
      })
      if (kept.length === 0) entries.delete(id)
      else if (kept.length !== list.length) entries.set(id, kept)
    }
    return Effect.all(retired, { discard: true })
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

  /** The pool of the instance's credential scope when it is current (same version, key and secrets, checked recently). */
  const current = (context: DriverContext, now: number): Entry | undefined => {
    const id = context.instance.id
    const entry = entries.get(id)?.find((entry) => entry.scope === context.credential.scope)
    if (
      entry !== undefined &&
      entry.credentialId === context.credential.id &&
      now - entry.checkedAt < recheckMillis &&
      fits(entry, context)
    ) {
      entry.lastUsed = now
      touch(id, entry)
      return entry
    }
    return undefined
  }

  /** Checks the host (or the tunnel) and makes, keeps or replaces the pool of the instance's credential scope. */
  const refresh = (context: DriverContext): Effect.Effect<Entry, ConnectorDriver.DriverFailure> =>
    Effect.flatMap(route(context), (route) => {
      const id = context.instance.id
      const scope = context.credential.scope
      const now = Date.now()
      const existing = entries.get(id)?.find((entry) => entry.scope === scope)
      if (
        existing !== undefined &&
        existing.credentialId === context.credential.id &&
        existing.address === route.address &&
        existing.tunnel === route.tunnel &&
        fits(existing, context)
      ) {
        const refreshed: Entry = { ...existing, checkedAt: now, lastUsed: now }
        touch(id, refreshed, existing)
        return Effect.succeed(refreshed)
      }
      // A replaced pool's tunnel was replaced by `route` already (same key), unless it needs none now.
      const replaced =
        existing === undefined
          ? Effect.void
          : route.tunnel === undefined
            ? retire(id, existing)
            : Effect.sync(() => end(existing.pool))
      const entry: Entry = {
        scope,
        credentialId: context.credential.id,
        key: keyOf(context),
        password: context.credentials.password,
        sslKey: context.credentials.ssl_key,
        address: route.address,
        tunnel: route.tunnel,
        settings: route.settings,
        checkedAt: now,
        typeCache: new Map(),
        pool: newPool(context, route, false),
        plain: false,
        lastUsed: now
      }
      const list = touch(id, entry, existing)
      const evicted = list.splice(0, Math.max(0, list.length - poolsPerInstance))
      return Effect.as(Effect.all([replaced, ...evicted.map((old) => retire(id, old))], { discard: true }), entry)
    })

  const entryFor: PoolCache["entryFor"] = (context) =>
    Effect.suspend(() => {
      const now = Date.now()
      const swept = now - lastSweep >= sweepEveryMillis ? sweep(now) : Effect.void
      const entry = current(context, now)
      return Effect.zipRight(swept, entry === undefined ? refresh(context) : Effect.succeed(entry))
    })

  const checkout: PoolCache["checkout"] = (entry, context) =>
    Effect.async<pg.PoolClient, DriverError.DriverError>((resume) => {
      let wanted = true
      const handle = (cause: Error | undefined, client: pg.PoolClient | undefined) => {
        if (client !== undefined && !wanted) {
          client.release()
          return
        }
        if (client !== undefined) {
          resume(Effect.succeed(client))
          return
        }
        if (refusedTls(context.configuration, entry.plain, cause)) {
          end(entry.pool)
          entry.pool = newPool(context, entry, true)
          entry.plain = true
          entry.pool.connect(handle)
          return
        }
        if (wanted) {
          resume(
            Effect.fail(
              toDriverError(cause, {
                target: targetOf(context.configuration),
                timeoutMillis: connectTimeoutMillis,
                connectTimeoutMillis,
                credentials: context.credentials
              })
            )
          )
        }
      }
      entry.pool.connect(handle)
      return Effect.sync(() => {
        wanted = false
      })
    })

  return {
    connectTimeoutMillis,
    egress,
    freshRoute,
    entryFor,
    checkout,
    processId: (client) => processIds.get(client),
    size: Effect.sync(() => {
      let pools = 0
      for (const list of entries.values()) pools += list.length
      return pools
    }),
    closeAll: Effect.promise(() => {
      const pools = [...entries.values()].flatMap((list) => list.map((entry) => entry.pool))
      entries.clear()
      return Promise.all(pools.map((pool) => pool.end().catch(ignore)))
    }).pipe(Effect.zipRight(tunnels.closeAll))
  }
}
