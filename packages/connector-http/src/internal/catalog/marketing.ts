/** Marketing and e-commerce. */
import type { Entry } from "../../Catalog.js"
import { apiKeyField, checked, getWhoAmI, oauth2Server } from "./common.js"

export const marketing: ReadonlyArray<Entry> = [
  {
    id: "35843750-144c-4f28-be2c-a0eade035b22",
    key: "mailchimp",
    name: "Mailchimp",
    category: "marketing",
    description: "Audiences and campaigns of a Mailchimp account (the base URL names the account's data centre).",
    auth: ["oauth2_authorization_code"],
    testEndpoint: { method: "GET", path: "/ping", expectStatus: 200 },
    identity: { method: "GET", endpoint: "https://login.mailchimp.com/oauth2/metadata", accountId: "user_id" },
    oauth2: oauth2Server({
      authorize: "https://login.mailchimp.com/oauth2/authorize",
      token: "https://login.mailchimp.com/oauth2/token"
    }),
    fields: {
      base_url: {
        title: "API URL",
        description: "https://<dc>.api.mailchimp.com/3.0 with your data centre.",
        example: "https://us21.api.mailchimp.com/3.0",
        pattern: "^https://[a-z]+[0-9]+\\.api\\.mailchimp\\.com/3\\.0$",
        secret: false
      }
    },
    checked: checked(
      "https://developer.mailchimp.com/documentation/mailchimp/guides/how-to-use-oauth2/",
      "authorize (login.mailchimp.com/oauth2/authorize), token (/oauth2/token) and metadata (/oauth2/metadata) endpoints and tokens that never expire, so no refresh token (Mailchimp's older developer.mailchimp.com OAuth2 guide) checked; no scopes and the per-account https://<dc>.api.mailchimp.com/3.0 base URL from the metadata's dc only from third-party pages; GET /ping as an account-free health check only from client libraries generated from Mailchimp's spec; user_id in the metadata answer only from third-party code, which calls the metadata endpoint with Authorization: OAuth <token> (quoting Mailchimp's current guide) — whether it also accepts Bearer NOT checked"
    )
  },
  {
    id: "47215439-695c-4845-95d9-0d0392369918",
    key: "klaviyo",
    name: "Klaviyo",
    category: "marketing",
    description: "Profiles and lists of a Klaviyo account.",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://a.klaviyo.com/api",
    headers: { revision: "2026-07-15" },
    ...getWhoAmI("/accounts/", "data.0.id"),
    oauth2: oauth2Server(
      {
        authorize: "https://www.klaviyo.com/oauth/authorize",
        token: "https://a.klaviyo.com/oauth/token",
        revoke: "https://a.klaviyo.com/oauth/revoke"
      },
      ["accounts:read", "profiles:read"],
      { pkce: true }
    ),
    fields: {},
    rateLimitHeaders: {
      limit: "RateLimit-Limit",
      remaining: "RateLimit-Remaining",
      reset: "RateLimit-Reset",
      retryAfter: "Retry-After"
    },
    checked: checked(
      "https://developers.klaviyo.com/en/docs/set_up_oauth",
      "token and revoke endpoints on a.klaviyo.com (www.klaviyo.com token traffic blocked since 2025-03-31), the authorize URL www.klaviyo.com/oauth/authorize with space-separated scopes and code_challenge_method=S256, and Bearer access tokens (developers.klaviyo.com set-up-OAuth guide, current and v2024-10-15 copies), GET /api/accounts with the revision header, the accounts:read scope and a data array of accounts (Klaviyo's OpenAPI spec klaviyo/openapi, stable 2026-07-15), and the RateLimit-Limit/Remaining/Reset headers on non-429 responses (developers.klaviyo.com rate limits) checked; the revision was wrong (2024-10-15 is retired under Klaviyo's two-year revision lifecycle, per Klaviyo's own migration notes) and is now 2026-07-15; the profiles:read scope name and Retry-After on 429 only from third-party code; the refresh-token lifetime NOT checked"
    )
  },
  {
    id: "71798747-62dd-432a-9daf-50f592e74758",
    key: "shopify",
    name: "Shopify Admin",
    category: "ecommerce",
    description: "Products and orders of a Shopify store with an Admin API access token.",
    auth: ["api_key"],
    apiKey: { in: "header", name: "X-Shopify-Access-Token" },
    ...getWhoAmI("/shop.json", "shop.id"),
    fields: {
      base_url: {
        title: "Admin API URL",
        description: "https://<store>.myshopify.com/admin/api/<version>.",
        example: "https://acme.myshopify.com/admin/api/2026-10",
        pattern: "^https://[a-z0-9-]+\\.myshopify\\.com/admin/api/[0-9]{4}-[0-9]{2}$",
        secret: false
      },
      api_key: apiKeyField(
        "Admin API access token",
        "https://shopify.dev/docs/api/admin-rest#authentication",
        "shpat_…"
      )
    },
    rateLimitHeaders: { limit: "X-Shopify-Shop-Api-Call-Limit", retryAfter: "Retry-After" },
    checked: checked(
      "https://shopify.dev/docs/api/admin-rest",
      "the X-Shopify-Access-Token header on every REST Admin API request and the quarterly YYYY-MM versions, each supported for at least 12 months (shopify.dev), checked; GET /admin/api/<version>/shop.json retrieving the shop's configuration (shopify.dev Shop resource, latest = 2026-10) checked; the example version was unsupported (2024-10) and is now 2026-10; the REST Admin API is legacy since 2024-10-01 and admin-created custom apps (the static shpat_ token this entry takes) can no longer be created since 2026-01-01, while Dev Dashboard apps get 24-hour client-credentials tokens from the store's own /admin/oauth/access_token, which this entry does not model; the shop.id path and X-Shopify-Shop-Api-Call-Limit (used/limit, not a bare number) with Retry-After on 429 only from third-party pages"
    )
  }
]
