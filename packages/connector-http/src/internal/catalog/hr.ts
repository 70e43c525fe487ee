/** HR systems. */
import type { Entry } from "../../Catalog.js"
import {
  baseUrlField,
  basicFields,
  checked,
  clientFields,
  getWhoAmI,
  oauth2Server,
  retryAfterOnly,
  tokenField
} from "./common.js"

export const hr: ReadonlyArray<Entry> = [
  {
    id: "93fc4a7d-9f02-449c-a244-9adcc778f0be",
    key: "bamboohr",
    name: "BambooHR",
    category: "hr",
    description: "Employees of a BambooHR company (API key as the Basic username, any password).",
    auth: ["basic"],
    testEndpoint: { method: "GET", path: "/v1/meta/fields", expectStatus: 200 },
    headers: { Accept: "application/json" },
    fields: {
      base_url: baseUrlField(
        "https://api.bamboohr.com/api/gateway.php/ followed by your company subdomain.",
        "https://api.bamboohr.com/api/gateway.php/acme",
        "^https://api\\.bamboohr\\.com/api/gateway\\.php/[A-Za-z0-9-]+$"
      ),
      ...basicFields(
        "API key",
        "Password (any value, e.g. x)",
        "https://documentation.bamboohr.com/docs/getting-started"
      )
    },
    checked: checked(
      "https://documentation.bamboohr.com/reference/getting-started",
      "the company subdomain and per-user API keys (multi-customer integrations use OAuth/OpenID Connect) checked; GET /api/gateway.php/<company>/v1/meta/fields/ (no special permission for read-only metadata) checked on BambooHR's older API documentation (bamboohr.com/api/documentation), which documents it with a trailing slash; the API key as Basic username with any password and the api.bamboohr.com host only from third-party pages; rate-limit headers NOT checked"
    )
  },
  {
    id: "df02c66b-c5b6-4a17-9b40-8e45fc0c6a86",
    key: "personio",
    name: "Personio",
    category: "hr",
    description: "Employees and absences of a Personio company (client id and secret).",
    auth: ["oauth2_client_credentials"],
    baseUrl: "https://api.personio.de",
    testEndpoint: { method: "GET", path: "/v2/persons?limit=1", expectStatus: 200 },
    oauth2: oauth2Server({ token: "https://api.personio.de/v2/auth/token" }),
    fields: clientFields("https://developer.personio.de/docs/getting-started-with-the-personio-api"),
    rateLimitHeaders: retryAfterOnly,
    checked: checked(
      "https://developer.personio.de/reference/post_v2-auth-token",
      "the v2 token endpoint POST https://api.personio.de/v2/auth/token (client-credentials grant, form-encoded client id and secret) and GET https://api.personio.de/v2/persons (limit 1 to 50, cursor pagination, needs the personio:persons:read scope on the credential) checked; Personio documents 429s (e.g. 300 requests a minute on v1 employees) but no rate-limit header names, so Retry-After is NOT checked"
    )
  },
  {
    id: "ba4f0c09-0620-4ea4-9a36-6407cde789c7",
    key: "hibob",
    name: "HiBob",
    category: "hr",
    description: "People data of a HiBob company through a service user.",
    auth: ["basic"],
    baseUrl: "https://api.hibob.com/v1",
    testEndpoint: { method: "GET", path: "/company/people/fields", expectStatus: 200 },
    fields: basicFields("Service user ID", "Service user token", "https://apidocs.hibob.com/docs/api-service-users"),
    checked: checked(
      "https://apidocs.hibob.com/reference/get_company-people-fields",
      "HTTP Basic auth with the service user's ID and token (SERVICE-USER-ID:TOKEN), base URL https://api.hibob.com/v1 and GET /company/people/fields (field metadata, needs no permission for the service user) checked; the test request moved there from /company/named-lists, which was not confirmed and needs list permissions; rate-limit headers NOT checked"
    )
  },
  {
    id: "907070c1-89e5-4a85-9a6f-9f7b2642fafb",
    key: "gusto",
    name: "Gusto",
    category: "hr",
    description: "Payroll and employees of a Gusto company.",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://api.gusto.com",
    ...getWhoAmI("/v1/me", "uuid"),
    oauth2: oauth2Server({
      authorize: "https://api.gusto.com/oauth/authorize",
      token: "https://api.gusto.com/oauth/token",
      revoke: "https://api.gusto.com/oauth/revoke"
    }),
    fields: {},
    checked: checked(
      "https://docs.gusto.com/app-integrations/docs/oauth2",
      "the authorize URL api.gusto.com/oauth/authorize (client_id, redirect_uri, response_type=code; Gusto's older docs.gusto.com guide), POST /oauth/token for codes and refresh tokens (2-hour access tokens; the old refresh token dies on first use of the new access token), scopes set on the app rather than in the request, and development against api.gusto-demo.com checked; POST /oauth/revoke (client_id, client_secret, token in a JSON body) from Gusto's own generated SDK (Gusto/gusto-python-client), so an RFC 7009 form-encoded revocation may be refused; GET /v1/me answering uuid only from a third-party copy of Gusto's API reference (GET /v1/token_info, answering resource.uuid, is the documented token introspection); refresh-token lifetime and rate-limit headers NOT checked"
    )
  },
  {
    id: "7cf264e7-2a5f-4bb2-8d8d-e3e57ee59dd5",
    key: "deel",
    name: "Deel",
    category: "hr",
    description: "Contracts and people in Deel with an API token.",
    auth: ["bearer"],
    baseUrl: "https://api.letsdeel.com/rest/v2",
    testEndpoint: { method: "GET", path: "/people?limit=1", expectStatus: 200 },
    fields: { token: tokenField("API token", "https://developer.deel.com/docs/api-tokens-1") },
    checked: checked(
      "https://developer.deel.com/api/authentication",
      "base URL https://api.letsdeel.com/rest/v2, organization or personal API tokens sent as Authorization: Bearer, and GET /people (offset/limit, limit 1 to 200, token scope people:read) checked; that the token needs people:read for the test request is the person's choice when generating it; OAuth2 (app.deel.com/oauth2), rate-limit headers and a who-am-I endpoint NOT checked"
    )
  },
  {
    id: "f8dff4e0-f94a-4c32-b570-7c5ef246ee5e",
    key: "rippling",
    name: "Rippling",
    category: "hr",
    description: "Employees of a Rippling company with an API token.",
    auth: ["bearer"],
    baseUrl: "https://api.rippling.com/platform/api",
    ...getWhoAmI("/me", "id"),
    fields: { token: tokenField("API token", "https://developer.rippling.com/documentation") },
    checked: checked(
      "https://developer.rippling.com/documentation",
      "an API key or OAuth access token sent as Authorization: Bearer, tied to one company, only from a client generated from Rippling's spec (docs.rs rippling-base-api) and integration vendors' pages; base URL api.rippling.com/platform/api and GET /me answering id, workEmail and company only from third-party copies of Rippling's reference (a third-party page says the newer REST API is at rest.ripplingapis.com); Rippling's own pages NOT retrieved, rate-limit headers NOT checked"
    )
  },
  {
    id: "fd86e623-35d4-4eb7-8432-2d03ec0b74a1",
    key: "factorial",
    name: "Factorial",
    category: "hr",
    description: "Employees of a Factorial company.",
    auth: ["oauth2_authorization_code", "api_key"],
    baseUrl: "https://api.factorialhr.com",
    apiKey: { in: "header", name: "x-api-key" },
    testEndpoint: { method: "GET", path: "/api/2024-10-01/resources/employees/employees", expectStatus: 200 },
    oauth2: oauth2Server(
      { authorize: "https://api.factorialhr.com/oauth/authorize", token: "https://api.factorialhr.com/oauth/token" },
      ["read", "write"]
    ),
    fields: {
      api_key: {
        title: "API key",
        description: "A company API key from Factorial's settings.",
        docs: "https://apidoc.factorialhr.com/docs/authentication",
        secret: true
      }
    },
    checked: checked(
      "https://apidoc.factorialhr.com/docs/api-keys",
      'company API keys in the x-api-key header (no prefix, full admin access, never expire), authorize https://api.factorialhr.com/oauth/authorize and token https://api.factorialhr.com/oauth/token (client id and secret in the form body, 2-hour expires_in with a refresh token) checked; the scopes read and write only from Factorial\'s older (v1/v2) docs, whose token response shows scope "read write" (current docs use per-resource scopes configured on the OAuth app, space-separated); the dated path /api/2024-10-01/resources/employees/employees only from code quoting it (Factorial releases quarterly versions, so 2024-10-01 may be retired); rate-limit headers NOT checked'
    )
  },
  {
    id: "fbd27ff3-914d-4bba-ac81-eb5872df318c",
    key: "greenhouse",
    name: "Greenhouse Harvest",
    category: "hr",
    description:
      "Candidates and jobs in Greenhouse through the Harvest v3 API (a customer's own Harvest v3 OAuth client id and secret).",
    auth: ["oauth2_client_credentials"],
    baseUrl: "https://harvest.greenhouse.io/v3",
    testEndpoint: { method: "GET", path: "/users?per_page=1", expectStatus: 200 },
    oauth2: oauth2Server({ token: "https://auth.greenhouse.io/token" }),
    fields: clientFields("https://harvestdocs.greenhouse.io/docs/authentication"),
    rateLimitHeaders: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining", retryAfter: "Retry-After" },
    checked: checked(
      "https://harvestdocs.greenhouse.io/docs/authentication",
      "Harvest v3 for custom integrations: the client-credentials grant at https://auth.greenhouse.io/token (HTTP Basic client authentication, form body), bearer access tokens, base https://harvest.greenhouse.io/v3 with cursor pagination and per_page on the first request checked; the older v1 entry (API key as the Basic username, empty password, harvest.greenhouse.io/v1) was confirmed on developers.greenhouse.io but replaced because Greenhouse points to v3 and integration vendors (Cronofy, HackerRank) report v1/v2 retired on 31 August 2026; the optional sub (acting user id) token parameter is not sent, so tokens act as the credential's service user (from a third-party page); GET /v3/users only from a third-party example; the X-RateLimit and Retry-After headers only from a third-party summary of the v1 docs; partner authorization-code flow (auth.greenhouse.io/authorize, 24-hour refresh tokens) not offered here"
    )
  }
]
