import { createServer } from "node:http"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import type {} from "@patchbay/testing/globalSetup"
import { Effect, Layer } from "effect"
import { inject } from "vitest"
import { McpHttp } from "../src/index.js"
import { BearerAuthentication, PatchbayLive, reconnectUrl, revokedPassword, seed, type Token } from "./fixtures.js"

const ServerLive = HttpLayerRouter.serve(McpHttp.layer, { disableLogger: true, disableListenLog: true }).pipe(
  Layer.provide(BearerAuthentication),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
  Layer.provideMerge(PatchbayLive)
)

/** The endpoint's URL on the running server. */
const endpoint = Effect.map(HttpServer.HttpServer, (server) => {
  const address = server.address
  if (address._tag !== "TcpAddress") throw new Error("the test server listens on TCP")
  return new URL(`http://127.0.0.1:${address.port}/mcp`)
})

/** An MCP SDK client connected as the principal of `token`, closed with the scope. */
const connect = (token: Token) =>
  Effect.flatMap(endpoint, (url) =>
    Effect.acquireRelease(
      Effect.promise(async () => {
        const client = new Client({ name: "patchbay-mcp-test", version: "0.0.0" })
        await client.connect(
          new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } })
        )
        return client
      }),
      (client) => Effect.promise(() => client.close())
    )
  )

const call = (client: Client, name: string, args: Record<string, unknown>) =>
  Effect.promise(() => client.callTool({ name, arguments: args }) as Promise<CallToolResult>)

/** The JSON text content of a result, parsed. */
const textOf = (result: CallToolResult): unknown => {
  const first = result.content[0]
  assert.strictEqual(first?.type, "text")
  return JSON.parse(first?.type === "text" ? first.text : "null")
}

