/**
 * One MCP server (the SDK's low-level `Server`) for one principal: `tools/list` and `tools/call`
 * answered by `McpTools` as that principal. The transports (`McpHttp`, `McpStdio`) connect it.
 *
 * @since 0.1.0
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js"
import type * as Authentication from "@patchbay/api/Authentication"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import { McpTools } from "./McpTools.js"

/**
 * The server's name and version in the MCP handshake.
 *
 * @since 0.1.0
 */
export const serverInfo = { name: "patchbay", version: "0.1.0" } as const

const instructions =
  "Patchbay connections for this agent. Call list_connections first; pass a connection's instance_id to the other tools. " +
  "A failed call returns isError with a JSON body: _tag, message, retryable; ReconnectRequired also carries action " +
  "and reconnect_url, which a person must follow before the connection works again."

/**
 * A transport failed to start or stop.
 *
 * @since 0.1.0
 */
export class TransportFailed extends Schema.TaggedError<TransportFailed>("@patchbay/mcp/TransportFailed")(
  "TransportFailed",
  { detail: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return `The MCP transport failed: ${this.detail}`
  }
}

/**
 * A server that answers as `principal`. Each request runs as an Effect on the calling fiber's
 * runtime and is interrupted when the client cancels it.
 *
 * @since 0.1.0
 */
export const make = Effect.fn("McpServer.make")(function* (principal: Authentication.Principal) {
  const tools = yield* McpTools
  const runtime = yield* Effect.runtime<never>()
  const run = async <A, E extends { readonly message: string }>(
    effect: Effect.Effect<A, E>,
    signal: AbortSignal
  ): Promise<A> => {
    const exit = await Runtime.runPromiseExit(runtime, effect, { signal })
    if (Exit.isSuccess(exit)) return exit.value
    // The SDK answers a rejected handler with a JSON-RPC error carrying this code and message.
    const failure = Cause.failureOption(exit.cause)
    throw new McpError(
      ErrorCode.InternalError,
      failure._tag === "Some" ? failure.value.message : "the request was interrupted or failed unexpectedly"
    )
  }
  const server = new Server(serverInfo, { capabilities: { tools: { listChanged: false } }, instructions })
  server.setRequestHandler(ListToolsRequestSchema, (_request, extra) =>
    run(
      Effect.map(tools.list(principal), (list) => ({ tools: [...list] })),
      extra.signal
    )
  )
  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    run(tools.call(principal, request.params.name, request.params.arguments), extra.signal)
  )
  return server
})
