/**
 * Maps what `pg` and node's sockets throw onto core's driver errors. Messages are the server's own,
 * with quoted parameter values replaced by their placeholder and the credential's secrets (in every
 * spelling `SecretScrubber` knows) removed; details (which may hold row values) never appear.
 */
import { DriverError, SecretScrubber } from "@patchbay/core"

/** What a failed call was doing, for the error's wording. */
export interface ErrorContext {
  /** `host:port/database`, the target named in every error. */
  readonly target: string
  /** The statement timeout in force, reported by `TimedOut`. */
  readonly timeoutMillis: number
  /** The connect timeout, reported by `TimedOut` when connecting took too long. */
  readonly connectTimeoutMillis?: number | undefined
  /** Bound parameter values, scrubbed from server messages. */
  readonly params?: ReadonlyArray<unknown> | undefined
  /** Prepended to the detail (`statement 2: `). */
  readonly prefix?: string | undefined
  /** The resolved credentials, whose secrets are scrubbed from every detail. */
  readonly credentials?: unknown
}

const unreachableCodes = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNRESET",
  "EPIPE",
  "EAI_AGAIN",
  "ECONNABORTED",
  "EADDRNOTAVAIL"
])

const tlsCodes = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID"
])

const field = (cause: unknown, key: string): unknown =>
  typeof cause === "object" && cause !== null ? (cause as Record<string, unknown>)[key] : undefined

const text = (cause: unknown): string => {
  const message = field(cause, "message")
  return typeof message === "string" && message.length > 0 ? message : String(cause)
}

/** Replaces `"value"` of every bound parameter in a server message by its placeholder. */
const scrub = (message: string, params: ReadonlyArray<unknown> | undefined): string => {
  if (params === undefined || params.length === 0) return message
  let out = message
  params.forEach((value, index) => {
    if (value === null || value === undefined) return
    const shown = typeof value === "object" ? JSON.stringify(value) : String(value)
    if (shown === undefined || shown.length === 0) return
    out = out.split(`"${shown}"`).join(`$${index + 1}`)
  })
  return out
}

/** The SQLSTATE of a server error, if the cause is one. */
export const sqlState = (cause: unknown): string | undefined => {
  const code = field(cause, "code")
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && field(cause, "severity") !== undefined
    ? code
    : undefined
}

/** Whether the cause left the connection unusable (anything but a server-reported error). */
export const isConnectionBroken = (cause: unknown): boolean => sqlState(cause) === undefined

/** A driver error already (the SSH tunnel's, reported through pg's stream), kept as it is. */
const isDriverError = (cause: unknown): cause is DriverError.DriverError =>
  cause instanceof DriverError.AuthFailed ||
  cause instanceof DriverError.Unreachable ||
  cause instanceof DriverError.TimedOut ||
  cause instanceof DriverError.RateLimited ||
  cause instanceof DriverError.ProviderFailure ||
  cause instanceof DriverError.RequestRejected

/** The driver error for any failure of a PostgreSQL call. */
export const toDriverError = (cause: unknown, context: ErrorContext): DriverError.DriverError => {
  if (isDriverError(cause)) return cause
  const { target } = context
  const prefix = context.prefix ?? ""
  const secrets = context.credentials === undefined ? undefined : SecretScrubber.fromCredentials(context.credentials)
  const clean = (detail: string) => (secrets === undefined ? detail : secrets.scrub(detail))
  const state = sqlState(cause)
  if (state !== undefined) {
    const detail = clean(`${prefix}${scrub(text(cause), context.params)} (SQLSTATE ${state})`)
    if (state === "28P01" || state === "28000") {
      return new DriverError.AuthFailed({ kind: "invalid_credentials", detail })
    }
    if (state === "42501") return new DriverError.AuthFailed({ kind: "insufficient_permissions", detail })
    if (state === "57014") return new DriverError.TimedOut({ target, afterMillis: context.timeoutMillis })
    if (state === "53300") return new DriverError.RateLimited({ target })
    if (state.startsWith("08") && state !== "08P01") return new DriverError.Unreachable({ target, detail })
    const klass = state.slice(0, 2)
    if (["53", "57", "58", "XX", "40", "55"].includes(klass)) {
      return new DriverError.ProviderFailure({ target, detail })
    }
    return new DriverError.RequestRejected({ target, status: state, detail })
  }
  const code = field(cause, "code")
  const message = clean(text(cause))
  if (typeof code === "string" && unreachableCodes.has(code)) {
    return new DriverError.Unreachable({ target, detail: `${prefix}${code}` })
  }
  if (typeof code === "string" && tlsCodes.has(code)) {
    return new DriverError.RequestRejected({ target, detail: `${prefix}TLS certificate rejected: ${message}` })
  }
  if (code === "ETIMEDOUT" || /timeout/i.test(message)) {
    return new DriverError.TimedOut({
      target,
      afterMillis: /connect/i.test(message)
        ? (context.connectTimeoutMillis ?? context.timeoutMillis)
        : context.timeoutMillis
    })
  }
  if (/does not support SSL/i.test(message)) {
    return new DriverError.RequestRejected({ target, detail: `${prefix}${message}; set ssl_mode to prefer or disable` })
  }
  if (/Connection terminated|socket|ended/i.test(message)) {
    return new DriverError.Unreachable({ target, detail: `${prefix}${message}` })
  }
  return new DriverError.ProviderFailure({ target, detail: `${prefix}${message}` })
}
