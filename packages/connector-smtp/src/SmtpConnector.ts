/**
 * The SMTP connector: a descriptor (host, port, security; username and password, or an OAuth2
 * access token sent with SASL XOAUTH2) and a driver on nodemailer that tests the credentials
 * (EHLO + AUTH), checks health (connect + EHLO) and sends email. Every connection goes to the
 * address the `EgressPolicy` resolved and allowed. `gmail` and `microsoft365` are the descriptors
 * of those providers' SMTP submission servers.
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
  OAuth2ClientConfiguration,
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
  timeout_ms: Schema.optionalWith(Schema.Int.pipe(Schema.between(100, 600_000)), { default: () => 30_000 }),
  /** The mailbox an OAuth2 instance signs in as (XOAUTH2's `user`). */
  user: Schema.optional(
    Schema.String.pipe(
      Schema.pattern(/^[^\s@<>]+@[^\s@<>]+$/, { message: () => "user must be an email address like name@example.com" })
    )
  ),
  /** Per-instance OAuth2 client settings (issuer, client id, scopes…), read by @patchbay/oauth2. */
  oauth2: Schema.optional(OAuth2ClientConfiguration.OAuth2ClientConfiguration)
})
/** @since 0.1.0 */
export type Configuration = typeof Configuration.Type

/**
 * The `basic` profile: an SMTP account's username and password (`Redacted` once decoded).
 *
 * @since 0.1.0
 */
export const PasswordCredentials = Schema.Struct({
  username: Schema.String.pipe(Schema.nonEmptyString({ message: () => "username must not be empty" })),
  password: Schema.Redacted(Schema.String)
})

/**
 * The `oauth2_authorization_code` profile: the token set the credential resolver delivers (kept
 * fresh by @patchbay/oauth2's refresher). Only `access_token` is sent, with SASL XOAUTH2.
 *
 * @since 0.1.0
 */
export const OAuth2Credentials = Schema.Struct({
  access_token: Schema.Redacted(Schema.String.pipe(Schema.nonEmptyString())),
  token_type: Schema.optional(Schema.String),
  refresh_token: Schema.optional(Schema.Redacted(Schema.String)),
  expires_at: Schema.optional(Schema.Union(Schema.Number, Schema.String)),
  scope: Schema.optional(Schema.String),
  id_token: Schema.optional(Schema.Redacted(Schema.String)),
  client_id: Schema.optional(Schema.String),
  client_secret: Schema.optional(Schema.Redacted(Schema.String))
})

/**
 * An SMTP instance's credentials: a password, or an OAuth2 token set (by its `auth_type`).
 *
 * @since 0.1.0
 */
export const Credentials = Schema.Union(PasswordCredentials, OAuth2Credentials)
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
  authProfiles: ["basic", "oauth2_authorization_code"],
  operations: ["test_connection", "health_check", "send_email"],
  configuration: Configuration,
  credentials: Credentials,
  secretFields: ["password", "access_token", "refresh_token", "id_token", "client_secret"],
  accountFields: ["host", "port", "username", "user"],
  supportsSchemaDiscovery: false
} satisfies ConnectorDescriptor.ConnectorDescriptor

/**
 * An SMTP descriptor whose configuration defaults to one provider's submission server.
 *
 * @since 0.1.0
 */
export interface Preset {
  readonly id: string
  readonly key: string
  readonly name: string
  readonly host: string
  readonly port: number
  readonly security: Security
}

/**
 * The descriptor of a provider's SMTP server, signing in with OAuth2 (XOAUTH2) only: host, port
 * and security default to the provider's; an instance sets `user` and its `oauth2` client.
 *
 * @since 0.1.0
 */
export const preset = (preset: Preset) =>
  ({
    ...descriptor,
    id: Ids.ConnectorId.make(preset.id),
    key: preset.key,
    name: preset.name,
    authProfiles: ["oauth2_authorization_code"],
    configuration: Schema.Struct({
      ...Configuration.fields,
      host: Schema.optionalWith(Configuration.fields.host, { default: () => preset.host }),
      port: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 65535)), { default: () => preset.port }),
      security: Schema.optionalWith(Security, { default: () => preset.security })
    }),
    secretFields: ["access_token", "refresh_token", "id_token", "client_secret"],
    accountFields: ["host", "user"]
  }) satisfies ConnectorDescriptor.ConnectorDescriptor

/**
 * Gmail / Google Workspace sending: smtp.gmail.com:465 over implicit TLS, XOAUTH2 with the
 * `https://mail.google.com/` scope.
 *
 * @since 0.1.0
 */
export const gmail = preset({
  id: "0b8e2f4a-6c1d-4e3b-9a7f-5d2c8e1b4a60",
  key: "gmail-smtp",
  name: "Gmail (SMTP)",
  host: "smtp.gmail.com",
  port: 465,
  security: "tls"
})

