/**
 * Connections to the databases of PostgreSQL instances. One `pg` pool per instance, keyed by its
 * configuration and credentials: a new credential version or a changed configuration replaces the
 * pool (the old one is closed once its clients come back), unused pools are closed after
 * `poolIdleMillis`, idle clients after `idleTimeoutMillis`. The host is checked with the
 * `EgressPolicy` before a pool is made (and again every `recheckMillis`), and connections go to the
 * address the policy returned, never to the name again.
 *
 * @since 0.1.0
 */
import { type ConnectorDriver, type DriverError, DriverError as DriverErrors, EgressPolicy } from "@patchbay/core"
import * as EffectContext from "effect/Context"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import pg from "pg"
import { sendCancel } from "./internal/cancel.js"
import { isConnectionBroken, toDriverError } from "./internal/errors.js"
import type { Configuration, Credentials } from "./PostgresDescriptor.js"

/**
 * Limits of the connection pools.
 *
 * @since 0.1.0
 */
export interface PoolOptions {
  /** Connections per instance. Default 10. */
  readonly maxConnections?: number | undefined
  /** How long an unused connection stays open. Default 30 s. */
  readonly idleTimeoutMillis?: number | undefined
  /** How long connecting (TCP, TLS, authentication) may take. Default 10 s. */
  readonly connectTimeoutMillis?: number | undefined
  /** How long an unused pool is kept. Default 5 min. */
  readonly poolIdleMillis?: number | undefined
  /** How often a pool's host is resolved and checked again. Default 60 s. */
  readonly recheckMillis?: number | undefined
}

/**
 * The driver context of a PostgreSQL call.
 *
 * @since 0.1.0
 */
export type Context = ConnectorDriver.DriverContext<Configuration, Credentials>

/**
 * A connection checked out for one call, with what error mapping needs.
 *
 * @since 0.1.0
 */
export interface Connection {
  readonly client: pg.ClientBase
  /** `host:port/database`, named in errors. */
  readonly target: string
  /** Type names of non-built-in OIDs seen on this instance. */
  readonly typeCache: Map<number, string>
  /** Runs a promise-returning call on the client; a failure is mapped, a broken connection is not reused. */
  readonly use: <A>(
    call: (client: pg.ClientBase) => Promise<A>,
    errorContext: { readonly timeoutMillis: number; readonly params?: ReadonlyArray<unknown>; readonly prefix?: string }
  ) => Effect.Effect<A, DriverError.DriverError>
}

/**
 * How a call run by `PostgresPoolsShape.run` reports its outcome: one of the two, once.
 *
 * @since 0.1.0
 */
export interface Callbacks<A> {
  onSuccess(value: A): void
  /** A `pg` or socket error, mapped to a driver error by the pools. */
  onFailure(cause: unknown): void
}

/**
 * @since 0.1.0
 */
export interface PostgresPoolsShape {
  /** A pooled connection for the call, returned (or destroyed when broken or interrupted) with the scope. */
  readonly acquire: (context: Context) => Effect.Effect<Connection, ConnectorDriver.DriverFailure, Scope.Scope>
  /**
   * Runs one call on a pooled client: checkout, call and return (or destroy, when the connection
   * broke, the call was interrupted or `backstopMillis` passed — then the server is asked to cancel
   * the statement) in a single asynchronous step, for calls on the hot path. The call reports
   * through its callbacks (exactly one of them, once), which keeps extra ticks off the path.
   */
  readonly run: <A>(
    context: Context,
    call: (client: pg.ClientBase, typeCache: Map<number, string>, callbacks: Callbacks<A>) => void,
    options: {
      readonly timeoutMillis: number
      readonly backstopMillis: number
      readonly params?: ReadonlyArray<unknown> | undefined
    }
  ) => Effect.Effect<A, ConnectorDriver.DriverFailure>
  /** A fresh, unpooled connection (connection tests authenticate anew), closed with the scope. */
  readonly connect: (context: Context) => Effect.Effect<Connection, ConnectorDriver.DriverFailure, Scope.Scope>
  /** The number of open pools. */
  readonly size: Effect.Effect<number>
  /** Closes every pool. */
  readonly closeAll: Effect.Effect<void>
}

