/**
 * An HTTP API that echoes the request (the Authorization header, the body) in its error bodies:
 * the driver's errors carry the provider's words without the credential in any spelling.
 */
import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { ConnectorInstance, ConnectorRegistry, EgressPolicy, Ids, Messaging } from "@patchbay/core"
import { Effect } from "effect"
import { HttpApiDescriptor, HttpConnector } from "../src/index.js"

const username = "AC0123456789"
const password = "tw1lio/tok en+Secret!"

type Answer = (request: IncomingMessage, body: string) => { readonly status: number; readonly json: unknown }

/** A node:http server answering every request with `answer`. */
const echoServer = (answer: Answer) =>
  Effect.acquireRelease(
    Effect.async<{ readonly port: number; readonly close: () => void }>((resume) => {
      const server = createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          const { status, json } = answer(request, Buffer.concat(chunks).toString())
          response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json))
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resume(
          Effect.succeed({
            port: (server.address() as AddressInfo).port,
            close: () => {
              server.closeAllConnections()
              server.close()
            }
          })
        )
      )
    }),
    (server) => Effect.sync(server.close)
  )

const setup = (port: number) =>
  Effect.gen(function* () {
    const descriptor = HttpApiDescriptor.twilioSms
    const connector = yield* HttpConnector.connector(descriptor)
    const configuration = yield* ConnectorRegistry.validateConfiguration(descriptor, {
      base_url: `http://127.0.0.1:${port}`
    })
    const instance = ConnectorInstance.fresh({
      id: Ids.InstanceId.make("0190a000-0000-7000-8000-0000000000f3"),
      orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
      connector: { id: descriptor.id, key: descriptor.key },
      instanceName: "http-echo",
      configuration,
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

const sms = Messaging.SmsMessage.make({ to: "+15557654321", from: "+15550000000", body: "hi" })

/** What the server saw of the credential, in the spellings it saw it. */
const spellings = (request: IncomingMessage) => [
  password,
  encodeURIComponent(password),
  Buffer.from(`${username}:${password}`).toString("base64"),
  (request.headers.authorization ?? "").replace(/^Basic /, "")
]

describe("HTTP error bodies are scrubbed of the credential", () => {
  const echoes: ReadonlyArray<readonly [string, (request: IncomingMessage) => string]> = [
    ["the Authorization header", (r) => `bad header ${r.headers.authorization}`],
    ["the decoded password", () => `password ${password} is wrong`],
    ["the URL-encoded password", () => `password=${encodeURIComponent(password)}`],
    ["the JSON-escaped password", () => `{"p":${JSON.stringify(password)}}`]
  ]
  for (const [name, echo] of echoes) {
    it.scoped(`sendSms: a 400 whose message echoes ${name}`, () =>
      Effect.gen(function* () {
        let seen: Array<string> = []
        const { port } = yield* echoServer((request) => {
          seen = spellings(request)
          return { status: 400, json: { message: echo(request) } }
        })
        const { driver, context } = yield* setup(port)
        const error = yield* Effect.flip(driver.sendSms!(context, sms))
        assert.strictEqual(error._tag, "RequestRejected")
        const text = `${JSON.stringify(error)} ${error.message}`
        assert.isAbove(seen.length, 0)
        for (const spelling of seen) assert.notInclude(text, spelling)
      })
    )
  }

  it.scoped("sendSms: an unexpected 200 body echoing the header reaches no error", () =>
    Effect.gen(function* () {
      let seen: Array<string> = []
      const { port } = yield* echoServer((request) => {
        seen = spellings(request)
        return { status: 200, json: { sid: "SM1", status: { echo: request.headers.authorization, password } } }
      })
      const { driver, context } = yield* setup(port)
      const error = yield* Effect.flip(driver.sendSms!(context, sms))
      assert.strictEqual(error._tag, "ProviderFailure")
      const text = `${JSON.stringify(error)} ${error.message}`
      for (const spelling of seen) assert.notInclude(text, spelling)
    })
  )
})
