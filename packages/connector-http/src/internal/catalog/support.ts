/** Customer support. */
import type { Entry } from "../../Catalog.js"
import { basicFields, checked, getWhoAmI, oauth2Server, tokenField } from "./common.js"

export const support: ReadonlyArray<Entry> = [
  {
    id: "f42f5a85-536a-47e1-bc55-d4a8b38037d1",
    key: "zendesk",
    name: "Zendesk",
    category: "support",
    description:
      "Tickets and users of a Zendesk Support account (email/token as the Basic username, API token as password).",
    auth: ["basic"],
    testEndpoint: { method: "GET", path: "/api/v2/account/settings.json", expectStatus: 200 },
    identity: { method: "GET", endpoint: "/api/v2/users/me.json", accountId: "user.id" },
    fields: {
      base_url: {
        title: "Zendesk URL",
        description: "Your Zendesk subdomain URL.",
        example: "https://acme.zendesk.com",
        pattern: "^https://[a-z0-9-]+\\.zendesk\\.com$",
        secret: false
      },
      ...basicFields(
        "Email/token",
        "API token",
        "https://developer.zendesk.com/api-reference/introduction/security-and-auth/",
        "agent@acme.com/token"
      )
    },
    rateLimitHeaders: { limit: "X-Rate-Limit", remaining: "X-Rate-Limit-Remaining", retryAfter: "Retry-After" },
    checked: checked(
      "https://developer.zendesk.com/api-reference/introduction/security-and-auth/",
      "API tokens as Basic credentials {email_address}/token:{api_token} (developer.zendesk.com security and authentication) and the account-wide X-Rate-Limit and X-Rate-Limit-Remaining headers (developer.zendesk.com best practices for avoiding rate limiting, which also names ratelimit-limit/remaining/reset on list endpoints) checked; Retry-After on 429 only from a Zendesk community thread quoting the rate-limits page (where one user reports it missing on a per-user limit); GET /api/v2/users/me.json answering user.id only from third-party pages, one of which quotes Zendesk's reference as allowing it for anonymous users (a 200 with no id for bad credentials), so the test request is now GET /api/v2/account/settings.json (developer.zendesk.com Account Settings; agents only per a copy of Zendesk's OpenAPI); that it answers 401 to bad credentials NOT checked"
    )
  },
  {
    id: "147b15a1-2801-4404-ad2d-ed9017175541",
    key: "intercom",
    name: "Intercom",
    category: "support",
    description: "Conversations and contacts of an Intercom workspace.",
    auth: ["oauth2_authorization_code", "bearer"],
    baseUrl: "https://api.intercom.io",
    ...getWhoAmI("/me", "app.id_code"),
    oauth2: oauth2Server({
      authorize: "https://app.intercom.com/oauth",
      token: "https://api.intercom.io/auth/eagle/token"
    }),
    fields: {
      token: tokenField(
        "Access token",
        "https://developers.intercom.com/docs/build-an-integration/learn-more/authentication"
      )
    },
    rateLimitHeaders: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining", reset: "X-RateLimit-Reset" },
    checked: checked(
      "https://developers.intercom.com/docs/build-an-integration/learn-more/authentication/setting-up-oauth",
      "the token endpoint api.intercom.io/auth/eagle/token (code, client_id, client_secret) and that scopes are set on the app, not in the request (Intercom's readme.io reference and setting-up-OAuth guide), bearer access tokens, GET /me answering the admin with app.id_code (developers.intercom.com Identify an admin; the 2.6 reference calls it OAuth-only with the Read admins permission), the X-RateLimit-Limit/Remaining/Reset headers with Reset a UNIX timestamp (developers.intercom.com rate limiting) and the api.intercom.io US host (EU and AU workspaces use api.eu.intercom.io and api.au.intercom.io, not modelled here) checked; the authorize URL app.intercom.com/oauth only from a third-party client library (Intercom's older reference names app.intercom.io/oauth)"
    )
  },
  {
    id: "74637f17-ea29-45f2-9a0b-3a4892ab9ac1",
    key: "freshdesk",
    name: "Freshdesk",
    category: "support",
    description: "Tickets of a Freshdesk helpdesk (API key as the Basic username, X as password).",
    auth: ["basic"],
    ...getWhoAmI("/api/v2/agents/me", "id"),
    fields: {
      base_url: {
        title: "Helpdesk URL",
        description: "Your Freshdesk domain.",
        example: "https://acme.freshdesk.com",
        pattern: "^https://[a-z0-9-]+\\.freshdesk\\.com$",
        secret: false
      },
      ...basicFields("API key", "Password (X)", "https://developers.freshdesk.com/api/#authentication")
    },
    rateLimitHeaders: { limit: "X-RateLimit-Total", remaining: "X-RateLimit-Remaining", retryAfter: "Retry-After" },
    checked: checked(
      "https://support.freshdesk.com/support/solutions/articles/225435-where-can-i-find-my-api-key-",
      "the per-agent API key from Profile Settings (Freshdesk support articles) checked; the key as the Basic username with X as password, GET /api/v2/agents/me answering id, and the X-RateLimit-Total/X-RateLimit-Remaining/Retry-After headers only from third-party pages quoting developers.freshdesk.com/api (that page itself not retrieved)"
    )
  }
]
