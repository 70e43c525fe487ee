/**
 * A real oidc-provider on 127.0.0.1 for the tests: refresh-token rotation on, PKCE required, the
 * client-credentials grant enabled, short configurable token lifetimes, a tiny interaction route
 * that logs the test user in and grants what the client asked for, and a counter of token requests
 * per grant type (taken at the server).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

// oidc-provider ships no types: the few parts used here, and the module loaded through a
// specifier TypeScript does not resolve.
export interface KoaContextWithOIDC {
  method: string
  path: string
  status: number
  body: unknown
  respond: boolean
  req: IncomingMessage
  res: ServerResponse
  oidc?: { readonly params?: Readonly<Record<string, unknown>> }
}

export interface Interaction {
  readonly uid: string
  readonly prompt: { readonly name: string; readonly details: unknown }
  readonly params: Readonly<Record<string, unknown>>
  readonly session?: { readonly accountId: string }
  readonly grantId?: string
}

export interface Grant {
  addOIDCScope(scope: string): void
  addOIDCClaims(claims: ReadonlyArray<string>): void
  addResourceScope(indicator: string, scope: string): void
  save(): Promise<string>
}

export interface GrantProperties {
  readonly accountId: string
  readonly clientId: string
}

export type GrantConstructor = (new (
  properties: GrantProperties
) => Grant) & {
  find(id: string): Promise<Grant | undefined>
}

export interface Provider {
  readonly Grant: GrantConstructor
  use(middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>): void
  on(event: string, listener: (ctx: KoaContextWithOIDC, error: Error) => void): void
  callback(): (req: IncomingMessage, res: ServerResponse) => void
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Readonly<Record<string, unknown>>,
    options?: { readonly mergeWithLastSubmission?: boolean }
  ): Promise<void>
}

type ProviderConstructor = new (issuer: string, configuration: Readonly<Record<string, unknown>>) => Provider
const moduleName = "oidc-provider"
const loadProvider = async (): Promise<ProviderConstructor> =>
  ((await import(moduleName)) as { readonly default: ProviderConstructor }).default

export const redirectUri = "http://127.0.0.1:9/callback"
export const appClient = { id: "patchbay-app", secret: "app-secret-0123456789abcdef" }
export const machineClient = { id: "patchbay-machine", secret: "machine-secret-0123456789abcdef" }
export const accountId = "test-user"

export interface TestProvider {
  readonly issuer: string
  readonly provider: Provider
  /** Token requests seen at POST /token, by grant_type. */
  readonly counts: Record<string, number>
  /** Lifetimes in seconds, read at issue time. */
  readonly ttl: { accessToken: number; clientCredentials: number; refreshToken: number }
  /** Whether token responses carry `refresh_token_expires_in` (the refresh token's TTL), as some providers do. */
  readonly announce: { refreshTokenExpiresIn: boolean }
  /** The account the next sign-in logs in as (`accountId` after `reset`). */
  readonly login: { accountId: string }
  /** Answer the next `n` token requests with this HTTP status (a 5xx outage; counted as `failed`). */
  failNext: (n: number, status?: number) => void
  /**
   * Holds the response to the next refresh-token request after the provider issued (and rotated)
   * the tokens: `reached` resolves when it is held, `release` sends it.
   */
  holdNextRefresh: () => Hold
  reset: () => void
  /** Revokes a token at the revocation endpoint (as the app client). */
  revoke: (token: string) => Promise<void>
  /** The account an access token belongs to, asked at the introspection endpoint; undefined when inactive. */
  introspect: (token: string) => Promise<string | undefined>
  close: () => Promise<void>
}

/** A latch on one token response. */
export interface Hold {
  readonly reached: Promise<void>
  readonly release: () => void
}

const makeHold = (): Hold & { readonly arrive: () => void; readonly released: Promise<void> } => {
  let arrive: () => void = () => {}
  let release: () => void = () => {}
  const reached = new Promise<void>((resolve) => {
    arrive = resolve
  })
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  return { reached, released, arrive, release }
}

/** Options of `start`: scopes the provider accepts besides `openid`, `offline_access` and `api`. */
export interface StartOptions {
  readonly scopes?: ReadonlyArray<string> | undefined
  /**
   * The scope granted to an authorization request that names none, as providers whose scopes are
   * configured on the app (Box, Zoom, Notion) do; without it such a request is refused.
   */
  readonly appScope?: string | undefined
}

