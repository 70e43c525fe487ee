/**
 * The MCP server over stdio, for `patchbay mcp --stdio`: one fixed principal (stdio carries no
 * credentials of its own; the operator who starts the process chooses who it is), served on
 * stdin/stdout until stdin ends. stdout carries the protocol only, so while it runs Effect's default
 * logger writes to stderr.
 *
 * @since 0.1.0
 */

import type { Readable, Writable } from "node:stream"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import type * as Authentication from "@patchbay/api/Authentication"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as McpServer from "./McpServer.js"

/**
 * Options of `run`: the streams to serve on (default `process.stdin` and `process.stdout`).
 *
 * @since 0.1.0
 */
export interface Options {
  readonly stdin?: Readable | undefined
  readonly stdout?: Writable | undefined
}

/**
 * Serves `principal` over stdin/stdout; completes when stdin ends or the client closes the
 * connection, and closes the server when interrupted.
 *
 * @since 0.1.0
 */
export const run = Effect.fn("McpStdio.run")(
  function* (principal: Authentication.Principal, options: Options = {}) {
    const stdin = options.stdin ?? process.stdin
    const stdout = options.stdout ?? process.stdout
    const closed = yield* Deferred.make<void>()
    const server = yield* McpServer.make(principal)
    server.onclose = () => Deferred.unsafeDone(closed, Effect.void)
    const ended = () => Deferred.unsafeDone(closed, Effect.void)
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        stdin.once("end", ended)
        stdin.once("close", ended)
      }),
      () =>
        Effect.sync(() => {
          stdin.off("end", ended)
          stdin.off("close", ended)
        })
    )
    yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => server.connect(new StdioServerTransport(stdin, stdout)),
        catch: (cause) => new McpServer.TransportFailed({ detail: String(cause) })
      }),
      () => Effect.promise(() => server.close())
    )
    yield* Deferred.await(closed)
  },
  Effect.scoped,
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.defaultLogger)))
)
