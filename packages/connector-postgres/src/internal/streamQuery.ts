/**
 * Streaming queries: a read-only statement's rows in batches from a server-side cursor.
 *
 * The statement runs inside `BEGIN READ ONLY` (the statement timeout transaction-local) as
 * `DECLARE … NO SCROLL CURSOR`, and each pull of the consumer is one `FETCH FORWARD batchSize`, sent
 * with the extended protocol and run on the consumer's fiber: the next batch is fetched only when
 * the consumer asks for it, so one batch at most is held, and nothing (no queue, no second fiber)
 * stands between the read and the consumer. The connection is held by a fiber of the stream's
 * scope; when the consumer stops or is interrupted, the scope closes and that fiber is interrupted:
 * a FETCH still running is cancelled on the server (`pg_cancel_backend`) and the connection, still
 * inside its transaction, is destroyed, which closes the cursor.
 */

import type { ConnectorDriver } from "@patchbay/core"
import { Database } from "@patchbay/core"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
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

/**
 * Holds a pooled connection of the instance for the rest of the scope: a fiber of the scope runs
 * `withConnection` until the scope closes, so that the connection is given back, or cancelled and
 * destroyed, by `withConnection` itself.
 */
const holdConnection = (pools: PostgresPoolsShape, context: DriverContext) =>
  Effect.gen(function* () {
    const acquired = yield* Deferred.make<Connection, ConnectorDriver.DriverFailure>()
    yield* pools
      .withConnection(context, (connection) => Effect.zipRight(Deferred.succeed(acquired, connection), Effect.never))
      .pipe(
        Effect.catchAllCause((cause) => Deferred.failCause(acquired, cause)),
        Effect.forkScoped
      )
    return yield* Deferred.await(acquired)
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
      const connection = yield* holdConnection(pools, context)
      const options = { timeoutMillis: request.timeoutMillis, params: request.params }
      yield* connection.query(Catalog.beginSql(request.timeoutMillis, true), undefined, options)
      yield* connection.query(`DECLARE ${cursorName} NO SCROLL CURSOR FOR ${request.sql}`, request.params, options)
      // Each FETCH goes through pg-cursor (extended protocol) rather than pg's simple query: the
      // same rows for less CPU per row in pg. FETCH returns `batchSize` rows at most, so the read is
      // never truncated.
      const fetchSql = `FETCH FORWARD ${request.batchSize} FROM ${cursorName}`
      let columns: ReadonlyArray<Database.Column> | undefined
      let done = false
      const batchOf = (result: StatementResult, named: ReadonlyArray<Database.Column>) => {
        if (result.rows.length < request.batchSize) done = true
        return result.rows.length > 0
          ? Chunk.of(new Database.RowBatch({ columns: named, rows: result.rows }, true))
          : Chunk.empty<Database.RowBatch>()
      }
      const named = (result: StatementResult) => {
        if (columns !== undefined) return Effect.succeed(batchOf(result, columns))
        return Effect.map(columnsOf(connection, result, request.timeoutMillis), (found) => {
          columns = found
          return batchOf(result, found)
        })
      }
      const rollback = connection.query("ROLLBACK", undefined, options)
      const fetch = connection.read(fetchSql, [], request.batchSize, options).pipe(
        Effect.flatMap(named),
        Effect.tap(() => (done ? rollback : Effect.void)),
        Effect.mapError(Option.some)
      )
      const end = Effect.fail(Option.none())
      return Stream.repeatEffectChunkOption(Effect.suspend(() => (done ? end : fetch)))
    })
  )
