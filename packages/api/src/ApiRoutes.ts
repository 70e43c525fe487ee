/**
 * The HTTP API's handlers, registered into an `HttpLayerRouter.HttpRouter`: the `PatchbayApi`
 * endpoints under `/api/v1`, its OpenAPI 3.1 document at `/openapi.json` and an API reference page
 * at `/docs` (Scalar, its script served from `@effect/platform`: no CDN). The layer holds no
 * server: a host adds it to its own router, or serves it with `HttpLayerRouter.serve`.
 *
 * @since 0.1.0
 */
import type * as Etag from "@effect/platform/Etag"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiScalar from "@effect/platform/HttpApiScalar"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import type * as HttpPlatform from "@effect/platform/HttpPlatform"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as Path from "@effect/platform/Path"
import { Activities } from "@patchbay/activities"
import { Actor, ConnectorInstances, ConnectorRegistry, DomainError, WebhookStore } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { OAuth2 } from "@patchbay/oauth2"
import { ConnectionTester } from "@patchbay/testers"
import { WebhookSubscriptions } from "@patchbay/webhooks"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Sink from "effect/Sink"
import * as ApiError from "./ApiError.js"
import type * as ApiModels from "./ApiModels.js"
import { Authentication } from "./Authentication.js"
import { mapErrors, type ServiceFailure } from "./internal/errors.js"
import * as Wire from "./internal/wire.js"
import { Authenticated, CurrentPrincipal, PatchbayApi } from "./PatchbayApi.js"
import * as Permissions from "./Permissions.js"

/**
 * Options of `layer`.
 *
 * @since 0.1.0
 */
export interface Options {
  /**
   * The server's public origin (`https://patchbay.example.com`), for the OAuth2 redirect URI and
   * for reading callback URLs. Default: `http://` and the request's `Host` header.
   */
  readonly publicUrl?: string | undefined
  /**
   * The redirect URI registered with the authorization servers, when it is not this server's own
   * `/api/v1/oauth2/callback` (a proxy in front forwards it there): authorizations start with it and
   * callbacks complete against it. Default: `publicUrl` + `/api/v1/oauth2/callback`.
   */
  readonly redirectUri?: string | undefined
  /** Where the OpenAPI document is served (default `/openapi.json`). */
  readonly openapiPath?: `/${string}` | undefined
  /** Where the API reference page is served (default `/docs`). */
  readonly docsPath?: `/${string}` | undefined
}

/**
 * The Patchbay services the handlers call.
 *
 * @since 0.1.0
 */
export type Services =
  | ConnectorRegistry.ConnectorRegistry
  | ConnectorInstances.ConnectorInstances
  | CredentialVault.CredentialVault
  | ConnectionTester.ConnectionTester
  | Activities.Activities
  | OAuth2.OAuth2
  | WebhookSubscriptions.WebhookSubscriptions

/**
 * What `HttpLayerRouter.addHttpApi` needs from the platform (`NodeHttpServer.layer` provides it).
 *
 * @since 0.1.0
 */
export type PlatformServices = Etag.Generator | FileSystem.FileSystem | HttpPlatform.HttpPlatform | Path.Path

/**
 * Runs `effect` as the current principal's actor when its role allows `action`; 403 `Forbidden`
 * otherwise. Service failures become API errors.
 *
 * @since 0.1.0
 */
export const authorize =
  (action: Permissions.Action) =>
  <A, R>(
    effect: Effect.Effect<A, ServiceFailure, R>
  ): Effect.Effect<A, ApiError.ApiError, Exclude<R, Actor.Actor> | CurrentPrincipal> =>
    Effect.flatMap(CurrentPrincipal, (principal) =>
      Permissions.allows(principal.role, action)
        ? effect.pipe(mapErrors, Effect.provideService(Actor.Actor, principal.actor))
        : Effect.fail(
            new ApiError.Forbidden({
              message: `The ${principal.role} role may not ${action.replaceAll("-", " ")}`,
              retryable: false,
              role: principal.role,
              action
            })
          )
    )

