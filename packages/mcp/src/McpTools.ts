/**
 * The MCP tools an agent gets over the connections it may use: `list_connections`, `run_query`,
 * `get_schema`, `send_email`, `fetch_file`, `send_sms` and `test_connection`.
 *
 * Every call runs as the caller's `Principal`: its actor is the `Actor` of the activities, so an
 * agent's credentials resolve agent → workspace → organization, and its role decides which tools
 * it may call (`Permissions`). The listing is scoped the same way: a tool appears only when the
 * caller may call it and some enabled connection it may use offers it, and each tool's
 * `instance_id` is an enum of those connections. Arguments are decoded with the `ToolInputs`
 * schemas; any failure is a tool result with `isError: true` and a `ToolError` body.
 *
 * @since 0.1.0
 */
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js"
import { Activities } from "@patchbay/activities"
import type * as Authentication from "@patchbay/api/Authentication"
import * as Permissions from "@patchbay/api/Permissions"
import {
  Actor,
  type ConnectorDescriptor,
  type ConnectorInstance,
  ConnectorInstances,
  ConnectorRegistry,
  CredentialScope,
  DomainError
} from "@patchbay/core"
import { ConnectionTester } from "@patchbay/testers"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as JSONSchema from "effect/JSONSchema"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Sink from "effect/Sink"
import * as ToolError from "./ToolError.js"
import * as ToolInputs from "./ToolInputs.js"

/**
 * The caller's role does not allow the tool.
 *
 * @since 0.1.0
 */
export class PermissionDenied extends Schema.TaggedError<PermissionDenied>("@patchbay/mcp/PermissionDenied")(
  "PermissionDenied",
  { tool: Schema.String, role: Permissions.Role }
) {
  readonly retryable = false
  override get message(): string {
    return `The ${this.role} role may not call ${this.tool}`
  }
}

/**
 * No tool has this name.
 *
 * @since 0.1.0
 */
export class UnknownTool extends Schema.TaggedError<UnknownTool>("@patchbay/mcp/UnknownTool")("UnknownTool", {
  tool: Schema.String
}) {
  readonly retryable = false
  override get message(): string {
    return `There is no tool named ${JSON.stringify(this.tool.slice(0, 64))}`
  }
}

/**
 * The tool names.
 *
 * @since 0.1.0
 */
export const ToolName = Schema.Literal(
  "list_connections",
  "run_query",
  "get_schema",
  "send_email",
  "fetch_file",
  "send_sms",
  "test_connection"
)
/** @since 0.1.0 */
export type ToolName = typeof ToolName.Type

/**
 * The most connections a listing reads (the tools' enums and `list_connections`).
 *
 * @since 0.1.0
 */
export const maxConnections = 1_000

/**
 * The tools as the caller may see and call them.
 *
 * @since 0.1.0
 */
export interface McpToolsShape {
  /** The tools the principal may call, each `instance_id` an enum of the connections it may use. */
  readonly list: (
    principal: Authentication.Principal
  ) => Effect.Effect<ReadonlyArray<Tool>, DomainError.StorageError | DomainError.InvalidInput>
  /** Calls a tool; every failure is a result with `isError: true` and a `ToolError` body. */
  readonly call: (principal: Authentication.Principal, name: string, args: unknown) => Effect.Effect<CallToolResult>
}

/**
 * The MCP tools service.
 *
 * @since 0.1.0
 */
export class McpTools extends Context.Tag("@patchbay/mcp/McpTools")<McpTools, McpToolsShape>() {}

/**
 * What the tools are built on.
 *
 * @since 0.1.0
 */
export type Services =
  | Activities.Activities
  | ConnectionTester.ConnectionTester
  | ConnectorInstances.ConnectorInstances
  | ConnectorRegistry.ConnectorRegistry

/** What a tool returns when it succeeds: a JSON object, and extra content beside its text. */
interface Success {
  readonly structured: Record<string, unknown>
  readonly extra?: ReadonlyArray<CallToolResult["content"][number]>
}

type Failure = ToolError.TypedError

interface Definition<A, I> {
  readonly name: ToolName
  readonly title: string
  readonly description: string
  readonly input: Schema.Schema<A, I>
  /** The operation a connection must offer for the tool to list it; none for `list_connections`. */
  readonly operation: ConnectorDescriptor.Operation | undefined
  readonly permission: Permissions.Action
  readonly readOnly: boolean
  readonly run: (args: A) => Effect.Effect<Success, Failure, Actor.Actor>
}

