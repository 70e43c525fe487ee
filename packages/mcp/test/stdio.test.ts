import { PassThrough } from "node:stream"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import type {} from "@patchbay/testing/globalSetup"
import { Effect, Fiber, Layer } from "effect"
import { inject } from "vitest"
import { McpStdio } from "../src/index.js"
import { PatchbayLive, principal } from "./fixtures.js"

const packageDir = fileURLToPath(new URL("..", import.meta.url))

describe("MCP over stdio", () => {
  it.effect(
    "serves a spawned process's tools to the MCP SDK's stdio client",
    () =>
      Effect.gen(function* () {
        const transport = new StdioClientTransport({
          command: process.execPath,
          args: ["--conditions=@patchbay/source", "--import", "tsx", "test/stdio-server.ts"],
          cwd: packageDir,
          env: { ...(process.env as Record<string, string>), PATCHBAY_TEST_DATABASE_URL: inject("databaseUrl") },
          stderr: "inherit"
        })
        const client = yield* Effect.acquireRelease(
          Effect.promise(async () => {
            const client = new Client({ name: "patchbay-mcp-stdio-test", version: "0.0.0" })
            await client.connect(transport)
            return client
          }),
          (client) => Effect.promise(() => client.close())
        )
        const { tools } = yield* Effect.promise(() => client.listTools())
        assert.include(
          tools.map((t) => t.name),
          "run_query"
        )
        const listed = (yield* Effect.promise(() =>
          client.callTool({ name: "list_connections", arguments: {} })
        )) as CallToolResult
        const warehouse = (
          listed.structuredContent as { connections: Array<{ instance_id: string; instance_name: string }> }
        ).connections.find((c) => c.instance_name === "warehouse")
        assert.isDefined(warehouse)
        const result = (yield* Effect.promise(() =>
          client.callTool({
            name: "run_query",
            arguments: { instance_id: warehouse!.instance_id, sql: "SELECT 6 * 7 AS answer" }
          })
        )) as CallToolResult
        assert.isNotTrue(result.isError)
        assert.strictEqual((result.structuredContent as { rows: Array<{ answer: number }> }).rows[0]!.answer, 42)
      }).pipe(Effect.scoped),
    120_000
  )

  it.effect("McpStdio.run completes when its stdin ends", () =>
    Effect.gen(function* () {
      const stdin = new PassThrough()
      const stdout = new PassThrough()
      const fiber = yield* Effect.fork(McpStdio.run(principal("agent-a"), { stdin, stdout }))
      yield* Effect.yieldNow()
      stdin.end()
      const exit = yield* Fiber.await(fiber)
      assert.strictEqual(exit._tag, "Success")
    }).pipe(Effect.provide(PatchbayLive.pipe(Layer.orDie)))
  )
})
