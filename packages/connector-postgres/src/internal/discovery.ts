/**
 * Schema discovery on a connection: the one catalog query, in a READ ONLY transaction with its own
 * statement timeout, rolled back afterwards.
 */
import { Database, type DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import type { Connection } from "../PostgresPools.js"
import * as Catalog from "./catalog.js"

/** How long the catalog query may take. */
export const timeoutMillis = 120_000

type FieldTuple = readonly [
  name: string,
  type: string,
  nullable: boolean,
  defaultValue: string | null,
  primaryKey: boolean
]

const tableOf = (row: Record<string, unknown>) =>
  new Database.Table(
    {
      schema: row.schema as string,
      name: row.name as string,
      kind: Catalog.tableKinds[row.kind as keyof typeof Catalog.tableKinds],
      estimatedRows: row.rows as number | null,
      fields: (row.fields as ReadonlyArray<FieldTuple>).map(
        ([name, type, nullable, defaultValue, primaryKey]) =>
          new Database.Field({ name, type, nullable, default: defaultValue, primaryKey }, true)
      )
    },
    true
  )

/** The tables, views and their fields of the schemas the request names (all but the system ones by default). */
export const discover = (
  connection: Connection,
  request: Database.SchemaRequest
): Effect.Effect<Database.DatabaseSchema, DriverError.DriverError> =>
  Effect.gen(function* () {
    const options = { timeoutMillis }
    yield* connection.query(Catalog.beginSql(timeoutMillis, true), undefined, options)
    const found = yield* Effect.exit(connection.query(Catalog.discoverSql, [request.schemas ?? null], options))
    yield* Effect.ignore(connection.query("ROLLBACK", undefined, options))
    const result = yield* found
    return new Database.DatabaseSchema({ tables: result.rows.map(tableOf) }, true)
  })
