/**
 * Streaming queries: a read-only statement's rows in batches from a server-side cursor.
 *
 * The statement runs inside `BEGIN READ ONLY` (the statement timeout transaction-local) as
 * `DECLARE … NO SCROLL CURSOR`, and each pull of the consumer is one `FETCH FORWARD batchSize`, sent
 * with the extended protocol: the next batch is fetched only when the consumer asks for it, so one
 * batch at most is held. The
 * connection is held by a fiber of the stream's scope; when the consumer stops or is interrupted,
 * that fiber is interrupted: a FETCH still running is cancelled on the server (`pg_cancel_backend`)
 * and the connection, still inside its transaction, is destroyed, which closes the cursor.
 */

import type { ConnectorDriver } from "@patchbay/core"
import { Database, type DriverError } from "@patchbay/core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import type { Connection, DriverContext, PostgresPoolsShape, StatementResult } from "../PostgresPools.js"
import * as Catalog from "./catalog.js"
import * as TypeNames from "./typeNames.js"

const cursorName = "patchbay_stream"

/** The batch's columns named with their types, looking up the type names this pool has not seen yet. */
const columnsOf = (connection: Connection, result: StatementResult, timeoutMillis: number) => {
  const named = () =>
    result.fields.map(
      (f) => new Database.Column({ name: f.name, type: TypeNames.typeName(f.dataTypeID, connection.typeCache) }, true)
    )
  const missing = TypeNames.unknownOids(
    result.fields.map((f) => f.dataTypeID),
    connection.typeCache
  )
  if (missing.length === 0) return Effect.sync(named)
  return connection.query(TypeNames.lookupSql, [missing], { timeoutMillis }).pipe(
    Effect.map((found) => {
      for (const { oid, name } of found.rows) {
        if (typeof oid === "number" && typeof name === "string") connection.typeCache.set(oid, name)
      }
    }),
    // An unnamed type is shown by its OID rather than failing the stream.
    Effect.ignore,
    Effect.map(named)
  )
}

type Pulled = Exit.Exit<Database.RowBatch, Option.Option<ConnectorDriver.DriverFailure>>

/**
 * Serves the consumer's pulls on one connection: each `demand` is answered with one batch, then with
 * the end of the rows.
 */
const serve = (
  connection: Connection,
  request: Database.StreamQueryRequest,
  demand: Queue.Dequeue<void>,
  batches: Queue.Enqueue<Pulled>
): Effect.Effect<void, DriverError.DriverError> =>
  Effect.gen(function* () {
    const options = { timeoutMillis: request.timeoutMillis, params: request.params }
    yield* Queue.take(demand)
    yield* connection.query(Catalog.beginSql(request.timeoutMillis, true), undefined, options)
    yield* connection.query(`DECLARE ${cursorName} NO SCROLL CURSOR FOR ${request.sql}`, request.params, options)
    const fetchSql = `FETCH FORWARD ${request.batchSize} FROM ${cursorName}`
    let columns: ReadonlyArray<Database.Column> | undefined
    while (true) {
      // Each FETCH goes through pg-cursor (extended protocol) rather than pg's simple query: the
      // same rows for less CPU per row in pg (raw pg at 1M rows: 0.9–1.6 µs against 2.3 µs).
      // FETCH returns `batchSize` rows at most, so the read is never truncated.
      const result = yield* connection.read(fetchSql, [], request.batchSize, options)
      if (columns === undefined) columns = yield* columnsOf(connection, result, request.timeoutMillis)
      if (result.rows.length > 0) {
        yield* Queue.offer(batches, Exit.succeed(new Database.RowBatch({ columns, rows: result.rows }, true)))
      }
      if (result.rows.length < request.batchSize) break
      yield* Queue.take(demand)
    }
    yield* connection.query("ROLLBACK", undefined, options)
    yield* Queue.offer(batches, Exit.fail(Option.none()))
  })

/**
 * The request's rows in batches on a pooled connection of the instance. The statement must be one
 * the SQL policy accepted as read-only.
 */
export const stream = (
  pools: PostgresPoolsShape,
  context: DriverContext,
  request: Database.StreamQueryRequest
): Stream.Stream<Database.RowBatch, ConnectorDriver.DriverFailure> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const demand = yield* Queue.bounded<void>(1)
      const batches = yield* Queue.bounded<Pulled>(1)
      yield* pools
        .withConnection(context, (connection) => serve(connection, request, demand, batches))
        .pipe(
          Effect.catchAllCause((cause) => Queue.offer(batches, Exit.failCause(Cause.map(cause, Option.some)))),
          Effect.forkScoped
        )
      const pull = Queue.offer(demand, undefined).pipe(Effect.zipRight(Queue.take(batches)), Effect.flatten)
      return Stream.repeatEffectOption(pull)
    })
  )
