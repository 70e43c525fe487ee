/** Payments. */
import type { Entry } from "../../Catalog.js"
import { apiKeyField, baseUrlField, checked, clientFields, oauth2Server, tokenField } from "./common.js"

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
    checked: checked(
      "https://docs.stripe.com/api/authentication",
      "API key as Basic username or Bearer token, sk_test_/sk_live_ prefixes, restricted keys and https://api.stripe.com/v1 checked; GET /v1/balance (the balance of the authenticated account) from Stripe's official SDKs; GET /v1/account (id) only from a third-party SDK; rate limiting checked at docs.stripe.com/rate-limits, which documents only the 429 status (and a Stripe-Rate-Limited-Reason header), no Retry-After or remaining-count headers, so none are declared (was Retry-After; a third-party page also says Stripe sends none)"
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
    testEndpoint: { method: "GET", path: "/v1/notifications/webhooks", expectStatus: 200 },
    oauth2: oauth2Server({ token: "https://api-m.paypal.com/v1/oauth2/token" }),
    fields: clientFields("https://developer.paypal.com/api/rest/authentication/"),
    checked: checked(
      "https://developer.paypal.com/api/rest/authentication/",
      "the client-credentials exchange at /v1/oauth2/token with the client id and secret as Basic credentials (developer.paypal.com, Authentication; its examples use api-m.sandbox.paypal.com) and the live https://api-m.paypal.com host and token URL (PayPal's Webhooks Management OpenAPI, servers and clientCredentials tokenUrl) checked; the test request is now GET /v1/notifications/webhooks (list the app's webhooks), documented for client-credentials tokens (was GET /v1/identity/oauth2/userinfo?schema=paypalv1.1, a Log in with PayPal user-profile call not documented for app tokens); that every REST app's token carries the webhooks scope NOT checked"
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
      "authorize endpoint, space-separated scope (the example URL's + is an encoded space; was wrongly a + separator), the session parameter and PKCE (code_challenge) checked; GET /v2/merchants/me answering { merchant: { id } } (developer.squareup.com, RetrieveMerchant with \"me\") and 2024-10-17 as a released Square-Version (Square's SDK release notes) checked; POST /oauth2/token and POST /oauth2/revoke only from Square's official SDK docs (square/connect-javascript-sdk, square/square-python-sdk), where revoke takes a JSON body with Authorization: Client <secret>, not RFC 7009; GET /v2/locations listing the seller's locations (developer.squareup.com, Locations API) checked"
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
        "Your Checkout API URL (test: https://checkout-test.adyen.com/v71; live: https://{PREFIX}-checkout-live.adyenpayments.com/checkout/v71 with your company's prefix from Customer Area > Developers > API URLs).",
        "https://checkout-test.adyen.com/v71"
      ),
      api_key: apiKeyField("API key", "https://docs.adyen.com/development-resources/api-credentials/")
    },
    checked: checked(
      "https://docs.adyen.com/development-resources/api-authentication/",
      "the X-API-Key header (docs.adyen.com, API authentication; Basic auth is the documented alternative), the versioned test URL https://checkout-test.adyen.com/v71 and the prefixed live URL https://{PREFIX}-checkout-live.adyenpayments.com/checkout/v71 (Adyen's Checkout API reference, Going live) checked; that a body-less POST /paymentMethods answers 422 (a request validation error, as Adyen's generated SDK docs describe 422) and not 400 NOT checked"
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
    checked: checked(
      "https://docs.mollie.com/reference/authentication",
      "Authorization: Bearer with a live_ or test_ API key per website profile (example test_ plus 30 characters), https://api.mollie.com/v2 and GET /v2/methods listing the profile's enabled methods (docs.mollie.com and the curl examples in Mollie's api-documentation sources) checked; rate-limit headers NOT checked"
    )
  }
]