/** The action that writes credentials of a scope type. */
const credentialWrite = (scopeType: string): Permissions.Action =>
  scopeType === "user" || scopeType === "agent" ? "write-user-credential" : "write-shared-credential"

const currentActor = Effect.map(CurrentPrincipal, (principal) => principal.actor)

/** The origin the request reached: the configured public URL, or `http://` and its `Host`. */
const originOf = (options: Options, request: HttpServerRequest.HttpServerRequest): string =>
  options.publicUrl?.replace(/\/+$/, "") ?? `http://${request.headers.host ?? "localhost"}`

const callbackPath = "/api/v1/oauth2/callback"

/** The redirect URI authorizations start with and callbacks complete against. */
const redirectUriOf = (options: Options, request: HttpServerRequest.HttpServerRequest): string =>
  options.redirectUri ?? `${originOf(options, request)}${callbackPath}`

/** The callback URL as the authorization server sent it: the redirect URI with the request's query. */
const callbackUrlOf = (options: Options, request: HttpServerRequest.HttpServerRequest): string => {
  const url = new URL(redirectUriOf(options, request))
  url.search = new URL(request.url, "http://callback").search
  return url.href
}

/** The `Idempotency-Key` header as the services' `idempotencyKey`. */
const idempotency = (headers: { readonly "idempotency-key"?: string | undefined }) =>
  headers["idempotency-key"] === undefined ? {} : { idempotencyKey: headers["idempotency-key"] }

const ConnectorsLive = HttpApiBuilder.group(PatchbayApi, "connectors", (handlers) =>
  Effect.gen(function* () {
    const registry = yield* ConnectorRegistry.ConnectorRegistry
    return handlers
      .handle("list", () => authorize("read")(Effect.succeed(registry.list.map(Wire.connector))))
      .handle("get", ({ path }) => authorize("read")(Effect.map(registry.get(path.connector_id), Wire.connectorDetail)))
  })
)

const InstancesLive = HttpApiBuilder.group(PatchbayApi, "connectorInstances", (handlers) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const setEnabled = (id: string, isEnabled: boolean) =>
      authorize("write-instance")(instances.update(id, { isEnabled }))
    return handlers
      .handle("create", ({ headers, payload }) =>
        authorize("write-instance")(
          instances.create({
            ...idempotency(headers),
            connector: payload.connectorId,
            instanceName: payload.instanceName,
            ...(payload.description === undefined ? {} : { description: payload.description }),
            ...(payload.workspaceId === undefined ? {} : { workspaceId: payload.workspaceId }),
            ...(payload.configuration === undefined ? {} : { configuration: payload.configuration }),
            ...(payload.authType === undefined ? {} : { authType: payload.authType })
          })
        )
      )
      .handle("list", ({ urlParams }) =>
        authorize("read")(
          instances.list({
            ...(urlParams.connectorId === undefined ? {} : { connector: urlParams.connectorId }),
            ...(urlParams.workspaceId === undefined
              ? {}
              : { workspaceId: urlParams.workspaceId === "null" ? null : urlParams.workspaceId }),
            ...(urlParams.isEnabled === undefined ? {} : { isEnabled: urlParams.isEnabled }),
            ...(urlParams.status === undefined ? {} : { status: urlParams.status }),
            ...(urlParams.limit === undefined ? {} : { limit: urlParams.limit }),
            ...(urlParams.cursor === undefined ? {} : { cursor: urlParams.cursor })
          })
        )
      )
      .handle("get", ({ path }) => authorize("read")(instances.get(path.instance_id)))
      .handle("update", ({ path, payload }) =>
        authorize("write-instance")(
          instances.update(path.instance_id, {
            ...(payload.instanceName === undefined ? {} : { instanceName: payload.instanceName }),
            ...(payload.description === undefined ? {} : { description: payload.description }),
            ...(payload.configuration === undefined ? {} : { configuration: payload.configuration }),
            ...(payload.isEnabled === undefined ? {} : { isEnabled: payload.isEnabled })
          })
        )
      )
      .handle("enable", ({ path }) => setEnabled(path.instance_id, true))
      .handle("disable", ({ path }) => setEnabled(path.instance_id, false))
      .handle("delete", ({ path }) => authorize("delete")(instances.delete(path.instance_id)))
  })
)

