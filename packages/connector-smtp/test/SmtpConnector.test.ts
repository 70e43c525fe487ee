import { connect, createServer, type Server, type Socket } from "node:net"
import { assert, describe, it, layer } from "@effect/vitest"
import { ConnectorInstance, ConnectorRegistry, EgressPolicy, Ids, Messaging } from "@patchbay/core"
import { MailServer as MailServerPeer, Ports, Tls } from "@patchbay/testing"
import { Context, Deferred, Effect, Exit, Fiber, Layer } from "effect"
import { SmtpConnector } from "../src/index.js"

/** smtp-server on 127.0.0.1 requiring AUTH (plain text, no STARTTLS), refusing one recipient. */
class MailServer extends Context.Tag("test/MailServer")<MailServer, MailServerPeer.MailServer>() {}

const rejected = "blocked@example.com"

const MailServerLive = Layer.scoped(
  MailServer,
  Effect.acquireRelease(
    Effect.promise(() => MailServerPeer.start({ mailer: "s3cret" }, { rejectRecipients: [rejected] })),
    (server) => Effect.promise(() => server.close())
  )
)

const listen = (server: Server) =>
  Effect.async<number>((resume) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resume(Effect.succeed(typeof address === "object" && address ? address.port : 0))
    })
  })

const close = (server: Server, sockets: Iterable<Socket>) =>
  Effect.async<void>((resume) => {
    for (const socket of sockets) socket.destroy()
    server.close(() => resume(Effect.void))
  })

/**
 * A TCP server that accepts connections and never says a word (no SMTP greeting). `closed`
 * completes when the first connection's client hangs up.
 */
const silentServer = Effect.gen(function* () {
  const accepted = yield* Deferred.make<void>()
  const closed = yield* Deferred.make<void>()
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    Deferred.unsafeDone(accepted, Exit.void)
    socket.on("error", () => {})
    socket.on("close", () => Deferred.unsafeDone(closed, Exit.void))
  })
  const port = yield* Effect.acquireRelease(listen(server), () => close(server, sockets))
  return { port, accepted, closed }
})

/**
 * A TCP relay to `port` that records what clients send: what a session said to the real server.
 * `ended` completes with the transcript when the first client hangs up.
 */
const recordingRelay = (port: number) =>
  Effect.gen(function* () {
    const ended = yield* Deferred.make<string>()
    const sockets = new Set<Socket>()
    const server = createServer((client) => {
      const upstream = connect(port, "127.0.0.1")
      const sent: Array<Buffer> = []
      sockets.add(client).add(upstream)
      client.on("data", (chunk: Buffer) => sent.push(chunk))
      client.on("error", () => upstream.destroy())
      upstream.on("error", () => client.destroy())
      client.pipe(upstream).pipe(client)
      client.on("close", () => Deferred.unsafeDone(ended, Exit.succeed(Buffer.concat(sent).toString("latin1"))))
    })
    const relayPort = yield* Effect.acquireRelease(listen(server), () => close(server, sockets))
    return { port: relayPort, ended }
  })

/** A port nobody listens on. */
const closedPort = Effect.promise(() => Ports.freePort())

const instance = (configuration: Record<string, unknown>) =>
  ConnectorInstance.fresh({
    id: Ids.InstanceId.make("0190a000-0000-7000-8000-0000000000f1"),
    orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
    connector: { id: SmtpConnector.descriptor.id, key: SmtpConnector.descriptor.key },
    instanceName: "smtp-test",
    configuration,
    authType: "basic",
    hasCredentials: true,
    at: new Date(0)
  })

const good = { username: "mailer", password: "s3cret" }

/** The connector built with the policy in context, and a driver context decoded the way the registry does. */
const setup = (configuration: Record<string, unknown>, credentials: unknown = good) =>
  Effect.gen(function* () {
    const connector = yield* SmtpConnector.connector
    const context = yield* ConnectorRegistry.driverContext(connector, instance(configuration), credentials, {
      id: "credential-1",
      version: 1,
      scope: "organization:test"
    })
    return { driver: connector.driver, context }
  })

const loopback = EgressPolicy.layer({ allowLoopback: true })

