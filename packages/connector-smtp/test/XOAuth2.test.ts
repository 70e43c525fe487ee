/**
 * Send Email over SMTP with SASL XOAUTH2: smtp-server offers only XOAUTH2 and honours an access
 * token when oidc-provider's introspection says it is active; tokens come from oidc-provider
 * (client credentials). A token revoked at the provider is refused (535): AuthFailed, then
 * ReconnectRequired.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { ConnectorInstance, ConnectorRegistry, EgressPolicy, FailureClassifier, Ids, Messaging } from "@patchbay/core"
import { AuthorizationServer, OAuth2Clients } from "@patchbay/oauth2"
import { Context, Effect, Layer, Schema } from "effect"
import { SMTPServer } from "smtp-server"
import { SmtpConnector } from "../src/index.js"
import { client, TokenProvider, layer as tokenProviderLayer } from "./support/tokenProvider.js"

const mailbox = "robot@example.com"

interface Received {
  readonly user: string | undefined
  readonly to: ReadonlyArray<string>
  readonly raw: string
}

/** smtp-server on 127.0.0.1 offering only AUTH XOAUTH2, honouring the tokens the provider says are active. */
class XOAuth2Server extends Context.Tag("test/XOAuth2Server")<
  XOAuth2Server,
  {
    readonly port: number
    readonly methods: Array<string>
    readonly received: Array<Received>
  }
>() {}

const XOAuth2ServerLive = Layer.scoped(
  XOAuth2Server,
  Effect.acquireRelease(
    Effect.flatMap(TokenProvider, (provider) =>
      Effect.async<{
        readonly server: SMTPServer
        readonly port: number
        readonly methods: Array<string>
        readonly received: Array<Received>
      }>((resume) => {
        const methods: Array<string> = []
        const received: Array<Received> = []
        const server = new SMTPServer({
          authMethods: ["XOAUTH2"],
          authOptional: false,
          allowInsecureAuth: true,
          disabledCommands: ["STARTTLS"],
          disableReverseLookup: true,
          logger: false,
          onAuth(auth, _session, callback) {
            methods.push(auth.method)
            const refuse = () =>
              // XOAUTH2's failure: a JSON challenge, then 535 once the client answers it.
              callback(null, { data: { status: "401", schemes: "bearer", scope: "https://mail.google.com/" } })
            if (auth.method !== "XOAUTH2" || auth.username !== mailbox || auth.accessToken === undefined)
              return refuse()
            provider.isActive(auth.accessToken).then(
              (active) => (active ? callback(null, { user: auth.username }) : refuse()),
              (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)))
            )
          },
          onData(stream, session, callback) {
            const chunks: Array<Buffer> = []
            stream.on("data", (chunk: Buffer) => chunks.push(chunk))
            stream.on("end", () => {
              received.push({
                user: typeof session.user === "string" ? session.user : undefined,
                to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
                raw: Buffer.concat(chunks).toString("utf8")
              })
              callback()
            })
          }
        })
        server.on("error", () => {})
        const listener = server.listen(0, "127.0.0.1", () => {
          const address = listener.address()
          resume(
            Effect.succeed({
              server,
              port: typeof address === "object" && address ? address.port : 0,
              methods,
              received
            })
          )
        })
      })
    ),
    ({ server }) => Effect.async<void>((resume) => server.close(() => resume(Effect.void)))
  ).pipe(Effect.map(({ server: _server, ...rest }) => rest))
)

const setup = (credentials: unknown, configuration: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const { port } = yield* XOAuth2Server
    const connector = yield* SmtpConnector.connector
    const fields = { host: "127.0.0.1", port, security: "none", user: mailbox, ...configuration }
    // `undefined` stands for a field left out.
    const stored = yield* ConnectorRegistry.validateConfiguration(
      SmtpConnector.descriptor,
      Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined))
    )
    const instance = ConnectorInstance.fresh({
      id: Ids.InstanceId.make("0190a000-0000-7000-8000-0000000002f1"),
      orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
      connector: { id: SmtpConnector.descriptor.id, key: SmtpConnector.descriptor.key },
      instanceName: "gmail-team",
      configuration: stored,
      authType: "oauth2_authorization_code",
      hasCredentials: true,
      at: new Date(0)
    })
    const context = yield* ConnectorRegistry.driverContext(connector, instance, credentials, {
      id: "credential-1",
      version: 1,
      scope: "organization:test"
    })
    return { driver: connector.driver, context, instance }
  })