const CredentialsLive = HttpApiBuilder.group(PatchbayApi, "credentials", (handlers) =>
  Effect.gen(function* () {
    const vault = yield* CredentialVault.CredentialVault
    const oauth2 = yield* OAuth2.OAuth2
    return handlers
      .handle("create", ({ headers, path, payload }) =>
        authorize(credentialWrite(payload.scopeType))(
          Effect.gen(function* () {
            const scope = yield* Wire.scopeOf(yield* currentActor, payload)
            if (scope === undefined) return yield* new DomainError.InvalidInput({ detail: "scope_type is required" })
            const metadata = yield* vault.create({
              ...idempotency(headers),
              instanceId: path.instance_id,
              scope,
              credentials: payload.credentials,
              ...(payload.credentialMetadata === undefined ? {} : { labels: payload.credentialMetadata }),
              ...(payload.expiresAt === undefined ? {} : { expiresAt: payload.expiresAt })
            })
            return Wire.credential(metadata)
          })
        )
      )
      .handle("list", ({ path }) =>
        authorize("read")(Effect.map(vault.list(path.instance_id), (versions) => versions.map(Wire.credential)))
      )
      .handle("revoke", ({ path }) =>
        Effect.gen(function* () {
          const versions = yield* authorize("read")(vault.list(path.instance_id))
          const version = versions.find((v) => v.id === path.credential_id)
          if (version === undefined) {
            return yield* new ApiError.CredentialNotFound({
              message: `No credential ${path.credential_id} exists for instance ${path.instance_id}`,
              retryable: false
            })
          }
          return yield* authorize(credentialWrite(version.scope.type))(
            Effect.map(vault.revoke(version.id), Wire.credential)
          )
        })
      )
      .handle("listExpiring", ({ urlParams }) =>
        authorize("read")(
          Effect.map(oauth2.listExpiring({ daysAhead: urlParams.daysAhead }), (items) =>
            items.map(({ scope, ...rest }) => ({ ...rest, scopeType: scope.type, scopeId: scope.id }))
          )
        )
      )
  })
)

const OperationsLive = HttpApiBuilder.group(PatchbayApi, "operations", (handlers) =>
  Effect.gen(function* () {
    const tester = yield* ConnectionTester.ConnectionTester
    const activities = yield* Activities.Activities
    return handlers
      .handle("testConnection", ({ path, payload }) =>
        authorize("test")(
          Effect.gen(function* () {
            const scope = yield* Wire.scopeOf(yield* currentActor, payload)
            return yield* tester.testConnection(path.instance_id, scope === undefined ? {} : { scope })
          })
        )
      )
      .handle("healthCheck", ({ path, payload }) =>
        authorize("test")(
          Effect.gen(function* () {
            const scope = yield* Wire.scopeOf(yield* currentActor, payload)
            return yield* tester.healthCheck(path.instance_id, {
              ...(scope === undefined ? {} : { scope }),
              ...(payload.timeoutSeconds === undefined ? {} : { timeout: payload.timeoutSeconds * 1000 })
            })
          })
        )
      )
      .handle("bulkOperation", ({ payload }) =>
        authorize("test")(
          Effect.map(
            tester.bulkOperation({
              instanceIds: payload.instanceIds,
              action: payload.action,
              ...(payload.timeoutSeconds === undefined ? {} : { timeout: payload.timeoutSeconds * 1000 })
            }),
            (results) => results.map(Wire.bulkResult)
          )
        )
      )
      .handle("getSchema", ({ path, urlParams }) =>
        authorize("run-activity")(
          Effect.gen(function* () {
            const scope = yield* Wire.scopeOf(yield* currentActor, urlParams)
            return yield* activities.getSchema({
              instanceId: path.instance_id,
              ...(scope === undefined ? {} : { scope }),
              ...(urlParams.schemas === undefined
                ? {}
                : {
                    schemas: urlParams.schemas
                      .split(",")
                      .map((s) => s.trim())
                      .filter((s) => s.length > 0)
                  })
            })
          })
        )
      )
      .handle("executeDdl", ({ path, payload }) =>
        authorize("execute-ddl")(
          Effect.gen(function* () {
            const scope = yield* Wire.scopeOf(yield* currentActor, payload)
            const result = yield* activities.executeDdl({
              instanceId: path.instance_id,
              ...(scope === undefined ? {} : { scope }),
              sql: payload.sql,
              confirm: payload.confirm,
              ...(payload.reason === undefined ? {} : { reason: payload.reason })
            })
            return { ...result, preview: Wire.ddlPreview(result) }
          })
        )
      )
  })
)