/**
 * Microsoft 365 / Outlook sending: smtp.office365.com:587 with STARTTLS, XOAUTH2 with the
 * `https://outlook.office.com/SMTP.Send` scope.
 *
 * @since 0.1.0
 */
export const microsoft365 = preset({
  id: "7c3a9d1e-2b4f-4a6c-8e0d-1f5b7a3c9e21",
  key: "microsoft365-smtp",
  name: "Microsoft 365 (SMTP)",
  host: "smtp.office365.com",
  port: 587,
  security: "starttls"
})

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

const mismatch = (authType: string, needs: string) =>
  new DriverError.AuthFailed({
    kind: "invalid_credentials",
    detail: `the stored credentials do not fit auth type ${authType}: it needs ${needs}`
  })

/**
 * nodemailer's `auth` for an instance: LOGIN/PLAIN with the password, or XOAUTH2 with the access
 * token. The only place either secret is unwrapped.
 */
const authOf = ({ configuration, credentials, instance }: Context) =>
  Effect.gen(function* () {
    if (instance.authType === "basic") {
      if (!("username" in credentials)) return yield* mismatch(instance.authType, "username and password")
      return {
        who: credentials.username,
        xoauth2: false,
        auth: { user: credentials.username, pass: Redacted.value(credentials.password) }
      }
    }
    if (!("access_token" in credentials)) return yield* mismatch(instance.authType, "an OAuth2 access_token")
    if (configuration.user === undefined) {
      return yield* new DriverError.RequestRejected({
        target: targetOf(configuration),
        detail: "an OAuth2 SMTP instance needs `user` in its configuration: the mailbox it signs in as"
      })
    }
    return {
      who: configuration.user,
      xoauth2: true,
      auth: { type: "OAuth2" as const, user: configuration.user, accessToken: Redacted.value(credentials.access_token) }
    }
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

  const test = Effect.fn("SmtpConnector.test")(function* (context: Context) {
    const { configuration, credentials } = context
    const target = targetOf(configuration)
    const { who, xoauth2, auth } = yield* authOf(context)
    const options = yield* connect(configuration)
    const scrub = SecretScrubber.fromCredentials(credentials).scrub
    if (xoauth2) {
      // nodemailer's transport builds the XOAUTH2 exchange; verify() is connect, EHLO, AUTH, QUIT.
      yield* Effect.acquireUseRelease(
        Effect.sync(() => nodemailer.createTransport({ ...options, auth })),
        (transport) =>
          Effect.tryPromise({
            try: () => transport.verify(),
            catch: (cause) => classify(cause, target, configuration.timeout_ms, scrub)
          }),
        (transport) => Effect.sync(() => transport.close())
      )
      return `${target} accepted the OAuth2 (XOAUTH2) login of ${who}`
    }
    const login = { user: who, credentials: { user: who, pass: "pass" in auth ? auth.pass : "" } }
    const { authenticated } = yield* session(options, login).pipe(
      Effect.mapError((cause) => classify(cause, target, configuration.timeout_ms, scrub))
    )
    return authenticated
      ? `${target} accepted the login of ${who}`
      : `${target} answered but offers no AUTH: the credentials were not checked`
  })

  const healthCheck = Effect.fn("SmtpConnector.healthCheck")(function* ({ configuration }: Context) {
    const options = yield* connect(configuration)
    yield* session(options, undefined).pipe(
      Effect.mapError((cause) => classify(cause, targetOf(configuration), configuration.timeout_ms))
    )
  })

  const sendEmail = Effect.fn("SmtpConnector.sendEmail")(function* (context: Context, message: Messaging.EmailMessage) {
    const { configuration, credentials } = context
    const target = targetOf(configuration)
    const from = message.from ?? configuration.from
    if (from === undefined) {
      return yield* new DriverError.RequestRejected({
        target,
        detail: "the message has no sender: set `from` on the message or in the instance configuration"
      })
    }
    const { auth } = yield* authOf(context)
    const options = yield* connect(configuration)
    const info = yield* Effect.acquireUseRelease(
      Effect.sync(() => nodemailer.createTransport({ ...options, auth })),
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

/**
 * The connectors of the Gmail and Microsoft 365 SMTP descriptors, for `ConnectorRegistry.layer`.
 *
 * @since 0.1.0
 */
export const presetConnectors: Effect.Effect<
  ReadonlyArray<ConnectorDriver.Connector>,
  never,
  EgressPolicy.EgressPolicy
> = Effect.map(EgressPolicy.EgressPolicy, (policy) =>
  [gmail, microsoft365].map((preset) => ConnectorDriver.make(preset, make(policy)))
)
