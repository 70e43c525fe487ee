import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https"
import { assert, describe, it, layer } from "@effect/vitest"
import { ConnectorInstance, ConnectorRegistry, EgressPolicy, Ids, Messaging } from "@patchbay/core"
import { Ports, Tls } from "@patchbay/testing"
import { Chunk, Context, Effect, Layer, Sink, TestServices } from "effect"
import { HttpApiDescriptor, HttpConnector } from "../src/index.js"

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage["headers"]
  readonly body: string
}

/** A real node:http server on 127.0.0.1 playing an API; it records every request it gets. */
class ApiServer extends Context.Tag("test/ApiServer")<
  ApiServer,
  { readonly port: number; readonly seen: Array<Seen> }
>() {}

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`

const authorized = (request: IncomingMessage, url: URL) =>
  request.headers["x-api-key"] === "key-123" ||
  request.headers["x-custom-key"] === "key-123" ||
  url.searchParams.get("apikey") === "key-123" ||
  request.headers.authorization === basic("alice", "pa55") ||
  request.headers.authorization === basic("AC123", "twilio-token") ||
  request.headers.authorization === "Bearer tok-1"

const big = Buffer.alloc(64 * 1024, 0x61)

const handle = (request: IncomingMessage, body: string, response: ServerResponse) => {
  const url = new URL(request.url ?? "/", "http://127.0.0.1")
  const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { "content-type": "application/json", ...headers })
    response.end(JSON.stringify(value))
  }
  switch (url.pathname) {
    case "/me":
    case "/api/me":
    case "/2010-04-01/Accounts/AC123.json":
      if (request.headers.authorization === "Bearer expired-token") {
        return json(
          401,
          { error: "expired" },
          { "www-authenticate": 'Bearer error="invalid_token", error_description="The access token expired"' }
        )
      }
      return authorized(request, url)
        ? json(200, { id: "me" })
        : json(401, { error: "unauthorized" }, { "www-authenticate": 'Basic realm="api"' })
    case "/created":
      return json(201, {})
    case "/forbidden":
      return json(403, { error: "forbidden" })
    case "/limited":
      return json(429, { error: "slow down" }, { "retry-after": "7" })
    case "/limited-date":
      return json(429, {}, { "retry-after": new Date(Date.now() + 120_000).toUTCString() })
    case "/broken":
      return json(500, { error: "boom" })
    case "/hang":
      return // never answers
    case "/files/report.csv":
      response.writeHead(200, { "content-type": "text/csv" })
      return response.end("region,total\nnorth,42\n")
    case "/files/big.bin":
      // no Content-Length: the limit must be enforced while streaming
      response.writeHead(200, { "content-type": "application/octet-stream" })
      for (let offset = 0; offset < big.length; offset += 8 * 1024)
        response.write(big.subarray(offset, offset + 8 * 1024))
      return response.end()
    case "/files/declared.bin":
      response.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(big.length) })
      return response.end(big)
    case "/2010-04-01/Accounts/AC123/Messages.json": {
      if (!authorized(request, url)) return json(401, { message: "Authenticate" })
      const form = new URLSearchParams(body)
      if (!/^\+\d+$/.test(form.get("From") ?? ""))
        return json(400, { code: 21212, message: "The 'From' number bad is not valid." })
      return json(201, { sid: "SM0001", status: "queued", to: form.get("To"), body: form.get("Body") })
    }
    default:
      return json(404, { error: "not found" })
  }
}

const ApiServerLive = Layer.scoped(
  ApiServer,
  Effect.acquireRelease(
    Effect.async<{
      readonly server: ReturnType<typeof createServer>
      readonly port: number
      readonly seen: Array<Seen>
    }>((resume) => {
      const seen: Array<Seen> = []
      const server = createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8")
          seen.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers, body })
          handle(request, body, response)
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        resume(Effect.succeed({ server, port: typeof address === "object" && address ? address.port : 0, seen }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ port, seen }) => ({ port, seen })))
)

/** A port nobody listens on. */
const closedPort = Effect.promise(() => Ports.freePort())

const instance = (
  descriptor: HttpApiDescriptor.HttpApiDescriptor,
  authType: ConnectorInstance.ConnectorInstance["authType"],
  configuration: Record<string, unknown>
) =>
  ConnectorInstance.fresh({
    id: Ids.InstanceId.make("0190a000-0000-7000-8000-0000000000f2"),
    orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
    connector: { id: descriptor.id, key: descriptor.key },
    instanceName: "http-test",
    configuration,
    authType,
    hasCredentials: true,
    at: new Date(0)
  })

/** The connector built with the policy in context and a driver context decoded as the registry does. */
const setup = (
  authType: ConnectorInstance.ConnectorInstance["authType"],
  configuration: Record<string, unknown>,
  credentials: unknown,
  descriptor: HttpApiDescriptor.HttpApiDescriptor = HttpApiDescriptor.httpApi
) =>
  Effect.gen(function* () {
    const connector = yield* HttpConnector.connector(descriptor)
    const stored = yield* ConnectorRegistry.validateConfiguration(descriptor, configuration)
    const context = yield* ConnectorRegistry.driverContext(
      connector,
      instance(descriptor, authType, stored),
      credentials,
      { id: "credential-1", version: 1, scope: "organization:test" }
    )
    return { driver: connector.driver, context }
  })

const loopback = EgressPolicy.layer({ allowLoopback: true })

const collectBytes = Sink.foldLeftChunks(new Uint8Array(0), (acc: Uint8Array, chunk: Chunk.Chunk<Uint8Array>) =>
  Buffer.concat([acc, ...Chunk.toReadonlyArray(chunk)])
)

describe("HttpApiDescriptor", () => {
  it("the generic descriptor offers every profile and Fetch File", () => {
    const d = HttpApiDescriptor.httpApi
    assert.strictEqual(d.key, "http-api")
    assert.deepStrictEqual(d.authProfiles, [
      "api_key",
      "basic",
      "bearer",
      "oauth2_authorization_code",
      "oauth2_client_credentials",
      "aws_sigv4"
    ])
    assert.deepStrictEqual(d.operations, ["test_connection", "health_check", "fetch_file"])
    assert.includeMembers([...d.secretFields], ["api_key", "password", "token", "access_token", "refresh_token"])
  })

  it("the Twilio-style descriptor sends SMS with basic auth", () => {
    const d = HttpApiDescriptor.twilioSms
    assert.deepStrictEqual(d.authProfiles, ["basic"])
    assert.deepStrictEqual(d.operations, ["test_connection", "health_check", "send_sms"])
    assert.deepStrictEqual(d.secretFields, ["password"])
  })

  it.effect("configuration gets defaults and refuses secrets and credentials in it", () =>
    Effect.gen(function* () {
      const stored = yield* ConnectorRegistry.validateConfiguration(HttpApiDescriptor.httpApi, {
        base_url: "https://api.example.com/v1"
      })
      assert.deepStrictEqual(stored, {
        base_url: "https://api.example.com/v1",
        headers: {},
        api_key_placement: { in: "header", name: "X-API-Key" },
        test_endpoint: { method: "GET", path: "/", expect_status: 200 },
        timeout_ms: 30_000,
        sms_path: "/Messages.json"
      })
      const twilio = yield* ConnectorRegistry.validateConfiguration(HttpApiDescriptor.twilioSms, {})
      assert.strictEqual(twilio.base_url, "https://api.twilio.com")
      const tenant = yield* ConnectorRegistry.validateConfiguration(HttpApiDescriptor.httpApi, {
        base_url: "https://api.example.com",
        oauth2: { issuer: "https://login.example.com/tenant-7", client_id: "tenant-7-app", scopes: ["read"] }
      })
      assert.deepStrictEqual(tenant.oauth2, {
        issuer: "https://login.example.com/tenant-7",
        client_id: "tenant-7-app",
        scopes: ["read"]
      })
      const refusals = [
        { base_url: "https://user:pw@api.example.com" },
        { base_url: "ftp://api.example.com" },
        { base_url: "https://api.example.com?key=1" },
        { base_url: "https://api.example.com", headers: { Authorization: "Bearer x" } },
        { base_url: "https://api.example.com", api_key: "in-the-wrong-place" },
        { base_url: "https://api.example.com", oauth2: { token_endpoint_auth_method: "magic" } },
        {}
      ]
      for (const input of refusals) {
        const error = yield* Effect.flip(ConnectorRegistry.validateConfiguration(HttpApiDescriptor.httpApi, input))
        assert.strictEqual(error._tag, "InvalidConfiguration")
      }
    })
  )
})

describe("HttpConnector", () => {
  layer(Layer.merge(ApiServerLive, loopback))("against a node:http server", (it) => {
    const base = (port: number, extra: Record<string, unknown> = {}) => ({
      base_url: `http://127.0.0.1:${port}`,
      test_endpoint: { method: "GET", path: "/me", expect_status: 200 },
      timeout_ms: 2_000,
      ...extra
    })

    it.effect("api_key in a header (name configurable)", () =>
      Effect.gen(function* () {
        const { port, seen } = yield* ApiServer
        const { driver, context } = yield* setup(
          "api_key",
          base(port, { api_key_placement: { in: "header", name: "X-Custom-Key" }, headers: { "X-Team": "ops" } }),
          { api_key: "key-123" }
        )
        const detail = yield* driver.test(context)
        assert.strictEqual(detail, `GET http://127.0.0.1:${port}/me answered 200 as expected`)
        const last = seen[seen.length - 1]!
        assert.strictEqual(last.headers["x-custom-key"], "key-123")
        assert.strictEqual(last.headers["x-team"], "ops")
        assert.isUndefined(last.headers.traceparent)
      })
    )

    it.effect("connects to the address the egress policy returned, keeping the name in Host", () =>
      Effect.gen(function* () {
        const { port, seen } = yield* ApiServer
        // a name no DNS knows: only the policy's answer can lead to the server
        const pinned = Layer.succeed(EgressPolicy.EgressPolicy, {
          check: (host) => (host === "api.example.test" ? Effect.succeed("127.0.0.1") : EgressPolicy.make().check(host))
        })
        const { driver, context } = yield* setup(
          "bearer",
          { ...base(port), base_url: `http://api.example.test:${port}` },
          { token: "tok-1" }
        ).pipe(Effect.provide(pinned))
        yield* driver.test(context)
        assert.strictEqual(seen[seen.length - 1]!.headers.host, `api.example.test:${port}`)
        const local = yield* setup(
          "bearer",
          { ...base(port), base_url: `http://localhost:${port}` },
          { token: "tok-1" }
        )
        yield* local.driver.healthCheck(local.context)
        assert.strictEqual(seen[seen.length - 1]!.headers.host, `localhost:${port}`)
      })
    )

    it.effect("api_key in the query string, never in an error", () =>
      Effect.gen(function* () {
        const { port, seen } = yield* ApiServer
        const config = base(port, { api_key_placement: { in: "query", name: "apikey" } })
        const ok = yield* setup("api_key", config, { api_key: "key-123" })
        yield* ok.driver.test(ok.context)
        assert.strictEqual(seen[seen.length - 1]!.url, "/me?apikey=key-123")
        const bad = yield* setup("api_key", config, { api_key: "wrong-key-999" })
        const error = yield* Effect.flip(bad.driver.test(bad.context))
        assert.strictEqual(error._tag, "AuthFailed")
        if (error._tag === "AuthFailed") assert.strictEqual(error.kind, "invalid_credentials")
        assert.notInclude(JSON.stringify(error), "wrong-key-999")
        assert.notInclude(error.message, "wrong-key-999")
      })
    )

    it.effect("basic auth: good and wrong password", () =>
      Effect.gen(function* () {
        const { port } = yield* ApiServer
        const ok = yield* setup("basic", base(port), { username: "alice", password: "pa55" })
        yield* ok.driver.test(ok.context)
        const bad = yield* setup("basic", base(port), { username: "alice", password: "nope-secret" })
        const error = yield* Effect.flip(bad.driver.test(bad.context))
        assert.deepInclude(error, { _tag: "AuthFailed", kind: "invalid_credentials" })
        assert.notInclude(JSON.stringify(error), "nope-secret")
      })
    )

    it.effect("bearer token and OAuth2 access token; an expired one is token_expired", () =>
      Effect.gen(function* () {
        const { port } = yield* ApiServer
        const bearer = yield* setup("bearer", base(port), { token: "tok-1" })
        yield* bearer.driver.healthCheck(bearer.context)
        const oauth = yield* setup("oauth2_authorization_code", base(port), {
          access_token: "tok-1",
          token_type: "Bearer",
          refresh_token: "refresh-1",
          expires_at: 1_900_000_000
        })
        yield* oauth.driver.test(oauth.context)
        const expired = yield* setup("oauth2_client_credentials", base(port), { access_token: "expired-token" })
        const error = yield* Effect.flip(expired.driver.test(expired.context))
        assert.deepInclude(error, { _tag: "AuthFailed", kind: "token_expired" })
      })
    )

    it.effect("credentials that do not fit the auth type fail before any request", () =>
      Effect.gen(function* () {
        const { port, seen } = yield* ApiServer
        const before = seen.length
        const { driver, context } = yield* setup("bearer", base(port), { api_key: "key-123" })
        const error = yield* Effect.flip(driver.test(context))
        assert.deepInclude(error, { _tag: "AuthFailed", kind: "invalid_credentials" })
        assert.strictEqual(seen.length, before)
      })
    )

    const failing = (path: string) =>
      Effect.gen(function* () {
        const { port } = yield* ApiServer
        const { driver, context } = yield* setup(
          "bearer",
          base(port, { test_endpoint: { method: "GET", path, expect_status: 200 } }),
          { token: "tok-1" }
        )
        return yield* Effect.flip(driver.test(context))
      })

    it.effect("403 is AuthFailed(insufficient_permissions)", () =>
      Effect.gen(function* () {
        assert.deepInclude(yield* failing("/forbidden"), { _tag: "AuthFailed", kind: "insufficient_permissions" })
      })
    )

    it.effect("429 is RateLimited with Retry-After in seconds or as an HTTP date", () =>
      Effect.gen(function* () {
        assert.deepInclude(yield* failing("/limited"), { _tag: "RateLimited", retryAfterMillis: 7_000 })
        const dated = yield* failing("/limited-date")
        assert.strictEqual(dated._tag, "RateLimited")
        if (dated._tag === "RateLimited") {
          assert.isDefined(dated.retryAfterMillis)
          assert.isAbove(dated.retryAfterMillis!, 100_000)
          assert.isAtMost(dated.retryAfterMillis!, 120_000)
        }
      })
    )

    it.effect("500 is ProviderFailure, 404 RequestRejected, an unexpected 201 RequestRejected", () =>
      Effect.gen(function* () {
        assert.deepInclude(yield* failing("/broken"), { _tag: "ProviderFailure", status: 500 })
        assert.deepInclude(yield* failing("/missing"), { _tag: "RequestRejected", status: 404 })
        assert.deepInclude(yield* failing("/created"), { _tag: "RequestRejected", status: 201 })
      })
    )

    it.effect("a server that never answers is TimedOut after the configured timeout", () =>
      Effect.gen(function* () {
        const { port } = yield* ApiServer
        const { driver, context } = yield* setup(
          "bearer",
          base(port, { test_endpoint: { method: "GET", path: "/hang", expect_status: 200 }, timeout_ms: 300 }),
          { token: "tok-1" }
        )
        // the real clock: the timeout must fire on its own
        const error = yield* Effect.flip(driver.healthCheck(context)).pipe(TestServices.provideLive)
        assert.deepInclude(error, { _tag: "TimedOut", afterMillis: 300 })
      })
    )

    it.effect("fetchFile streams the file into the sink and reports its type and size", () =>
      Effect.gen(function* () {
        const { port } = yield* ApiServer
        const { driver, context } = yield* setup("api_key", base(port), { api_key: "key-123" })
        const file = yield* driver.fetchFile!(
          context,
          Messaging.FetchFileRequest.make({ path: "/files/report.csv" }),
          collectBytes
        )
        assert.deepStrictEqual(file, Messaging.FetchedFile.make({ contentType: "text/csv", bytes: 22 }))
        const bytes = yield* driver.fetchFile!(
          context,
          Messaging.FetchFileRequest.make({ path: "/files/report.csv" }),
          Sink.map(collectBytes, (all) => Buffer.from(all).toString("utf8"))
        ).pipe(Effect.as("ok"))
        assert.strictEqual(bytes, "ok")
      })
    )

    it.effect("fetchFile enforces the size limit while streaming, before the sink gets more", () =>
      Effect.gen(function* () {
        const { port } = yield* ApiServer
        const { driver, context } = yield* setup("api_key", base(port), { api_key: "key-123" })
        let received = 0
        const counting = Sink.forEachChunk((chunk: Chunk.Chunk<Uint8Array>) =>
          Effect.sync(() => {
            for (const part of chunk) received += part.byteLength
          })
        )
        const error = yield* Effect.flip(
          driver.fetchFile!(
            context,
            Messaging.FetchFileRequest.make({ path: "/files/big.bin", maxBytes: 20_000 }),
            counting
          )
        )
        assert.deepInclude(error, { _tag: "RequestRejected", status: "too_large" })
        assert.isAtMost(received, 20_000)
        const declared = yield* Effect.flip(
          driver.fetchFile!(
            context,
            Messaging.FetchFileRequest.make({ path: "/files/declared.bin", maxBytes: 20_000 }),
            counting
          )
        )
        assert.deepInclude(declared, { _tag: "RequestRejected", status: "too_large" })
        const whole = yield* driver.fetchFile!(
          context,
          Messaging.FetchFileRequest.make({ path: "/files/big.bin", maxBytes: 64 * 1024 }),
          collectBytes
        )
        assert.strictEqual(whole.bytes, 64 * 1024)
      })
    )

    it.effect("fetchFile stays under base_url's path", () =>
      Effect.gen(function* () {
        const { port, seen } = yield* ApiServer
        const { driver, context } = yield* setup(
          "api_key",
          { base_url: `http://127.0.0.1:${port}/api`, timeout_ms: 2_000 },
          { api_key: "key-123" }
        )
        const before = seen.length
        const error = yield* Effect.flip(
          driver.fetchFile!(context, Messaging.FetchFileRequest.make({ path: "/../files/report.csv" }), collectBytes)
        )
        assert.strictEqual(error._tag, "RequestRejected")
        assert.strictEqual(seen.length, before)
      })
    )

    it.effect("sendSms posts a Twilio-style form with basic auth and returns the sid", () =>
      Effect.gen(function* () {
        const { port, seen } = yield* ApiServer
        const { driver, context } = yield* setup(
          "basic",
          { base_url: `http://127.0.0.1:${port}`, sms_from: "+15550001111" },
          { username: "AC123", password: "twilio-token" },
          HttpApiDescriptor.twilioSms
        )
        assert.include(yield* driver.test(context), "/2010-04-01/Accounts/AC123.json answered 200")
        const receipt = yield* driver.sendSms!(
          context,
          Messaging.SmsMessage.make({ to: "+15557654321", body: "Build #42 passed & deployed" })
        )
        assert.deepStrictEqual(receipt, Messaging.SmsReceipt.make({ id: "SM0001", status: "queued" }))
        const post = seen[seen.length - 1]!
        assert.strictEqual(post.method, "POST")
        assert.strictEqual(post.url, "/2010-04-01/Accounts/AC123/Messages.json")
        assert.strictEqual(post.headers["content-type"], "application/x-www-form-urlencoded")
        assert.strictEqual(post.headers.authorization, basic("AC123", "twilio-token"))
        const form = new URLSearchParams(post.body)
        assert.deepStrictEqual(Object.fromEntries(form), {
          To: "+15557654321",
          From: "+15550001111",
          Body: "Build #42 passed & deployed"
        })
      })
    )

    it.effect("sendSms: the provider's rejection and a wrong token are typed", () =>
      Effect.gen(function* () {
        const { port } = yield* ApiServer
        const config = { base_url: `http://127.0.0.1:${port}` }
        const { driver, context } = yield* setup(
          "basic",
          config,
          { username: "AC123", password: "twilio-token" },
          HttpApiDescriptor.twilioSms
        )
        const rejected = yield* Effect.flip(
          driver.sendSms!(context, Messaging.SmsMessage.make({ to: "+15557654321", from: "bad", body: "x" }))
        )
        assert.deepInclude(rejected, { _tag: "RequestRejected", status: 400 })
        assert.include(rejected.message, "The 'From' number bad is not valid.")
        const noSender = yield* Effect.flip(
          driver.sendSms!(context, Messaging.SmsMessage.make({ to: "+15557654321", body: "x" }))
        )
        assert.strictEqual(noSender._tag, "RequestRejected")
        const wrong = yield* setup(
          "basic",
          config,
          { username: "AC123", password: "stolen?" },
          HttpApiDescriptor.twilioSms
        )
        const auth = yield* Effect.flip(
          wrong.driver.sendSms!(
            wrong.context,
            Messaging.SmsMessage.make({ to: "+15557654321", from: "+1555", body: "x" })
          )
        )
        assert.deepInclude(auth, { _tag: "AuthFailed", kind: "invalid_credentials" })
      })
    )
  })

  describe("failures before or without a peer", () => {
    it.scoped("an HTTPS server whose certificate is not trusted is RequestRejected, not retryable", () =>
      Effect.gen(function* () {
        const server = yield* Effect.acquireRelease(
          Effect.async<HttpsServer>((resume) => {
            const https = createHttpsServer(Tls.selfSignedCertificate(), (_request, response) =>
              response.writeHead(200).end("ok")
            )
            https.listen(0, "127.0.0.1", () => resume(Effect.succeed(https)))
          }),
          (https) => Effect.async<void>((resume) => void https.close(() => resume(Effect.void)))
        )
        const port = (server.address() as { port: number }).port
        const { driver, context } = yield* setup(
          "bearer",
          { base_url: `https://localhost:${port}` },
          { token: "tok-1" }
        )
        const error = yield* Effect.flip(driver.test(context))
        assert.strictEqual(error._tag, "RequestRejected")
        assert.isFalse(error.retryable)
        assert.include(error.message, "certificate")
      }).pipe(Effect.provide(loopback))
    )

    it.scoped("a closed port is Unreachable", () =>
      Effect.gen(function* () {
        const port = yield* closedPort
        const { driver, context } = yield* setup(
          "bearer",
          { base_url: `http://127.0.0.1:${port}`, timeout_ms: 2_000 },
          {
            token: "tok-1"
          }
        )
        const error = yield* Effect.flip(driver.test(context))
        assert.deepInclude(error, { _tag: "Unreachable", target: `http://127.0.0.1:${port}/` })
      }).pipe(Effect.provide(loopback))
    )

    it.effect("an unknown host is Unreachable", () =>
      Effect.gen(function* () {
        const { driver, context } = yield* setup("bearer", { base_url: "http://no-such-host.invalid" }, { token: "t" })
        const error = yield* Effect.flip(driver.test(context))
        assert.strictEqual(error._tag, "Unreachable")
      }).pipe(Effect.provide(loopback))
    )

    it.effect("the egress policy denies the cloud metadata address", () =>
      Effect.gen(function* () {
        const { driver, context } = yield* setup(
          "bearer",
          { base_url: "http://169.254.169.254/latest/meta-data" },
          { token: "t" }
        )
        const error = yield* Effect.flip(driver.test(context))
        assert.deepInclude(error, { _tag: "EgressDenied", address: "169.254.169.254" })
      }).pipe(Effect.provide(loopback))
    )

    it.effect("the egress policy denies loopback unless configured", () =>
      Effect.gen(function* () {
        const { driver, context } = yield* setup("bearer", { base_url: "http://localhost:9" }, { token: "t" })
        const error = yield* Effect.flip(
          driver.fetchFile!(context, Messaging.FetchFileRequest.make({ path: "/x" }), collectBytes)
        )
        assert.strictEqual(error._tag, "EgressDenied")
      }).pipe(Effect.provide(EgressPolicy.layer()))
    )
  })
})
