/**
 * The Connect UI: the product's flow — Predefined Apps → Connect → name and credentials or OAuth
 * sign-in → Save → My Connections → Test / Reconnect / Disable / Delete — as server-rendered HTML
 * pages registered on an `HttpLayerRouter`. Every request is authenticated by the host's
 * `Authentication` and checked with `Permissions.allows`; every form POST is CSRF-protected (a
 * double-submitted `SameSite=Lax` cookie token plus an `Origin` / `Sec-Fetch-Site` check); every
 * text is HTML-escaped; the one stylesheet is served by the package (no script, no CDN).
 *
 * ```ts
 * const Ui = ConnectUi.layer({ publicUrl: "https://patchbay.example.com" })
 * HttpLayerRouter.serve(Ui).pipe(Layer.provide(Patchbay), Layer.provide(Auth), ...)
 * ```
 *
 * @since 0.1.0
 */
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Authentication from "@patchbay/api/Authentication"
import * as Permissions from "@patchbay/api/Permissions"
import {
  Actor,
  type ConnectorDescriptor,
  type ConnectorInstance,
  ConnectorInstances,
  ConnectorRegistry,
  CredentialScope
} from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { OAuth2 } from "@patchbay/oauth2"
import { ConnectionTester } from "@patchbay/testers"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { stylesheet } from "./internal/assets.js"
import * as Csrf from "./internal/csrf.js"
import { type Field, fieldErrors, fieldsOf, formValue } from "./internal/form.js"
import type { Html } from "./internal/html.js"
import * as Pages from "./internal/pages.js"

/**
 * Options of `layer`.
 *
 * @since 0.1.0
 */
export interface Options {
  /** Where the pages are mounted (default: at the root, `/`). */
  readonly prefix?: `/${string}` | undefined
  /**
   * The origin people reach the server at (`https://patchbay.example.com`): the OAuth2 callback's
   * origin and the only origin form POSTs are accepted from. Default: `http://` and the request's
   * `Host` header, which suits a server reached directly (tests, a local embedded server).
   */
  readonly publicUrl?: string | undefined
}

/**
 * The services the pages use: the host's `Authentication`, and Patchbay's registry, instance
 * lifecycle, vault, connection tester and OAuth2 flows.
 *
 * @since 0.1.0
 */
export type Requirements =
  | Authentication.Authentication
  | ConnectorRegistry.ConnectorRegistry
  | ConnectorInstances.ConnectorInstances
  | CredentialVault.CredentialVault
  | ConnectionTester.ConnectionTester
  | OAuth2.OAuth2

/**
 * The path of the OAuth2 callback under the UI's prefix: register `publicUrl + prefix + callbackPath`
 * as the client's redirect URI at the provider.
 *
 * @since 0.1.0
 */
export const callbackPath = "/oauth2/callback"

const notices: Record<string, string> = {
  saved: "Connection saved. Use Test to check that it works.",
  connected: "Signed in: the connection is saved.",
  tested: "Connection tested.",
  reconnected: "New credential stored and tested.",
  disabled: "Connection disabled.",
  enabled: "Connection enabled.",
  deleted: "Connection deleted."
}

/** An error page or form response, with its status. */
interface Failure {
  readonly status: number
  readonly title: string
  readonly message: string
}

const statusOf = (tag: string): number =>
  tag === "InstanceNotFound" || tag === "ConnectorNotFound" || tag === "CredentialVersionNotFound"
    ? 404
    : tag === "NameTaken" || tag === "DuplicateAccount"
      ? 409
      : tag === "InvalidConfiguration" || tag === "InvalidInput"
        ? 422
        : tag === "ScopeForbidden" || tag === "InstanceDisabled"
          ? 403
          : 500

const failureOf = (error: { readonly _tag: string; readonly message: string }): Failure => ({
  status: statusOf(error._tag),
  title: statusOf(error._tag) === 500 ? "Something went wrong" : "That did not work",
  message: error.message
})

const securityHeaders = {
  "content-security-policy":
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store"
}

const page = (body: Html, status = 200) =>
  HttpServerResponse.text(body.value, { status, contentType: "text/html; charset=utf-8", headers: securityHeaders })

const see = (location: string) => HttpServerResponse.redirect(location, { status: 303, headers: securityHeaders })