export const start = async (options: StartOptions = {}): Promise<TestProvider> => {
  const ttl = { accessToken: 3600, clientCredentials: 3600, refreshToken: 24 * 3600 }
  const announce = { refreshTokenExpiresIn: false }
  const login = { accountId }
  const counts: Record<string, number> = {}
  let failures = 0
  let failStatus = 503
  let hold: ReturnType<typeof makeHold> | undefined

  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  // The host's registration names the issuer (stack.ts); child processes inherit it.
  process.env.PATCHBAY_TEST_ISSUER = issuer

  const OidcProvider = await loadProvider()
  const provider = new OidcProvider(issuer, {
    clients: [
      {
        client_id: appClient.id,
        client_secret: appClient.secret,
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        redirect_uris: [redirectUri]
      },
      {
        client_id: machineClient.id,
        client_secret: machineClient.secret,
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: []
      }
    ],
    features: {
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      devInteractions: { enabled: false }
    },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    scopes: [...new Set(["openid", "offline_access", "api", ...(options.scopes ?? [])])],
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    ttl: {
      AccessToken: () => ttl.accessToken,
      ClientCredentials: () => ttl.clientCredentials,
      RefreshToken: () => ttl.refreshToken,
      Grant: 24 * 3600,
      Session: 24 * 3600,
      Interaction: 600,
      AuthorizationCode: 60,
      IdToken: 3600
    }
  })
  provider.on("server_error", (_ctx: KoaContextWithOIDC, error: Error) => console.error("oidc-provider:", error))

  const appScope = options.appScope
  if (appScope !== undefined) {
    provider.use(async (ctx, next) => {
      const request = ctx as KoaContextWithOIDC & { query: Record<string, unknown> }
      if (ctx.method === "GET" && ctx.path === "/auth" && (request.query.scope ?? "") === "") {
        request.query = { ...request.query, scope: appScope }
      }
      await next()
    })
  }

  // Token requests are counted at the server, with the grant type the provider parsed.
  provider.use(async (ctx, next) => {
    if (ctx.method === "POST" && ctx.path === "/token" && failures > 0) {
      failures--
      counts.failed = (counts.failed ?? 0) + 1
      ctx.status = failStatus
      ctx.body = { error: "temporarily_unavailable" }
      return
    }
    await next()
    if (ctx.method === "POST" && ctx.path === "/token") {
      const grant = String((ctx as KoaContextWithOIDC).oidc?.params?.grant_type ?? "unknown")
      counts[grant] = (counts[grant] ?? 0) + 1
      const body = ctx.body as Record<string, unknown> | undefined
      if (announce.refreshTokenExpiresIn && typeof body?.refresh_token === "string") {
        ctx.body = { ...body, refresh_token_expires_in: ttl.refreshToken }
      }
      const held = hold
      if (grant === "refresh_token" && held !== undefined) {
        hold = undefined
        held.arrive()
        await held.released
      }
    }
  })

  // The "browser" side: log the test user in, then grant whatever was asked for.
  provider.use(async (ctx, next) => {
    if (!ctx.path.startsWith("/interaction/")) return next()
    ctx.respond = false
    const details = await provider.interactionDetails(ctx.req, ctx.res)
    if (details.prompt.name === "login") {
      await provider.interactionFinished(
        ctx.req,
        ctx.res,
        { login: { accountId: login.accountId } },
        { mergeWithLastSubmission: false }
      )
      return
    }
    const grant =
      details.grantId === undefined
        ? new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) })
        : (await provider.Grant.find(details.grantId))!
    const missing = details.prompt.details as {
      missingOIDCScope?: Array<string>
      missingOIDCClaims?: Array<string>
      missingResourceScopes?: Record<string, Array<string>>
    }
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "))
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims)
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(" "))
    }
    const grantId = await grant.save()
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true })
  })

  server.on("request", provider.callback())

  return {
    issuer,
    provider,
    counts,
    ttl,
    announce,
    login,
    failNext: (n, status = 503) => {
      failures = n
      failStatus = status
    },
    holdNextRefresh: () => {
      hold = makeHold()
      return hold
    },
    reset: () => {
      hold?.release()
      hold = undefined
      for (const key of Object.keys(counts)) delete counts[key]
      failures = 0
      ttl.accessToken = 3600
      ttl.clientCredentials = 3600
      ttl.refreshToken = 24 * 3600
      announce.refreshTokenExpiresIn = false
      login.accountId = accountId
    },
    revoke: async (token) => {
      const response = await fetch(`${issuer}/token/revocation`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Basic ${Buffer.from(`${appClient.id}:${appClient.secret}`).toString("base64")}`
        },
        body: new URLSearchParams({ token, token_type_hint: "refresh_token" })
      })
      if (response.status !== 200) throw new Error(`revocation failed: ${response.status} ${await response.text()}`)
    },
    introspect: async (token) => {
      const response = await fetch(`${issuer}/token/introspection`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Basic ${Buffer.from(`${appClient.id}:${appClient.secret}`).toString("base64")}`
        },
        body: new URLSearchParams({ token })
      })
      if (response.status !== 200) throw new Error(`introspection failed: ${response.status} ${await response.text()}`)
      const body = (await response.json()) as { readonly active?: boolean; readonly sub?: string }
      return body.active === true ? body.sub : undefined
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/**
 * Follows an authorization URL like a browser that already agreed to everything: redirects through
 * the interactions (cookies kept), until the redirect to `redirect` — the callback URL, returned.
 */
export const authorizeInBrowser = async (url: string, redirect: string = redirectUri): Promise<string> => {
  const jar = new Map<string, string>()
  let next = url
  for (let hop = 0; hop < 12; hop++) {
    const response = await fetch(next, {
      redirect: "manual",
      headers: { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join("; ") }
    })
    for (const cookie of response.headers.getSetCookie()) {
      const pair = cookie.split(";")[0]!
      const at = pair.indexOf("=")
      jar.set(pair.slice(0, at), pair.slice(at + 1))
    }
    const location = response.headers.get("location")
    const body = await response.text()
    if (location === null) throw new Error(`no redirect from ${next}: ${response.status} ${body.slice(0, 300)}`)
    const target = new URL(location, next).href
    if (target.startsWith(redirect)) return target
    next = target
  }
  throw new Error("too many redirects")
}
