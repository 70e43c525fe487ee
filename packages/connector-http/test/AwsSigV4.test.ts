import { createHash } from "node:crypto"
import { createServer, type IncomingMessage } from "node:http"
import { assert, describe, it, layer } from "@effect/vitest"
import { ConnectorInstance, ConnectorRegistry, EgressPolicy, FailureClassifier, Ids, Messaging } from "@patchbay/core"
import aws4 from "aws4"
import { Chunk, Context, Effect, Layer, Option, Sink } from "effect"
import { Catalog, HttpApiDescriptor, HttpConnector } from "../src/index.js"

interface Key {
  readonly secret: string
  readonly sessionToken?: string
  readonly arn: string
}

/** The keys the local STS knows: a user's long-term key and the role's temporary key. */
const keys: Record<string, Key> = {
  AKIAUSER00000000001: { secret: "user-secret-value", arn: "arn:aws:iam::123456789012:user/patchbay" },
  ASIAROLE00000000001: {
    secret: "role-secret-value",
    sessionToken: "role-session-token",
    arn: "arn:aws:sts::123456789012:assumed-role/reader/patchbay"
  }
}

interface Received {
  readonly action: string
  readonly accessKeyId: string
  readonly sessionToken: string | undefined
  readonly verdict: "valid" | "SignatureDoesNotMatch" | "InvalidClientTokenId"
  /** The credential scope's region and service the request was signed for. */
  readonly region?: string | undefined
  readonly service?: string | undefined
}

/** A received request without the region and service it was signed for. */
const withoutScope = ({ region: _region, service: _service, ...rest }: Received) => rest

/** A node:http server on 127.0.0.1 answering STS's query API; signatures are checked with aws4. */
class Sts extends Context.Tag("test/Sts")<Sts, { readonly port: number; readonly received: Array<Received> }>() {}

const header = (request: IncomingMessage, name: string) => {
  const value = request.headers[name]
  return Array.isArray(value) ? value.join(",") : value
}

/** Re-signs the request with aws4 and the known secret; compares signatures and the body hash. */
const verify = (request: IncomingMessage, body: string): Omit<Received, "action"> => {
  const authorization = header(request, "authorization") ?? ""
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      authorization
    )
  const accessKeyId = match?.[1] ?? ""
  const sessionToken = header(request, "x-amz-security-token")
  const key = keys[accessKeyId]
  if (match === null || key === undefined) return { accessKeyId, sessionToken, verdict: "InvalidClientTokenId" }
  const [, , , region, service, signedHeaders, signature] = match
  const headers: Record<string, string> = {}
  for (const name of (signedHeaders ?? "").split(";")) headers[name] = header(request, name) ?? ""
  // aws4 reads the signing time from X-Amz-Date only when it may add headers; it adds only
  // missing ones (an unsigned session token, say), and then the signatures differ, as they should.
  const resigned = aws4.sign(
    {
      host: headers.host ?? "",
      method: request.method ?? "POST",
      path: request.url ?? "/",
      headers,
      body,
      region,
      service
    },
    { accessKeyId, secretAccessKey: key.secret, ...(key.sessionToken ? { sessionToken: key.sessionToken } : {}) }
  )
  const theirs = /Signature=([0-9a-f]{64})$/.exec(String(resigned.headers?.Authorization ?? ""))?.[1]
  const bodyHash = createHash("sha256").update(body).digest("hex")
  const valid =
    theirs === signature &&
    headers["x-amz-content-sha256"] === bodyHash &&
    (key.sessionToken === undefined || (sessionToken === key.sessionToken && "x-amz-security-token" in headers))
  return { accessKeyId, sessionToken, verdict: valid ? "valid" : "SignatureDoesNotMatch", region, service }
}

const xml = (action: string, result: string) =>
  `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></${action}Response>`