const OAuth2Live = (options: Options) =>
  HttpApiBuilder.group(PatchbayApi, "oauth2", (handlers) =>
    Effect.gen(function* () {
      const oauth2 = yield* OAuth2.OAuth2
      const instances = yield* ConnectorInstances.ConnectorInstances
      const start = (
        instanceId: string,
        payload: typeof ApiModels.Authorize.Type,
        request: HttpServerRequest.HttpServerRequest
      ) =>
        Effect.gen(function* () {
          const scope = yield* Wire.scopeOf(yield* currentActor, payload)
          const started = yield* oauth2.startAuthorization({
            instanceId,
            ...(scope === undefined ? {} : { scope }),
            redirectUri: payload.redirectUri ?? redirectUriOf(options, request),
            ...(payload.scopes === undefined ? {} : { scopes: payload.scopes })
          })
          return { authorizationUrl: started.url, expiresAt: started.expiresAt }
        })
      return handlers
        .handle("authorize", ({ path, payload, request }) =>
          authorize(credentialWrite(payload.scopeType ?? "organization"))(start(path.instance_id, payload, request))
        )
        .handle("callback", ({ request }) =>
          authorize("write-user-credential")(
            Effect.map(oauth2.completeAuthorization(callbackUrlOf(options, request)), Wire.credential)
          )
        )
        .handle("reconnect", ({ path, payload, request }) =>
          authorize(credentialWrite(payload.scopeType ?? "organization"))(
            Effect.gen(function* () {
              const instance = yield* instances.get(path.instance_id)
              if (instance.authType !== "oauth2_authorization_code") {
                return { action: "replace_credentials" as const, authorizationUrl: null, expiresAt: null }
              }
              const started = yield* start(path.instance_id, payload, request)
              return { action: "reconnect" as const, ...started }
            })
          )
        )
    })
  )

/** Fetch File returns the file in the JSON body: 5 MiB by default, 25 MiB at most. */
const defaultFileBytes = 5 * 1024 * 1024
const maxFileBytes = 25 * 1024 * 1024

/** Collects a fetched file's bytes. */
const collectBytes = () => {
  const chunks: Array<Uint8Array> = []
  const sink = Sink.forEach((chunk: Uint8Array) => Effect.sync(() => chunks.push(chunk)))
  const bytes = () => {
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
    let at = 0
    for (const chunk of chunks) {
      out.set(chunk, at)
      at += chunk.length
    }
    return out
  }
  return { sink, bytes }
}