/**
 * @since 0.1.0
 */
export class PostgresPools extends EffectContext.Tag("@patchbay/connector-postgres/PostgresPools")<
  PostgresPools,
  PostgresPoolsShape
>() {}

interface Entry {
  readonly key: string
  readonly password: Redacted.Redacted<string>
  readonly address: string
  readonly checkedAt: number
  readonly typeCache: Map<number, string>
  pool: pg.Pool
  plain: boolean
  lastUsed: number
}

const targetOf = (configuration: Configuration) =>
  `${configuration.host}:${configuration.port}/${configuration.database}`

const keyOf = (context: Context) =>
  JSON.stringify([
    context.configuration.host,
    context.configuration.port,
    context.configuration.database,
    context.configuration.ssl_mode,
    context.configuration.read_only,
    context.credentials.username
  ])

const sslOf = (configuration: Configuration, plain: boolean): pg.ClientConfig["ssl"] => {
  if (plain || configuration.ssl_mode === "disable") return false
  if (configuration.ssl_mode === "verify-full") return { rejectUnauthorized: true, servername: configuration.host }
  return { rejectUnauthorized: false }
}

const noSsl = (cause: unknown) => cause instanceof Error && /does not support SSL/i.test(cause.message)

const ignore = () => {}

/** Unused pools are looked for at most this often (every call would otherwise scan them all). */
const sweepEveryMillis = 1_000

/** How often calls in flight are checked against their backstop. */
const watchMillis = 250

interface Watched {
  readonly deadline: number
  readonly expire: () => void
}

/**
 * Pools using the given egress policy.
 *
 * @since 0.1.0
 */
