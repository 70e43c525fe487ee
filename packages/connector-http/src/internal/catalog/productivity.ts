/** Productivity suites and work management. */
import type { Entry } from "../../Catalog.js"
import { getWhoAmI, googleApp, oauth2Server, retryAfterOnly, tokenField, unchecked } from "./common.js"

export const productivity: ReadonlyArray<Entry> = [
  {
    id: "40198b8f-7b74-4989-a5eb-b91dca64d4fe",
    key: "google-calendar",
    name: "Google Calendar",
    category: "productivity",
    description: "Calendars and events through the Calendar API v3.",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://www.googleapis.com/calendar/v3",
    testEndpoint: { method: "GET", path: "/users/me/calendarList?maxResults=1", expectStatus: 200 },
    ...googleApp("Calendar API", ["https://www.googleapis.com/auth/calendar.events"])
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
    ...googleApp("Sheets API", ["https://www.googleapis.com/auth/spreadsheets"])
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
      { authorize: "https://api.notion.com/v1/oauth/authorize", token: "https://api.notion.com/v1/oauth/token" },
      [],
      { parameters: { owner: "user" } }
    ),
    fields: {
      token: tokenField("Internal integration secret", "https://developers.notion.com/docs/authorization", "ntn_…")
    },
    rateLimitHeaders: retryAfterOnly,
    checked: unchecked(
      "https://developers.notion.com/docs/authorization",
      "endpoints, owner=user, Notion-Version and /users/me"
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
    checked: unchecked(
      "https://airtable.com/developers/web/api/oauth-reference",
      "endpoints, PKCE requirement, /meta/whoami and the 60-day refresh token"
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
    checked: unchecked("https://developers.asana.com/docs/oauth", "endpoints and /users/me")
  },
  {
    id: "4d61e722-5252-4fe0-8da4-41cbce395a4b",
    key: "todoist",
    name: "Todoist",
    category: "productivity",
    description: "Tasks and projects in Todoist.",
    auth: ["oauth2_authorization_code", "bearer"],
    baseUrl: "https://api.todoist.com/rest/v2",
    testEndpoint: { method: "GET", path: "/projects", expectStatus: 200 },
    oauth2: oauth2Server(
      { authorize: "https://todoist.com/oauth/authorize", token: "https://todoist.com/oauth/access_token" },
      ["data:read_write"],
      { separator: "," }
    ),
    fields: { token: tokenField("API token", "https://todoist.com/help/articles/find-your-api-token-Jpzx9IIlB") },
    checked: unchecked("https://developer.todoist.com/guides/#oauth", "endpoints, comma separator and REST v2 base URL")
  }
]
