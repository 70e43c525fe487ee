/**
 * Who is calling a Patchbay surface. Authentication belongs to the host: it supplies an
 * `Authentication` service that turns an HTTP request into a `Principal` (an `Actor` and a `Role`).
 * The HTTP API, the MCP server and the Connect UI all read the caller through it, so one host
 * decision covers every surface.
 *
 * @since 0.1.0
 */
import { createHash, timingSafeEqual } from "node:crypto"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Actor } from "@patchbay/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
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

/**
 * A caller known by a bearer token: the token and the principal it stands for.
 *
 * @since 0.1.0
 */
export interface BearerToken {
  readonly token: Redacted.Redacted<string>
  readonly principal: typeof Principal.Encoded
}

const digest = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest()

/**
 * `Authorization: Bearer <token>` against a fixed list of tokens, compared in constant time (for
 * `patchbay serve` and tests). A missing, malformed or unknown token is `Unauthenticated`.
 *
 * @since 0.1.0
 */
export const layerBearerTokens = (tokens: ReadonlyArray<BearerToken>): Layer.Layer<Authentication> =>
  Layer.sync(Authentication, () => {
    const known = tokens.map(({ principal, token }) => ({
      digest: digest(Redacted.value(token)),
      principal: Schema.decodeSync(Principal)(principal)
    }))
    const refuse = (message: string) => Effect.fail(new Unauthenticated({ message }))
    return {
      authenticate: (request) => {
        const header = request.headers.authorization
        const match = header === undefined ? null : /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(header.trim())
        if (match === null) return refuse("An Authorization: Bearer token is required")
        const presented = digest(match[1]!)
        // Every token is compared, so the time taken does not say which one matched.
        let found: Principal | undefined
        for (const entry of known) {
          if (timingSafeEqual(entry.digest, presented)) found ??= entry.principal
        }
        return found === undefined ? refuse("The bearer token is not valid") : Effect.succeed(found)
      }
    }
  })