describe("MCP over Streamable HTTP", () => {
  it.layer(ServerLive, { timeout: 120_000 })((it) => {
    const seeded = Effect.cached(seed(inject("databaseUrl")))
    const connections = Effect.runSync(seeded)

    it.effect("lists tools scoped to the agent: its organization's and workspace's connections only", () =>
      Effect.gen(function* () {
        const c = yield* connections
        const client = yield* connect("agent-a")
        const { tools } = yield* Effect.promise(() => client.listTools())
        assert.deepStrictEqual(tools.map((t) => t.name).sort(), [
          "get_schema",
          "list_connections",
          "run_query",
          "test_connection"
        ])
        const runQuery = tools.find((t) => t.name === "run_query")!
        const choices = (runQuery.inputSchema.properties?.instance_id as { enum: Array<string> }).enum
        assert.sameMembers(choices, [c.warehouse, c.agentDb, c.revokedDb, c.oauthDb])
        assert.notInclude(choices, c.ws2Db)
        assert.notInclude(choices, c.otherOrgDb)
        // The rest of the schema is derived from ToolInputs.RunQuery.
        assert.deepStrictEqual(runQuery.inputSchema.required, ["instance_id", "sql"])
        assert.deepInclude(runQuery.inputSchema.properties?.max_rows, { type: "integer", minimum: 1, maximum: 10_000 })

        const listed = yield* call(client, "list_connections", {})
        assert.isNotTrue(listed.isError)
        const names = (listed.structuredContent as { connections: Array<{ instance_name: string }> }).connections.map(
          (i) => i.instance_name
        )
        assert.sameMembers(names, ["warehouse", "agent-db", "revoked-db", "oauth-db"])

        const other = yield* connect("agent-b")
        const otherListed = yield* call(other, "list_connections", {})
        const otherNames = (otherListed.structuredContent as { connections: Array<{ instance_id: string }> })
          .connections
        assert.deepStrictEqual(
          otherNames.map((i) => i.instance_id),
          [c.otherOrgDb]
        )
      }).pipe(Effect.scoped)
    )

    it.effect("runs a query on the real PostgreSQL through run_query", () =>
      Effect.gen(function* () {
        const c = yield* connections
        const client = yield* connect("agent-a")
        const result = yield* call(client, "run_query", {
          instance_id: c.warehouse,
          sql: "SELECT $1::int + 1 AS answer, current_user AS who",
          params: [41]
        })
        assert.isNotTrue(result.isError)
        const body = result.structuredContent as { rows: Array<{ answer: number }>; row_count: number }
        assert.strictEqual(body.rows[0]!.answer, 42)
        assert.strictEqual(body.row_count, 1)
        assert.deepStrictEqual(textOf(result), body)
      }).pipe(Effect.scoped)
    )

    it.effect("resolves an agent's own credential as that agent, and no other agent's", () =>
      Effect.gen(function* () {
        const c = yield* connections
        const own = yield* call(yield* connect("agent-a"), "run_query", {
          instance_id: c.agentDb,
          sql: "SELECT current_database() AS db"
        })
        assert.isNotTrue(own.isError)
        assert.strictEqual((own.structuredContent as { rows: Array<{ db: string }> }).rows[0]!.db, "template1")

        const other = yield* call(yield* connect("agent-a2"), "run_query", {
          instance_id: c.agentDb,
          sql: "SELECT 1"
        })
        assert.isTrue(other.isError)
        assert.strictEqual((other.structuredContent as { _tag: string })._tag, "ReconnectRequired")
      }).pipe(Effect.scoped)
    )

    it.effect("returns ReconnectRequired as a structured tool error for a revoked credential, without its secret", () =>
      Effect.gen(function* () {
        const c = yield* connections
        const client = yield* connect("agent-a")
        const result = yield* call(client, "run_query", { instance_id: c.revokedDb, sql: "SELECT 1" })
        assert.isTrue(result.isError)
        const body = result.structuredContent as Record<string, unknown>
        assert.strictEqual(body._tag, "ReconnectRequired")
        assert.strictEqual(body.action, "replace_credentials")
        assert.strictEqual(body.code, "credential_missing")
        assert.strictEqual(body.retryable, false)
        assert.isNull(body.reconnect_url)
        assert.strictEqual(body.instance_name, "revoked-db")
        assert.deepStrictEqual(textOf(result), body)
        assert.notInclude(JSON.stringify(result), revokedPassword)

        // The connection is now marked for the person to act on, and the agent can see it.
        const waiting = yield* call(client, "list_connections", { status: "reconnect_required" })
        assert.include(
          (waiting.structuredContent as { connections: Array<{ instance_id: string }> }).connections.map(
            (i) => i.instance_id
          ),
          c.revokedDb
        )
      }).pipe(Effect.scoped)
    )

    it.effect("returns the reconnect URL when the OAuth2 grant was refused", () =>
      Effect.gen(function* () {
        const c = yield* connections
        const result = yield* call(yield* connect("agent-a"), "get_schema", { instance_id: c.oauthDb })
        assert.isTrue(result.isError)
        const body = result.structuredContent as Record<string, unknown>
        assert.strictEqual(body._tag, "ReconnectRequired")
        assert.strictEqual(body.action, "reconnect")
        assert.strictEqual(body.code, "refresh_refused")
        assert.strictEqual(body.reconnect_url, reconnectUrl)
        assert.strictEqual(body.retryable, false)
        assert.include(body.message as string, reconnectUrl)
      }).pipe(Effect.scoped)
    )

    it.effect("refuses invalid arguments, other organizations' connections and roles without the permission", () =>
      Effect.gen(function* () {
        const c = yield* connections
        const client = yield* connect("agent-a")
        const invalid = yield* call(client, "run_query", { instance_id: c.warehouse, sql: "", max_rows: 0 })
        assert.isTrue(invalid.isError)
        assert.strictEqual((invalid.structuredContent as { _tag: string })._tag, "InvalidInput")

        const foreign = yield* call(client, "run_query", { instance_id: c.otherOrgDb, sql: "SELECT 1" })
        assert.isTrue(foreign.isError)
        assert.strictEqual((foreign.structuredContent as { _tag: string })._tag, "ActivityRejected")

        const viewer = yield* connect("viewer-a")
        const { tools } = yield* Effect.promise(() => viewer.listTools())
        assert.deepStrictEqual(
          tools.map((t) => t.name),
          ["list_connections"]
        )
        const denied = yield* call(viewer, "run_query", { instance_id: c.warehouse, sql: "SELECT 1" })
        assert.isTrue(denied.isError)
        assert.strictEqual((denied.structuredContent as { _tag: string })._tag, "PermissionDenied")
      }).pipe(Effect.scoped)
    )

    it.effect("answers 401 to a request without a known principal", () =>
      Effect.gen(function* () {
        const url = yield* endpoint
        const response = yield* Effect.promise(() =>
          fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
          })
        )
        assert.strictEqual(response.status, 401)
        const body = (yield* Effect.promise(() => response.json())) as { _tag: string }
        assert.strictEqual(body._tag, "Unauthenticated")
      })
    )

    it.effect("refuses a browser page of an origin that is not allowed, even with a known principal", () =>
      Effect.gen(function* () {
        const url = yield* endpoint
        const response = yield* Effect.promise(() =>
          fetch(url, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              accept: "application/json, text/event-stream",
              authorization: "Bearer agent-a",
              origin: "http://evil.example"
            },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
          })
        )
        assert.strictEqual(response.status, 403)
        const body = (yield* Effect.promise(() => response.json())) as { _tag: string }
        assert.strictEqual(body._tag, "OriginForbidden")
      })
    )
  })
})
