/** Marketing and e-commerce. */
import type { Entry } from "../../Catalog.js"
import { apiKeyField, getWhoAmI, oauth2Server, retryAfterOnly, unchecked } from "./common.js"

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
    checked: unchecked(
      "https://mailchimp.com/developer/marketing/guides/access-user-data-oauth-2/",
      "endpoints, the metadata endpoint and /ping"
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
    headers: { revision: "2024-10-15" },
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
    rateLimitHeaders: retryAfterOnly,
    checked: unchecked(
      "https://developers.klaviyo.com/en/docs/set_up_oauth",
      "endpoints, PKCE, revision header and /accounts/"
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
        example: "https://acme.myshopify.com/admin/api/2024-10",
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
    checked: unchecked(
      "https://shopify.dev/docs/api/admin-rest",
      "the access-token header, URL form, /shop.json and the call-limit header"
    )
  }
]
