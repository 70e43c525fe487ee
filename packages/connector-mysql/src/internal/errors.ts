/**
 * Maps what `mysql2` and node's sockets throw onto core's driver errors. Messages are the server's
 * own with the credential's secrets (in every spelling `SecretScrubber` knows) and bound parameter
 * values removed.
 */
import { DriverError, SecretScrubber } from "@patchbay/core"

/** What a failed call was doing, for the error's wording. */
export interface ErrorContext {
  /** `host:port/database`, the target named in every error. */
  readonly target: string
  /** The timeout in force, reported by `TimedOut`. */
  readonly timeoutMillis: number
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
  "EADDRNOTAVAIL",
  "PROTOCOL_CONNECTION_LOST",
  "EGRESS_NOT_PINNED"
])

const tlsCodes = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  // mysql2's code for any failure of the TLS handshake (the certificate checks among them).
  "HANDSHAKE_SSL_ERROR"
])

/** Server errors (errno) that mean the credentials were refused. */
const invalidCredentials = new Set([1045, 1698, 1862, 1820])
/** Server errors that mean the account lacks a privilege. */
const insufficientPermissions = new Set([1044, 1142, 1143, 1227, 1370])
/** The statement was interrupted (KILL QUERY) or hit a server-side time limit. */
const timedOut = new Set([1317, 1969, 3024])
/** Too many connections, or too many for this user. */
const rateLimited = new Set([1040, 1203, 1226])
/** Transient server conditions: lock wait timeout, deadlock, server shutting down, out of memory. */
const transient = new Set([1205, 1213, 1053, 1037, 1041, 1927])

const field = (cause: unknown, key: string): unknown =>
  typeof cause === "object" && cause !== null ? (cause as Record<string, unknown>)[key] : undefined

const text = (cause: unknown): string => {
  const message = field(cause, "sqlMessage") ?? field(cause, "message")
  return typeof message === "string" && message.length > 0 ? message : String(cause)
}

/** Replaces `'value'` of every bound parameter in a server message by its position. */
const scrubParams = (message: string, params: ReadonlyArray<unknown> | undefined): string => {
  if (params === undefined || params.length === 0) return message
  let out = message
  params.forEach((value, index) => {
    if (value === null || value === undefined) return
    const shown = typeof value === "object" ? JSON.stringify(value) : String(value)
    if (shown === undefined || shown.length < 2) return
    out = out.split(shown).join(`?${index + 1}`)
  })
  return out
}

/** The server's error number, when the cause is a server error. */
export const serverErrno = (cause: unknown): number | undefined => {
  const errno = field(cause, "errno")
  return typeof errno === "number" && errno > 0 && typeof field(cause, "sqlState") === "string" ? errno : undefined
}

/** Whether the cause left the connection unusable. */
export const isFatal = (cause: unknown): boolean => field(cause, "fatal") === true || serverErrno(cause) === undefined

/** A driver error already (the SSH tunnel's, reported through mysql2's stream), kept as it is. */
const isDriverError = (cause: unknown): cause is DriverError.DriverError =>
  cause instanceof DriverError.AuthFailed ||
  cause instanceof DriverError.Unreachable ||
  cause instanceof DriverError.TimedOut ||
  cause instanceof DriverError.RateLimited ||
  cause instanceof DriverError.ProviderFailure ||
  cause instanceof DriverError.RequestRejected

/** The driver error for any failure of a MySQL call. */
export const toDriverError = (cause: unknown, context: ErrorContext): DriverError.DriverError => {
  if (isDriverError(cause)) return cause
  const { target } = context
  const prefix = context.prefix ?? ""
  const secrets = context.credentials === undefined ? undefined : SecretScrubber.fromCredentials(context.credentials)
  const clean = (detail: string) => (secrets === undefined ? detail : secrets.scrub(detail))
  const errno = serverErrno(cause)
  const code = field(cause, "code")
  if (errno !== undefined) {
    const detail = clean(`${prefix}${scrubParams(text(cause), context.params)} (${String(code)} ${errno})`)
    if (invalidCredentials.has(errno)) return new DriverError.AuthFailed({ kind: "invalid_credentials", detail })
    if (insufficientPermissions.has(errno)) {
      return new DriverError.AuthFailed({ kind: "insufficient_permissions", detail })
    }
    if (timedOut.has(errno)) return new DriverError.TimedOut({ target, afterMillis: context.timeoutMillis })
    if (rateLimited.has(errno)) return new DriverError.RateLimited({ target })
    if (transient.has(errno)) return new DriverError.ProviderFailure({ target, detail })
    return new DriverError.RequestRejected({ target, status: typeof code === "string" ? code : String(errno), detail })
  }
  const message = clean(text(cause))
  if (typeof code === "string" && unreachableCodes.has(code)) {
    return new DriverError.Unreachable({ target, detail: `${prefix}${code}` })
  }
  if (code === "HANDSHAKE_SSL_ERROR" && /ECONNRESET|EPIPE|socket hang up|socket disconnected/i.test(message)) {
    return new DriverError.Unreachable({ target, detail: `${prefix}${message}` })
  }
  if (code === "HANDSHAKE_NO_SSL_SUPPORT") {
    return new DriverError.RequestRejected({
      target,
      detail: `${prefix}the server offers no TLS and ssl_mode requires it; nothing was sent in clear (ssl_mode disable allows plain text)`
    })
  }
  if (typeof code === "string" && (tlsCodes.has(code) || /CERT|^ERR_TLS|^ERR_SSL/.test(code))) {
    return new DriverError.RequestRejected({ target, detail: `${prefix}TLS refused: ${message}` })
  }
  if (code === "ETIMEDOUT" || /timeout/i.test(message)) {
    return new DriverError.TimedOut({ target, afterMillis: context.timeoutMillis })
  }
  return new DriverError.ProviderFailure({ target, detail: `${prefix}${message}` })
}