const ActivitiesLive = HttpApiBuilder.group(PatchbayApi, "activities", (handlers) =>
  Effect.gen(function* () {
    const activities = yield* Activities.Activities
    const target = (instanceId: string, fields: Parameters<typeof Wire.scopeOf>[1]) =>
      Effect.map(
        Effect.flatMap(currentActor, (actor) => Wire.scopeOf(actor, fields)),
        (scope) => ({ instanceId, ...(scope === undefined ? {} : { scope }) })
      )
    return handlers
      .handle("runQuery", ({ path, payload }) =>
        authorize("run-activity")(
          Effect.gen(function* () {
            const result = yield* activities.runQuery({
              ...(yield* target(path.instance_id, payload)),
              sql: payload.sql,
              ...(payload.params === undefined ? {} : { params: payload.params }),
              ...(payload.maxRows === undefined ? {} : { maxRows: payload.maxRows }),
              ...(payload.timeoutMs === undefined ? {} : { timeoutMillis: payload.timeoutMs }),
              ...(payload.reason === undefined ? {} : { reason: payload.reason })
            })
            return result
          })
        )
      )
      .handle("sendEmail", ({ path, payload }) =>
        authorize("run-activity")(
          Effect.gen(function* () {
            return yield* activities.sendEmail({
              ...(yield* target(path.instance_id, payload)),
              ...(payload.from === undefined ? {} : { from: payload.from }),
              to: payload.to ?? [],
              ...(payload.cc === undefined ? {} : { cc: payload.cc }),
              ...(payload.bcc === undefined ? {} : { bcc: payload.bcc }),
              subject: payload.subject,
              ...(payload.text === undefined ? {} : { text: payload.text }),
              ...(payload.html === undefined ? {} : { html: payload.html }),
              ...(payload.attachments === undefined
                ? {}
                : {
                    attachments: payload.attachments.map((a) => ({
                      filename: a.filename,
                      content: a.content,
                      ...(a.contentType === undefined ? {} : { contentType: a.contentType })
                    }))
                  })
            })
          })
        )
      )
      .handle("fetchFile", ({ path, payload }) =>
        authorize("run-activity")(
          Effect.gen(function* () {
            const maxBytes = payload.maxBytes ?? defaultFileBytes
            if (maxBytes > maxFileBytes) {
              return yield* new DomainError.InvalidInput({
                detail: `max_bytes must be at most ${maxFileBytes} (the file comes back in the JSON body)`
              })
            }
            const collected = collectBytes()
            const file = yield* activities.fetchFile(
              {
                ...(yield* target(path.instance_id, payload)),
                path: payload.path,
                maxBytes,
                ...(payload.timeoutMs === undefined ? {} : { timeoutMillis: payload.timeoutMs })
              },
              collected.sink
            )
            return {
              contentType: file.contentType,
              bytes: file.bytes,
              contentBase64: Encoding.encodeBase64(collected.bytes())
            }
          })
        )
      )
      .handle("sendSms", ({ path, payload }) =>
        authorize("run-activity")(
          Effect.gen(function* () {
            return yield* activities.sendSms({
              ...(yield* target(path.instance_id, payload)),
              to: payload.to,
              ...(payload.from === undefined ? {} : { from: payload.from }),
              body: payload.body
            })
          })
        )
      )
  })
)

const decodeSubscriptionId = Schema.decodeUnknownOption(WebhookStore.SubscriptionId)
const decodeDeliveryId = Schema.decodeUnknownOption(WebhookStore.DeliveryId)

/** A path's subscription id; one that is not a UUID names no subscription. */
const subscriptionId = (id: string) =>
  Option.match(decodeSubscriptionId(id), {
    onNone: () => Effect.fail(new WebhookSubscriptions.SubscriptionNotFound({ subscriptionId: id })),
    onSome: Effect.succeed
  })

