/**
 * How every failure of a request to an authorization server maps onto core's driver errors: HTTP
 * status first, then the OAuth error response (RFC 6749 §5.2), then what oauth4webapi or fetch threw.
 */
import { DomainError, DriverError } from "@patchbay/core"
import * as oauth from "oauth4webapi"

/** Anything a request to the authorization server may fail with. */
export type TokenFailure = DriverError.DriverError | DomainError.InvalidConfiguration | DomainError.EgressDenied

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const retryAfterMillis = (response: Response): number | undefined => {
  const header = response.headers.get("retry-after")
  if (header === null) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/** A 5xx or 429 answer, recognised before the body is parsed. */
export const statusFailure = (target: string, response: Response): TokenFailure => {
  if (response.status !== 429) {
    return new DriverError.ProviderFailure({ target, status: response.status, detail: `HTTP ${response.status}` })
  }
  const after = retryAfterMillis(response)
  return new DriverError.RateLimited({ target, ...(after === undefined ? {} : { retryAfterMillis: after }) })
}

/** Maps an OAuth error response (RFC 6749 §5.2) onto a driver error. */
const fromErrorResponse = (
  target: string,
  error: { readonly status: number; readonly error: string; readonly error_description?: string | undefined }
): TokenFailure => {
  const detail = `${error.error}${error.error_description === undefined ? "" : `: ${error.error_description}`}`
  if (error.status >= 500) return new DriverError.ProviderFailure({ target, status: error.status, detail })
  if (error.status === 429) return new DriverError.RateLimited({ target })
  switch (error.error) {
    case "invalid_grant":
      return new DriverError.AuthFailed({ kind: "token_revoked", detail })
    case "invalid_client":
    case "unauthorized_client":
      return new DriverError.AuthFailed({ kind: "invalid_credentials", detail })
    case "invalid_scope":
    case "access_denied":
      return new DriverError.AuthFailed({ kind: "insufficient_permissions", detail })
    default:
      return new DriverError.RequestRejected({ target, status: error.status, detail })
  }
}

/** Maps whatever oauth4webapi or fetch threw. */
export const classify = (target: string, error: unknown): TokenFailure => {
  if (error instanceof Response) return statusFailure(target, error)
  if (error instanceof oauth.ResponseBodyError) return fromErrorResponse(target, error)
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    // A 401 with a challenge: the client authentication failed (RFC 6749 §5.2 invalid_client).
    const parameters = error.cause[0]?.parameters
    return fromErrorResponse(target, {
      status: error.status,
      error: parameters?.error ?? (error.status === 401 ? "invalid_client" : "invalid_request"),
      error_description: parameters?.error_description
    })
  }
  if (error instanceof oauth.OperationProcessingError) {
    if (error.code === oauth.HTTP_REQUEST_FORBIDDEN || error.code === oauth.REQUEST_PROTOCOL_FORBIDDEN) {
      return new DomainError.InvalidConfiguration({ connector: target, detail: describe(error) })
    }
    return new DriverError.ProviderFailure({ target, detail: `unexpected response: ${describe(error)}` })
  }
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) {
    return new DriverError.TimedOut({ target, afterMillis: 0 })
  }
  if (error instanceof TypeError) {
    const cause = error.cause instanceof Error ? error.cause.message : describe(error)
    return new DriverError.Unreachable({ target, detail: cause })
  }
  return new DriverError.ProviderFailure({ target, detail: describe(error) })
}