/** The credential scope a principal stores credentials in for an instance, or why it may not. */
const scopeFor = (
  principal: Authentication.Principal,
  instance: { readonly workspaceId: string | null }
): CredentialScope.CredentialScope | string => {
  const actor = principal.actor
  if (Permissions.allows(principal.role, "write-shared-credential")) {
    return instance.workspaceId === null
      ? CredentialScope.CredentialScope.make({ type: "organization", id: actor.orgId })
      : CredentialScope.CredentialScope.make({ type: "workspace", id: instance.workspaceId })
  }
  if (Permissions.allows(principal.role, "write-user-credential") && actor.userId !== undefined) {
    return CredentialScope.CredentialScope.make({ type: "user", id: actor.userId })
  }
  return "Your role may not store credentials for this connection."
}

const readForm = (request: HttpServerRequest.HttpServerRequest) =>
  request.urlParamsBody.pipe(
    Effect.map((params) => {
      const form = new Map<string, string>()
      for (const [key, value] of params) if (!form.has(key)) form.set(key, value)
      return form as ReadonlyMap<string, string>
    }),
    Effect.orElseSucceed(() => new Map<string, string>() as ReadonlyMap<string, string>)
  )

const fieldMessages = (fields: ReadonlyArray<Field>, errors: ReadonlyMap<string, string>): Array<string> =>
  // Errors on a path no field shows (a nested object as a whole) are listed on top of the form.
  [...errors]
    .filter(([name]) => !fields.some((f) => f.name === name))
    .map(([name, m]) => `${name || "value"}: ${m}`)

