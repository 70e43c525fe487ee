/**
 * The SMTP connector: a descriptor (host, port, security; username and password) and a driver on
 * nodemailer that tests the credentials (EHLO + AUTH), checks health (connect + EHLO) and sends
 * email. Every connection goes to the address the `EgressPolicy` resolved and allowed.
 *
 * @since 0.1.0
 */

import { isIP } from "node:net"
import {
  type ConnectorDescriptor,
  ConnectorDriver,
  DriverError,
  EgressPolicy,
  Ids,
  Messaging,
  SecretScrubber
} from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { SMTPConnectionOptions } from "nodemailer"
import nodemailer from "nodemailer"
import { classify } from "./internal/errors.js"
import { session } from "./internal/session.js"

/**
 * How the connection is secured: `tls` (implicit TLS, usually port 465), `starttls` (plain
 * connection upgraded with STARTTLS, required; usually 587) or `none` (no TLS at all).
 *
 * @since 0.1.0
 */
export const Security = Schema.Literal("tls", "starttls", "none")
/** @since 0.1.0 */
export type Security = typeof Security.Type

/**
 * An SMTP instance's configuration. `from` is the sender used when a message names none;
 * `timeout_ms` bounds connecting, the greeting and every later wait on the socket.
 *
 * @since 0.1.0
 */
export const Configuration = Schema.Struct({
  host: Schema.Trim.pipe(Schema.nonEmptyString({ message: () => "host must not be empty" })),
  port: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 65535)), { default: () => 587 }),
  security: Schema.optionalWith(Security, { default: () => "starttls" as const }),
  from: Schema.optional(
    Schema.String.pipe(
      Schema.pattern(/^[^\s@<>]+@[^\s@<>]+$/, { message: () => "from must be an email address like name@example.com" })
    )
  ),
  timeout_ms: Schema.optionalWith(Schema.Int.pipe(Schema.between(100, 600_000)), { default: () => 30_000 })
})
/** @since 0.1.0 */
export type Configuration = typeof Configuration.Type

/**
 * An SMTP account's credentials; the password is `Redacted` once decoded.
 *
 * @since 0.1.0
 */
export const Credentials = Schema.Struct({
  username: Schema.String.pipe(Schema.nonEmptyString({ message: () => "username must not be empty" })),
  password: Schema.Redacted(Schema.String)
})
/** @since 0.1.0 */
export type Credentials = typeof Credentials.Type

/**
 * The SMTP connector descriptor (stable id, key `smtp`).
 *
 * @since 0.1.0
 */
export const descriptor = {
  id: Ids.ConnectorId.make("5b6f3c1e-7d2a-4c8e-9f1a-3e2d4c5b6a70"),
  key: "smtp",
  name: "SMTP",
  version: "1.0.0",
  authProfiles: ["basic"],
  operations: ["test_connection", "health_check", "send_email"],
  configuration: Configuration,
  credentials: Credentials,
  secretFields: ["password"],
  accountFields: ["host", "port", "username"],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor.ConnectorDescriptor

type Context = ConnectorDriver.DriverContext<Configuration, Credentials>

const targetOf = (configuration: Configuration) => `${configuration.host}:${configuration.port}`

/** nodemailer connection options: the allowed address, with the original name for TLS. */
const connectionOptions = (configuration: Configuration, address: string): SMTPConnectionOptions => ({
  host: address,
  port: configuration.port,
  secure: configuration.security === "tls",
  requireTLS: configuration.security === "starttls",
  ignoreTLS: configuration.security === "none",
  ...(isIP(configuration.host) === 0 ? { servername: configuration.host } : {}),
  connectionTimeout: configuration.timeout_ms,
  greetingTimeout: configuration.timeout_ms,
  socketTimeout: configuration.timeout_ms,
  dnsTimeout: configuration.timeout_ms,
  logger: false
})

/** The LOGIN/PLAIN credentials; the only place the password is unwrapped. */
const loginOf = (credentials: Credentials) => ({
  user: credentials.username,
  credentials: { user: credentials.username, pass: Redacted.value(credentials.password) }
})

const toAttachment = (attachment: Messaging.Attachment) => ({
  filename: attachment.filename,
  content: Buffer.from(attachment.content),
  ...(attachment.contentType === undefined ? {} : { contentType: attachment.contentType })
})

/**
 * The SMTP driver, connecting through the given egress policy.
 *
 * @since 0.1.0
 */
export const make = (
  policy: EgressPolicy.EgressPolicyShape
): ConnectorDriver.ConnectorDriver<Configuration, Credentials> => {
  const connect = (configuration: Configuration) =>
    policy.check(configuration.host).pipe(Effect.map((address) => connectionOptions(configuration, address)))

  const test = Effect.fn("SmtpConnector.test")(function* ({ configuration, credentials }: Context) {
    const target = targetOf(configuration)
    const options = yield* connect(configuration)
    const { authenticated } = yield* session(options, loginOf(credentials)).pipe(
      Effect.mapError((cause) =>
        classify(cause, target, configuration.timeout_ms, SecretScrubber.fromCredentials(credentials).scrub)
      )
    )
    return authenticated
      ? `${target} accepted the login of ${credentials.username}`
      : `${target} answered but offers no AUTH: the credentials were not checked`
  })

  const healthCheck = Effect.fn("SmtpConnector.healthCheck")(function* ({ configuration }: Context) {
    const options = yield* connect(configuration)
    yield* session(options, undefined).pipe(
      Effect.mapError((cause) => classify(cause, targetOf(configuration), configuration.timeout_ms))
    )
  })

  const sendEmail = Effect.fn("SmtpConnector.sendEmail")(function* (
    { configuration, credentials }: Context,
    message: Messaging.EmailMessage
  ) {
    const target = targetOf(configuration)
    const from = message.from ?? configuration.from
    if (from === undefined) {
      return yield* new DriverError.RequestRejected({
        target,
        detail: "the message has no sender: set `from` on the message or in the instance configuration"
      })
    }
    const options = yield* connect(configuration)
    const info = yield* Effect.acquireUseRelease(
      Effect.sync(() =>
        nodemailer.createTransport({
          ...options,
          auth: loginOf(credentials).credentials
        })
      ),
      (transport) =>
        Effect.tryPromise({
          try: (signal) =>
            transport.sendMail({
              from,
              to: [...message.to],
              cc: [...message.cc],
              bcc: [...message.bcc],
              subject: message.subject,
              ...(message.text === undefined ? {} : { text: message.text }),
              ...(message.html === undefined ? {} : { html: message.html }),
              attachments: message.attachments.map(toAttachment),
              signal
            }),
          catch: (cause) =>
            classify(cause, target, configuration.timeout_ms, SecretScrubber.fromCredentials(credentials).scrub)
        }),
      (transport) => Effect.sync(() => transport.close())
    )
    return yield* Schema.decodeUnknown(Messaging.EmailReceipt)({
      messageId: info.messageId,
      accepted: info.accepted.map(String),
      rejected: info.rejected.map(String)
    }).pipe(
      Effect.mapError(
        (error) => new DriverError.ProviderFailure({ target, detail: `unexpected send result: ${error.message}` })
      )
    )
  })

  return { test, healthCheck, sendEmail }
}

/**
 * The SMTP connector for `ConnectorRegistry.layer`, built with the host's `EgressPolicy`.
 *
 * @since 0.1.0
 */
export const connector: Effect.Effect<ConnectorDriver.Connector, never, EgressPolicy.EgressPolicy> = Effect.map(
  EgressPolicy.EgressPolicy,
  (policy) => ConnectorDriver.make(descriptor, make(policy))
)
