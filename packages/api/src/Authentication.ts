/**
 * Who is calling a Patchbay surface. Authentication belongs to the host: it supplies an
 * `Authentication` service that turns an HTTP request into a `Principal` (an `Actor` and a `Role`).
 * The HTTP API, the MCP server and the Connect UI all read the caller through it, so one host
 * decision covers every surface.
 *
 * @since 0.1.0
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Actor } from "@patchbay/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { Role } from "./Permissions.js"

/**
 * An authenticated caller: the actor every Patchbay operation runs as, and the role that decides
 * which operations the surfaces allow.
 *
 * @since 0.1.0
 */
export class Principal extends Schema.Class<Principal>("@patchbay/api/Principal")({
  actor: Actor.ActorInfo,
  role: Role
}) {}

/**
 * The request carries no acceptable identity (HTTP 401).
 *
 * @since 0.1.0
 */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()("Unauthenticated", {
  message: Schema.String,
  /** Always false: the same request fails the same way. Part of the JSON body. */
  retryable: Schema.propertySignature(Schema.Literal(false)).pipe(Schema.withConstructorDefault(() => false as const))
}) {}

/**
 * The host's authentication: a request in, a principal or `Unauthenticated` out.
 *
 * @since 0.1.0
 */
export class Authentication extends Context.Tag("@patchbay/api/Authentication")<
  Authentication,
  {
    readonly authenticate: (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<Principal, Unauthenticated>
  }
>() {}

/**
 * Every request is the same principal. For tests and single-user embedded servers.
 *
 * @since 0.1.0
 */
export const layerStatic = (principal: typeof Principal.Encoded): Layer.Layer<Authentication> =>
  Layer.sync(Authentication, () => {
    const decoded = Schema.decodeSync(Principal)(principal)
    return { authenticate: () => Effect.succeed(decoded) }
  })
