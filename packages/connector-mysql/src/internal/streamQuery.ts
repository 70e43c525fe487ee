/**
 * Streaming queries: one SELECT's rows in batches, read from the server as the consumer pulls.
 *
 * The statement runs inside `START TRANSACTION READ ONLY` on a pooled connection held for the
 * stream's length. Rows come through mysql2's row events; the connection is paused whenever a batch
 * is full and resumed when the consumer takes it, so the server waits on its socket and the client
 * holds one batch at most. Each wait for a batch is bounded by `timeoutMillis`. When the stream
 * ends early (the consumer stops, is interrupted, or a batch timed out), the statement is killed on
 * the server (`KILL QUERY` from another connection) and the connection is destroyed; after the last
 * row the transaction is rolled back and the connection goes back to the pool.
 */
import { type ConnectorDriver, Database } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { DriverContext, MysqlPoolsShape, RowChunk, StatementOptions } from "../MysqlPools.js"

const batchOf = (chunk: RowChunk) =>
  new Database.RowBatch(
    {
      columns: chunk.fields.map((f) => new Database.Column({ name: f.name, type: f.type }, true)),
      rows: chunk.rows
    },
    true
  )

/**
 * The request's rows in batches on a pooled connection of the instance. The statement must be a
 * SELECT the SQL policy accepted.
 */
export const stream = (
  pools: MysqlPoolsShape,
  context: DriverContext,
  request: Database.StreamQueryRequest
): Stream.Stream<Database.RowBatch, ConnectorDriver.DriverFailure> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const options: StatementOptions = { timeoutMillis: request.timeoutMillis }
      const connection = yield* pools.connection(context)
      yield* connection.query("START TRANSACTION READ ONLY", [], options)
      const cursor = yield* connection.cursor(request.sql, request.params, request.batchSize, options)
      // Runs before the cursor's own finalizer: after the last row the transaction ends here and the
      // connection is reused; otherwise the cursor kills the statement and the connection is destroyed.
      yield* Effect.addFinalizer(() =>
        cursor.finished() ? Effect.ignore(connection.query("ROLLBACK", [], options)) : Effect.void
      )
      return Stream.repeatEffectOption(
        cursor.next.pipe(
          Effect.mapError(Option.some),
          Effect.flatMap(Option.match({ onNone: () => Effect.fail(Option.none()), onSome: Effect.succeed })),
          Effect.map(batchOf)
        )
      )
    })
  )
