/**
 * The MCP server over Streamable HTTP, mounted beside the API: `POST /mcp` in stateless mode (a
 * server per request, JSON responses), every request authenticated by the host's `Authentication`
 * and answered as its principal. `GET` and `DELETE` (server-sent streams and sessions, which a
 * stateless server does not keep) answer 405. A request from a browser page whose `Origin` is not
 * among `allowedOrigins` is refused with 403 before anything else (the MCP transport's guard against
 * DNS rebinding); clients outside a browser send no `Origin`.
 *
 * ```ts
 * const App = McpHttp.layer.pipe(Layer.provide([McpTools.layer, HostAuthentication]))
 * HttpLayerRouter.serve(App)
 * ```
 *
 * @since 0.1.0
 */
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"
import * as Authentication from "@patchbay/api/Authentication"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as McpServer from "./McpServer.js"
import type { McpTools } from "./McpTools.js"

/**
 * Options of `layerWith`.
 *
 * @since 0.1.0
 */
export interface Options {
  /** Where the endpoint is mounted (default `/mcp`). */
  readonly path?: `/${string}` | undefined
  /** Origins (`https://app.example.com`) whose pages may call the endpoint (default none). */
  readonly allowedOrigins?: ReadonlyArray<string> | undefined
}

const errorBody = (status: number, error: { readonly _tag: string; readonly message: string }, retryable: boolean) =>
  HttpServerResponse.unsafeJson({ _tag: error._tag, message: error.message, retryable }, { status })

const methodNotAllowed = HttpServerResponse.unsafeJson(
  {
    jsonrpc: "2.0",
    error: { code: -32000, message: "Method not allowed: this MCP server is stateless; POST requests only" },
    id: null
  },
  { status: 405, headers: { allow: "POST" } }
)

/**
 * Routes the MCP endpoint at `options.path` into the `HttpRouter`.
 *
 * @since 0.1.0
 */
export const layerWith = (
  options: Options = {}
): Layer.Layer<never, never, HttpLayerRouter.HttpRouter | Authentication.Authentication | McpTools> =>
  HttpLayerRouter.use((router) =>
    Effect.gen(function* () {
      const path = options.path ?? "/mcp"
      const allowedOrigins = new Set(options.allowedOrigins ?? [])
      const authentication = yield* Authentication.Authentication
      const context = yield* Effect.context<McpTools>()

      const handle = (request: HttpServerRequest.HttpServerRequest) =>
        Effect.gen(function* () {
          const origin = request.headers.origin
          if (origin !== undefined && !allowedOrigins.has(origin)) {
            return HttpServerResponse.unsafeJson(
              { _tag: "OriginForbidden", message: "Requests from this origin are not allowed", retryable: false },
              { status: 403 }
            )
          }
          const principal = yield* authentication.authenticate(request)
          const web = yield* HttpServerRequest.toWeb(request)
          const server = yield* McpServer.make(principal)
          const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true })
          yield* Effect.acquireRelease(
            Effect.tryPromise({
              try: () => server.connect(transport),
              catch: (cause) => new McpServer.TransportFailed({ detail: String(cause) })
            }),
            () => Effect.promise(() => server.close())
          )
          const response = yield* Effect.tryPromise({
            try: () => transport.handleRequest(web),
            catch: (cause) => new McpServer.TransportFailed({ detail: String(cause) })
          })
          return HttpServerResponse.fromWeb(response)
        }).pipe(
          Effect.scoped,
          Effect.provide(context),
          Effect.catchTags({
            Unauthenticated: (error) => Effect.succeed(errorBody(401, error, false)),
            RequestError: (error) => Effect.succeed(errorBody(400, error, false)),
            TransportFailed: (error) => Effect.succeed(errorBody(500, error, false))
          }),
          Effect.withSpan("McpHttp.request")
        )

      yield* router.add("POST", path, handle)
      yield* router.add("GET", path, methodNotAllowed)
      yield* router.add("DELETE", path, methodNotAllowed)
    })
  )

/**
 * The MCP endpoint at `/mcp`.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<never, never, HttpLayerRouter.HttpRouter | Authentication.Authentication | McpTools> =
  layerWith()
