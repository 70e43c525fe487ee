/**
 * Requests and results of the database capabilities: Run Query, schema discovery and DDL.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A parameterised query. `maxRows` caps the rows returned (`truncated` tells when more existed);
 * `timeoutMillis` becomes the statement timeout.
 *
 * @since 0.1.0
 */
export class QueryRequest extends Schema.Class<QueryRequest>("@patchbay/core/QueryRequest")({
  sql: Schema.String.pipe(Schema.minLength(1, { message: () => "sql must not be empty" })),
  params: Schema.optionalWith(Schema.Array(Schema.Unknown), { default: () => [] }),
  maxRows: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 1_000_000)), { default: () => 10_000 }),
  timeoutMillis: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 3_600_000)), { default: () => 30_000 })
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
  truncated: Schema.Boolean
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
 * One classified statement and the tables it touches with their row counts.
 *
 * @since 0.1.0
 */
export class DdlStatement extends Schema.Class<DdlStatement>("@patchbay/core/DdlStatement")({
  sql: Schema.String,
  kind: DdlKind,
  destructive: Schema.Boolean,
  tables: Schema.Array(Schema.Struct({ name: Schema.String, rows: Schema.NullOr(Schema.Number) }))
}) {}

/**
 * The outcome of a preview or an execution. `reasonRequired` tells whether a destructive statement
 * meets a non-empty table, so that executing needs a `reason`.
 *
 * @since 0.1.0
 */
export class DdlResult extends Schema.Class<DdlResult>("@patchbay/core/DdlResult")({
  executed: Schema.Boolean,
  statements: Schema.Array(DdlStatement),
  reasonRequired: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {}