const message = (fields: Partial<typeof Messaging.EmailMessage.Encoded> = {}) =>
  Messaging.EmailMessage.make({
    from: "robot@example.com",
    to: ["alice@example.com"],
    cc: [],
    bcc: [],
    subject: "Quarterly report",
    text: "See attachment.",
    attachments: [
      new Messaging.Attachment({
        filename: "report.csv",
        contentType: "text/csv",
        content: new TextEncoder().encode("region,total\nnorth,42\n")
      })
    ],
    ...(fields as object)
  })

describe("SmtpConnector", () => {
  it("describes itself with a stable id and JSON configuration", () => {
    assert.strictEqual(SmtpConnector.descriptor.key, "smtp")
    assert.deepStrictEqual(SmtpConnector.descriptor.secretFields, [
      "password",
      "access_token",
      "refresh_token",
      "id_token",
      "client_secret"
    ])
    assert.deepStrictEqual(SmtpConnector.descriptor.accountFields, ["host", "port", "username", "user"])
  })

  it.effect("validates configuration and refuses a password placed in it", () =>
    Effect.gen(function* () {
      const stored = yield* ConnectorRegistry.validateConfiguration(SmtpConnector.descriptor, {
        host: " mail.example.com "
      })
      assert.deepStrictEqual(stored, { host: "mail.example.com", port: 587, security: "starttls", timeout_ms: 30_000 })
      const misplaced = yield* Effect.flip(
        ConnectorRegistry.validateConfiguration(SmtpConnector.descriptor, { host: "x", password: "p" })
      )
      assert.strictEqual(misplaced._tag, "InvalidConfiguration")
      const badSecurity = yield* Effect.flip(
        ConnectorRegistry.validateConfiguration(SmtpConnector.descriptor, { host: "x", security: "ssl" })
      )
      assert.include(badSecurity.detail, "security")
    })
  )

  layer(Layer.merge(MailServerLive, loopback))("against smtp-server requiring AUTH", (it) => {
    const config = (port: number) => ({ host: "127.0.0.1", port, security: "none", timeout_ms: 2_000 })

    it.effect("test succeeds with good credentials (EHLO + AUTH)", () =>
      Effect.gen(function* () {
        const { port } = yield* MailServer
        const { driver, context } = yield* setup(config(port))
        const detail = yield* driver.test(context)
        assert.include(detail, "accepted the login of mailer")
      })
    )

    it.effect("connects to the address the egress policy returned, not to a fresh DNS answer", () =>
      Effect.gen(function* () {
        const { port } = yield* MailServer
        const pinned = Layer.succeed(EgressPolicy.EgressPolicy, {
          check: (host) =>
            host === "mail.example.test" ? Effect.succeed("127.0.0.1") : EgressPolicy.make().check(host)
        })
        const { driver, context } = yield* setup({ ...config(port), host: "mail.example.test" }).pipe(
          Effect.provide(pinned)
        )
        assert.include(yield* driver.test(context), "mail.example.test")
      })
    )

    it.effect("test fails with AuthFailed(invalid_credentials) on a wrong password, without the password", () =>
      Effect.gen(function* () {
        const { port } = yield* MailServer
        const { driver, context } = yield* setup(config(port), { username: "mailer", password: "wrong-pass" })
        const error = yield* Effect.flip(driver.test(context))
        assert.strictEqual(error._tag, "AuthFailed")
        if (error._tag === "AuthFailed") assert.strictEqual(error.kind, "invalid_credentials")
        assert.notInclude(JSON.stringify(error), "wrong-pass")
        assert.notInclude(error.message, "wrong-pass")
      })
    )

    it.scoped("health check is connect + EHLO + QUIT, without AUTH (a wrong password passes)", () =>
      Effect.gen(function* () {
        const { port, received } = yield* MailServer
        const relay = yield* recordingRelay(port)
        const { driver, context } = yield* setup(config(relay.port), { username: "mailer", password: "irrelevant" })
        const before = received.length
        const exit = yield* Effect.exit(driver.healthCheck(context))
        assert.isTrue(Exit.isSuccess(exit))
        const said = (yield* Deferred.await(relay.ended)).split("\r\n").filter((line) => line.length > 0)
        assert.match(said[0]!, /^EHLO /)
        assert.strictEqual(said[said.length - 1], "QUIT")
        assert.isFalse(
          said.some((line) => line.startsWith("AUTH")),
          "no AUTH"
        )
        assert.strictEqual(received.length, before)
      })
    )

    it.effect("health check fails when the server is gone", () =>
      Effect.gen(function* () {
        const port = yield* closedPort
        const { driver, context } = yield* setup(config(port))
        const error = yield* Effect.flip(driver.healthCheck(context))
        assert.strictEqual(error._tag, "Unreachable")
      })
    )

    it.effect("sends an email with an attachment that the server receives", () =>
      Effect.gen(function* () {
        const { port, received } = yield* MailServer
        const { driver, context } = yield* setup(config(port))
        const before = received.length
        const receipt = yield* driver.sendEmail!(
          context,
          message({ cc: ["bob@example.com"], bcc: ["carol@example.com"], html: "<p>See attachment.</p>" })
        )
        assert.deepStrictEqual([...receipt.accepted].sort(), [
          "alice@example.com",
          "bob@example.com",
          "carol@example.com"
        ])
        assert.deepStrictEqual(receipt.rejected, [])
        assert.match(receipt.messageId, /^<.+@.+>$/)
        assert.strictEqual(received.length, before + 1)
        const mail = received[received.length - 1]!
        assert.strictEqual(mail.from, "robot@example.com")
        assert.strictEqual(mail.user, "mailer")
        assert.deepStrictEqual([...mail.to].sort(), ["alice@example.com", "bob@example.com", "carol@example.com"])
        assert.include(mail.raw, "Subject: Quarterly report")
        assert.include(mail.raw, `Message-ID: ${receipt.messageId}`)
        assert.notInclude(mail.raw, "carol@example.com") // bcc stays in the envelope only
        assert.match(mail.raw, /Content-Disposition: attachment;\s+filename=report\.csv/)
        assert.include(mail.raw, Buffer.from("region,total\nnorth,42\n").toString("base64"))
        assert.include(mail.raw, "<p>See attachment.</p>")
      })
    )

    it.effect("uses the configured sender when the message names none", () =>
      Effect.gen(function* () {
        const { port, received } = yield* MailServer
        const { driver, context } = yield* setup({ ...config(port), from: "default@example.com" })
        const { from: _, ...rest } = message()
        yield* driver.sendEmail!(context, Messaging.EmailMessage.make(rest))
        assert.strictEqual(received[received.length - 1]!.from, "default@example.com")
      })
    )

    it.effect("reports recipients the server rejected while others were accepted", () =>
      Effect.gen(function* () {
        const { port } = yield* MailServer
        const { driver, context } = yield* setup(config(port))
        const receipt = yield* driver.sendEmail!(context, message({ to: ["alice@example.com", rejected] }))
        assert.deepStrictEqual(receipt.accepted, ["alice@example.com"])
        assert.deepStrictEqual(receipt.rejected, [rejected])
      })
    )

    it.effect("fails with RequestRejected(550) when every recipient is rejected", () =>
      Effect.gen(function* () {
        const { port } = yield* MailServer
        const { driver, context } = yield* setup(config(port))
        const error = yield* Effect.flip(driver.sendEmail!(context, message({ to: [rejected] })))
        assert.strictEqual(error._tag, "RequestRejected")
        if (error._tag === "RequestRejected") assert.strictEqual(error.status, 550)
      })
    )

    it.effect("send with a wrong password fails with AuthFailed", () =>
      Effect.gen(function* () {
        const { port } = yield* MailServer
        const { driver, context } = yield* setup(config(port), { username: "mailer", password: "nope" })
        const error = yield* Effect.flip(driver.sendEmail!(context, message()))
        assert.strictEqual(error._tag, "AuthFailed")
      })
    )

    it.effect("a message without any sender is rejected before connecting", () =>
      Effect.gen(function* () {
        const { port } = yield* MailServer
        const { driver, context } = yield* setup(config(port))
        const { from: _, ...rest } = message()
        const error = yield* Effect.flip(driver.sendEmail!(context, Messaging.EmailMessage.make(rest)))
        assert.strictEqual(error._tag, "RequestRejected")
      })
    )
  })

  describe("failures", () => {
    it.scoped("a closed port is Unreachable", () =>
      Effect.gen(function* () {
        const port = yield* closedPort
        const { driver, context } = yield* setup({ host: "127.0.0.1", port, security: "none", timeout_ms: 2_000 })
        const error = yield* Effect.flip(driver.test(context))
        assert.strictEqual(error._tag, "Unreachable")
        if (error._tag === "Unreachable") assert.strictEqual(error.target, `127.0.0.1:${port}`)
      }).pipe(Effect.provide(loopback))
    )

    it.scoped("a server that never greets is TimedOut after the configured timeout", () =>
      Effect.gen(function* () {
        const { port } = yield* silentServer
        const { driver, context } = yield* setup({ host: "127.0.0.1", port, security: "none", timeout_ms: 300 })
        const error = yield* Effect.flip(driver.healthCheck(context))
        assert.strictEqual(error._tag, "TimedOut")
        if (error._tag === "TimedOut") assert.strictEqual(error.afterMillis, 300)
      }).pipe(Effect.provide(loopback))
    )

    it.scopedLive("interrupting a waiting session closes its connection (not left to its timeout)", () =>
      Effect.gen(function* () {
        const { port, accepted, closed } = yield* silentServer
        // A timeout longer than the test's own: only the interruption can close the socket in time.
        const { driver, context } = yield* setup({ host: "127.0.0.1", port, security: "none", timeout_ms: 600_000 })
        const fiber = yield* Effect.fork(driver.healthCheck(context))
        yield* Deferred.await(accepted)
        const exit = yield* Fiber.interrupt(fiber)
        assert.isTrue(Exit.isInterrupted(exit))
        yield* Deferred.await(closed)
      }).pipe(Effect.provide(loopback))
    )

    it.effect("the egress policy denies the cloud metadata address before connecting", () =>
      Effect.gen(function* () {
        const { driver, context } = yield* setup({ host: "169.254.169.254", port: 25, security: "none" })
        const error = yield* Effect.flip(driver.test(context))
        assert.strictEqual(error._tag, "EgressDenied")
        if (error._tag === "EgressDenied") assert.strictEqual(error.address, "169.254.169.254")
      }).pipe(Effect.provide(loopback))
    )

    it.effect("the egress policy denies loopback unless configured", () =>
      Effect.gen(function* () {
        const { driver, context } = yield* setup({ host: "localhost", port: 25, security: "none" })
        const error = yield* Effect.flip(driver.sendEmail!(context, message()))
        assert.strictEqual(error._tag, "EgressDenied")
      }).pipe(Effect.provide(EgressPolicy.layer()))
    )
  })
})