const StsLive = Layer.scoped(
  Sts,
  Effect.acquireRelease(
    Effect.async<{
      readonly server: ReturnType<typeof createServer>
      readonly port: number
      readonly received: Array<Received>
    }>((resume) => {
      const received: Array<Received> = []
      const server = createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8")
          const form = new URLSearchParams(body)
          const action = form.get("Action") ?? ""
          const seen = { action, ...verify(request, body) }
          received.push(seen)
          const send = (status: number, text: string) => {
            response.writeHead(status, { "content-type": "text/xml" })
            response.end(text)
          }
          if (seen.verdict !== "valid") {
            return send(
              403,
              `<ErrorResponse><Error><Type>Sender</Type><Code>${seen.verdict}</Code><Message>The request signature we calculated does not match</Message></Error></ErrorResponse>`
            )
          }
          if (request.method === "GET" && request.url === "/v1/files/report.csv?versionId=7") {
            response.writeHead(200, { "content-type": "text/csv" })
            return response.end("region,total\nnorth,42\n")
          }
          if (action === "GetCallerIdentity") {
            const arn = keys[seen.accessKeyId]?.arn ?? ""
            return send(
              200,
              xml("GetCallerIdentity", `<Arn>${arn}</Arn><UserId>AIDA1</UserId><Account>123456789012</Account>`)
            )
          }
          if (action === "AssumeRole" && form.get("RoleArn") === "arn:aws:iam::123456789012:role/reader") {
            const role = keys.ASIAROLE00000000001 as Key
            return send(
              200,
              xml(
                "AssumeRole",
                `<Credentials><AccessKeyId>ASIAROLE00000000001</AccessKeyId><SecretAccessKey>${role.secret}</SecretAccessKey><SessionToken>${role.sessionToken}</SessionToken><Expiration>${new Date(Date.now() + 3_600_000).toISOString()}</Expiration></Credentials><AssumedRoleUser><Arn>${role.arn}</Arn></AssumedRoleUser>`
              )
            )
          }
          return send(400, "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>")
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        resume(Effect.succeed({ server, port: typeof address === "object" && address ? address.port : 0, received }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ port, received }) => ({ port, received })))
)

let instances = 0

/** A textract instance whose STS endpoint is the local server. */
const setup = (aws: Record<string, unknown>, credentials: unknown) =>
  Effect.gen(function* () {
    const { port } = yield* Sts
    const descriptor = HttpApiDescriptor.awsTextract
    const connector = yield* HttpConnector.connector(descriptor)
    const configuration = yield* ConnectorRegistry.validateConfiguration(descriptor, {
      aws: { region: "us-east-1", service: "textract", sts_endpoint: `http://127.0.0.1:${port}`, ...aws }
    })
    instances += 1
    const instance = ConnectorInstance.fresh({
      id: Ids.InstanceId.make(`0190a000-0000-7000-8000-0000000001${String(instances).padStart(2, "0")}`),
      orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
      connector: { id: descriptor.id, key: descriptor.key },
      instanceName: "textract",
      configuration,
      authType: "aws_sigv4",
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

describe("AWS Signature V4", () => {
  it("the Textract descriptor offers aws_sigv4 with secret fields", () => {
    const d = HttpApiDescriptor.awsTextract
    assert.deepStrictEqual(d.authProfiles, ["aws_sigv4"])
    assert.deepStrictEqual(d.secretFields, ["secret_access_key", "session_token"])
    assert.deepStrictEqual(d.accountFields, ["access_key_id"])
  })

  layer(Layer.merge(StsLive, EgressPolicy.layer({ allowLoopback: true })))((it) => {
    it.effect("a connection test calls GetCallerIdentity signed as aws4 verifies", () =>
      Effect.gen(function* () {
        const { received } = yield* Sts
        const { driver, context } = yield* setup(
          {},
          { access_key_id: "AKIAUSER00000000001", secret_access_key: "user-secret-value" }
        )
        const before = received.length
        const message = yield* driver.test(context)
        assert.strictEqual(
          message,
          "STS GetCallerIdentity: account 123456789012, arn:aws:iam::123456789012:user/patchbay"
        )
        assert.deepStrictEqual(received.slice(before).map(withoutScope), [
          { action: "GetCallerIdentity", accessKeyId: "AKIAUSER00000000001", sessionToken: undefined, verdict: "valid" }
        ])
        yield* driver.healthCheck(context)
        assert.strictEqual(received.at(-1)?.verdict, "valid")
      })
    )

    it.effect(
      "the catalog's AWS Textract: service textract, host textract.<region>.amazonaws.com, STS signed in the region",
      () =>
        Effect.gen(function* () {
          const { port, received } = yield* Sts
          const entry = Catalog.entries.find((candidate) => candidate.key === "aws-textract")
          assert.isDefined(entry)
          if (entry === undefined) return
          const descriptor = Option.getOrThrow(Catalog.descriptor(entry))
          assert.deepStrictEqual(descriptor.authProfiles, ["aws_sigv4"])
          const byDefault = yield* ConnectorRegistry.validateConfiguration(descriptor, {})
          assert.strictEqual(byDefault.base_url, "https://textract.us-east-1.amazonaws.com")
          assert.deepInclude(byDefault.aws, { region: "us-east-1", service: "textract" })
          const frankfurt = yield* ConnectorRegistry.validateConfiguration(descriptor, {
            aws: { region: "eu-central-1", service: "textract", sts_endpoint: `http://127.0.0.1:${port}` }
          })
          assert.strictEqual(frankfurt.base_url, "https://textract.eu-central-1.amazonaws.com")
          const pinned = yield* ConnectorRegistry.validateConfiguration(descriptor, {
            base_url: "https://textract-fips.us-east-2.amazonaws.com",
            aws: { region: "us-east-2", service: "textract" }
          })
          assert.strictEqual(pinned.base_url, "https://textract-fips.us-east-2.amazonaws.com")
          const connector = yield* HttpConnector.connector(descriptor)
          const instance = ConnectorInstance.fresh({
            id: Ids.InstanceId.make("0190a000-0000-7000-8000-0000000001fe"),
            orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
            connector: { id: descriptor.id, key: descriptor.key },
            instanceName: "textract-frankfurt",
            configuration: frankfurt,
            authType: "aws_sigv4",
            hasCredentials: true,
            at: new Date(0)
          })
          const context = yield* ConnectorRegistry.driverContext(
            connector,
            instance,
            {
              access_key_id: "AKIAUSER00000000001",
              secret_access_key: "user-secret-value"
            },
            { id: "credential-1", version: 1, scope: "organization:test" }
          )
          const before = received.length
          yield* connector.driver.test(context)
          assert.deepStrictEqual(
            received
              .slice(before)
              .map(({ action, verdict, region, service }) => ({ action, verdict, region, service })),
            [{ action: "GetCallerIdentity", verdict: "valid", region: "eu-central-1", service: "sts" }]
          )
        })
    )

    it.effect("a wrong secret is SignatureDoesNotMatch: AuthFailed, then ReconnectRequired", () =>
      Effect.gen(function* () {
        const { received } = yield* Sts
        const { driver, context, instance } = yield* setup(
          {},
          { access_key_id: "AKIAUSER00000000001", secret_access_key: "not-the-secret" }
        )
        const failure = yield* Effect.flip(driver.test(context))
        assert.strictEqual(received.at(-1)?.verdict, "SignatureDoesNotMatch")
        assert.strictEqual(failure._tag, "AuthFailed")
        assert.strictEqual(failure._tag === "AuthFailed" ? failure.kind : undefined, "invalid_credentials")
        assert.notInclude(failure.message, "not-the-secret")
        const classified = FailureClassifier.classify(
          { id: instance.id, instanceName: instance.instanceName, connectorKey: "aws-textract", authType: "aws_sigv4" },
          failure
        )
        assert.strictEqual(classified._tag, "ReconnectRequired")
      })
    )

    it.effect("assume-role: AssumeRole with the base key, then requests signed with the temporary key and token", () =>
      Effect.gen(function* () {
        const { received } = yield* Sts
        const { driver, context } = yield* setup(
          { role_arn: "arn:aws:iam::123456789012:role/reader" },
          { access_key_id: "AKIAUSER00000000001", secret_access_key: "user-secret-value" }
        )
        const before = received.length
        const message = yield* driver.test(context)
        assert.include(message, "assumed-role/reader/patchbay")
        yield* driver.healthCheck(context)
        assert.deepStrictEqual(received.slice(before).map(withoutScope), [
          { action: "AssumeRole", accessKeyId: "AKIAUSER00000000001", sessionToken: undefined, verdict: "valid" },
          {
            action: "GetCallerIdentity",
            accessKeyId: "ASIAROLE00000000001",
            sessionToken: "role-session-token",
            verdict: "valid"
          },
          // the temporary credentials are cached: no second AssumeRole
          {
            action: "GetCallerIdentity",
            accessKeyId: "ASIAROLE00000000001",
            sessionToken: "role-session-token",
            verdict: "valid"
          }
        ])
      })
    )

    it.effect("Fetch File on base_url is signed for the configured service, with the assumed role's key", () =>
      Effect.gen(function* () {
        const { port, received } = yield* Sts
        const descriptor = HttpApiDescriptor.httpApi
        const connector = yield* HttpConnector.connector(descriptor)
        const configuration = yield* ConnectorRegistry.validateConfiguration(descriptor, {
          base_url: `http://127.0.0.1:${port}/v1`,
          aws: {
            region: "eu-west-1",
            service: "execute-api",
            role_arn: "arn:aws:iam::123456789012:role/reader",
            sts_endpoint: `http://127.0.0.1:${port}`
          }
        })
        const instance = ConnectorInstance.fresh({
          id: Ids.InstanceId.make("0190a000-0000-7000-8000-0000000001ff"),
          orgId: Ids.OrgId.make("0190a000-0000-7000-8000-00000000000a"),
          connector: { id: descriptor.id, key: descriptor.key },
          instanceName: "api-gateway",
          configuration,
          authType: "aws_sigv4",
          hasCredentials: true,
          at: new Date(0)
        })
        const context = yield* ConnectorRegistry.driverContext(
          connector,
          instance,
          {
            access_key_id: "AKIAUSER00000000001",
            secret_access_key: "user-secret-value"
          },
          { id: "credential-1", version: 1, scope: "organization:test" }
        )
        const fetchFile = connector.driver.fetchFile
        assert.isDefined(fetchFile)
        if (fetchFile === undefined) return
        const before = received.length
        const text = Sink.foldLeftChunks("", (acc: string, chunk: Chunk.Chunk<Uint8Array>) =>
          Chunk.reduce(chunk, acc, (all, part) => all + Buffer.from(part).toString("utf8"))
        )
        const fetched = yield* fetchFile(
          context,
          Messaging.FetchFileRequest.make({
            path: "/files/report.csv?versionId=7",
            maxBytes: 1024,
            timeoutMillis: 10_000
          }),
          text
        )
        assert.strictEqual(fetched.bytes, 22)
        assert.deepStrictEqual(
          received.slice(before).map(({ action, accessKeyId, verdict }) => ({ action, accessKeyId, verdict })),
          [
            { action: "AssumeRole", accessKeyId: "AKIAUSER00000000001", verdict: "valid" },
            { action: "", accessKeyId: "ASIAROLE00000000001", verdict: "valid" }
          ]
        )
      })
    )

    it.effect("credentials of another profile are refused before any request", () =>
      Effect.gen(function* () {
        const { received } = yield* Sts
        const before = received.length
        const failure = yield* Effect.flip(
          Effect.flatMap(setup({}, { token: "tok-1" }), ({ driver, context }) => driver.test(context))
        )
        assert.strictEqual(failure._tag, "AuthFailed")
        assert.strictEqual(received.length, before)
      })
    )
  })
})
