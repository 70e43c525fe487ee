/** CRMs. */
import type { Entry } from "../../Catalog.js"
import { basicFields, checked, getWhoAmI, oauth2Server, retryAfterOnly, tokenField } from "./common.js"

export const crm: ReadonlyArray<Entry> = [
  {
    id: "dc47f615-ca4e-47dc-828b-11ab59a5a050",
    key: "salesforce",
    name: "Salesforce",
    category: "crm",
    description: "Records of a Salesforce org through the REST API (the instance URL comes with the token).",
    auth: ["oauth2_authorization_code"],
    testEndpoint: { method: "GET", path: "/services/data/latest/", expectStatus: 200 },
    identity: {
      method: "GET",
      endpoint: "https://login.salesforce.com/services/oauth2/userinfo",
      accountId: "user_id"
    },
    oauth2: oauth2Server(
      {
        issuer: "https://login.salesforce.com",
        authorize: "https://login.salesforce.com/services/oauth2/authorize",
        token: "https://login.salesforce.com/services/oauth2/token",
        revoke: "https://login.salesforce.com/services/oauth2/revoke",
        userinfo: "https://login.salesforce.com/services/oauth2/userinfo"
      },
      ["api", "refresh_token", "openid"],
      { parameters: { prompt: "consent" }, pkce: true }
    ),
    fields: {
      base_url: {
        title: "Instance URL",
        description: "Your org's My Domain URL.",
        example: "https://acme.my.salesforce.com",
        pattern: "^https://[A-Za-z0-9-]+\\.my\\.salesforce\\.com$",
        secret: false
      }
    },
    rateLimitHeaders: { limit: "Sforce-Limit-Info" },
    checked: checked(
      "https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_endpoints.htm",
      "issuer, authorize, token, revoke and userinfo endpoints (login.salesforce.com's OpenID configuration; My Domain hosts also work) and the api, refresh_token, openid scopes checked; the Sforce-Limit-Info response header (developer.salesforce.com REST API guide: api-usage=used/limit, so not a bare number, and not sent for the versions URI /) checked; the test request moved from GET /services/data/ (the Versions resource, which Salesforce documents as needing no authentication, so it proved nothing about the token) to GET /services/data/latest/ (Resources by Version, bearer token; the latest alias is in the current REST API guide) checked"
    )
  },
  {
    id: "0f197a4a-4fc5-47f9-9295-c25f38b7b835",
    key: "hubspot",
    name: "HubSpot",
    category: "crm",
    description: "CRM objects of a HubSpot account.",
    auth: ["oauth2_authorization_code", "bearer"],
    baseUrl: "https://api.hubapi.com",
    ...getWhoAmI("/account-info/v3/details", "portalId"),
    oauth2: oauth2Server(
      { authorize: "https://app.hubspot.com/oauth/authorize", token: "https://api.hubapi.com/oauth/v1/token" },
      ["crm.objects.contacts.read", "oauth"]
    ),
    fields: {
      token: tokenField("Private app access token", "https://developers.hubspot.com/docs/api/private-apps", "pat-na1-…")
    },
    rateLimitHeaders: {
      limit: "X-HubSpot-RateLimit-Max",
      remaining: "X-HubSpot-RateLimit-Remaining",
      retryAfter: "Retry-After"
    },
    checked: checked(
      "https://developers.hubspot.com/docs/api/oauth/tokens",
      "token endpoint (api.hubapi.com/oauth/v1/token, form-encoded; newer docs also name /oauth/v3/token), 30-minute access tokens with refresh tokens, and scopes/optional_scopes in the install URL checked; GET /account-info/v3/details answering portalId (HubSpot lists it under legacy; the date-versioned /account-info/2026-03/details answers the same portalId) and its oauth scope checked; X-HubSpot-RateLimit-* headers on OAuth calls without the Daily pair (HubSpot changelog) checked, the exact -Max and -Remaining names and Retry-After NOT seen in the retrieved text; the authorize URL (app.hubspot.com/oauth/authorize) only from third-party pages; crm.objects.contacts.read NOT checked"
    )
  },
  {
    id: "132c4bc6-3c2c-4c97-8651-3968227c33f9",
    key: "zoho-crm",
    name: "Zoho CRM",
    category: "crm",
    description: "Records of a Zoho CRM organisation (US data centre; other regions use their own domains).",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://www.zohoapis.com/crm/v7",
    ...getWhoAmI("/org", "org.0.id"),
    oauth2: oauth2Server(
      {
        authorize: "https://accounts.zoho.com/oauth/v2/auth",
        token: "https://accounts.zoho.com/oauth/v2/token",
        revoke: "https://accounts.zoho.com/oauth/v2/token/revoke"
      },
      ["ZohoCRM.modules.ALL", "ZohoCRM.org.READ"],
      { separator: ",", parameters: { access_type: "offline", prompt: "consent" } }
    ),
    fields: {},
    checked: checked(
      "https://www.zoho.com/accounts/protocol/oauth/web-apps/authorization.html",
      "authorize endpoint {accounts-server}/oauth/v2/auth (per data centre) with access_type=offline for a refresh token and the prompt parameter, and the accounts.zoho.com token and revoke endpoints (on a Zoho API page) checked; comma-separated scopes from another Zoho product's docs; GET {api-domain}/crm/{version}/org with the ZohoCRM.org.READ scope and an org array whose first item carries id (Zoho CRM's Organization API, v2.1 page, and a Deluge example) checked; Zoho's API guides show Authorization: Zoho-oauthtoken, but Zoho Accounts documents Bearer as accepted too; the v7 version segment, ZohoCRM.modules.ALL and rate-limit headers NOT checked; the API domain differs per data centre (the token response names it as api_domain)"
    )
  },
  {
    id: "3b8333cd-2ef6-4c68-aeea-44bbf751cedd",
    key: "pipedrive",
    name: "Pipedrive",
    category: "crm",
    description: "Deals and contacts of a Pipedrive company.",
    auth: ["oauth2_authorization_code", "api_key"],
    baseUrl: "https://api.pipedrive.com",
    apiKey: { in: "header", name: "x-api-token" },
    ...getWhoAmI("/v1/users/me", "data.id"),
    oauth2: oauth2Server({
      authorize: "https://oauth.pipedrive.com/oauth/authorize",
      token: "https://oauth.pipedrive.com/oauth/token"
    }),
    fields: {
      api_key: {
        title: "API token",
        description: "Your personal API token from Pipedrive's settings.",
        docs: "https://pipedrive.readme.io/docs/how-to-find-the-api-token",
        secret: true
      }
    },
    rateLimitHeaders: { limit: "x-ratelimit-limit", remaining: "x-ratelimit-remaining", reset: "x-ratelimit-reset" },
    checked: checked(
      "https://pipedrive.readme.io/docs/marketplace-oauth-authorization",
      "authorize and token endpoints on oauth.pipedrive.com (token request with Basic client authentication) and scopes set on the app, not in the request, checked; the x-api-token header for API tokens (Pipedrive's current authentication page; older pages used an api_token query parameter) and GET /users/me answering data.id (Pipedrive's marketplace guide, which says to key accounts on user id plus company id) checked; the api.pipedrive.com host only from older usage (Pipedrive recommends {companydomain}.pipedrive.com/api/v1, and OAuth responses name an api_domain); Pipedrive documents token-based daily rate-limit budgets, but the x-ratelimit-* header names NOT checked"
    )
  },
  {
    id: "1a250db7-41c5-46e7-89b1-b0d57f4c983f",
    key: "close",
    name: "Close",
    category: "crm",
    description: "Leads and activities in Close (API key as the Basic username, empty password).",
    auth: ["basic"],
    baseUrl: "https://api.close.com/api/v1",
    ...getWhoAmI("/me/", "id"),
    fields: basicFields(
      "API key",
      "Password (leave empty)",
      "https://developer.close.com/api/overview/api-key-authentication"
    ),
    rateLimitHeaders: {
      limit: "RateLimit-Limit",
      remaining: "RateLimit-Remaining",
      reset: "RateLimit-Reset",
      retryAfter: "Retry-After"
    },
    checked: checked(
      "https://developer.close.com/api/overview/api-key-authentication",
      "HTTP Basic with the API key as username and an empty password, base URL https://api.close.com/api/v1 and GET /me/ (Close's own example request) checked; per-endpoint-group limits and 429 handling checked on Close's rate-limit page, whose changelog says the headers follow the IETF RateLimit draft since July 2023 (the current draft has one structured RateLimit field plus RateLimit-Policy, so the separate RateLimit-Limit/Remaining/Reset names may not match); the exact header names, Retry-After and the id field of /me/ NOT checked"
    )
  },
  {
    id: "96a5481e-1bec-4148-9d0a-0259275f555d",
    key: "attio",
    name: "Attio",
    category: "crm",
    description: "Records and lists in an Attio workspace.",
    auth: ["oauth2_authorization_code", "bearer"],
    baseUrl: "https://api.attio.com/v2",
    ...getWhoAmI("/self", "workspace_id"),
    oauth2: oauth2Server({ authorize: "https://app.attio.com/authorize", token: "https://app.attio.com/oauth/token" }),
    fields: { token: tokenField("Access token", "https://docs.attio.com/rest-api/guides/authentication") },
    rateLimitHeaders: retryAfterOnly,
    checked: checked(
      "https://docs.attio.com/rest-api/guides/authentication",
      "authorize https://app.attio.com/authorize (client_id, response_type=code, redirect_uri, state) and token https://app.attio.com/oauth/token (client id and secret in the body, grant_type authorization_code, no refresh token in the response), OAuth tokens and workspace API keys both sent as Authorization: Bearer, base URL api.attio.com/v2 and GET /v2/self (identify the token and its workspace) checked; workspace_id at the top level of the /v2/self response only from a third-party copy of Attio's reference (Attio's introspection response has it there); scopes, which are configured on the app, and rate-limit headers NOT checked"
    )
  }
]