describe("TLS", () => {
  const certificate = Tls.selfSignedCertificate()
  const serve = (options: MailServerPeer.Options) =>
    Effect.acquireRelease(
      Effect.promise(() => MailServerPeer.start({ mailer: "s3cret" }, options)),
      (server) => Effect.promise(() => server.close())
    )

  layer(loopback)((it) => {
    it.scoped("starttls with an untrusted certificate fails before AUTH, and is not retryable", () =>
      Effect.gen(function* () {
        const server = yield* serve({ tls: certificate })
        const { driver, context } = yield* setup({
          host: "localhost",
          port: server.port,
          security: "starttls",
          timeout_ms: 5_000
        })
        const error = yield* Effect.flip(driver.test(context))
        assert.strictEqual(error._tag, "RequestRejected")
        assert.isFalse(error.retryable)
        assert.include(error.message, "certificate")
      })
    )

    it.scoped("starttls against a server that offers no STARTTLS fails instead of sending the password in clear", () =>
      Effect.gen(function* () {
        const server = yield* serve({})
        const { driver, context } = yield* setup({
          host: "127.0.0.1",
          port: server.port,
          security: "starttls",
          timeout_ms: 5_000
        })
        const error = yield* Effect.flip(driver.test(context))
        assert.notStrictEqual(error._tag, "AuthFailed")
        assert.strictEqual(server.received.length, 0)
      })
    )

    it.scoped("implicit tls with an untrusted certificate fails, not retryable", () =>
      Effect.gen(function* () {
        const server = yield* serve({ tls: { ...certificate, implicitTls: true } })
        const { driver, context } = yield* setup({
          host: "localhost",
          port: server.port,
          security: "tls",
          timeout_ms: 5_000
        })
        const error = yield* Effect.flip(driver.test(context))
        assert.strictEqual(error._tag, "RequestRejected")
        assert.isFalse(error.retryable)
      })
    )
  })
})
