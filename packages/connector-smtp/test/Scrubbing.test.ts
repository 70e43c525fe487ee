/**
 * An SMTP server that echoes the credentials in its refusal: the driver's errors carry its words
 * without the password in any spelling peers use.
 */
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { ConnectorInstance, ConnectorRegistry, EgressPolicy, Ids, Messaging } from "@patchbay/core"
import { Effect } from "effect"
import { SMTPServer } from "smtp-server"
import { SmtpConnector } from "../src/index.js"

const password = "pa ss/wörd+7Qx!echo"
const username = "mailer@example.com"

/** The ways a server may repeat what a client sent. */
const echoes = (user: string, pass: string) => ({
  clear: `user ${user} password ${pass}`,
  url: `password=${encodeURIComponent(pass)}`,
  plain: `AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString("base64")}`,
  login: `LOGIN ${Buffer.from(pass).toString("base64")}`,
  json: `{"password":${JSON.stringify(pass)}}`
})

/** smtp-server refusing every login with the given echo of it. */
const echoingServer = (which: keyof ReturnType<typeof echoes>) =>
  Effect.acquireRelease(
    Effect.async<{ readonly port: number; readonly close: () => void }>((resume) => {
      const server = new SMTPServer({
        authOptional: false,
        allowInsecureAuth: true,
        disabledCommands: ["STARTTLS"],
        disableReverseLookup: true,
        logger: false,
        onAuth(auth, _session, callback) {
          const said = echoes(auth.username ?? "", auth.password ?? "")[which]
          callback(Object.assign(new Error(`rejected: ${said}`), { responseCode: 535 }))
        },
        onData(stream, _session, callback) {
          stream.resume()
          stream.on("end", () => callback(Object.assign(new Error(`bad ${password}`), { responseCode: 554 })))
        }
      })
      server.on("error", () => {})
      const listener = server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ port: (listener.address() as AddressInfo).port, close: () => server.close(() => {}) }))
      )
    }),
    (server) => Effect.sync(server.close)
  )

const setup = (port: number) =>
  Effect.gen(function* () {
    const connector = yield* SmtpConnector.connector
    const instance = ConnectorInstance.fresh({
      id: Ids.InstanceId.make("0190a000-0000-7000-8000-0000000000f2"),
      orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
      connector: { id: SmtpConnector.descriptor.id, key: SmtpConnector.descriptor.key },
      instanceName: "smtp-echo",
      configuration: { host: "127.0.0.1", port, security: "none", timeout_ms: 5_000 },
      authType: "basic",
      hasCredentials: true,
      at: new Date(0)
    })
    const context = yield* ConnectorRegistry.driverContext(
      connector,
      instance,
      { username, password },
      { id: "credential-1", version: 1, scope: "organization:test" }
    )
    return { driver: connector.driver, context }
  }).pipe(Effect.provide(EgressPolicy.layer({ allowLoopback: true })))

const leaks = (text: string) => {
  const spellings = Object.values(echoes(username, password)).map((e) => e.replace(/^[^ ]+ /, ""))
  return [password, encodeURIComponent(password), Buffer.from(password).toString("base64"), ...spellings].filter((s) =>
    text.includes(s)
  )
}

describe("SMTP replies are scrubbed of the credential", () => {
  for (const which of ["clear", "url", "plain", "login", "json"] as const) {
    it.scoped(`test: a 535 echoing the login (${which})`, () =>
      Effect.gen(function* () {
        const { port } = yield* echoingServer(which)
        const { driver, context } = yield* setup(port)
        const error = yield* Effect.flip(driver.test(context))
        assert.strictEqual(error._tag, "AuthFailed")
        const text = `${JSON.stringify(error)} ${error.message}`
        assert.include(text, "rejected")
        assert.deepStrictEqual(leaks(text), [])
      })
    )
  }

  it.scoped("send: the login refusal echoing AUTH PLAIN", () =>
    Effect.gen(function* () {
      const { port } = yield* echoingServer("plain")
      const { driver, context } = yield* setup(port)
      const message = Messaging.EmailMessage.make({
        from: "robot@example.com",
        to: ["alice@example.com"],
        cc: [],
        bcc: [],
        subject: "s",
        text: "t",
        attachments: []
      })
      const error = yield* Effect.flip(driver.sendEmail!(context, message))
      assert.strictEqual(error._tag, "AuthFailed")
      assert.deepStrictEqual(leaks(`${JSON.stringify(error)} ${error.message}`), [])
    })
  )
})
