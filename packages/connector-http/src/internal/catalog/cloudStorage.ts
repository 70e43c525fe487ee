/** Cloud drives. */
import type { Entry } from "../../Catalog.js"
import { checked, getWhoAmI, googleApp, microsoftApp, oauth2Server, retryAfterOnly } from "./common.js"

export const cloudStorage: ReadonlyArray<Entry> = [
  {
    id: "9c94b6c6-b331-4a7b-8fa7-171fe6b8745c",
    key: "google-drive",
    name: "Google Drive",
    category: "cloud_storage",
    description: "Files in Google Drive through the Drive API v3.",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://www.googleapis.com/drive/v3",
    testEndpoint: { method: "GET", path: "/about?fields=user", expectStatus: 200 },
    ...googleApp("Drive API", ["https://www.googleapis.com/auth/drive.file"]),
    checked: checked(
      "https://developers.google.com/drive/api/reference/rest/v3/about/get",
      "the Drive v3 base URL www.googleapis.com/drive/v3, GET /about (the fields parameter is required) and the drive.file scope among those it accepts checked; Google's OAuth endpoints and issuer as for Gmail (client library and OpenID Connect reference), userinfo only from a third-party reading of the discovery document; the 7-day Testing lifetime from pages quoting Google"
    )
  },
  {
    id: "19ce4f36-b32b-4a2a-80ef-d6a9224495d1",
    key: "onedrive",
    name: "OneDrive",
    category: "cloud_storage",
    description: "Files in OneDrive and SharePoint document libraries through Microsoft Graph.",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://graph.microsoft.com/v1.0",
    testEndpoint: { method: "GET", path: "/me/drive", expectStatus: 200 },
    ...microsoftApp(
      "Graph drive",
      ["https://graph.microsoft.com/Files.ReadWrite"],
      "GET /me/drive answering 200 with the signed-in user's Drive (provisioning it when licensed; 404 when it cannot be), with Files.ReadWrite among the delegated permissions for work and personal accounts (Microsoft Graph's v1.0 reference, Get Drive) checked"
    )
  },
  {
    id: "d4b30a08-15b8-4ffd-87c8-c739a6fdbe46",
    key: "dropbox",
    name: "Dropbox",
    category: "cloud_storage",
    description:
      "Files in Dropbox through the Dropbox API v2 (short-lived access tokens, refresh with offline access).",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://api.dropboxapi.com/2",
    testEndpoint: { method: "POST", path: "/users/get_current_account", expectStatus: 200 },
    identity: { method: "POST", endpoint: "/users/get_current_account", accountId: "account_id" },
    oauth2: oauth2Server(
      {
        authorize: "https://www.dropbox.com/oauth2/authorize",
        token: "https://api.dropboxapi.com/oauth2/token",
        revoke: "https://api.dropboxapi.com/2/auth/token/revoke"
      },
      ["account_info.read", "files.content.read", "files.content.write"],
      { parameters: { token_access_type: "offline" }, pkce: true }
    ),
    fields: {},
    rateLimitHeaders: retryAfterOnly,
    checked: checked(
      "https://dropbox.tech/developers/using-oauth-2-0-with-offline-access",
      "authorize URL www.dropbox.com/oauth2/authorize, short-lived access tokens and token_access_type=offline for refresh tokens (Dropbox's developer blog) checked; POST /2/users/get_current_account with a bearer token answering account_id, and POST /2/auth/token/revoke, only from Dropbox's SDK docs and third-party pages; the token endpoint api.dropboxapi.com/oauth2/token only from third-party client code (other third-party pages use the api.dropbox.com host for the same path)"
    )
  },
  {
    id: "1315caee-007d-4106-8db0-b37de6cbd905",
    key: "box",
    name: "Box",
    category: "cloud_storage",
    description: "Files in Box through the Box Platform API.",
    auth: ["oauth2_authorization_code", "oauth2_client_credentials"],
    baseUrl: "https://api.box.com/2.0",
    ...getWhoAmI("/users/me", "id"),
    oauth2: oauth2Server({
      authorize: "https://account.box.com/api/oauth2/authorize",
      token: "https://api.box.com/oauth2/token",
      revoke: "https://api.box.com/oauth2/revoke"
    }),
    fields: {
      client_id: {
        title: "Client ID",
        description: "The client id of your Box app.",
        docs: "https://developer.box.com/guides/authentication/client-credentials/",
        secret: false
      },
      client_secret: {
        title: "Client secret",
        description: "The client secret of your Box app.",
        docs: "https://developer.box.com/guides/authentication/client-credentials/",
        secret: true
      }
    },
    rateLimitHeaders: retryAfterOnly,
    refreshToken: { seconds: 60 * 24 * 3600, note: "Box refresh tokens are single-use and valid for 60 days" },
    checked: checked(
      "https://developer.box.com/guides/authentication/tokens/refresh",
      "refresh tokens valid 60 days and usable once, refreshed at POST /oauth2/token, and the authorize URL account.box.com/api/oauth2/authorize (developer.box.com/reference/get-authorize) checked; GET https://api.box.com/2.0/users/me answering the authenticated user with its id (developer.box.com/reference/get-users-me) checked; POST /oauth2/revoke only from Box's official Node SDK; Retry-After on 429 NOT checked"
    )
  }
]
