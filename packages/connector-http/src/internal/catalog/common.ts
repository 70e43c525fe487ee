/** Shared field metadata and provenance helpers for the catalog's data modules. */
import type { Checked, Field } from "../../Catalog.js"

/** The day the catalog's facts were last looked at. */
export const on = "2026-12-01"

/** Facts confirmed against the provider's documentation (or a page quoting it) in this session. */
export const checked = (source: string, what: string): Checked => ({ source, what, on })

/** Facts written from the provider's documentation as remembered, not re-read on `on`. */
export const unchecked = (source: string, facts: string): Checked => ({
  source,
  what: `NOT checked on ${on}: ${facts} are from the provider's public documentation as recalled; verify before relying on them`,
  on
})

/** An API key (or personal token) field. */
export const apiKeyField = (title: string, docs: string, example?: string, pattern?: string): Field => ({
  title,
  description: `The ${title.toLowerCase()} from the provider's console.`,
  ...(example === undefined ? {} : { example }),
  ...(pattern === undefined ? {} : { pattern }),
  docs,
  secret: true
})

/** A bearer token field. */
export const tokenField = (title: string, docs: string, example?: string): Field => ({
  title,
  description: `The ${title.toLowerCase()}, sent as a bearer token.`,
  ...(example === undefined ? {} : { example }),
  docs,
  secret: true
})

/** Basic-auth username and password fields. */
export const basicFields = (
  username: string,
  password: string,
  docs: string,
  example?: string
): Record<string, Field> => ({
  username: {
    title: username,
    description: `The ${username.toLowerCase()} (sent as the Basic username).`,
    ...(example === undefined ? {} : { example }),
    docs,
    secret: false
  },
  password: {
    title: password,
    description: `The ${password.toLowerCase()} (sent as the Basic password).`,
    docs,
    secret: true
  }
})

/** Client-credentials fields (the tenant's own OAuth2 client). */
export const clientFields = (docs: string): Record<string, Field> => ({
  client_id: { title: "Client ID", description: "The OAuth2 client id of your app.", docs, secret: false },
  client_secret: { title: "Client secret", description: "The OAuth2 client secret of your app.", docs, secret: true }
})

/** The per-account base URL field. */
export const baseUrlField = (description: string, example: string, pattern?: string): Field => ({
  title: "Base URL",
  description,
  example,
  ...(pattern === undefined ? {} : { pattern }),
  secret: false
})

/** The rate-limit headers GitHub popularised, used by many providers. */
export const xRateLimit = {
  limit: "X-RateLimit-Limit",
  remaining: "X-RateLimit-Remaining",
  reset: "X-RateLimit-Reset"
} as const

/** Only `Retry-After` on 429. */
export const retryAfterOnly = { retryAfter: "Retry-After" } as const

/** Google's OAuth2 server (an OIDC issuer), with offline access and a consent prompt. */
export const googleOAuth2 = (scopes: ReadonlyArray<string>) => ({
  issuer: "https://accounts.google.com",
  authorizationEndpoint: "https://accounts.google.com/o/oauth2/v2/auth",
  tokenEndpoint: "https://oauth2.googleapis.com/token",
  revocationEndpoint: "https://oauth2.googleapis.com/revoke",
  userinfoEndpoint: "https://openidconnect.googleapis.com/v1/userinfo",
  scopes: ["openid", "email", ...scopes],
  scopeSeparator: " " as const,
  authorizationParameters: { access_type: "offline", prompt: "consent" },
  pkce: true
})

/** Google's documented 7-day refresh-token lifetime for apps whose consent screen is in Testing. */
export const googleTestingRefreshToken = {
  seconds: 7 * 24 * 3600,
  note: "Only for apps whose OAuth consent screen is in Testing (external user type); production tokens do not expire on a schedule but die after 6 months unused"
}

/** Google's checked facts. */
export const googleChecked = (api: string) =>
  checked(
    "https://developers.google.com/identity/protocols/oauth2",
    `authorize (o/oauth2/v2/auth), token and revoke endpoints (from a client library quoting Google's docs), the issuer https://accounts.google.com and its discovery document (Google's OpenID Connect reference) and that refresh tokens can expire checked; the userinfo URL openidconnect.googleapis.com/v1/userinfo only from a third-party reading of that document; the 7-day Testing lifetime from pages quoting Google (Google's own sentence not retrieved); scopes, ${api} base URL and test endpoint NOT checked`
  )

