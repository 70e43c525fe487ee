/** AI model APIs. */
import type { Entry } from "../../Catalog.js"
import { apiKeyField, checked, tokenField } from "./common.js"

export const ai: ReadonlyArray<Entry> = [
  {
    id: "6cf22849-4b91-4446-844b-6acd6975d95b",
    key: "openai",
    name: "OpenAI",
    category: "ai",
    description: "Models of the OpenAI API.",
    auth: ["bearer"],
    baseUrl: "https://api.openai.com/v1",
    testEndpoint: { method: "GET", path: "/models", expectStatus: 200 },
    fields: { token: tokenField("API key", "https://platform.openai.com/docs/api-reference/authentication", "sk-…") },
    rateLimitHeaders: {
      limit: "x-ratelimit-limit-requests",
      remaining: "x-ratelimit-remaining-requests",
      reset: "x-ratelimit-reset-requests"
    },
    checked: checked(
      "https://platform.openai.com/docs/api-reference/authentication",
      "the API key as Authorization: Bearer, the optional OpenAI-Organization and OpenAI-Project headers and GET https://api.openai.com/v1/models only from third-party copies of OpenAI's API reference; the x-ratelimit-limit-requests, x-ratelimit-remaining-requests and x-ratelimit-reset-requests headers only from OpenAI's community forum and a copy of its docs (the reset value is a duration such as 12ms or 6m0s, not seconds or a timestamp; token limits have their own -tokens headers); OpenAI's own pages NOT retrieved"
    )
  },
  {
    id: "6d25aa56-09aa-49ff-a943-4d3420773947",
    key: "anthropic",
    name: "Anthropic",
    category: "ai",
    description: "Claude models through the Anthropic API.",
    auth: ["api_key"],
    baseUrl: "https://api.anthropic.com/v1",
    headers: { "anthropic-version": "2023-06-01" },
    apiKey: { in: "header", name: "x-api-key" },
    testEndpoint: { method: "GET", path: "/models", expectStatus: 200 },
    fields: { api_key: apiKeyField("API key", "https://docs.anthropic.com/en/api/getting-started", "sk-ant-…") },
    rateLimitHeaders: {
      limit: "anthropic-ratelimit-requests-limit",
      remaining: "anthropic-ratelimit-requests-remaining",
      reset: "anthropic-ratelimit-requests-reset",
      retryAfter: "retry-after"
    },
    checked: checked(
      "https://platform.claude.com/docs/en/api/models-list",
      "GET /v1/models with the API key in x-api-key and the anthropic-version header (docs.anthropic.com and platform.claude.com API reference) checked; the anthropic-ratelimit-requests-limit/-remaining/-reset headers (reset as an RFC 3339 time) and retry-after on 429 only from client libraries and pages quoting Anthropic's rate-limit docs; the 2023-06-01 version value NOT checked against Anthropic's versions page"
    )
  }
]