/** A fresh access token from the provider, fetched by @patchbay/oauth2's client (discovery, then client credentials). */
const freshToken = Effect.gen(function* () {
  const provider = yield* TokenProvider
  const servers = AuthorizationServer.make(yield* EgressPolicy.EgressPolicy, { allowInsecureRequests: true })
  const registration = yield* Schema.decodeUnknown(OAuth2Clients.ClientRegistration)({
    issuer: provider.issuer,
    clientId: client.id,
    clientSecret: client.secret
  })
  const endpoint = yield* servers.endpoint(registration, "smtp", registration)
  const response = yield* servers.clientCredentials(endpoint, ["mail"])
  return response.access_token
}).pipe(Effect.orDie)

describe("SMTP with OAuth2 (XOAUTH2)", () => {
  it.effect("the Gmail and Microsoft 365 presets default to the providers' submission servers", () =>
    Effect.gen(function* () {
      const gmail = yield* ConnectorRegistry.validateConfiguration(SmtpConnector.gmail, { user: mailbox })
      assert.deepInclude(gmail, { host: "smtp.gmail.com", port: 465, security: "tls" })
      const m365 = yield* ConnectorRegistry.validateConfiguration(SmtpConnector.microsoft365, { user: mailbox })
      assert.deepInclude(m365, { host: "smtp.office365.com", port: 587, security: "starttls" })
      assert.deepStrictEqual(SmtpConnector.gmail.authProfiles, ["oauth2_authorization_code"])
    })
  )

  layer(
    Layer.mergeAll(
      XOAuth2ServerLive.pipe(Layer.provideMerge(tokenProviderLayer)),
      EgressPolicy.layer({ allowLoopback: true })
    )
  )((it) => {
    it.effect("test and Send Email sign in with the provider's access token over XOAUTH2", () =>
      Effect.gen(function* () {
        const server = yield* XOAuth2Server
        const token = yield* freshToken
        const { driver, context } = yield* setup({ access_token: token, token_type: "Bearer", refresh_token: "r-1" })
        const said = yield* driver.test(context)
        assert.strictEqual(said, `127.0.0.1:${server.port} accepted the OAuth2 (XOAUTH2) login of ${mailbox}`)
        assert.strictEqual(server.methods.at(-1), "XOAUTH2")
        const sendEmail = driver.sendEmail
        assert.isDefined(sendEmail)
        if (sendEmail === undefined) return
        const receipt = yield* sendEmail(
          context,
          Messaging.EmailMessage.make({
            from: mailbox,
            to: ["alice@example.com"],
            cc: [],
            bcc: [],
            subject: "Signed in with OAuth2",
            text: "hello",
            attachments: []
          })
        )
        assert.deepStrictEqual(receipt.accepted, ["alice@example.com"])
        const mail = server.received.at(-1)
        assert.strictEqual(mail?.user, mailbox)
        assert.include(mail?.raw ?? "", "Subject: Signed in with OAuth2")
      })
    )

    it.effect("a token revoked at the provider is refused with 535: AuthFailed, then ReconnectRequired", () =>
      Effect.gen(function* () {
        const provider = yield* TokenProvider
        const token = yield* freshToken
        const { driver, context, instance } = yield* setup({ access_token: token })
        yield* driver.test(context)
        yield* Effect.promise(() => provider.revoke(token))
        assert.isFalse(yield* Effect.promise(() => provider.isActive(token)))
        const failure = yield* Effect.flip(driver.test(context))
        assert.strictEqual(failure._tag, "AuthFailed")
        assert.notInclude(failure.message, token)
        const classified = FailureClassifier.classify(
          {
            id: instance.id,
            instanceName: instance.instanceName,
            connectorKey: "smtp",
            authType: "oauth2_authorization_code"
          },
          failure
        )
        assert.strictEqual(classified._tag, "ReconnectRequired")
        assert.strictEqual(classified._tag === "ReconnectRequired" ? classified.action : undefined, "reconnect")
      })
    )

    it.effect("an OAuth2 instance without `user` is refused before connecting", () =>
      Effect.gen(function* () {
        const server = yield* XOAuth2Server
        const before = server.methods.length
        const failure = yield* Effect.flip(
          Effect.flatMap(setup({ access_token: "not-sent" }, { user: undefined }), ({ driver, context }) =>
            driver.test(context)
          )
        )
        assert.strictEqual(failure._tag, "RequestRejected")
        assert.strictEqual(server.methods.length, before)
      })
    )
  })
})