/** A tool as the table keeps it: its JSON Schema, and its arguments decoded before it runs. */
interface Entry {
  readonly name: ToolName
  readonly title: string
  readonly description: string
  readonly inputSchema: Tool["inputSchema"]
  readonly operation: ConnectorDescriptor.Operation | undefined
  readonly permission: Permissions.Action
  readonly readOnly: boolean
  readonly invoke: (args: unknown) => Effect.Effect<Success, Failure, Actor.Actor>
}

const decodeOptions = { errors: "all", onExcessProperty: "error" } as const

const define = <A, I>({ input, run, ...definition }: Definition<A, I>): Entry => {
  const { $schema: _, ...rest }: Record<string, unknown> = { ...JSONSchema.make(input) }
  const decode = Schema.decodeUnknown(input, decodeOptions)
  return {
    ...definition,
    inputSchema: { ...rest, type: "object" },
    invoke: (args) =>
      decode(args).pipe(
        Effect.mapError((error) => DomainError.InvalidInput.fromParseError(error)),
        Effect.flatMap(run)
      )
  }
}

/** Fields whose value is undefined left out, as `exactOptionalPropertyTypes` wants optional fields. */
const compact = <T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>
  }

/** A value as plain JSON: dates as ISO strings, big integers as strings. */
const toJson = (value: unknown): Record<string, unknown> =>
  JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)))

const isoOrNull = (date: Date | null) => (date === null ? null : date.toISOString())

const defaultMaxRows = 1_000
const defaultMaxBytes = 5 * 1024 * 1024
const textTypes = /^(text\/|application\/(json|xml|yaml|x-yaml|csv|javascript)\b)/

