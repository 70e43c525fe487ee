/**
 * Operation deadlines that the client itself enforces. `Effect.timeout` forks two fibers and arms
 * a timer per operation, which on the credential read cost more CPU than the rest of the
 * operation; `layerPg`'s client instead reads the deadline of the operation in progress and arms
 * one timer inside the statement's own callback, so bounding an operation costs a fiber-ref write.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"

/**
 * The instant (milliseconds since the epoch) by which every statement of the current operation
 * must have answered; `Infinity` outside a bounded operation.
 */
export const currentDeadline: FiberRef.FiberRef<number> = globalValue(
  Symbol.for("@patchbay/store-sql/currentDeadline"),
  () => FiberRef.unsafeMake<number>(Number.POSITIVE_INFINITY)
)

/** The failure (as a `SqlError`'s cause) of a statement that did not answer by the deadline. */
export class DeadlineExceeded extends Error {
  constructor() {
    super("the operation's deadline passed before the database answered")
    this.name = "DeadlineExceeded"
  }
}

const enforcing = new WeakSet<SqlClient.SqlClient>()

/** Records that `client` enforces `currentDeadline` on each of its statements. */
export const enforcesDeadlines = <C extends SqlClient.SqlClient>(client: C): C => {
  enforcing.add(client)
  return client
}

/** Whether `client` enforces `currentDeadline` itself (otherwise operations need `Effect.timeout`). */
export const isEnforcingDeadlines = (client: SqlClient.SqlClient): boolean => enforcing.has(client)

/**
 * One statement run straight on a client's connection, bounded by `timeoutMillis` (and by the
 * deadline of an enclosing operation): no statement compilation, no scope and no `sql.execute`
 * span. For the few statements on the hot path of every call.
 */
export type DirectQuery = (
  sql: string,
  params: ReadonlyArray<unknown>,
  timeoutMillis: number
) => Effect.Effect<ReadonlyArray<unknown>, SqlError>

const directs = new WeakMap<SqlClient.SqlClient, DirectQuery>()

/** Records the direct path of `client`. */
export const registerDirect = (client: SqlClient.SqlClient, query: DirectQuery): void => {
  directs.set(client, query)
}

/** The direct path of `client`, if it has one. */
export const directOf = (client: SqlClient.SqlClient): DirectQuery | undefined => directs.get(client)
