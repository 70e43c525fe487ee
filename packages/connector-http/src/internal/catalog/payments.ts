/** Payments. */
import type { Entry } from "../../Catalog.js"
import {
  apiKeyField,
  baseUrlField,
  checked,
  clientFields,
  oauth2Server,
  retryAfterOnly,
  tokenField,
  unchecked
} from "./common.js"

export const payments: ReadonlyArray<Entry> = [
  {
    id: "e261d038-ea5e-42de-9eab-40eccbae99bc",
    key: "stripe",
    name: "Stripe",
    category: "payments",
    description: "Payments, customers and invoices of a Stripe account (secret or restricted key).",
    auth: ["bearer"],
    baseUrl: "https://api.stripe.com/v1",
    testEndpoint: { method: "GET", path: "/balance", expectStatus: 200 },
    identity: { method: "GET", endpoint: "/account", accountId: "id" },
    fields: {
      token: {
        ...tokenField("Secret key", "https://docs.stripe.com/keys", "sk_live_…"),
        pattern: "^(sk|rk)_(live|test)_[A-Za-z0-9]+$"
      }
    },
    rateLimitHeaders: retryAfterOnly,
    checked: checked(
      "https://docs.stripe.com/api/authentication",
      "API key as Basic username or Bearer token, sk_test_/sk_live_ prefixes, restricted keys and https://api.stripe.com/v1 checked; GET /v1/balance (the balance of the authenticated account) from Stripe's official SDKs; GET /v1/account (id) only from a third-party SDK; Retry-After NOT checked"
    )
  },
  {
    id: "df5cd73e-2d21-46d0-8c6f-0d7a7cd38290",
    key: "paypal",
    name: "PayPal",
    category: "payments",
    description: "Orders and payouts of a PayPal business account (REST app client id and secret).",
    auth: ["oauth2_client_credentials"],
    baseUrl: "https://api-m.paypal.com",
    testEndpoint: { method: "GET", path: "/v1/identity/oauth2/userinfo?schema=paypalv1.1", expectStatus: 200 },
    oauth2: oauth2Server({ token: "https://api-m.paypal.com/v1/oauth2/token" }),
    fields: clientFields("https://developer.paypal.com/api/rest/authentication/"),
    checked: unchecked(
      "https://developer.paypal.com/api/rest/authentication/",
      "the live token endpoint and base URL (sandbox: api-m.sandbox.paypal.com)"
    )
  },
  {
    id: "46a47945-f5cd-4bc1-ae52-4646dc2650c4",
    key: "square",
    name: "Square",
    category: "payments",
    description: "Payments and catalog of a Square seller.",
    auth: ["oauth2_authorization_code", "bearer"],
    baseUrl: "https://connect.squareup.com/v2",
    headers: { "Square-Version": "2024-10-17" },
    testEndpoint: { method: "GET", path: "/locations", expectStatus: 200 },
    identity: { method: "GET", endpoint: "/merchants/me", accountId: "merchant.id" },
    oauth2: oauth2Server(
      {
        authorize: "https://connect.squareup.com/oauth2/authorize",
        token: "https://connect.squareup.com/oauth2/token",
        revoke: "https://connect.squareup.com/oauth2/revoke"
      },
      ["MERCHANT_PROFILE_READ", "PAYMENTS_READ"],
      { parameters: { session: "false" }, pkce: true }
    ),
    fields: { token: tokenField("Access token", "https://developer.squareup.com/docs/build-basics/access-tokens") },
    checked: checked(
      "https://developer.squareup.com/reference/square/oauth-api/authorize",
      "authorize endpoint, space-separated scope (the example URL's + is an encoded space; was wrongly a + separator), the session parameter and PKCE (code_challenge) checked; token and revoke endpoints, Square-Version and /merchants/me NOT checked"
    )
  },
  {
    id: "82a79cdb-3b61-470c-aa98-40b143fe200e",
    key: "adyen",
    name: "Adyen",
    category: "payments",
    description: "Payments through Adyen's Checkout API (the base URL carries the live-endpoint prefix).",
    auth: ["api_key"],
    apiKey: { in: "header", name: "X-API-Key" },
    testEndpoint: { method: "POST", path: "/paymentMethods", expectStatus: 422 },
    fields: {
      base_url: baseUrlField(
        "Your Checkout API URL (test: https://checkout-test.adyen.com/v71).",
        "https://checkout-test.adyen.com/v71"
      ),
      api_key: apiKeyField("API key", "https://docs.adyen.com/development-resources/api-credentials/")
    },
    checked: unchecked(
      "https://docs.adyen.com/development-resources/api-authentication/",
      "the X-API-Key header, URL form and test request"
    )
  },
  {
    id: "1ffdede8-5c91-4591-9626-808f1f1a3efb",
    key: "mollie",
    name: "Mollie",
    category: "payments",
    description: "Payments of a Mollie profile.",
    auth: ["bearer"],
    baseUrl: "https://api.mollie.com/v2",
    testEndpoint: { method: "GET", path: "/methods", expectStatus: 200 },
    fields: {
      token: {
        ...tokenField("API key", "https://docs.mollie.com/reference/authentication", "live_…"),
        pattern: "^(live|test)_[A-Za-z0-9]{30,}$"
      }
    },
    checked: unchecked("https://docs.mollie.com/reference/authentication", "bearer key format, base URL and /methods")
  }
]