const WebhooksLive = HttpApiBuilder.group(PatchbayApi, "webhooks", (handlers) =>
  Effect.gen(function* () {
    const webhooks = yield* WebhookSubscriptions.WebhookSubscriptions
    const manage = authorize("manage-webhooks")
    const withSecret = (created: WebhookSubscriptions.WithSecret) => ({
      subscription: Wire.webhookSubscription(created.subscription),
      secret: created.secret
    })
    return handlers
      .handle("create", ({ payload }) =>
        manage(
          Effect.map(
            webhooks.create({
              url: payload.url,
              ...(payload.eventTypes === undefined ? {} : { eventTypes: payload.eventTypes })
            }),
            withSecret
          )
        )
      )
      .handle("list", () => manage(Effect.map(webhooks.list, (items) => items.map(Wire.webhookSubscription))))
      .handle("get", ({ path }) =>
        manage(Effect.map(Effect.flatMap(subscriptionId(path.subscription_id), webhooks.get), Wire.webhookSubscription))
      )
      .handle("update", ({ path, payload }) =>
        manage(
          Effect.flatMap(subscriptionId(path.subscription_id), (id) =>
            Effect.map(
              webhooks.update(id, {
                ...(payload.url === undefined ? {} : { url: payload.url }),
                ...(payload.eventTypes === undefined ? {} : { eventTypes: payload.eventTypes }),
                ...(payload.enabled === undefined ? {} : { enabled: payload.enabled })
              }),
              Wire.webhookSubscription
            )
          )
        )
      )
      .handle("delete", ({ path }) => manage(Effect.flatMap(subscriptionId(path.subscription_id), webhooks.remove)))
      .handle("rotateSecret", ({ path, payload }) =>
        manage(
          Effect.flatMap(subscriptionId(path.subscription_id), (id) =>
            Effect.map(
              webhooks.rotateSecret(
                id,
                payload.overlapSeconds === undefined ? {} : { overlap: `${payload.overlapSeconds} seconds` }
              ),
              withSecret
            )
          )
        )
      )
      .handle("listDeliveries", ({ path, urlParams }) =>
        manage(
          Effect.gen(function* () {
            // 404 for a subscription the organization does not have, rather than an empty list.
            const subscription = yield* webhooks.get(yield* subscriptionId(path.subscription_id))
            const deliveries = yield* webhooks.deliveries({
              subscriptionId: subscription.id,
              ...(urlParams.status === undefined ? {} : { status: urlParams.status }),
              ...(urlParams.limit === undefined ? {} : { limit: urlParams.limit })
            })
            return deliveries.map(Wire.webhookDelivery)
          })
        )
      )
      .handle("redeliver", ({ path }) =>
        manage(
          Option.match(decodeDeliveryId(path.delivery_id), {
            onNone: () => Effect.fail(new WebhookSubscriptions.DeliveryNotFound({ deliveryId: path.delivery_id })),
            onSome: (id) => Effect.map(webhooks.redeliver(id), Wire.webhookDelivery)
          })
        )
      )
  })
)

/**
 * The `Authenticated` middleware on the host's `Authentication`.
 *
 * @since 0.1.0
 */
export const layerAuthenticated: Layer.Layer<Authenticated, never, Authentication> = Layer.effect(
  Authenticated,
  Effect.map(Authentication, (authentication) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, authentication.authenticate)
  )
)

/**
 * Registers the API, its OpenAPI document and its reference page into the `HttpRouter`.
 *
 * @since 0.1.0
 */
export const layer = (
  options: Options = {}
): Layer.Layer<never, never, HttpLayerRouter.HttpRouter | Authentication | Services | PlatformServices> =>
  Layer.mergeAll(
    HttpLayerRouter.addHttpApi(PatchbayApi, { openapiPath: options.openapiPath ?? "/openapi.json" }).pipe(
      Layer.provide(
        Layer.mergeAll(
          ConnectorsLive,
          InstancesLive,
          CredentialsLive,
          OperationsLive,
          OAuth2Live(options),
          ActivitiesLive,
          WebhooksLive,
          layerAuthenticated
        )
      )
    ),
    HttpApiScalar.layerHttpLayerRouter({
      api: PatchbayApi,
      path: options.docsPath ?? "/docs",
      // The fonts would come from Scalar's CDN; the page uses the system's.
      scalar: { withDefaultFonts: false }
    })
  )
