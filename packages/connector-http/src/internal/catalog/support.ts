/** Customer support. */
import type { Entry } from "../../Catalog.js"
import { basicFields, getWhoAmI, oauth2Server, tokenField, unchecked } from "./common.js"

export const support: ReadonlyArray<Entry> = [
  {
    id: "f42f5a85-536a-47e1-bc55-d4a8b38037d1",
    key: "zendesk",
    name: "Zendesk",
    category: "support",
    description:
      "Tickets and users of a Zendesk Support account (email/token as the Basic username, API token as password).",
    auth: ["basic"],
    ...getWhoAmI("/api/v2/users/me.json", "user.id"),
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
    checked: unchecked(
      "https://developer.zendesk.com/api-reference/introduction/security-and-auth/",
      "the email/token Basic scheme, /users/me and rate-limit headers"
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
    checked: unchecked(
      "https://developers.intercom.com/docs/build-an-integration/learn-more/authentication/setting-up-oauth",
      "endpoints, /me and rate-limit headers"
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
    checked: unchecked("https://developers.freshdesk.com/api/", "the Basic scheme, /agents/me and rate-limit headers")
  }
]
