/** AI model APIs. */
import type { Entry } from "../../Catalog.js"
import { apiKeyField, tokenField, unchecked } from "./common.js"

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
    checked: unchecked(
      "https://platform.openai.com/docs/api-reference/authentication",
      "bearer key, /models and rate-limit headers"
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
    checked: unchecked(
      "https://docs.anthropic.com/en/api/getting-started",
      "x-api-key and anthropic-version headers, /models and rate-limit headers"
    )
  }
]
