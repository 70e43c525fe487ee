/**
 * Maps nodemailer failures onto core's driver errors. The table is in docs/drivers.md.
 */
import { DriverError } from "@patchbay/core"

/** The fields nodemailer attaches to the errors it reports (all optional). */
export interface SmtpFailure {
  readonly message?: string | undefined
  readonly code?: string | undefined
  readonly originalCode?: string | undefined
  readonly responseCode?: number | undefined
  readonly response?: string | undefined
  readonly command?: string | undefined
  readonly timeoutType?: string | undefined
}

const unreachableCodes = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "EPIPE",
  "EDNS",
  "ECONNECTION",
  "ESOCKET"
])

/**
 * Node's certificate verification failures: the server's certificate or the configured security
 * mode must change, so a retry cannot help.
 */
const certificateCodes = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "ERR_TLS_CERT_ALTNAME_INVALID"
])

const rateLimitText = /rate|too many|limit|throttl|try again later/i

const asFailure = (cause: unknown): SmtpFailure =>
  typeof cause === "object" && cause !== null ? (cause as SmtpFailure) : { message: String(cause) }

/** The server's words, or the library's message when the server said nothing. */
const words = (failure: SmtpFailure): string =>
  (failure.response ?? failure.message ?? failure.code ?? "unknown SMTP failure").trim()

/**
 * Classifies one nodemailer failure. `target` names the server (`host:port`), `timeoutMillis` is
 * the configured timeout reported by `TimedOut`; `scrub` removes the credential's secrets from the
 * server's words before they reach the error.
 */
export const classify = (
  cause: unknown,
  target: string,
  timeoutMillis: number,
  scrub: (text: string) => string = (text) => text
): DriverError.DriverError => {
  const failure = asFailure(cause)
  // The server's reply may echo what the client sent (the password, AUTH PLAIN's base64).
  const describe = (f: SmtpFailure) => scrub(words(f))
  const status = failure.responseCode
  const code = failure.code
  if (code === "ETIMEDOUT" || failure.originalCode === "ETIMEDOUT" || failure.timeoutType !== undefined) {
    return new DriverError.TimedOut({ target, afterMillis: timeoutMillis })
  }
  if (code === "EAUTH" || code === "ENOAUTH" || status === 535 || status === 534 || status === 530) {
    return new DriverError.AuthFailed({ kind: "invalid_credentials", detail: `${target}: ${describe(failure)}` })
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return status === 421 || status === 452 || rateLimitText.test(failure.response ?? "")
      ? new DriverError.RateLimited({ target })
      : new DriverError.ProviderFailure({ target, status, detail: describe(failure) })
  }
  if (status !== undefined && status >= 500) {
    const aboutMessage =
      code === "EENVELOPE" ||
      code === "EMESSAGE" ||
      /^(MAIL|RCPT|DATA)/i.test(failure.command ?? "") ||
      status === 550 ||
      status === 551 ||
      status === 552 ||
      status === 553 ||
      status === 554
    return aboutMessage
      ? new DriverError.RequestRejected({ target, status, detail: describe(failure) })
      : new DriverError.ProviderFailure({ target, status, detail: describe(failure) })
  }
  if (
    (code !== undefined && certificateCodes.has(code)) ||
    (failure.originalCode !== undefined && certificateCodes.has(failure.originalCode))
  ) {
    return new DriverError.RequestRejected({
      target,
      detail: `the server's TLS certificate was not accepted: ${describe(failure)}`
    })
  }
  if (code === "ETLS") {
    return new DriverError.Unreachable({ target, detail: `TLS failed: ${describe(failure)}` })
  }
  if (code === "EENVELOPE" || code === "EMESSAGE" || code === "EMAXRECIPIENTS") {
    return new DriverError.RequestRejected({ target, detail: describe(failure) })
  }
  if (
    (code !== undefined && unreachableCodes.has(code)) ||
    (failure.originalCode !== undefined && unreachableCodes.has(failure.originalCode))
  ) {
    return new DriverError.Unreachable({ target, detail: describe(failure) })
  }
  return new DriverError.ProviderFailure({ target, detail: describe(failure) })
}