/**
 * Registers the pages on the `HttpLayerRouter`:
 * - `GET /`: Predefined Apps (the registered connectors);
 * - `GET|POST /connect/:connector`: the Connect form (generated from the descriptor's Schemas) and Save;
 * - `GET /oauth2/callback`: completes an OAuth2 sign-in and returns to My Connections;
 * - `GET /connections`: My Connections; `GET /connections/:id`: View; `POST /connections/:id/test|enable|disable|delete`;
 *   `GET|POST /connections/:id/reconnect`; `GET /connections/:id/delete` (offers to disable first);
 * - `GET /assets/connect-ui.css`.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<never, never, HttpLayerRouter.HttpRouter | Requirements> =>
  HttpLayerRouter.use((root) =>
    Effect.gen(function* () {
      const router = options.prefix === undefined ? root : root.prefixed(options.prefix)
      const base = options.prefix ?? ""
      const authentication = yield* Authentication.Authentication
      const registry = yield* ConnectorRegistry.ConnectorRegistry
      const instances = yield* ConnectorInstances.ConnectorInstances
      const vault = yield* CredentialVault.CredentialVault
      const tester = yield* ConnectionTester.ConnectionTester
      const oauth2 = yield* OAuth2.OAuth2

      const originOf = (request: HttpServerRequest.HttpServerRequest): string =>
        options.publicUrl !== undefined
          ? new URL(options.publicUrl).origin
          : `http://${request.headers.host ?? "localhost"}`
      const secureCookie = options.publicUrl?.startsWith("https:") === true

      interface Call {
        readonly request: HttpServerRequest.HttpServerRequest
        readonly principal: Authentication.Principal
        readonly ctx: Pages.PageContext
        readonly params: Readonly<Record<string, string | undefined>>
        /** The form of a POST, once its CSRF token and origin were checked. */
        readonly form: ReadonlyMap<string, string>
      }

      /**
       * A handler: authenticates, mints the CSRF cookie when missing, checks a POST's token and
       * origin, provides the `Actor`, renders typed failures as pages in words.
       */
      const handle =
        <E extends { readonly _tag: string; readonly message: string }>(
          method: "GET" | "POST",
          run: (call: Call) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, Actor.Actor>
        ) =>
        (request: HttpServerRequest.HttpServerRequest) =>
          Effect.gen(function* () {
            const cookie = Csrf.fromCookie(request)
            const csrf = cookie ?? Csrf.mint()
            const respond = (response: HttpServerResponse.HttpServerResponse) =>
              cookie === undefined
                ? HttpServerResponse.unsafeSetCookie(response, Csrf.cookieName, csrf, {
                    httpOnly: true,
                    sameSite: "lax",
                    path: base === "" ? "/" : base,
                    secure: secureCookie
                  })
                : response
            const anonymous: Pages.PageContext = { base, csrf, may: () => false }
            const authenticated = yield* Effect.either(authentication.authenticate(request))
            if (authenticated._tag === "Left") {
              return respond(page(Pages.problem(anonymous, "Sign in required", authenticated.left.message), 401))
            }
            const principal = authenticated.right
            const ctx: Pages.PageContext = {
              base,
              csrf,
              may: (action) =>
                action === "write-credential"
                  ? typeof scopeFor(principal, { workspaceId: null }) !== "string"
                  : Permissions.allows(principal.role, action)
            }
            if (!Permissions.allows(principal.role, "read")) {
              return respond(page(Pages.problem(ctx, "Not allowed", "Your role may not view connections."), 403))
            }
            let form: ReadonlyMap<string, string> = new Map()
            if (method === "POST") {
              form = yield* readForm(request)
              if (!Csrf.verify(request, form.get(Csrf.fieldName), originOf(request))) {
                return respond(
                  page(
                    Pages.problem(
                      ctx,
                      "Form expired",
                      "This form expired or was sent from another site. Reload the page and try again."
                    ),
                    403
                  )
                )
              }
            }
            const route = yield* HttpLayerRouter.RouteContext
            return yield* run({ request, principal, ctx, params: route.params, form }).pipe(
              Effect.withSpan(`ConnectUi ${method} ${route.route.path}`, { attributes: { role: principal.role } }),
              Effect.provideService(Actor.Actor, principal.actor),
              Effect.catchAll((error) => {
                const failure = failureOf(error)
                return Effect.succeed(page(Pages.problem(ctx, failure.title, failure.message), failure.status))
              }),
              Effect.map(respond)
            )
          })

      const forbidden = (ctx: Pages.PageContext, message: string) =>
        Effect.succeed(page(Pages.problem(ctx, "Not allowed", message), 403))

      const param = (call: Call, name: string) => call.params[name] ?? ""

      // ---- Predefined Apps -------------------------------------------------------------------
      yield* router.add(
        "GET",
        "/",
        handle("GET", ({ ctx }) => Effect.succeed(page(Pages.apps(ctx, registry.list))))
      )

      yield* router.add(
        "GET",
        "/assets/connect-ui.css",
        HttpServerResponse.text(stylesheet, {
          contentType: "text/css; charset=utf-8",
          headers: { "cache-control": "public, max-age=3600", "x-content-type-options": "nosniff" }
        })
      )

      // ---- Connect ---------------------------------------------------------------------------
      const authTypeOf = (descriptor: ConnectorDescriptor.ConnectorDescriptor, requested: string | undefined) =>
        descriptor.authProfiles.find((profile) => profile === requested) ?? descriptor.authProfiles[0]!

      const connectForm = (
        descriptor: ConnectorDescriptor.ConnectorDescriptor,
        authType: ConnectorDescriptor.AuthType,
        values: ReadonlyMap<string, string>,
        errors: Partial<Pick<Pages.ConnectForm, "errors" | "configurationErrors" | "credentialErrors">> = {}
      ): Pages.ConnectForm => ({
        descriptor,
        authType,
        configuration: fieldsOf(descriptor.configuration, descriptor.secretFields),
        credentials:
          authType === "oauth2_authorization_code"
            ? undefined
            : fieldsOf(descriptor.credentials, descriptor.secretFields),
        values,
        errors: errors.errors ?? [],
        configurationErrors: errors.configurationErrors ?? new Map(),
        credentialErrors: errors.credentialErrors ?? new Map()
      })

      yield* router.add(
        "GET",
        "/connect/:connector",
        handle("GET", (call) =>
          Effect.gen(function* () {
            if (!call.ctx.may("write-instance")) return yield* forbidden(call.ctx, "Your role may not add connections.")
            const { descriptor } = yield* registry.get(param(call, "connector"))
            const requested = new URL(call.request.url, "http://x").searchParams.get("auth_type") ?? undefined
            return page(Pages.connect(call.ctx, connectForm(descriptor, authTypeOf(descriptor, requested), new Map())))
          })
        )
      )

      const redirectUri = (request: HttpServerRequest.HttpServerRequest) => `${originOf(request)}${base}${callbackPath}`

      yield* router.add(
        "POST",
        "/connect/:connector",
        handle("POST", (call) =>
          Effect.gen(function* () {
            const { ctx, form, principal } = call
            if (!ctx.may("write-instance")) return yield* forbidden(ctx, "Your role may not add connections.")
            const { descriptor } = yield* registry.get(param(call, "connector"))
            const authType = authTypeOf(descriptor, form.get("auth_type"))
            const shown = connectForm(descriptor, authType, form)
            const again = (status: number, errors: Partial<Pages.ConnectForm>) =>
              page(Pages.connect(ctx, { ...shown, ...errors }), status)

            const configuration = formValue(shown.configuration, "configuration", form)
            const configurationErrors = fieldErrors(descriptor.configuration, configuration, descriptor.secretFields)
            const credentials =
              shown.credentials === undefined ? undefined : formValue(shown.credentials, "credentials", form)
            const credentialErrors =
              shown.credentials === undefined
                ? new Map<string, string>()
                : fieldErrors(descriptor.credentials, credentials, descriptor.secretFields)
            const instanceName = form.get("instance_name") ?? ""
            const formErrors = [
              ...(instanceName.trim() === "" ? ["Connection Name: enter a name for this connection."] : []),
              ...fieldMessages(shown.configuration, configurationErrors),
              ...fieldMessages(shown.credentials ?? [], credentialErrors)
            ]
            const workspaceId = principal.actor.workspaceId ?? null
            const scope = scopeFor(principal, { workspaceId })
            if (
              typeof scope === "string" ||
              formErrors.length > 0 ||
              configurationErrors.size > 0 ||
              credentialErrors.size > 0
            ) {
              const errors = typeof scope === "string" ? [...formErrors, scope] : formErrors
              return again(422, { errors, configurationErrors, credentialErrors })
            }
            const description = form.get("description")?.trim()
            const created = yield* Effect.either(
              instances.create({
                connector: descriptor.key,
                instanceName,
                description: description === undefined || description === "" ? null : description,
                workspaceId,
                configuration,
                authType
              })
            )
            if (created._tag === "Left") {
              const error = created.left
              if (error._tag === "StorageError") return yield* error
              return again(statusOf(error._tag), { errors: [error.message] })
            }
            const instance = created.right
            const credentialScope = scope
            // The credential or the sign-in is part of Save: when it fails, the new instance goes too.
            const undo = instances.delete(instance.id).pipe(Effect.ignore)
            if (authType === "oauth2_authorization_code") {
              const started = yield* Effect.either(
                oauth2.startAuthorization({
                  instanceId: instance.id,
                  scope: { type: credentialScope.type, id: credentialScope.id },
                  redirectUri: redirectUri(call.request)
                })
              )
              if (started._tag === "Left") {
                yield* undo
                return again(statusOf(started.left._tag), { errors: [started.left.message] })
              }
              return see(started.right.url)
            }
            const stored = yield* Effect.either(
              vault.create({
                instanceId: instance.id,
                scope: { type: credentialScope.type, id: credentialScope.id },
                credentials
              })
            )
            if (stored._tag === "Left") {
              yield* undo
              return again(statusOf(stored.left._tag), { errors: [stored.left.message] })
            }
            return see(`${base}/connections?notice=saved`)
          })
        )
      )

      yield* router.add(
        "GET",
        callbackPath,
        handle("GET", (call) =>
          Effect.gen(function* () {
            const url = `${originOf(call.request)}${call.request.originalUrl}`
            const completed = yield* Effect.either(oauth2.completeAuthorization(url))
            if (completed._tag === "Left") {
              return page(
                Pages.problem(call.ctx, "Sign-in did not complete", completed.left.message),
                statusOf(completed.left._tag) === 500 ? 400 : statusOf(completed.left._tag)
              )
            }
            return see(`${base}/connections?notice=connected`)
          })
        )
      )

      // ---- My Connections --------------------------------------------------------------------
      const currentCredential = (instance: ConnectorInstance.InstanceView, actor: Actor.ActorInfo) =>
        vault
          .list(instance.id)
          .pipe(
            Effect.map((versions) =>
              versions.find((v) => v.revokedAt === null && CredentialScope.listableBy(actor, v.scope))
            )
          )

      yield* router.add(
        "GET",
        "/connections",
        handle("GET", (call) =>
          Effect.gen(function* () {
            const query = new URL(call.request.url, "http://x").searchParams
            const cursor = query.get("cursor") ?? undefined
            const listed = yield* instances.list({ limit: 50, ...(cursor === undefined ? {} : { cursor }) })
            const rows = yield* Effect.forEach(
              listed.items,
              (instance) =>
                Effect.map(currentCredential(instance, call.principal.actor), (credential) => ({
                  instance,
                  connectorName:
                    registry.list.find((d) => d.id === instance.connectorId)?.name ?? instance.connectorKey,
                  credential
                })),
              { concurrency: 4 }
            )
            const notice = notices[query.get("notice") ?? ""]
            return page(
              Pages.connections(call.ctx, rows, {
                notice,
                errors: [],
                next: listed.nextCursor ?? undefined
              })
            )
          })
        )
      )

      const action = (
        path: string,
        permission: "test" | "write-instance" | "delete",
        run: (id: string) => Effect.Effect<string, { readonly _tag: string; readonly message: string }, Actor.Actor>
      ) =>
        router.add(
          "POST",
          `/connections/:id/${path}` as `/${string}`,
          handle("POST", (call) =>
            call.ctx.may(permission)
              ? Effect.map(run(param(call, "id")), (notice) => see(`${base}/connections?notice=${notice}`))
              : forbidden(call.ctx, "Your role may not do that.")
          )
        )

      yield* action("test", "test", (id) => Effect.as(tester.testConnection(id), "tested"))
      yield* action("disable", "write-instance", (id) =>
        Effect.as(instances.update(id, { isEnabled: false }), "disabled")
      )
      yield* action("enable", "write-instance", (id) => Effect.as(instances.update(id, { isEnabled: true }), "enabled"))
      yield* action("delete", "delete", (id) => Effect.as(instances.delete(id), "deleted"))

      yield* router.add(
        "GET",
        "/connections/:id",
        handle("GET", (call) =>
          Effect.gen(function* () {
            const instance = yield* instances.get(param(call, "id"))
            const versions = yield* vault.list(instance.id)
            const visible = versions.filter((v) => CredentialScope.listableBy(call.principal.actor, v.scope))
            const connectorName =
              registry.list.find((d) => d.id === instance.connectorId)?.name ?? instance.connectorKey
            return page(Pages.view(call.ctx, instance, connectorName, visible))
          })
        )
      )

      yield* router.add(
        "GET",
        "/connections/:id/delete",
        handle("GET", (call) =>
          Effect.gen(function* () {
            if (!call.ctx.may("delete")) return yield* forbidden(call.ctx, "Your role may not delete connections.")
            return page(Pages.confirmDelete(call.ctx, yield* instances.get(param(call, "id"))))
          })
        )
      )

      // ---- Reconnect -------------------------------------------------------------------------
      const reconnectTarget = (id: string) =>
        Effect.gen(function* () {
          const instance = yield* instances.get(id)
          const { descriptor } = yield* registry.get(instance.connectorId)
          const fields =
            instance.authType === "oauth2_authorization_code"
              ? undefined
              : fieldsOf(descriptor.credentials, descriptor.secretFields)
          return { instance, descriptor, fields }
        })

      yield* router.add(
        "GET",
        "/connections/:id/reconnect",
        handle("GET", (call) =>
          Effect.gen(function* () {
            if (!call.ctx.may("write-credential"))
              return yield* forbidden(call.ctx, "Your role may not store credentials.")
            const { instance, descriptor, fields } = yield* reconnectTarget(param(call, "id"))
            return page(Pages.reconnect(call.ctx, instance, descriptor, fields, [], new Map()))
          })
        )
      )

      yield* router.add(
        "POST",
        "/connections/:id/reconnect",
        handle("POST", (call) =>
          Effect.gen(function* () {
            const { ctx, form, principal } = call
            const { instance, descriptor, fields } = yield* reconnectTarget(param(call, "id"))
            const scope = scopeFor(principal, instance)
            if (typeof scope === "string") return yield* forbidden(ctx, scope)
            const again = (status: number, errors: ReadonlyArray<string>, fieldErrs: ReadonlyMap<string, string>) =>
              page(Pages.reconnect(ctx, instance, descriptor, fields, errors, fieldErrs), status)
            const encodedScope = { type: scope.type, id: scope.id }
            if (fields === undefined) {
              const started = yield* Effect.either(
                oauth2.startAuthorization({
                  instanceId: instance.id,
                  scope: encodedScope,
                  redirectUri: redirectUri(call.request)
                })
              )
              if (started._tag === "Left") return again(statusOf(started.left._tag), [started.left.message], new Map())
              return see(started.right.url)
            }
            const credentials = formValue(fields, "credentials", form)
            const errors = fieldErrors(descriptor.credentials, credentials, descriptor.secretFields)
            if (errors.size > 0) return again(422, fieldMessages(fields, errors), errors)
            const stored = yield* Effect.either(
              vault.create({ instanceId: instance.id, scope: encodedScope, credentials })
            )
            if (stored._tag === "Left") return again(statusOf(stored.left._tag), [stored.left.message], new Map())
            // The test with the new credential is what makes the connection active again.
            yield* tester.testConnection(instance.id)
            return see(`${base}/connections?notice=reconnected`)
          })
        )
      )
    })
  )
