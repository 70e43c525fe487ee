/** Messaging platforms. */
import type { Entry } from "../../Catalog.js"
import { basicFields, checked, getWhoAmI, microsoftApp, oauth2Server, retryAfterOnly, tokenField } from "./common.js"

export const messaging: ReadonlyArray<Entry> = [
  {
    id: "c2f00030-8074-46f7-baee-f167873fac48",
    key: "twilio",
    name: "Twilio",
    category: "messaging",
    description:
      "SMS and messaging through Twilio's REST API (account SID and auth token, or an API key SID and secret).",
    auth: ["basic"],
    baseUrl: "https://api.twilio.com",
    ...getWhoAmI("/2010-04-01/Accounts/{username}.json", "sid"),
    fields: basicFields(
      "Account SID",
      "Auth token",
      "https://www.twilio.com/docs/iam/credentials/api",
      "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    ),
    smsPath: "/2010-04-01/Accounts/{username}/Messages.json",
    checked: checked(
      "https://www.twilio.com/docs/usage/requests-to-twilio",
      "HTTP Basic auth with the account SID and auth token (or an API key SID and secret, which Twilio recommends for production) and the base https://api.twilio.com/2010-04-01 with its Accounts resource checked; POST /2010-04-01/Accounts/{AccountSid}/Messages.json from Twilio's official twilio-go API docs; the Account resource's 34-character `sid` (Twilio's REST API: Accounts page) checked; GET /2010-04-01/Accounts/{Sid}.json as the fetch only from clients generated from Twilio's OpenAPI"
    )
  },
  {
    id: "8364e5d6-daa1-45be-863a-a1a758d110f0",
    key: "slack",
    name: "Slack",
    category: "messaging",
    description: "Post and read messages in a Slack workspace with a bot token from an installed app.",
    auth: ["oauth2_authorization_code", "bearer"],
    baseUrl: "https://slack.com/api",
    testEndpoint: { method: "POST", path: "/auth.test", expectStatus: 200 },
    identity: { method: "POST", endpoint: "/auth.test", accountId: "team_id" },
    oauth2: oauth2Server(
      {
        authorize: "https://slack.com/oauth/v2/authorize",
        token: "https://slack.com/api/oauth.v2.access",
        revoke: "https://slack.com/api/auth.revoke"
      },
      ["chat:write", "channels:read"],
      { separator: "," }
    ),
    fields: { token: tokenField("Bot token", "https://api.slack.com/authentication/token-types", "xoxb-…") },
    rateLimitHeaders: retryAfterOnly,
    checked: checked(
      "https://api.slack.com/authentication/oauth-v2",
      "v2 authorize and oauth.v2.access endpoints (from a page quoting Slack's docs) checked; auth.test (checks authentication and identity, answers team_id) and auth.revoke only from client libraries; oauth.v2.access replacing the legacy oauth.access for new apps and the channels:read scope name (docs.slack.dev) checked; comma-joined scopes only from oauth.v2.access's example answer as mirrored by a third-party API catalogue (`scope: commands,incoming-webhook`); the chat:write scope name only from third-party pages"
    )
  },
  {
    id: "bfc6cfd3-c050-43c9-aec4-00dc1619e5e9",
    key: "microsoft-teams",
    name: "Microsoft Teams",
    category: "messaging",
    description: "Teams chats and channel messages through Microsoft Graph (work or school accounts).",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://graph.microsoft.com/v1.0",
    testEndpoint: { method: "GET", path: "/me/joinedTeams", expectStatus: 200 },
    ...microsoftApp(
      "Graph Teams",
      ["https://graph.microsoft.com/Team.ReadBasic.All", "https://graph.microsoft.com/ChannelMessage.Send"],
      "GET /me/joinedTeams answering 200 with Team.ReadBasic.All (delegated, work or school accounts only: personal Microsoft accounts are not supported) (Microsoft Graph's v1.0 reference, List joinedTeams) checked; the ChannelMessage.Send scope NOT checked"
    )
  },
  {
    id: "3135d06f-af42-4ddb-8be7-86713198d7a4",
    key: "telegram",
    name: "Telegram Bot API",
    category: "messaging",
    description:
      "Send messages as a Telegram bot. The bot token goes in the URL path, which the HTTP driver does not offer yet.",
    auth: ["token_in_path"],
    baseUrl: "https://api.telegram.org",
    ...getWhoAmI("/bot{token}/getMe", "result.id"),
    fields: {
      token: tokenField("Bot token", "https://core.telegram.org/bots/api#authorizing-your-bot", "123456:ABC-DEF…")
    },
    checked: checked(
      "https://core.telegram.org/bots/api",
      "the https://api.telegram.org/bot<token>/METHOD_NAME URL form, GET or POST, getMe (tests the token, returns a User) and the answer's ok/result envelope checked; the User's `id` (unique identifier of the user or bot, up to 52 significant bits) only from grammY's type declarations transcribing the Bot API"
    )
  },
  {
    id: "5f5d1d77-1483-45ec-9c01-066bd5dc1c2c",
    key: "whatsapp-cloud",
    name: "WhatsApp Cloud API",
    category: "messaging",
    description: "Send WhatsApp messages through Meta's Cloud API with a system-user access token.",
    auth: ["bearer"],
    baseUrl: "https://graph.facebook.com/v26.0",
    ...getWhoAmI("/me", "id"),
    fields: {
      token: tokenField(
        "System user access token",
        "https://developers.facebook.com/docs/whatsapp/cloud-api/get-started"
      ),
      phone_number_id: {
        title: "Phone number ID",
        description: "The WhatsApp Business phone number id messages are sent from.",
        example: "106540352242922",
        pattern: "^[0-9]+$",
        secret: false
      }
    },
    checked: checked(
      "https://developers.facebook.com/docs/graph-api/changelog/versions/",
      "Graph API versions (Meta's changelog: v21.0 is available only until 21 January 2027, so the base moved to v26.0, the latest, released 29 July 2026) checked; a bearer access token on graph.facebook.com/<version>/, temporary tokens dying within 24 hours and system-user tokens for production (developers.facebook.com blog on auth tokens; system-user tokens do not expire, per the WhatsApp Business Management API guide) checked; the System User node's numeric-string id (Meta's Marketing API reference) checked; that GET /me answers that node for a system-user token NOT checked"
    )
  },
  {
    id: "ffec187c-6aaa-488b-9f23-2d882c1b412a",
    key: "discord",
    name: "Discord",
    category: "messaging",
    description: "A Discord user's identity and guilds through Discord OAuth2.",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://discord.com/api/v10",
    ...getWhoAmI("/users/@me", "id"),
    oauth2: oauth2Server(
      {
        authorize: "https://discord.com/oauth2/authorize",
        token: "https://discord.com/api/oauth2/token",
        revoke: "https://discord.com/api/oauth2/token/revoke"
      },
      ["identify", "guilds"],
      { parameters: { prompt: "consent" }, pkce: true }
    ),
    fields: {},
    rateLimitHeaders: {
      limit: "X-RateLimit-Limit",
      remaining: "X-RateLimit-Remaining",
      reset: "X-RateLimit-Reset",
      retryAfter: "Retry-After"
    },
    checked: checked(
      "https://discord.com/developers/docs/topics/oauth2",
      "the authorize (discord.com/oauth2/authorize), token and token/revoke URLs, the identify (GET /users/@me) and guilds scopes separated by spaces, prompt=consent, and the v10 API base (Discord's docs in its discord-api-docs repository) checked; PKCE with S256 from discord.com/.well-known/oauth-authorization-server; X-RateLimit-Limit/Remaining/Reset (epoch seconds) and Retry-After on 429 (Discord's rate-limits page) checked; the user object's id as the account id NOT quoted"
    )
  },
  {
    id: "682ca9c9-d17e-4aed-b593-55e312640e30",
    key: "vonage",
    name: "Vonage",
    category: "messaging",
    description: "SMS and messages through the Vonage Messages API (API key and secret).",
    auth: ["basic"],
    baseUrl: "https://api.nexmo.com",
    testEndpoint: { method: "GET", path: "/v2/applications", expectStatus: 200 },
    fields: basicFields(
      "API key",
      "API secret",
      "https://developer.vonage.com/en/getting-started/concepts/authentication"
    ),
    checked: checked(
      "https://developer.vonage.com/en/api/application.v2",
      "GET https://api.nexmo.com/v2/applications (list applications, 200) authenticated by HTTP Basic with the API key and secret (Vonage's Application API v2 reference, whose OpenAPI names basicAuth) checked; that the Messages API accepts the same Basic credentials NOT checked here"
    )
  },
  {
    id: "473949e5-d8f9-4440-a2f1-cc2e8b2674a4",
    key: "zoom",
    name: "Zoom",
    category: "messaging",
    description: "Meetings and chat of a Zoom user through the Zoom API.",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://api.zoom.us/v2",
    ...getWhoAmI("/users/me", "id"),
    oauth2: oauth2Server(
      {
        authorize: "https://zoom.us/oauth/authorize",
        token: "https://zoom.us/oauth/token",
        revoke: "https://zoom.us/oauth/revoke"
      },
      [],
      { pkce: true }
    ),
    fields: {},
    rateLimitHeaders: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining", retryAfter: "Retry-After" },
    checked: checked(
      "https://developers.zoom.us/docs/integrations/PKCE/",
      "the authorize URL zoom.us/oauth/authorize with PKCE (S256) and the token endpoint zoom.us/oauth/token (developers.zoom.us) and the api.zoom.us/v2 base (Zoom's API reference) checked; X-RateLimit-Limit/Remaining and Retry-After (which is a timestamp for daily limits) only from Zoom's developer forum quoting Zoom's rate-limits page (Zoom documents no reset header, so none is declared); POST zoom.us/oauth/revoke only from a third-party mirror of Zoom's Postman collection; GET /users/me (user-level apps pass `me` for userId; scopes user:read or user_info:read; answers id and account_id) only from Zoom's Postman collection and third-party pages quoting Zoom's API reference; scopes are set on the app, none are requested"
    )
  }
]
