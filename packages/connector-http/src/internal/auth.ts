/**
 * Turns an instance's auth type and decoded credentials into what a request carries. Secrets
 * stay `Redacted` until the request is built; the platform unwraps them for the header.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { type ConnectorDescriptor, DriverError } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { ApiKeyPlacement, Credentials } from "../HttpApiDescriptor.js"

/** How requests authenticate, plus the non-secret values paths may refer to (`{username}`). */
export interface Authorization {
  readonly apply: (request: HttpClientRequest.HttpClientRequest) => HttpClientRequest.HttpClientRequest
  readonly variables: Readonly<Record<string, string>>
}

const mismatch = (authType: string, needs: string) =>
  new DriverError.AuthFailed({
    kind: "invalid_credentials",
    detail: `the stored credentials do not fit auth type ${authType}: it needs ${needs}`
  })

/** The authorization for one instance, or AuthFailed when the credentials lack what its auth type needs. */
export const authorization = (
  authType: ConnectorDescriptor.AuthType,
  credentials: Credentials,
  apiKey: ApiKeyPlacement
): Effect.Effect<Authorization, DriverError.AuthFailed> => {
  switch (authType) {
    case "api_key": {
      if (!("api_key" in credentials)) return Effect.fail(mismatch(authType, "api_key"))
      const key = credentials.api_key
      return Effect.succeed({
        apply:
          apiKey.in === "header"
            ? (request) => HttpClientRequest.setHeader(request, apiKey.name, Redacted.value(key))
            : (request) => HttpClientRequest.setUrlParam(request, apiKey.name, Redacted.value(key)),
        variables: {}
      })
    }
    case "basic":
    case "database_password": {
      if (!("username" in credentials)) return Effect.fail(mismatch(authType, "username and password"))
      const { username, password } = credentials
      return Effect.succeed({
        apply: (request) => HttpClientRequest.basicAuth(request, username, password),
        variables: { username }
      })
    }
    case "bearer": {
      if (!("token" in credentials)) return Effect.fail(mismatch(authType, "token"))
      const token = credentials.token
      return Effect.succeed({ apply: (request) => HttpClientRequest.bearerToken(request, token), variables: {} })
    }
    case "oauth2_authorization_code":
    case "oauth2_client_credentials": {
      if (!("access_token" in credentials)) return Effect.fail(mismatch(authType, "access_token"))
      if (credentials.token_type !== undefined && credentials.token_type.toLowerCase() !== "bearer") {
        return Effect.fail(mismatch(authType, `a Bearer token, not ${credentials.token_type}`))
      }
      const token = credentials.access_token
      return Effect.succeed({ apply: (request) => HttpClientRequest.bearerToken(request, token), variables: {} })
    }
    case "aws_sigv4": {
      // The request is signed once it is complete (HttpConnector, internal/awsSigV4.ts).
      if (!("access_key_id" in credentials))
        return Effect.fail(mismatch(authType, "access_key_id and secret_access_key"))
      return Effect.succeed({ apply: (request) => request, variables: {} })
    }
  }
}
