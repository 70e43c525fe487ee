/** Email providers. */
import type { Entry } from "../../Catalog.js"
import {
  apiKeyField,
  basicFields,
  checked,
  getWhoAmI,
  googleApp,
  microsoftApp,
  oauth2Server,
  retryAfterOnly,
  tokenField,
  xRateLimit
} from "./common.js"

export const email: ReadonlyArray<Entry> = [
  {
    id: "48f058d5-80a8-4c73-8286-1f268415f2be",
    key: "gmail",
    name: "Gmail",
    category: "email",
    description: "Read and send Gmail messages through the Gmail API.",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://gmail.googleapis.com/gmail/v1",
    testEndpoint: { method: "GET", path: "/users/me/profile", expectStatus: 200 },
    ...googleApp("Gmail API", ["https://www.googleapis.com/auth/gmail.modify"]),
    checked: checked(
      "https://developers.google.com/identity/protocols/oauth2",
      "authorize (o/oauth2/v2/auth), token and revoke endpoints (from a client library quoting Google's docs), the issuer https://accounts.google.com (Google's OpenID Connect reference), and that refresh tokens can expire checked; GET gmail/v1/users/{userId}/profile with userId `me` (users.getProfile), accepting the gmail.modify scope among others, checked in Google's Gmail discovery document (googleapis/google-api-go-client, gmail-api.json, whose stored version names the www.googleapis.com root); the gmail.googleapis.com root and the userinfo URL only from third-party pages; the 7-day Testing lifetime from pages quoting Google (Google's own sentence not retrieved)"
    )
  },
  {
    id: "a1218a7e-2a32-42eb-9620-9ce40243d293",
    key: "microsoft-outlook",
    name: "Microsoft 365 / Outlook",
    category: "email",
    description: "Outlook mail of a Microsoft 365 or Outlook.com account through Microsoft Graph.",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://graph.microsoft.com/v1.0",
    testEndpoint: { method: "GET", path: "/me/mailFolders/inbox", expectStatus: 200 },
    ...microsoftApp(
      "Graph mail",
      ["https://graph.microsoft.com/Mail.ReadWrite", "https://graph.microsoft.com/Mail.Send"],
      "GET /me/mailFolders/{id} answering 200 with Mail.Read or Mail.ReadWrite, for work and personal accounts (Microsoft Graph's v1.0 reference in microsoftgraph/microsoft-graph-docs-contrib) checked; the well-known folder name `inbox` in place of an id and the Mail.Send scope NOT checked"
    )
  },
  {
    id: "3c5d7590-4f05-4394-b558-57554d9cefca",
    key: "zoho-mail",
    name: "Zoho Mail",
    category: "email",
    description: "Zoho Mail accounts through the Zoho Mail API (US data centre; other regions use their own domains).",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://mail.zoho.com/api",
    ...getWhoAmI("/accounts", "data.0.accountId"),
    oauth2: oauth2Server(
      {
        authorize: "https://accounts.zoho.com/oauth/v2/auth",
        token: "https://accounts.zoho.com/oauth/v2/token",
        revoke: "https://accounts.zoho.com/oauth/v2/token/revoke"
      },
      ["ZohoMail.accounts.READ", "ZohoMail.messages.ALL"],
      { separator: ",", parameters: { access_type: "offline", prompt: "consent" } }
    ),
    fields: {},
    checked: checked(
      "https://www.zoho.com/accounts/protocol/oauth/web-apps/authorization.html",
      "authorize endpoint {accounts-server}/oauth/v2/auth (per data centre) with access_type=offline for a refresh token and the prompt parameter, and the accounts.zoho.com token and revoke endpoints (on a Zoho API page) checked; GET https://mail.zoho.com/api/accounts (all accounts of the authenticated user, a `data` array, scope ZohoMail.accounts.READ or .ALL) and the per-data-centre Mail API domains (zoho.com/mail/help/api) checked; comma-separated scopes from another Zoho product's docs (Zoho Meeting); the ZohoMail.messages.ALL scope and the accountId field of data[0] NOT checked"
    )
  },
  {
    id: "54f9c3a0-ef96-49d3-a68c-d0e3737496f6",
    key: "sendgrid",
    name: "SendGrid",
    category: "email",
    description: "Transactional email through Twilio SendGrid's v3 API.",
    auth: ["bearer"],
    baseUrl: "https://api.sendgrid.com/v3",
    testEndpoint: { method: "GET", path: "/scopes", expectStatus: 200 },
    fields: {
      token: tokenField("API key", "https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys", "SG.xxxxx")
    },
    rateLimitHeaders: xRateLimit,
    checked: checked(
      "https://sendgrid.com/docs/Classroom/Send/How_Emails_Are_Sent/api_keys.html",
      "API key as a bearer token in Authorization and the api.sendgrid.com/v3 host checked; X-RateLimit-Limit/Remaining/Reset (reset an epoch time) on every v3 response and 429 when exhausted (twilio.com/docs/sendgrid, v3 rate limits) checked; GET /v3/scopes as the test request only from SendGrid's Japanese partner mirror of the docs"
    )
  },
  {
    id: "0c5773fc-e55f-4646-9e9b-479a0bb05405",
    key: "mailgun",
    name: "Mailgun",
    category: "email",
    description: "Transactional email through Mailgun (US region; EU accounts use api.eu.mailgun.net).",
    auth: ["basic"],
    baseUrl: "https://api.mailgun.net",
    testEndpoint: { method: "GET", path: "/v4/domains", expectStatus: 200 },
    fields: {
      ...basicFields(
        "Username",
        "API key",
        "https://documentation.mailgun.com/docs/mailgun/api-reference/authentication",
        "api"
      )
    },
    rateLimitHeaders: retryAfterOnly,
    checked: checked(
      "https://documentation.mailgun.com/docs/mailgun/api-reference",
      "HTTP Basic auth with username `api` and the API key as password, the US base URL api.mailgun.net (EU: api.eu.mailgun.net) and GET /v4/domains (Mailgun's OpenAPI reference, Basic auth) checked; rate-limit headers NOT checked"
    )
  },
  {
    id: "6169f827-f344-4591-8850-f5c2628b7f69",
    key: "postmark",
    name: "Postmark",
    category: "email",
    description: "Transactional email through a Postmark server.",
    auth: ["api_key"],
    baseUrl: "https://api.postmarkapp.com",
    headers: { Accept: "application/json" },
    apiKey: { in: "header", name: "X-Postmark-Server-Token" },
    ...getWhoAmI("/server", "ID"),
    fields: { api_key: apiKeyField("Server API token", "https://postmarkapp.com/developer/api/overview") },
    checked: checked(
      "https://postmarkapp.com/developer/user-guide/managing-your-account",
      "the X-Postmark-Server-Token header for server-level endpoints (account endpoints use X-Postmark-Account-Token; postmarkapp.com user guide and API explorer) and 401 on a refused token checked; GET https://api.postmarkapp.com/server (Get Server Configuration) only from a third-party OpenAPI transcription of Postmark's API, and its ID field only from a third-party tool schema"
    )
  },
  {
    id: "27a908dd-b2f1-4cb6-ae8d-edb51c735d89",
    key: "brevo",
    name: "Brevo",
    category: "email",
    description: "Transactional and marketing email through Brevo (formerly Sendinblue).",
    auth: ["api_key"],
    baseUrl: "https://api.brevo.com/v3",
    apiKey: { in: "header", name: "api-key" },
    ...getWhoAmI("/account", "email"),
    fields: { api_key: apiKeyField("API key", "https://developers.brevo.com/docs/getting-started", "xkeysib-…") },
    rateLimitHeaders: {
      limit: "x-sib-ratelimit-limit",
      remaining: "x-sib-ratelimit-remaining",
      reset: "x-sib-ratelimit-reset"
    },
    checked: checked(
      "https://developers.brevo.com/reference/get-account",
      "the api-key request header (developers.brevo.com, API key authentication), GET https://api.brevo.com/v3/account answering 200 with the account's details as the documented key check (Brevo's quickstart), and the x-sib-ratelimit-limit/remaining/reset response headers (developers.brevo.com/docs/limit-headers; reset is seconds until the window resets, not an epoch) checked; the account answer's email field as the account id only from a third-party schema derived from Brevo's OpenAPI (Brevo's reference also names organization and user ids, which may be steadier)"
    )
  }
]
