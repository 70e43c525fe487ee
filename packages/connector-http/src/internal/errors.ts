/**
 * Maps HTTP statuses and transport failures onto core's driver errors. The table is in
 * docs/drivers.md. Targets are `origin + path`: never a query string (it may carry an API key),
 * never a header.
 */
import { DriverError } from "@patchbay/core"

/** `origin + pathname` of a URL: what errors and spans may show. */
export const safeTarget = (url: URL): string => `${url.origin}${url.pathname}`

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or invalid. */
export const retryAfterMillis = (value: string | undefined, now: number): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Whether a 401's WWW-Authenticate says the token (rather than the credentials) is the problem. */
const tokenExpired = (challenge: string | undefined): boolean =>
  challenge !== undefined && /invalid_token|expired/i.test(challenge)

/** The failure an unwanted response status stands for. */
export const fromStatus = (options: {
  readonly target: string
  readonly method: string
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly now: number
  readonly detail?: string | undefined
}): DriverError.DriverError => {
  const { target, method, status, headers } = options
  const said = `${method} ${target} answered ${status}${options.detail ? `: ${options.detail}` : ""}`
  if (status === 401) {
    return new DriverError.AuthFailed({
      kind: tokenExpired(headers["www-authenticate"]) ? "token_expired" : "invalid_credentials",
      detail: said
    })
  }
  if (status === 403) return new DriverError.AuthFailed({ kind: "insufficient_permissions", detail: said })
  if (status === 429) {
    const retryAfter = retryAfterMillis(headers["retry-after"], options.now)
    return new DriverError.RateLimited(retryAfter === undefined ? { target } : { target, retryAfterMillis: retryAfter })
  }
  if (status >= 500) return new DriverError.ProviderFailure({ target, status, detail: said })
  return new DriverError.RequestRejected({ target, status, detail: said })
}

const unreachableCodes = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET"
])

interface ErrnoLike {
  readonly code?: unknown
  readonly message?: unknown
  readonly errors?: unknown
  readonly cause?: unknown
}

/** The first errno-style code in a cause chain (AggregateError from happy eyeballs included). */
const codeOf = (cause: unknown, depth = 0): string | undefined => {
  if (typeof cause !== "object" || cause === null || depth > 4) return undefined
  const error = cause as ErrnoLike
  if (typeof error.code === "string") return error.code
  if (Array.isArray(error.errors)) {
    for (const inner of error.errors) {
      const code = codeOf(inner, depth + 1)
      if (code !== undefined) return code
    }
  }
  return codeOf(error.cause, depth + 1)
}

/** A transport failure (no response, or the body broke off). */
export const fromTransport = (
  cause: unknown,
  target: string,
  timeoutMillis: number
): DriverError.Unreachable | DriverError.TimedOut | DriverError.ProviderFailure | DriverError.RequestRejected => {
  const code = codeOf(cause)
  if (code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
    return new DriverError.TimedOut({ target, afterMillis: timeoutMillis })
  }
  if (code !== undefined && unreachableCodes.has(code)) {
    return new DriverError.Unreachable({ target, detail: `connection failed (${code})` })
  }
  // A certificate the client refuses will be refused again: the server or the configuration must change.
  if (code !== undefined && (code.includes("CERT") || code === "ERR_TLS_CERT_ALTNAME_INVALID")) {
    return new DriverError.RequestRejected({
      target,
      detail: `the server's TLS certificate was not accepted (${code})`
    })
  }
  if (code !== undefined && (code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL"))) {
    return new DriverError.Unreachable({ target, detail: `TLS failed (${code})` })
  }
  return new DriverError.ProviderFailure({
    target,
    detail: `transport failure${code === undefined ? "" : ` (${code})`}`
  })
}
