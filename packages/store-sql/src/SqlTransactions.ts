/**
 * `Transactions` on @effect/sql: a unit of work is one database transaction on a connection of the
 * pool, and the statements of every SQL repository inside it run on that connection. A unit that
 * fails, or whose COMMIT fails, is rolled back; a failed COMMIT is a `StorageError`.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Transactions } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Admission from "./internal/admission.js"
import { transaction } from "./internal/transaction.js"

/**
 * Builds the units of work on the `SqlClient` in context.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<Transactions.TransactionsShape, never, SqlClient.SqlClient> = Effect.map(
  SqlClient.SqlClient,
  (client) => {
    const inTransaction = transaction(client, "Transactions.run", Admission.of(client))
    return Transactions.Transactions.of({ run: (effect) => inTransaction(effect) })
  }
)

/**
 * The units of work as a layer over a `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<Transactions.Transactions, never, SqlClient.SqlClient> = Layer.effect(
  Transactions.Transactions,
  make
)