/**
 * The tools on `Activities`, `ConnectionTester`, `ConnectorInstances` and `ConnectorRegistry`.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<McpTools, never, Services> = Layer.effect(
  McpTools,
  Effect.gen(function* () {
    const activities = yield* Activities.Activities
    const tester = yield* ConnectionTester.ConnectionTester
    const instances = yield* ConnectorInstances.ConnectorInstances
    const registry = yield* ConnectorRegistry.ConnectorRegistry

    /** The tools a connector's operations offer (`test_connection` always). */
    const toolsOf = (operations: ReadonlyArray<ConnectorDescriptor.Operation>): ReadonlyArray<ToolName> =>
      definitions
        .filter((d) => d.operation !== undefined && (d.name === "test_connection" || operations.includes(d.operation)))
        .map((d) => d.name)

    /** The enabled connections the actor may use, with the tools each offers. */
    const usable = Effect.gen(function* () {
      const actor = yield* Actor.Actor
      const found: Array<{
        readonly instance: ConnectorInstance.InstanceView
        readonly tools: ReadonlyArray<ToolName>
      }> = []
      let cursor: string | undefined
      do {
        const page = yield* instances.list({ isEnabled: true, limit: 200, ...(cursor === undefined ? {} : { cursor }) })
        for (const instance of page.items) {
          if (!CredentialScope.usableBy(actor, instance)) continue
          const operations = yield* registry.get(instance.connectorId).pipe(
            Effect.map((connector) => connector.descriptor.operations),
            // A connection whose connector is no longer installed offers nothing.
            Effect.orElseSucceed((): ReadonlyArray<ConnectorDescriptor.Operation> => [])
          )
          found.push({ instance, tools: toolsOf(operations) })
        }
        cursor = page.nextCursor ?? undefined
      } while (cursor !== undefined && found.length < maxConnections)
      return found.slice(0, maxConnections)
    }).pipe(Effect.catchTag("ConnectorNotFound", () => Effect.succeed([])))

    const json = (structured: Record<string, unknown>): Success => ({ structured })

    const definitions: ReadonlyArray<Entry> = [
      define({
        name: "list_connections",
        title: "List connections",
        description:
          "The connections this agent may use: instance_id, name, connector type, status and the tools each offers. A connection in status reconnect_required needs a person to reconnect it before it works.",
        input: ToolInputs.ListConnections,
        operation: undefined,
        permission: "read",
        readOnly: true,
        run: (args) =>
          Effect.map(usable, (found) =>
            json({
              connections: found
                .filter(
                  ({ instance }) =>
                    (args.connector === undefined || instance.connectorKey === args.connector) &&
                    (args.status === undefined || instance.status === args.status)
                )
                .map(({ instance, tools }) => ({
                  instance_id: instance.id,
                  instance_name: instance.instanceName,
                  description: instance.description,
                  connector: instance.connectorKey,
                  workspace_id: instance.workspaceId,
                  status: instance.status,
                  has_credentials: instance.hasCredentials,
                  test_status: instance.testStatus,
                  last_tested_at: isoOrNull(instance.lastTestedAt),
                  tools
                }))
            })
          )
      }),
      define({
        name: "run_query",
        title: "Run a SQL query",
        description:
          "Runs one SQL query or DML statement on a database connection with positional parameters ($1, $2, …) and returns its columns and rows. DDL is refused.",
        input: ToolInputs.RunQuery,
        operation: "run_query",
        permission: "run-activity",
        readOnly: false,
        run: (args) =>
          activities
            .runQuery({
              instanceId: args.instance_id,
              sql: args.sql,
              maxRows: args.max_rows ?? defaultMaxRows,
              ...compact({ params: args.params, timeoutMillis: args.timeout_millis, reason: args.reason })
            })
            .pipe(
              Effect.map((result) =>
                json(
                  toJson({
                    columns: result.columns,
                    rows: result.rows,
                    row_count: result.rowCount,
                    truncated: result.truncated,
                    table_wide: result.tableWide
                  })
                )
              )
            )
      }),
      define({
        name: "get_schema",
        title: "Get a database's schema",
        description: "Lists the tables and views of a database connection with their columns and row estimates.",
        input: ToolInputs.GetSchema,
        operation: "get_schema",
        permission: "run-activity",
        readOnly: true,
        run: (args) =>
          activities.getSchema({ instanceId: args.instance_id, ...compact({ schemas: args.schemas }) }).pipe(
            Effect.map((schema) =>
              json({
                tables: schema.tables.map((table) => ({
                  schema: table.schema,
                  name: table.name,
                  kind: table.kind,
                  estimated_rows: table.estimatedRows,
                  fields: table.fields.map((field) => ({
                    name: field.name,
                    type: field.type,
                    nullable: field.nullable,
                    default: field.default,
                    primary_key: field.primaryKey
                  }))
                }))
              })
            )
          )
      }),
      define({
        name: "send_email",
        title: "Send an email",
        description: "Sends one email through a mail connection. Attachments carry base64 content.",
        input: ToolInputs.SendEmail,
        operation: "send_email",
        permission: "run-activity",
        readOnly: false,
        run: (args) =>
          activities
            .sendEmail({
              instanceId: args.instance_id,
              to: args.to ?? [],
              subject: args.subject,
              ...compact({
                from: args.from,
                cc: args.cc,
                bcc: args.bcc,
                text: args.text,
                html: args.html,
                attachments: args.attachments?.map((a) => ({
                  filename: a.filename,
                  content: a.content,
                  ...compact({ contentType: a.content_type })
                }))
              })
            })
            .pipe(
              Effect.map((receipt) =>
                json({ message_id: receipt.messageId, accepted: receipt.accepted, rejected: receipt.rejected })
              )
            )
      }),
      define({
        name: "fetch_file",
        title: "Fetch a file",
        description:
          "Downloads one file from an HTTP connection by path. Text comes back as text, other files as a base64 resource.",
        input: ToolInputs.FetchFile,
        operation: "fetch_file",
        permission: "run-activity",
        readOnly: true,
        run: (args) =>
          Effect.suspend(() => {
            const chunks: Array<Uint8Array> = []
            const sink = Sink.forEach((chunk: Uint8Array) => Effect.sync(() => chunks.push(chunk)))
            return activities
              .fetchFile(
                {
                  instanceId: args.instance_id,
                  path: args.path,
                  maxBytes: args.max_bytes ?? defaultMaxBytes,
                  ...compact({ timeoutMillis: args.timeout_millis })
                },
                sink
              )
              .pipe(
                Effect.map((file): Success => {
                  const bytes = Buffer.concat(chunks)
                  const mimeType = file.contentType ?? "application/octet-stream"
                  const uri = `patchbay://instances/${args.instance_id}${args.path}`
                  return {
                    structured: { path: args.path, content_type: file.contentType, bytes: file.bytes },
                    extra: [
                      textTypes.test(mimeType)
                        ? { type: "resource", resource: { uri, mimeType, text: new TextDecoder().decode(bytes) } }
                        : { type: "resource", resource: { uri, mimeType, blob: Encoding.encodeBase64(bytes) } }
                    ]
                  }
                })
              )
          })
      }),
      define({
        name: "send_sms",
        title: "Send a text message",
        description: "Sends one SMS through an SMS connection to an E.164 number.",
        input: ToolInputs.SendSms,
        operation: "send_sms",
        permission: "run-activity",
        readOnly: false,
        run: (args) =>
          activities
            .sendSms({ instanceId: args.instance_id, to: args.to, body: args.body, ...compact({ from: args.from }) })
            .pipe(Effect.map((receipt) => json({ id: receipt.id, status: receipt.status })))
      }),
      define({
        name: "test_connection",
        title: "Test a connection",
        description:
          "Tries a connection's credentials and records the outcome on it. A refused login marks the connection reconnect_required.",
        input: ToolInputs.TestConnection,
        operation: "test_connection",
        permission: "test",
        readOnly: false,
        run: (args) =>
          tester.testConnection(args.instance_id).pipe(
            Effect.map((result) =>
              json({
                instance_id: result.instanceId,
                status: result.status,
                message: result.message,
                tested_at: result.testedAt.toISOString(),
                failure: result.failure
              })
            )
          )
      })
    ]

    const byName = new Map(definitions.map((d) => [d.name as string, d]))
    /** The input schema with `instance_id` narrowed to the connections that offer the tool. */
    const scopedSchema = (
      definition: Entry,
      offering: ReadonlyArray<ConnectorInstance.InstanceView>
    ): Tool["inputSchema"] => {
      const schema = definition.inputSchema
      if (definition.operation === undefined) return schema
      const names = offering
        .slice(0, 50)
        .map((i) => `${i.id} = ${JSON.stringify(i.instanceName)} (${i.connectorKey})`)
        .join("; ")
      return {
        ...schema,
        properties: {
          ...schema.properties,
          instance_id: {
            type: "string",
            enum: offering.map((i) => i.id),
            description: `The connection to use: ${names}${offering.length > 50 ? "; … (see list_connections)" : ""}.`
          }
        }
      }
    }

    const list = Effect.fn("McpTools.list")(function* (principal: Authentication.Principal) {
      const found = yield* Effect.provideService(usable, Actor.Actor, principal.actor)
      const tools: Array<Tool> = []
      for (const definition of definitions) {
        if (!Permissions.allows(principal.role, definition.permission)) continue
        const offering = found.filter(({ tools }) => tools.includes(definition.name)).map(({ instance }) => instance)
        if (definition.operation !== undefined && offering.length === 0) continue
        tools.push({
          name: definition.name,
          title: definition.title,
          description: definition.description,
          inputSchema: scopedSchema(definition, offering),
          annotations: { title: definition.title, readOnlyHint: definition.readOnly, openWorldHint: true }
        })
      }
      return tools
    })

    const failed = (error: Failure): CallToolResult => {
      const body = toJson(ToolError.fromError(error))
      return { isError: true, content: [{ type: "text", text: JSON.stringify(body) }], structuredContent: body }
    }

    const call = Effect.fn("McpTools.call")(function* (
      principal: Authentication.Principal,
      name: string,
      args: unknown
    ) {
      const definition = byName.get(name)
      if (definition === undefined) return failed(new UnknownTool({ tool: name }))
      if (!Permissions.allows(principal.role, definition.permission)) {
        return failed(new PermissionDenied({ tool: definition.name, role: principal.role }))
      }
      return yield* definition.invoke(args ?? {}).pipe(
        Effect.provideService(Actor.Actor, principal.actor),
        Effect.match({
          onFailure: failed,
          onSuccess: (success): CallToolResult => ({
            content: [{ type: "text", text: JSON.stringify(success.structured) }, ...(success.extra ?? [])],
            structuredContent: success.structured
          })
        })
      )
    })

    return McpTools.of({ list, call })
  })
)
