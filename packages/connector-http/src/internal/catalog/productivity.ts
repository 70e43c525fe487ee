/** Productivity suites and work management. */
import type { Entry } from "../../Catalog.js"
import { checked, getWhoAmI, googleApp, oauth2Server, retryAfterOnly, tokenField } from "./common.js"

export const productivity: ReadonlyArray<Entry> = [
  {
    id: "40198b8f-7b74-4989-a5eb-b91dca64d4fe",
    key: "google-calendar",
    name: "Google Calendar",
    category: "productivity",
    description: "Calendars and events through the Calendar API v3.",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://www.googleapis.com/calendar/v3",
    testEndpoint: { method: "GET", path: "/calendars/primary/events?maxResults=1", expectStatus: 200 },
    ...googleApp("Calendar API", ["https://www.googleapis.com/auth/calendar.events"]),
    checked: checked(
      "https://developers.google.com/calendar/api/v3/reference/calendarList/list",
      "the v3 base URL www.googleapis.com/calendar/v3 and GET /users/me/calendarList with maxResults (developers.google.com Calendar reference) checked; the test request was wrong: calendarList needs calendar, calendar.readonly or the calendarlist scopes (Google's calendarList.get reference; calendar.events is not among them), so it is now GET /calendars/primary/events?maxResults=1, which calendar.events allows (scope lists from client documentation generated from Google's discovery document, Google's own events.list page not retrieved); Google's OAuth server facts not re-checked here (as recorded for the shared googleApp builder: authorize, token and revoke from a client library quoting Google, the issuer from Google's OpenID Connect reference, userinfo only from a third-party reading of the discovery document, the 7-day Testing lifetime from pages quoting Google)"
    )
  },
  {
    id: "2e6abb5c-c204-4038-b47a-88b000c78170",
    key: "google-sheets",
    name: "Google Sheets",
    category: "productivity",
    description: "Spreadsheets through the Sheets API v4.",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://sheets.googleapis.com/v4",
    testEndpoint: { method: "GET", path: "/spreadsheets/invalid-id", expectStatus: 404 },
    ...googleApp("Sheets API", ["https://www.googleapis.com/auth/spreadsheets"]),
    checked: checked(
      "https://developers.google.com/sheets/api/guides/migration",
      "the v4 API (v3 turned down on 2021-08-02) and the spreadsheets scope among the four it uses (developers.google.com Sheets migration guide) checked; the sheets.googleapis.com/v4 base URL only from Google's generated client libraries; a 404 NOT_FOUND (\"Requested entity was not found.\") for an unknown spreadsheet id only from users' issue reports, so the test request proves the token was accepted without naming a spreadsheet; Google's OAuth server facts not re-checked here (as recorded for the shared googleApp builder: authorize, token and revoke from a client library quoting Google, the issuer from Google's OpenID Connect reference, userinfo only from a third-party reading of the discovery document, the 7-day Testing lifetime from pages quoting Google)"
    )
  },
  {
    id: "5eeac0da-6f49-44fb-b453-6c811969fe93",
    key: "notion",
    name: "Notion",
    category: "productivity",
    description: "Pages and databases of a Notion workspace.",
    auth: ["oauth2_authorization_code", "bearer"],
    baseUrl: "https://api.notion.com/v1",
    headers: { "Notion-Version": "2022-06-28" },
    ...getWhoAmI("/users/me", "bot.workspace_id"),
    oauth2: oauth2Server(
      {
        authorize: "https://api.notion.com/v1/oauth/authorize",
        token: "https://api.notion.com/v1/oauth/token",
        revoke: "https://api.notion.com/v1/oauth/revoke"
      },
      [],
      { parameters: { owner: "user" } }
    ),
    fields: {
      token: tokenField("Internal integration secret", "https://developers.notion.com/docs/authorization", "ntn_…")
    },
    rateLimitHeaders: retryAfterOnly,
    checked: checked(
      "https://developers.notion.com/docs/authorization",
      "the api.notion.com/v1/oauth/token endpoint (developers.notion.com reference, Basic client authentication), bearer tokens with a Notion-Version header (developers.notion.com authentication reference), GET /v1/users/me answering the token's bot user, Retry-After (integer seconds) on 429 (developers.notion.com request limits), and oauth/revoke and bot.workspace_id in the bot user from Notion's official SDK (makenotion/notion-sdk-js) checked; the /v1/oauth/authorize URL with owner=user only from third-party pages; Notion-Version 2022-06-28 is still accepted (the SDK's webhook types list it) but the SDK now defaults to 2025-09-03, not re-evaluated here"
    )
  },
  {
    id: "4db71510-aef8-4865-a987-c23aa1a58c02",
    key: "airtable",
    name: "Airtable",
    category: "productivity",
    description: "Bases and records in Airtable.",
    auth: ["oauth2_authorization_code", "bearer"],
    baseUrl: "https://api.airtable.com/v0",
    ...getWhoAmI("/meta/whoami", "id"),
    oauth2: oauth2Server(
      { authorize: "https://airtable.com/oauth2/v1/authorize", token: "https://airtable.com/oauth2/v1/token" },
      ["data.records:read", "schema.bases:read", "user.email:read"],
      { pkce: true }
    ),
    fields: {
      token: tokenField(
        "Personal access token",
        "https://airtable.com/developers/web/guides/personal-access-tokens",
        "pat…"
      )
    },
    rateLimitHeaders: retryAfterOnly,
    refreshToken: { seconds: 60 * 24 * 3600, note: "Refresh tokens are single-use and expire after 60 days" },
    checked: checked(
      "https://airtable.com/developers/web/api/oauth-reference",
      "authorize endpoint (airtable.com/oauth2/v1/authorize) with space-separated scopes and a required S256 code_challenge, and GET /v0/meta/whoami answering id (airtable.com/developers/web/api/get-user-id-scopes) checked; the oauth2/v1/token endpoint with Basic client authentication from Airtable's own oauth-example repository; the 60-day refresh-token lifetime and rotation, and the data.records:read and schema.bases:read scope names, only from third-party pages (Nango, withone.ai; user.email:read is on Airtable's whoami page); Retry-After on 429 NOT checked (Airtable's support article says to wait 30 seconds after a 429 and names no header)"
    )
  },
  {
    id: "8862905a-597b-44c5-927f-995ad4e15b83",
    key: "asana",
    name: "Asana",
    category: "productivity",
    description: "Tasks and projects in Asana.",
    auth: ["oauth2_authorization_code", "bearer"],
    baseUrl: "https://app.asana.com/api/1.0",
    ...getWhoAmI("/users/me", "data.gid"),
    oauth2: oauth2Server(
      {
        authorize: "https://app.asana.com/-/oauth_authorize",
        token: "https://app.asana.com/-/oauth_token",
        revoke: "https://app.asana.com/-/oauth_revoke"
      },
      ["default"],
      { pkce: true }
    ),
    fields: { token: tokenField("Personal access token", "https://developers.asana.com/docs/personal-access-token") },
    rateLimitHeaders: retryAfterOnly,
    checked: checked(
      "https://developers.asana.com/docs/oauth",
      "authorize (app.asana.com/-/oauth_authorize), token (/-/oauth_token) and revoke (/-/oauth_revoke) endpoints, bearer tokens, space-separated scopes (Asana's OAuth samples page), PKCE with S256 (the code_challenge in Asana's OpenID Connect example), and Retry-After on 429 with per-token limits (developers.asana.com rate limits) checked; the base URL app.asana.com/api/1.0, GET /users/{user_gid} taking \"me\" and answering data (a UserResponse with gid), and the default scope (all documented endpoints, assumed when no scope is requested; apps on the granular scopes need users:read for this request) checked in Asana's own OpenAPI spec (Asana/openapi, defs/asana_oas.yaml)"
    )
  },
  {
    id: "4d61e722-5252-4fe0-8da4-41cbce395a4b",
    key: "todoist",
    name: "Todoist",
    category: "productivity",
    description: "Tasks and projects in Todoist.",
    auth: ["oauth2_authorization_code", "bearer"],
    baseUrl: "https://api.todoist.com/api/v1",
    ...getWhoAmI("/user", "id"),
    oauth2: oauth2Server(
      {
        authorize: "https://todoist.com/oauth/authorize",
        token: "https://todoist.com/oauth/access_token",
        revoke: "https://api.todoist.com/api/v1/revoke"
      },
      ["data:read_write"],
      { separator: "," }
    ),
    fields: { token: tokenField("API token", "https://todoist.com/help/articles/find-your-api-token-Jpzx9IIlB") },
    checked: checked(
      "https://doist.github.io/todoist-api-typescript/authorization",
      "authorize (todoist.com/oauth/authorize) and token (todoist.com/oauth/access_token) endpoints, comma-joined scopes including data:read_write, the RFC 7009 revoke endpoint api.todoist.com/api/v1/revoke with Basic client authentication, the API v1 base URL and GET /user answering id, all from Doist's official TypeScript SDK (its endpoints and authentication modules) checked; the REST v2 base URL was wrong (REST v2 is deprecated and, per Airbyte's migration notes, now answers 410 Gone) and is replaced by api.todoist.com/api/v1; rate limits NOT checked"
    )
  }
]
