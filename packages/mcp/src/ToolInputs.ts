/**
 * The arguments of each MCP tool, as Effect Schemas with the product's snake_case field names. The
 * tools' `inputSchema` is the JSON Schema derived from these (`JSONSchema.make`), and every call's
 * arguments are decoded with them before anything runs.
 *
 * @since 0.1.0
 */
import { ConnectorInstance, Ids } from "@patchbay/core"
import * as Schema from "effect/Schema"

const instanceId = Ids.InstanceId.annotations({
  description: "The connection to use: an instance_id from list_connections."
})

const text = (max: number, description: string) =>
  Schema.String.pipe(Schema.minLength(1), Schema.maxLength(max)).annotations({ description })

/** An integer from 1 to `max`, inline in the JSON Schema (a shared `Int` definition would be a `$ref`, whose sibling bounds draft-07 ignores). */
const integer = (max: number, description: string) =>
  Schema.Number.pipe(Schema.int(), Schema.between(1, max)).annotations({ description })

const millis = (max: number, description: string) => Schema.optional(integer(max, description))

/**
 * `list_connections`: the connections this agent may use, optionally of one connector type or
 * status.
 *
 * @since 0.1.0
 */
export const ListConnections = Schema.Struct({
  connector: Schema.optional(text(255, "Only connections of this connector type, e.g. postgres.")),
  status: Schema.optional(
    ConnectorInstance.InstanceStatus.annotations({
      description: "Only connections in this status (reconnect_required: a person must act first)."
    })
  )
})

/**
 * `run_query`: one SQL query or DML statement with positional parameters (`$1`, `$2`, …).
 *
 * @since 0.1.0
 */
export const RunQuery = Schema.Struct({
  instance_id: instanceId,
  sql: text(1_048_576, "One SQL statement: a query or DML. DDL is not accepted."),
  params: Schema.optional(
    Schema.Array(Schema.Unknown).annotations({ description: "Values of the positional parameters $1, $2, …" })
  ),
  max_rows: Schema.optional(
    integer(10_000, "The most rows to return (default 1000); `truncated` tells when more existed.")
  ),
  timeout_millis: millis(600_000, "Statement timeout in milliseconds (default 30000)."),
  reason: Schema.optional(
    text(2_048, "Why a DELETE or UPDATE of every row of a table is intended; required for such a statement.")
  )
})

/**
 * `get_schema`: the tables, views and columns of a database connection.
 *
 * @since 0.1.0
 */
export const GetSchema = Schema.Struct({
  instance_id: instanceId,
  schemas: Schema.optional(
    Schema.Array(text(128, "A schema name.")).pipe(Schema.maxItems(100)).annotations({
      description: "Only these schemas (default: every schema the account can see)."
    })
  )
})

const address = text(320, "An email address like name@example.com.")
const addresses = (description: string) =>
  Schema.optional(Schema.Array(address).pipe(Schema.maxItems(1_000)).annotations({ description }))

/**
 * `send_email`: one message through a mail connection; attachments carry base64 content.
 *
 * @since 0.1.0
 */
export const SendEmail = Schema.Struct({
  instance_id: instanceId,
  from: Schema.optional(address),
  to: addresses("Recipients."),
  cc: addresses("Copy recipients."),
  bcc: addresses("Blind copy recipients."),
  subject: Schema.String.pipe(Schema.maxLength(4_096)).annotations({ description: "The subject line." }),
  text: Schema.optional(Schema.String.annotations({ description: "The plain-text body." })),
  html: Schema.optional(Schema.String.annotations({ description: "The HTML body." })),
  attachments: Schema.optional(
    Schema.Array(
      Schema.Struct({
        filename: text(255, "The attachment's file name."),
        content_type: Schema.optional(text(255, "Its media type, e.g. application/pdf.")),
        content: Schema.String.annotations({ description: "Its bytes, base64-encoded." })
      })
    ).pipe(Schema.maxItems(100))
  )
})

/**
 * `fetch_file`: one file of an HTTP connection, by path.
 *
 * @since 0.1.0
 */
export const FetchFile = Schema.Struct({
  instance_id: instanceId,
  path: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(8_192), Schema.startsWith("/")).annotations({
    description: "The file's path on the connection's base URL, starting with /."
  }),
  max_bytes: Schema.optional(integer(26_214_400, "The largest file accepted, in bytes (default 5242880).")),
  timeout_millis: millis(600_000, "How long the download may take, in milliseconds (default 60000).")
})

/**
 * `send_sms`: one text message through an SMS connection.
 *
 * @since 0.1.0
 */
export const SendSms = Schema.Struct({
  instance_id: instanceId,
  to: text(32, "The recipient as an E.164 number like +15551234567."),
  from: Schema.optional(text(32, "The sender number or name, when the provider allows one.")),
  body: text(1_600, "The message text.")
})

/**
 * `test_connection`: tries the connection's credentials and records the outcome on it.
 *
 * @since 0.1.0
 */
export const TestConnection = Schema.Struct({
  instance_id: instanceId
})
