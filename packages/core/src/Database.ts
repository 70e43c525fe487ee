/**
 * Requests and results of the database capabilities: Run Query, streaming queries, schema discovery
 * and DDL.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A parameterised query. `maxRows` caps the rows returned (`truncated` tells when more existed);
 * `timeoutMillis` becomes the statement timeout. `reason` lets a DELETE or UPDATE that touches
 * every row of a non-empty table run (it is audited); without it such a statement is refused.
 *
 * @since 0.1.0
 */
export class QueryRequest extends Schema.Class<QueryRequest>("@patchbay/core/QueryRequest")({
  sql: Schema.String.pipe(Schema.minLength(1, { message: () => "sql must not be empty" })),
  params: Schema.optionalWith(Schema.Array(Schema.Unknown), { default: () => [] }),
  maxRows: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 1_000_000)), { default: () => 10_000 }),
  timeoutMillis: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 3_600_000)), { default: () => 30_000 }),
  reason: Schema.optional(Schema.String.pipe(Schema.minLength(1)))
}) {}

/**
 * A streaming query: a read-only statement whose rows arrive in batches of at most `batchSize`,
 * read from a server-side cursor as the consumer pulls. `timeoutMillis` bounds each fetch.
 *
 * @since 0.1.0
 */
export class StreamQueryRequest extends Schema.Class<StreamQueryRequest>("@patchbay/core/StreamQueryRequest")({
  sql: Schema.String.pipe(Schema.minLength(1, { message: () => "sql must not be empty" })),
  params: Schema.optionalWith(Schema.Array(Schema.Unknown), { default: () => [] }),
  batchSize: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 10_000)), { default: () => 1_000 }),
  timeoutMillis: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 3_600_000)), { default: () => 30_000 })
}) {}

/**
 * A table a query deleted or updated entirely (or may have: `unprovable`), with the rows it touched.
 *
 * @since 0.1.0
 */
export class TableWideWrite extends Schema.Class<TableWideWrite>("@patchbay/core/TableWideWrite")({
  table: Schema.String,
  rows: Schema.NullOr(Schema.Number),
  why: Schema.Literal("no_restricting_where", "every_row_touched", "unprovable")
}) {}

/**
 * A result column: its name and the database's name of its type.
 *
 * @since 0.1.0
 */
export class Column extends Schema.Class<Column>("@patchbay/core/Column")({
  name: Schema.String,
  type: Schema.String
}) {}

/**
 * Rows as objects keyed by column name.
 *
 * @since 0.1.0
 */
export class QueryResult extends Schema.Class<QueryResult>("@patchbay/core/QueryResult")({
  columns: Schema.Array(Column),
  rows: Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  rowCount: Schema.Int,
  truncated: Schema.Boolean,
  /** Tables the query deleted or updated entirely; it ran because the request gave a reason. */
  tableWide: Schema.optionalWith(Schema.Array(TableWideWrite), { default: () => [] })
}) {}

/**
 * One batch of a streaming query: the result's columns and at most `batchSize` rows.
 *
 * @since 0.1.0
 */
export class RowBatch extends Schema.Class<RowBatch>("@patchbay/core/RowBatch")({
  columns: Schema.Array(Column),
  rows: Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
}) {}

/**
 * A column of a table or view.
 *
 * @since 0.1.0
 */
export class Field extends Schema.Class<Field>("@patchbay/core/Field")({
  name: Schema.String,
  type: Schema.String,
  nullable: Schema.Boolean,
  default: Schema.NullOr(Schema.String),
  primaryKey: Schema.Boolean
}) {}

/**
 * A table or view, with the planner's row estimate.
 *
 * @since 0.1.0
 */
export class Table extends Schema.Class<Table>("@patchbay/core/Table")({
  schema: Schema.String,
  name: Schema.String,
  kind: Schema.Literal("table", "view", "materialized_view", "foreign_table", "partitioned_table"),
  estimatedRows: Schema.NullOr(Schema.Number),
  fields: Schema.Array(Field)
}) {}

/**
 * What schema discovery returns.
 *
 * @since 0.1.0
 */
export class DatabaseSchema extends Schema.Class<DatabaseSchema>("@patchbay/core/DatabaseSchema")({
  tables: Schema.Array(Table)
}) {}

/**
 * Options of schema discovery: restrict to some schema names.
 *
 * @since 0.1.0
 */
export class SchemaRequest extends Schema.Class<SchemaRequest>("@patchbay/core/SchemaRequest")({
  schemas: Schema.optional(Schema.Array(Schema.String))
}) {}

/**
 * A DDL request: `confirm: false` previews (everything rolled back), `confirm: true` executes.
 *
 * @since 0.1.0
 */
export class DdlRequest extends Schema.Class<DdlRequest>("@patchbay/core/DdlRequest")({
  sql: Schema.String.pipe(Schema.minLength(1, { message: () => "sql must not be empty" })),
  confirm: Schema.Boolean,
  reason: Schema.optional(Schema.String.pipe(Schema.minLength(1))),
  timeoutMillis: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 3_600_000)), { default: () => 60_000 })
}) {}

/**
 * The kind of a DDL statement.
 *
 * @since 0.1.0
 */
export const DdlKind = Schema.Literal("create", "alter", "drop", "truncate", "rename", "other_ddl")
/** @since 0.1.0 */
export type DdlKind = typeof DdlKind.Type

/**
 * What a DDL statement was observed to do to an existing object: `object` is `schema.table`,
 * `schema.table.column` or `schema.function(args)`; `rows` its rows before (null: not countable);
 * `loss` when data was lost from it.
 *
 * @since 0.1.0
 */
export class DdlEffect extends Schema.Class<DdlEffect>("@patchbay/core/DdlEffect")({
  kind: Schema.Literal(
    "relation_dropped",
    "object_dropped",
    "column_dropped",
    "column_rewritten",
    "rows_removed",
    "rows_written",
    "rewritten",
    "refreshed",
    "replaced",
    "sequence_advanced"
  ),
  object: Schema.String,
  rows: Schema.NullOr(Schema.Number),
  loss: Schema.Boolean
}) {}

/**
 * One classified statement, the tables it touches with their row counts, and its observed effects.
 *
 * @since 0.1.0
 */
export class DdlStatement extends Schema.Class<DdlStatement>("@patchbay/core/DdlStatement")({
  sql: Schema.String,
  kind: DdlKind,
  destructive: Schema.Boolean,
  tables: Schema.Array(Schema.Struct({ name: Schema.String, rows: Schema.NullOr(Schema.Number) })),
  effects: Schema.optionalWith(Schema.Array(DdlEffect), { default: () => [] })
}) {}

/**
 * The outcome of a preview or an execution. `reasonRequired` tells whether a statement loses data
 * from a non-empty object (or one whose rows cannot be counted), so that executing needs a
 * `reason`. `notes` name what a rollback does not undo (a sequence advanced by the preview).
 *
 * @since 0.1.0
 */
export class DdlResult extends Schema.Class<DdlResult>("@patchbay/core/DdlResult")({
  executed: Schema.Boolean,
  statements: Schema.Array(DdlStatement),
  reasonRequired: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  notes: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
}) {}
