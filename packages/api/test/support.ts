import { createServer } from "node:http"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { PostgresConnector } from "@patchbay/connector-postgres"
import { SmtpConnector } from "@patchbay/connector-smtp"
import type { ConnectorDriver } from "@patchbay/core"
import { OAuth2, OAuth2Clients } from "@patchbay/oauth2"
import { Patchbay } from "@patchbay/preset"
import { SqlStore } from "@patchbay/store-sql"
import type {} from "@patchbay/testing/globalSetup"
import { Effect, Layer, Redacted } from "effect"
import { inject } from "vitest"
import { ApiRoutes, Authentication, PatchbayClient, type Permissions } from "../src/index.js"

export const database = new URL(inject("databaseUrl"))
export const orgId = "0190a000-0000-7000-8000-0000000000a1"
export const otherOrgId = "0190a000-0000-7000-8000-0000000000b2"
export const workspaceId = "0190a000-0000-7000-8000-0000000000d4"
export const userIds = {
  viewer: "0190a000-0000-7000-8000-0000000000c1",
  member: "0190a000-0000-7000-8000-0000000000c2",
  admin: "0190a000-0000-7000-8000-0000000000c3"
} as const

/** One bearer token per role in the test organization, and an admin of another organization. */
export const tokens = {
  viewer: "viewer-token-1f4e",
  member: "member-token-8a2c",
  admin: "admin-token-77d0",
  outsider: "outsider-token-5b91"
} as const
export type Caller = keyof typeof tokens

const authentication = Authentication.layerBearerTokens([
  ...(["viewer", "member", "admin"] as const).map((role) => ({
    token: Redacted.make(tokens[role]),
    principal: { actor: { orgId, userId: userIds[role], ...(role === "admin" ? { workspaceId } : {}) }, role }
  })),
  {
    token: Redacted.make(tokens.outsider),
    principal: { actor: { orgId: otherOrgId }, role: "admin" as Permissions.Role }
  }
])

/** What a test server is made of besides its store. */
export interface ServerOptions {
  readonly connectors?: ReadonlyArray<ConnectorDriver.Connector> | undefined
  readonly clients?: Layer.Layer<OAuth2Clients.OAuth2Clients> | undefined
  readonly oauth2?: OAuth2.Options | undefined
  readonly routes?: ApiRoutes.Options | undefined
}

/** Patchbay on a store with the Postgres and SMTP connectors (and any others) and OAuth2. */
const patchbay = <E>(store: Layer.Layer<Patchbay.StoreServices, E>, options: ServerOptions) =>
  Patchbay.layer({
    store,
    connectors: [PostgresConnector.connector, SmtpConnector.connector, ...(options.connectors ?? [])],
    keys: "ephemeral",
    egress: { allowLoopback: true },
    refresher: OAuth2.layer(options.oauth2).pipe(Layer.provide(options.clients ?? OAuth2Clients.layer()))
  })

/** The API on a store, served on 127.0.0.1 on a free port; the tests may use Patchbay's services too. */
export const serverOn = <E>(store: Layer.Layer<Patchbay.StoreServices, E>, options: ServerOptions = {}) =>
  HttpLayerRouter.serve(ApiRoutes.layer(options.routes), {
    disableListenLog: true,
    disableLogger: true
  }).pipe(
    Layer.provide(authentication),
    Layer.provideMerge(patchbay(store, options)),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(FetchHttpClient.layer)
  )

/** The API on the memory store. */
export const ServerLive = serverOn(Patchbay.layerMemory)

/** The API on `SqlStore` on the run's throwaway PostgreSQL. */
export const ServerOnPostgres = serverOn(SqlStore.layerPg({ url: Redacted.make(inject("databaseUrl")) }))

/** The server's origin. */
export const baseUrl = Effect.map(HttpServer.HttpServer, (server) =>
  server.address._tag === "TcpAddress" ? `http://127.0.0.1:${server.address.port}` : "http://unix"
)

/** The typed client, as a caller. */
export const clientAs = (caller: Caller) =>
  Effect.flatMap(baseUrl, (url) => PatchbayClient.make(url, { token: Redacted.make(tokens[caller]) }))

/**
 * A response body as the tests read it: any shape, which the assertions check field by field.
 */
// biome-ignore lint/suspicious/noExplicitAny: bodies are read field by field and every read is asserted
export type Json = any

/** A plain HTTP call with `fetch`, as a caller (or anonymous). */
export const call = (
  method: string,
  path: string,
  options: {
    readonly as?: Caller | undefined
    readonly token?: string | undefined
    readonly body?: unknown
    readonly headers?: Readonly<Record<string, string>> | undefined
  } = {}
) =>
  Effect.flatMap(baseUrl, (url) =>
    Effect.promise(async () => {
      const headers: Record<string, string> = { ...options.headers }
      const token = options.as === undefined ? options.token : tokens[options.as]
      if (token !== undefined) headers.authorization = `Bearer ${token}`
      if (options.body !== undefined) headers["content-type"] = "application/json"
      const response = await fetch(`${url}${path}`, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) })
      })
      const text = await response.text()
      let json: Json = null
      try {
        json = text.length > 0 ? JSON.parse(text) : null
      } catch {
        json = null
      }
      return { status: response.status, text, json, contentType: response.headers.get("content-type") }
    })
  )

/** The test database as instance configuration and credentials. */
export const databaseConfiguration = {
  host: database.hostname,
  port: Number(database.port),
  database: database.pathname.slice(1),
  ssl_mode: "disable"
}
export const databaseCredentials = {
  username: decodeURIComponent(database.username),
  password: decodeURIComponent(database.password)
}

export { Patchbay }