export const make = (egress: EgressPolicy.EgressPolicyShape, options: PoolOptions = {}): PostgresPoolsShape => {
  const maxConnections = options.maxConnections ?? 10
  const idleTimeoutMillis = options.idleTimeoutMillis ?? 30_000
  const connectTimeoutMillis = options.connectTimeoutMillis ?? 10_000
  const poolIdleMillis = options.poolIdleMillis ?? 300_000
  const recheckMillis = options.recheckMillis ?? 60_000
  const entries = new Map<string, Entry>()

  const clientConfig = (context: Context, address: string, plain: boolean): pg.ClientConfig => {
    const { configuration, credentials } = context
    const password = credentials.password
    return {
      host: address,
      port: configuration.port,
      database: configuration.database,
      user: credentials.username,
      password: () => Redacted.value(password),
      ssl: sslOf(configuration, plain),
      connectionTimeoutMillis: connectTimeoutMillis,
      application_name: "patchbay",
      ...(configuration.read_only ? { options: "-c default_transaction_read_only=on" } : {})
    }
  }

  const newPool = (context: Context, address: string, plain: boolean) => {
    const pool = new pg.Pool({
      ...clientConfig(context, address, plain),
      max: maxConnections,
      idleTimeoutMillis,
      allowExitOnIdle: true
    })
    // An idle client whose server went away emits "error" on the pool; it is discarded by pg.
    pool.on("error", ignore)
    return pool
  }

  const end = (pool: pg.Pool) => {
    pool.end().catch(ignore)
  }

  const sweep = (now: number) => {
    for (const [id, entry] of entries) {
      if (now - entry.lastUsed > poolIdleMillis && entry.pool.idleCount === entry.pool.totalCount) {
        entries.delete(id)
        end(entry.pool)
      }
    }
  }

  let lastSweep = 0

  /** The instance's pool when it is current (same key and password, checked recently), without any effect. */
  const currentEntry = (context: Context, now: number): Entry | undefined => {
    if (now - lastSweep >= sweepEveryMillis) {
      lastSweep = now
      sweep(now)
    }
    const current = entries.get(context.instance.id)
    if (
      current !== undefined &&
      now - current.checkedAt < recheckMillis &&
      current.key === keyOf(context) &&
      Equal.equals(current.password, context.credentials.password)
    ) {
      current.lastUsed = now
      return current
    }
    return undefined
  }

  /** Checks the host with the egress policy and makes (or refreshes) the instance's pool. */
  const refreshEntry = (context: Context): Effect.Effect<Entry, ConnectorDriver.DriverFailure> => {
    const id = context.instance.id
    const key = keyOf(context)
    return Effect.map(egress.check(context.configuration.host), (address) => {
      const existing = entries.get(id)
      if (
        existing !== undefined &&
        existing.key === key &&
        existing.address === address &&
        Equal.equals(existing.password, context.credentials.password)
      ) {
        const refreshed: Entry = { ...existing, checkedAt: Date.now(), lastUsed: Date.now() }
        entries.set(id, refreshed)
        return refreshed
      }
      if (existing !== undefined) end(existing.pool)
      const entry: Entry = {
        key,
        password: context.credentials.password,
        address,
        checkedAt: Date.now(),
        typeCache: new Map(),
        pool: newPool(context, address, false),
        plain: false,
        lastUsed: Date.now()
      }
      entries.set(id, entry)
      return entry
    })
  }

  const entryFor = (context: Context): Effect.Effect<Entry, ConnectorDriver.DriverFailure> =>
    Effect.suspend(() => {
      const current = currentEntry(context, Date.now())
      return current === undefined ? refreshEntry(context) : Effect.succeed(current)
    })

  const connection = (
    client: pg.ClientBase,
    context: Context,
    address: string,
    typeCache: Map<number, string>,
    state: { broken: boolean }
  ): Connection => {
    const target = targetOf(context.configuration)
    return {
      client,
      target,
      typeCache,
      use: (call, errorContext) =>
        Effect.tryPromise({
          try: () => call(client),
          catch: (cause) => {
            if (isConnectionBroken(cause)) state.broken = true
            return toDriverError(cause, { target, connectTimeoutMillis, ...errorContext })
          }
        }).pipe(
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              state.broken = true
              const keys = client as unknown as { processID?: unknown; secretKey?: unknown }
              if (typeof keys.processID === "number" && typeof keys.secretKey === "number") {
                sendCancel(address, context.configuration.port, keys.processID, keys.secretKey)
              }
            })
          )
        )
    }
  }

  const connectError = (context: Context) => (cause: unknown) =>
    toDriverError(cause, {
      target: targetOf(context.configuration),
      timeoutMillis: connectTimeoutMillis,
      connectTimeoutMillis
    })

  const checkout = (entry: Entry, context: Context): Effect.Effect<pg.PoolClient, DriverError.DriverError> =>
    Effect.tryPromise({ try: () => entry.pool.connect(), catch: (cause) => cause }).pipe(
      Effect.catchAll((cause) => {
        if (context.configuration.ssl_mode === "prefer" && !entry.plain && noSsl(cause)) {
          // The server offers no TLS: `prefer` falls back to a plain connection, as libpq does.
          end(entry.pool)
          entry.pool = newPool(context, entry.address, true)
          entry.plain = true
          return checkout(entry, context)
        }
        return Effect.fail(connectError(context)(cause))
      })
    )

  const cancel = (client: pg.ClientBase, address: string, port: number) => {
    const keys = client as unknown as { processID?: unknown; secretKey?: unknown }
    if (typeof keys.processID === "number" && typeof keys.secretKey === "number") {
      sendCancel(address, port, keys.processID, keys.secretKey)
    }
  }

  /**
   * Calls that have not settled, watched by one coarse timer for their backstop instead of a timer
   * each: the backstop is a last resort seconds after the server-side statement timeout, so a
   * `watchMillis` granularity is enough, and a short query pays for no timer.
   */
  const watched = new Set<Watched>()
  let watchdog: ReturnType<typeof setInterval> | undefined
  const watchTick = () => {
    const now = Date.now()
    for (const call of watched) if (now >= call.deadline) call.expire()
    if (watched.size === 0 && watchdog !== undefined) {
      clearInterval(watchdog)
      watchdog = undefined
    }
  }
  const watch = (call: Watched) => {
    watched.add(call)
    if (watchdog === undefined) {
      watchdog = setInterval(watchTick, watchMillis)
      // The call's own socket keeps the process alive while it runs; the watchdog need not.
      watchdog.unref()
    }
  }

  const checkoutWithCallback = (
    entry: Entry,
    context: Context,
    callback: (cause: Error | undefined, client: pg.PoolClient | undefined) => void
  ) => {
    entry.pool.connect((cause, client) => {
      if (cause !== undefined && context.configuration.ssl_mode === "prefer" && !entry.plain && noSsl(cause)) {
        // The server offers no TLS: `prefer` falls back to a plain connection, as libpq does.
        end(entry.pool)
        entry.pool = newPool(context, entry.address, true)
        entry.plain = true
        entry.pool.connect((again, client) => callback(again, client))
        return
      }
      callback(cause, client)
    })
  }

  /**
   * One call of `run`: its state and callbacks as one object with methods (no closures made per
   * call), which is also what the watchdog and the call's callbacks receive.
   */
  class PooledCall<A> implements Callbacks<A>, Watched {
    private settled = false
    private broken = false
    private client: pg.PoolClient | undefined = undefined
    readonly deadline: number

    constructor(
      private readonly entry: Entry,
      private readonly context: Context,
      private readonly call: (client: pg.ClientBase, typeCache: Map<number, string>, callbacks: Callbacks<A>) => void,
      private readonly options: Parameters<PostgresPoolsShape["run"]>[2],
      private readonly resume: (effect: Effect.Effect<A, ConnectorDriver.DriverFailure>) => void
    ) {
      this.deadline = Date.now() + options.backstopMillis
    }

    start(): void {
      watch(this)
      checkoutWithCallback(this.entry, this.context, (cause, client) => this.checkedOut(cause, client))
    }

    private checkedOut(cause: Error | undefined, client: pg.PoolClient | undefined): void {
      if (this.settled) {
        client?.release()
        return
      }
      if (client === undefined) {
        this.settle()
        this.resume(Effect.fail(connectError(this.context)(cause)))
        return
      }
      this.client = client
      // A checked-out client has no error listener of pg's; a dead socket must not crash the process.
      client.on("error", ignore)
      try {
        this.call(client, this.entry.typeCache, this)
      } catch (thrown) {
        this.onFailure(thrown)
      }
    }

    private settle(): void {
      this.settled = true
      watched.delete(this)
      const client = this.client
      if (client !== undefined) {
        client.removeListener("error", ignore)
        this.entry.lastUsed = Date.now()
        client.release(this.broken ? true : undefined)
      }
    }

    /** Interrupted or past its backstop: the statement is cancelled and the connection destroyed. */
    abandon(): void {
      if (this.settled) return
      this.broken = true
      if (this.client !== undefined) cancel(this.client, this.entry.address, this.context.configuration.port)
      this.settle()
    }

    expire(): void {
      if (this.settled) return
      this.abandon()
      this.resume(
        Effect.fail(
          new DriverErrors.TimedOut({
            target: targetOf(this.context.configuration),
            afterMillis: this.options.timeoutMillis
          })
        )
      )
    }

    onSuccess(value: A): void {
      if (this.settled) return
      this.settle()
      this.resume(Effect.succeed(value))
    }

    onFailure(cause: unknown): void {
      if (this.settled) return
      if (isConnectionBroken(cause)) this.broken = true
      this.settle()
      this.resume(
        Effect.fail(
          toDriverError(cause, { target: targetOf(this.context.configuration), connectTimeoutMillis, ...this.options })
        )
      )
    }
  }

  const runOn = <A>(
    entry: Entry,
    context: Context,
    call: (client: pg.ClientBase, typeCache: Map<number, string>, callbacks: Callbacks<A>) => void,
    options: Parameters<PostgresPoolsShape["run"]>[2]
  ): Effect.Effect<A, ConnectorDriver.DriverFailure> =>
    Effect.async((resume) => {
      const pooled = new PooledCall(entry, context, call, options, resume)
      pooled.start()
      return Effect.sync(() => pooled.abandon())
    })

  const run: PostgresPoolsShape["run"] = (context, call, options) =>
    Effect.suspend(() => {
      const current = currentEntry(context, Date.now())
      return current === undefined
        ? Effect.flatMap(refreshEntry(context), (entry) => runOn(entry, context, call, options))
        : runOn(current, context, call, options)
    })

  const acquire: PostgresPoolsShape["acquire"] = (context) =>
    Effect.gen(function* () {
      const entry = yield* entryFor(context)
      const state = { broken: false }
      const client = yield* Effect.acquireRelease(
        Effect.map(checkout(entry, context), (client) => {
          // A checked-out client has no error listener of pg's; a dead socket must not crash the process.
          client.on("error", ignore)
          return client
        }),
        (client, exit) =>
          Effect.sync(() => {
            client.removeListener("error", ignore)
            entry.lastUsed = Date.now()
            client.release(state.broken || Exit.isInterrupted(exit) ? true : undefined)
          })
      )
      return connection(client, context, entry.address, entry.typeCache, state)
    })

  const open = (context: Context, address: string, plain: boolean): Effect.Effect<pg.Client, DriverError.DriverError> =>
    Effect.suspend(() => {
      const client = new pg.Client(clientConfig(context, address, plain))
      client.on("error", ignore)
      return Effect.tryPromise({ try: () => client.connect(), catch: (cause) => cause }).pipe(
        Effect.as(client),
        Effect.catchAll((cause) => {
          client.end().catch(ignore)
          return context.configuration.ssl_mode === "prefer" && !plain && noSsl(cause)
            ? open(context, address, true)
            : Effect.fail(connectError(context)(cause))
        })
      )
    })

  const connect: PostgresPoolsShape["connect"] = (context) =>
    Effect.gen(function* () {
      const address = yield* egress.check(context.configuration.host)
      const state = { broken: false }
      const client = yield* Effect.acquireRelease(open(context, address, false), (client) =>
        Effect.promise(() => client.end().catch(ignore))
      )
      return connection(client, context, address, new Map(), state)
    })

  return {
    acquire,
    run,
    connect,
    size: Effect.sync(() => entries.size),
    closeAll: Effect.promise(() => {
      const pools = [...entries.values()].map((entry) => entry.pool)
      entries.clear()
      return Promise.all(pools.map((pool) => pool.end().catch(ignore)))
    }).pipe(Effect.asVoid)
  }
}

/**
 * Pools on the `EgressPolicy` of the context, all closed when the layer is released.
 *
 * @since 0.1.0
 */
export const layer = (options: PoolOptions = {}): Layer.Layer<PostgresPools, never, EgressPolicy.EgressPolicy> =>
  Layer.scoped(
    PostgresPools,
    Effect.gen(function* () {
      const egress = yield* EgressPolicy.EgressPolicy
      const pools = make(egress, options)
      yield* Effect.addFinalizer(() => pools.closeAll)
      return pools
    })
  )

/**
 * Pools on the `EgressPolicy` of the context, not tied to a scope: their idle connections close by
 * themselves and do not keep the process alive.
 *
 * @since 0.1.0
 */
export const makeFromContext: Effect.Effect<PostgresPoolsShape, never, EgressPolicy.EgressPolicy> = Effect.map(
  EgressPolicy.EgressPolicy,
  (egress) => make(egress)
)
