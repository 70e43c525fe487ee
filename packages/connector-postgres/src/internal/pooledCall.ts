/**
 * One call on a connection of an instance. Pooled: a client is checked out, the call runs on it,
 * and the client goes back to the pool, unless a statement is still running on it (the call was
 * interrupted, or stopped waiting at a statement's backstop): then that statement is cancelled with
 * `pg_cancel_backend` from another connection of the same pool, and the client is destroyed. A
 * broken client, or one left inside a transaction, is destroyed too: the next caller never gets a
 * connection mid-statement. Unpooled: a fresh client, closed when the call ends.
 */
import type { ConnectorDriver } from "@patchbay/core"
import * as Effect from "effect/Effect"
import type pg from "pg"
import type { Connection, DriverContext } from "../PostgresPools.js"
import { type Health, ignore, open, targetOf, wrap } from "./connection.js"
import type { Entry, PoolCache } from "./poolCache.js"

interface CheckedOut {
  readonly client: pg.PoolClient
  readonly connection: Connection
  readonly health: Health
}

const checkout = (cache: PoolCache, entry: Entry, context: DriverContext) =>
  Effect.map(cache.checkout(entry, context), (client): CheckedOut => {
    // A checked-out client has no error listener of pg's: a dead socket must not crash the process.
    client.on("error", ignore)
    return {
      client,
      ...wrap(client, targetOf(context.configuration), entry.typeCache, cache.connectTimeoutMillis, context.credentials)
    }
  })

const release = ({ client, health }: CheckedOut) =>
  Effect.sync(() => {
    client.removeListener("error", ignore)
    client.release(health.running || health.broken || client.getTransactionStatus() !== "I" ? true : undefined)
  })

/** Asks the server, from another connection of the pool, to cancel what `client`'s server process runs. */
const cancel = (cache: PoolCache, entry: Entry, context: DriverContext, client: pg.PoolClient) => {
  const pid = cache.processId(client)
  if (pid === undefined) return Effect.void
  return Effect.acquireUseRelease(
    checkout(cache, entry, context),
    ({ connection }) =>
      connection.query("SELECT pg_catalog.pg_cancel_backend($1)", [pid], {
        timeoutMillis: cache.connectTimeoutMillis
      }),
    release
  ).pipe(Effect.ignore)
}

/** Runs `use` on a pooled connection of the instance. */
export const pooled = <A, E>(
  cache: PoolCache,
  context: DriverContext,
  use: (connection: Connection) => Effect.Effect<A, E>
): Effect.Effect<A, E | ConnectorDriver.DriverFailure> =>
  Effect.flatMap(cache.entryFor(context), (entry) =>
    Effect.acquireUseRelease(
      checkout(cache, entry, context),
      ({ connection }) => use(connection),
      (checkedOut) => {
        entry.lastUsed = Date.now()
        // Cancelled while the client still holds its server process, so its id cannot name another one.
        return checkedOut.health.running
          ? Effect.zipRight(cancel(cache, entry, context, checkedOut.client), release(checkedOut))
          : release(checkedOut)
      }
    )
  )

/**
 * Runs `use` on a fresh connection, checked with the egress policy first (through a tunnel of its
 * own when the instance is behind a bastion) and closed afterwards.
 */
export const unpooled = <A, E>(
  cache: PoolCache,
  context: DriverContext,
  use: (connection: Connection) => Effect.Effect<A, E>
): Effect.Effect<A, E | ConnectorDriver.DriverFailure> =>
  Effect.scoped(
    Effect.flatMap(cache.freshRoute(context), (route) =>
      Effect.acquireUseRelease(
        Effect.map(open(context, route.address, cache.connectTimeoutMillis, route.tunnel), (client) => ({
          client,
          ...wrap(client, targetOf(context.configuration), new Map(), cache.connectTimeoutMillis, context.credentials)
        })),
        ({ connection }) => use(connection),
        // Ending a client with a statement in flight destroys its socket.
        ({ client }) => Effect.promise(() => client.end().catch(ignore))
      )
    )
  )
