/** Developer tools. */
import type { Entry } from "../../Catalog.js"
import { apiKeyField, checked, getWhoAmI, oauth2Server, retryAfterOnly, tokenField, xRateLimit } from "./common.js"

export const developerTools: ReadonlyArray<Entry> = [
  {
    id: "be3189cd-4c8c-4871-a7e3-d29503ec20cf",
    key: "github",
    name: "GitHub",
    category: "developer_tools",
    description: "Repositories, issues and pull requests through GitHub's REST API.",
    auth: ["oauth2_authorization_code", "bearer"],
    baseUrl: "https://api.github.com",
    headers: { Accept: "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28" },
    ...getWhoAmI("/user", "id"),
    oauth2: oauth2Server(
      { authorize: "https://github.com/login/oauth/authorize", token: "https://github.com/login/oauth/access_token" },
      ["repo", "read:user"],
      { pkce: true }
    ),
    fields: {
      token: tokenField(
        "Personal access token",
        "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens",
        "github_pat_…"
      )
    },
    rateLimitHeaders: { ...xRateLimit, retryAfter: "Retry-After" },
    checked: checked(
      "https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api",
      "X-RateLimit-Limit/Remaining/Reset headers (from a page quoting this doc) and the web flow's /login/oauth/authorize (docs.github.com, authorizing OAuth apps) checked; PKCE with S256 only, for OAuth apps and GitHub Apps, optional but recommended (github.blog changelog 2025-07-14) checked; GET https://api.github.com/user answering { id, login } with Accept: application/vnd.github+json and X-GitHub-Api-Version: 2022-11-28 (docs.github.com, Get the authenticated user; a newer 2026-03-10 version also exists) checked; POST /login/oauth/access_token from the source text of GitHub's docs (a mirror)"
    )
  },
  {
    id: "1599f53d-ba2d-4e11-af1a-0d5c049c118a",
    key: "gitlab",
    name: "GitLab",
    category: "developer_tools",
    description: "Projects, issues and merge requests on GitLab.com.",
    auth: ["oauth2_authorization_code", "bearer"],
    baseUrl: "https://gitlab.com/api/v4",
    ...getWhoAmI("/user", "id"),
    oauth2: oauth2Server(
      {
        issuer: "https://gitlab.com",
        authorize: "https://gitlab.com/oauth/authorize",
        token: "https://gitlab.com/oauth/token",
        revoke: "https://gitlab.com/oauth/revoke",
        userinfo: "https://gitlab.com/oauth/userinfo"
      },
      ["read_user", "api"],
      { pkce: true }
    ),
    fields: {
      token: tokenField(
        "Personal access token",
        "https://docs.gitlab.com/user/profile/personal_access_tokens/",
        "glpat-…"
      )
    },
    rateLimitHeaders: {
      limit: "RateLimit-Limit",
      remaining: "RateLimit-Remaining",
      reset: "RateLimit-Reset",
      retryAfter: "Retry-After"
    },
    checked: checked(
      "https://docs.gitlab.com/api/oauth2/",
      "authorization code with PKCE, /oauth/token, /oauth/revoke and /oauth/userinfo checked; /oauth/authorize with code_challenge_method=S256 checked in docs.gitlab.com's translated pages of the same document; the RateLimit-Limit/Remaining/Reset headers only from GitLab's issue tracker quoting the GitLab.com docs (which also report them missing on some 429s); GET /user (current user, id) only from mirrors of GitLab's doc/api/users.md source; the read_user scope only from third-party pages"
    )
  },
  {
    id: "e2369233-8524-4e29-bea6-c0a95c57e217",
    key: "jira",
    name: "Jira Cloud",
    category: "developer_tools",
    description:
      "Issues of a Jira Cloud site through Atlassian OAuth 2.0 (3LO); the base URL names the site's cloud id.",
    auth: ["oauth2_authorization_code"],
    testEndpoint: { method: "GET", path: "/rest/api/3/myself", expectStatus: 200 },
    identity: { method: "GET", endpoint: "https://api.atlassian.com/me", accountId: "account_id" },
    oauth2: oauth2Server(
      { authorize: "https://auth.atlassian.com/authorize", token: "https://auth.atlassian.com/oauth/token" },
      ["read:jira-work", "write:jira-work", "read:me", "offline_access"],
      { parameters: { audience: "api.atlassian.com", prompt: "consent" } }
    ),
    fields: {
      base_url: {
        title: "Site API URL",
        description: "https://api.atlassian.com/ex/jira/ followed by your site's cloud id.",
        example: "https://api.atlassian.com/ex/jira/11223344-a1b2-3b33-c444-def123456789",
        pattern: "^https://api\\.atlassian\\.com/ex/jira/[0-9a-f-]{36}$",
        docs: "https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/",
        secret: false
      }
    },
    rateLimitHeaders: retryAfterOnly,
    refreshToken: { seconds: 90 * 24 * 3600, note: "Rotating refresh tokens expire after 90 days of inactivity" },
    checked: checked(
      "https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/",
      "authorize endpoint (auth.atlassian.com/authorize) with audience=api.atlassian.com, space-separated scopes and prompt=consent checked; POST https://auth.atlassian.com/oauth/token with rotating refresh tokens from offline_access (developer.atlassian.com, Implementing the refresh token flow; its examples send a JSON body) and the cloud id as the id of GET api.atlassian.com/oauth/token/accessible-resources (developer.atlassian.com, Making calls to API) checked; GET https://api.atlassian.com/me (account_id, read:me) only from third-party code; the api.atlassian.com/ex/jira/{cloudid}/... request URL form (developer.atlassian.com, the Jira Service Management operations 3LO page, which builds it the same way) checked; the 90-day inactivity expiry only from third-party pages; GET /rest/api/3/myself as the test request only from a third-party page"
    )
  },
  {
    id: "d8219c0d-adec-4bac-8028-37f6a367c8cd",
    key: "linear",
    name: "Linear",
    category: "developer_tools",
    description: "Issues and projects in Linear through its GraphQL API.",
    auth: ["oauth2_authorization_code", "api_key"],
    baseUrl: "https://api.linear.app",
    apiKey: { in: "header", name: "Authorization" },
    testEndpoint: { method: "POST", path: "/graphql", expectStatus: 400 },
    identity: {
      method: "POST",
      endpoint: "/graphql",
      accountId: "data.viewer.id",
      body: JSON.stringify({ query: "{ viewer { id } }" })
    },
    oauth2: oauth2Server(
      {
        authorize: "https://linear.app/oauth/authorize",
        token: "https://api.linear.app/oauth/token",
        revoke: "https://api.linear.app/oauth/revoke"
      },
      ["read", "write"],
      { separator: ",", parameters: { prompt: "consent" }, pkce: true }
    ),
    fields: { api_key: apiKeyField("Personal API key", "https://linear.app/developers/graphql", "lin_api_…") },
    rateLimitHeaders: {
      limit: "X-RateLimit-Requests-Limit",
      remaining: "X-RateLimit-Requests-Remaining",
      reset: "X-RateLimit-Requests-Reset"
    },
    checked: checked(
      "https://developers.linear.app/docs/oauth/authentication",
      "authorize (linear.app/oauth/authorize) and token (api.linear.app/oauth/token) endpoints, comma-separated scopes (read, write), prompt=consent and PKCE (code_challenge on /authorize) checked; personal API keys sent bare as Authorization: <API_KEY> and OAuth tokens as Bearer at https://api.linear.app/graphql (linear.app/developers/graphql) checked; the revoke endpoint api.linear.app/oauth/revoke, the X-RateLimit-Requests-Limit/Remaining/Reset headers (reset in epoch milliseconds) and the who-am-I (GraphQL { viewer { id } }) only from third-party code and pages (Linear's rate-limiting page, as retrieved, names no headers)"
    )
  },
  {
    id: "184acce9-5dd2-409b-a4ff-8c1701648bd7",
    key: "bitbucket",
    name: "Bitbucket Cloud",
    category: "developer_tools",
    description: "Repositories and pull requests on Bitbucket Cloud.",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://api.bitbucket.org/2.0",
    ...getWhoAmI("/user", "uuid"),
    oauth2: oauth2Server({
      authorize: "https://bitbucket.org/site/oauth2/authorize",
      token: "https://bitbucket.org/site/oauth2/access_token"
    }),
    fields: {},
    checked: checked(
      "https://developer.atlassian.com/cloud/bitbucket/oauth-2/",
      "authorize (site/oauth2/authorize) and token (site/oauth2/access_token) endpoints checked; GET https://api.bitbucket.org/2.0/user answering the current user's uuid, needing the account scope (developer.atlassian.com, Bitbucket REST API, Users) checked; rate-limit headers NOT checked"
    )
  },
  {
    id: "85392921-32cc-4037-aee0-358bc1ec9f70",
    key: "sentry",
    name: "Sentry",
    category: "developer_tools",
    description: "Issues and events of a Sentry organisation (sentry.io).",
    auth: ["bearer"],
    baseUrl: "https://sentry.io/api/0",
    testEndpoint: { method: "GET", path: "/organizations/", expectStatus: 200 },
    fields: { token: tokenField("Auth token", "https://docs.sentry.io/api/auth/", "sntrys_…") },
    rateLimitHeaders: {
      limit: "X-Sentry-Rate-Limit-Limit",
      remaining: "X-Sentry-Rate-Limit-Remaining",
      reset: "X-Sentry-Rate-Limit-Reset"
    },
    checked: checked(
      "https://docs.sentry.io/api/auth/",
      "Authorization: Bearer token against https://sentry.io/api/0 (docs.sentry.io, Authentication), GET /api/0/organizations/ listing the organisations of the token (docs.sentry.io, List Your Organizations) and the X-Sentry-Rate-Limit-Limit/Remaining/Reset headers on every response, reset in epoch seconds (docs.sentry.io/api/ratelimits) checked; organization, internal-integration and user tokens all work as Bearer tokens (docs.sentry.io, Auth Tokens), but the sntrys_ (organization) and sntryu_ (user) prefixes only from third-party pages, and whether an organization token's narrow CI scopes answer 200 on /organizations/ NOT checked"
    )
  },
  {
    id: "443d0b53-5e35-41a3-8b5b-82fdce23931e",
    key: "pagerduty",
    name: "PagerDuty",
    category: "developer_tools",
    description: "Incidents and services of a PagerDuty account.",
    auth: ["oauth2_authorization_code"],
    baseUrl: "https://api.pagerduty.com",
    headers: { Accept: "application/vnd.pagerduty+json;version=2" },
    ...getWhoAmI("/users/me", "user.id"),
    oauth2: oauth2Server(
      {
        authorize: "https://identity.pagerduty.com/oauth/authorize",
        token: "https://identity.pagerduty.com/oauth/token",
        revoke: "https://identity.pagerduty.com/oauth/revoke"
      },
      ["read"],
      { pkce: true }
    ),
    fields: {},
    rateLimitHeaders: { limit: "ratelimit-limit", remaining: "ratelimit-remaining", reset: "ratelimit-reset" },
    refreshToken: {
      seconds: 210 * 24 * 3600,
      note: "Classic User OAuth (access tokens 30 days, rolling refresh window 3 years); Scoped OAuth user tokens refresh within 30 days, window 1 year"
    },
    checked: checked(
      "https://developer.pagerduty.com/docs/oauth-functionality",
      "identity.pagerduty.com/oauth/authorize and /oauth/token with PKCE (S256), the read/write Classic scopes (space-separated Scoped OAuth scopes), Bearer tokens with Accept: application/vnd.pagerduty+json;version=2, refresh-token lifetimes, and the ratelimit-limit/remaining/reset headers (reset in seconds; was wrongly Retry-After only) checked in PagerDuty's developer-docs sources; GET /users/me answering { user: { id } } at https://api.pagerduty.com checked in PagerDuty's official OpenAPI (PagerDuty/api-schema); the /oauth/revoke endpoint only from third-party code (PagerDuty documents revoking all tokens in the app UI)"
    )
  },
  {
    id: "94392a72-ad1b-470a-9afe-3fecb9d3c465",
    key: "circleci",
    name: "CircleCI",
    category: "developer_tools",
    description: "Pipelines and projects on CircleCI.",
    auth: ["api_key"],
    baseUrl: "https://circleci.com/api/v2",
    apiKey: { in: "header", name: "Circle-Token" },
    ...getWhoAmI("/me", "id"),
    fields: { api_key: apiKeyField("Personal API token", "https://circleci.com/docs/managing-api-tokens/") },
    rateLimitHeaders: {
      limit: "RateLimit-Limit",
      remaining: "RateLimit-Remaining",
      reset: "RateLimit-Reset",
      retryAfter: "Retry-After"
    },
    checked: checked(
      "https://circleci.com/docs/guides/toolkit/api-developers-guide",
      "the Circle-Token header (Basic with the token as username also works), https://circleci.com/api/v2, GET /api/v2/me answering { id, login, name } as the token test, Retry-After on most 429s and the RateLimit-Limit/Remaining/Reset headers (reset in seconds; X-RateLimit-* variants also sent) checked (CircleCI's API developer's guide, read from CircleCI's circleci-docs source)"
    )
  },
  {
    id: "b623453e-5f71-4b94-ae89-c04aa0ab68e3",
    key: "vercel",
    name: "Vercel",
    category: "developer_tools",
    description: "Projects and deployments on Vercel.",
    auth: ["bearer"],
    baseUrl: "https://api.vercel.com",
    ...getWhoAmI("/v2/user", "user.id"),
    fields: { token: tokenField("Access token", "https://vercel.com/docs/rest-api#creating-an-access-token") },
    rateLimitHeaders: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining", reset: "X-RateLimit-Reset" },
    checked: checked(
      "https://vercel.com/docs/rest-api/user/get-the-user",
      "https://api.vercel.com, Authorization: Bearer access token (vercel.com/docs/rest-api) and GET /v2/user answering { user: { id } } for the authenticated user checked; X-RateLimit-Limit/Remaining/Reset only from third-party pages (Vercel's own page not found)"
    )
  }
]