/** Microsoft identity platform (multi-tenant `common` endpoints) with offline access. */
export const microsoftOAuth2 = (scopes: ReadonlyArray<string>) => ({
  authorizationEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
  tokenEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
  userinfoEndpoint: "https://graph.microsoft.com/oidc/userinfo",
  scopes: ["openid", "email", "offline_access", ...scopes],
  scopeSeparator: " " as const,
  authorizationParameters: {},
  pkce: true
})

/** Microsoft's documented default refresh-token lifetime. */
export const microsoftRefreshToken = {
  seconds: 90 * 24 * 3600,
  note: "Default for confidential web apps (24 hours for single-page apps); replaced on every use"
}

/** Microsoft's checked facts. */
export const microsoftChecked = (api: string, test?: string) =>
  checked(
    "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow",
    `the {tenant}/oauth2/v2.0/authorize and /token endpoints (common for multi-tenant), space-separated scopes written as https://graph.microsoft.com/<Permission>, PKCE with S256, and a refresh token only when offline_access is requested (Microsoft's auth-code-flow page, from its MicrosoftDocs/entra-docs source) checked; the 90-day default refresh-token lifetime (24 h for single-page apps; learn.microsoft.com/entra/identity-platform/refresh-tokens) checked; the UserInfo endpoint GET graph.microsoft.com/oidc/userinfo answering sub (learn.microsoft.com/entra/identity-platform/userinfo) checked; 429 with Retry-After (learn.microsoft.com/graph/throttling) checked; GET /me answering id only from client libraries; ${test ?? `the ${api} test endpoint NOT checked`}`
  )

/** Microsoft Graph identity: `GET /me`, account id `id`. */
export const graphIdentity = {
  method: "GET" as const,
  endpoint: "https://graph.microsoft.com/v1.0/me",
  accountId: "id"
}

/** A test request that is also the who-am-I: `GET path` answers 200 with the account id at `accountId`. */
export const getWhoAmI = (path: string, accountId: string) => ({
  testEndpoint: { method: "GET" as const, path, expectStatus: 200 },
  identity: { method: "GET" as const, endpoint: path, accountId }
})

/** OpenID Connect userinfo at Google: the account is `sub`. */
export const googleIdentity = {
  method: "GET" as const,
  endpoint: "https://openidconnect.googleapis.com/v1/userinfo",
  accountId: "sub"
}

/** A Google API signed in with Google's OAuth2 server: identity, endpoints, limits, lifetime and provenance. */
export const googleApp = (api: string, scopes: ReadonlyArray<string>) => ({
  identity: googleIdentity,
  oauth2: googleOAuth2(scopes),
  fields: {},
  rateLimitHeaders: retryAfterOnly,
  refreshToken: googleTestingRefreshToken,
  checked: googleChecked(api)
})

/**
 * A Microsoft Graph API signed in with the Microsoft identity platform; `test` says what was
 * confirmed of the entry's test endpoint and scopes.
 */
export const microsoftApp = (api: string, scopes: ReadonlyArray<string>, test?: string) => ({
  identity: graphIdentity,
  oauth2: microsoftOAuth2(scopes),
  fields: {},
  rateLimitHeaders: retryAfterOnly,
  refreshToken: microsoftRefreshToken,
  checked: microsoftChecked(api, test)
})

/**
 * An OAuth2 server by its endpoints: scopes joined by a space, no extra authorization parameters
 * and no PKCE unless `options` says otherwise.
 */
export const oauth2Server = (
  endpoints: {
    readonly authorize?: string
    readonly token: string
    readonly revoke?: string
    readonly issuer?: string
    readonly userinfo?: string
  },
  scopes: ReadonlyArray<string> = [],
  options: {
    readonly separator?: " " | ","
    readonly parameters?: Readonly<Record<string, string>>
    readonly pkce?: boolean
  } = {}
) => ({
  ...(endpoints.issuer === undefined ? {} : { issuer: endpoints.issuer }),
  ...(endpoints.authorize === undefined ? {} : { authorizationEndpoint: endpoints.authorize }),
  tokenEndpoint: endpoints.token,
  ...(endpoints.revoke === undefined ? {} : { revocationEndpoint: endpoints.revoke }),
  ...(endpoints.userinfo === undefined ? {} : { userinfoEndpoint: endpoints.userinfo }),
  scopes,
  scopeSeparator: options.separator ?? " ",
  authorizationParameters: options.parameters ?? {},
  pkce: options.pkce ?? false
})
