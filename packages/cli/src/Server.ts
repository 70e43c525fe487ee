/**
 * The standalone Patchbay server that `patchbay serve` runs: the HTTP API (with `/openapi.json`
 * and the reference page at `/docs`), the MCP endpoint at `/mcp` and the Connect UI at `/`, over
 * the services a Patchbay layer provides, on one Node HTTP server; and the webhook worker, which
 * delivers lifecycle events to the subscriptions made through the API.
 *
 * It is single-operator: every request is the one principal given (an organization administrator
 * by default), so it listens on 127.0.0.1 unless told otherwise. A multi-user host mounts the same
 * route layers in its own server with its own `Authentication`.
 *
 * @since 0.1.0
 */

import { createServer } from "node:http"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { ApiRoutes, Authentication } from "@patchbay/api"
import { ConnectUi } from "@patchbay/connect-ui"
import { McpHttp, McpTools } from "@patchbay/mcp"
import { OAuth2, OAuth2Clients } from "@patchbay/oauth2"
import type { Patchbay } from "@patchbay/preset"
import { WebhookWorker } from "@patchbay/webhooks"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"

/**
 * Options of `layer`.
 *
 * @since 0.1.0
 */
export interface Options {
  /** Port to listen on (0: any free port). */
  readonly port: number
  /** Address to listen on (default 127.0.0.1). */
  readonly host?: string | undefined
  /** The origin people reach the server at, for OAuth2 callbacks (default: from the request). */
  readonly publicUrl?: string | undefined
  /** Who every request is. */
  readonly principal: typeof Authentication.Principal.Encoded
  /** Runs once the server listens, with its address (the port chosen for port 0). */
  readonly onListening?: ((address: HttpServer.Address) => Effect.Effect<void>) | undefined
  /** How often the webhook worker fans out and delivers (default 5 seconds). */
  readonly webhookInterval?: Duration.DurationInput | undefined
}

/**
 * The refresher a served Patchbay uses: `@patchbay/oauth2`'s, with tenants' own OAuth2 clients
 * (no host registration), exposing `OAuth2` for the surfaces' sign-in flows.
 *
 * @since 0.1.0
 */
export const refresher = (options: OAuth2.Options = {}) =>
  OAuth2.layer(options).pipe(Layer.provide(OAuth2Clients.layer()))

/**
 * The surfaces' routes, served on a Node HTTP server, over `patchbay`'s services.
 *
 * @since 0.1.0
 */
export const layer = <E, R>(options: Options, patchbay: Layer.Layer<Patchbay.Services | OAuth2.OAuth2, E, R>) => {
  const surfaces = { publicUrl: options.publicUrl }
  const routes = Layer.mergeAll(
    ApiRoutes.layer(surfaces),
    McpHttp.layer.pipe(Layer.provide(McpTools.layer)),
    ConnectUi.layer(surfaces)
  )
  const listening = Layer.effectDiscard(
    Effect.flatMap(HttpServer.HttpServer, (server) => options.onListening?.(server.address) ?? Effect.void)
  )
  const webhooks = WebhookWorker.layer(Schedule.spaced(options.webhookInterval ?? Duration.seconds(5)))
  return Layer.mergeAll(HttpLayerRouter.serve(routes), listening, webhooks).pipe(
    Layer.provide(Authentication.layerStatic(options.principal)),
    Layer.provide(patchbay),
    Layer.provide(NodeHttpServer.layer(createServer, { port: options.port, host: options.host ?? "127.0.0.1" }))
  )
}
