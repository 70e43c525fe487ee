/**
 * The HTTP API connector: the ready-made descriptors, the driver on @effect/platform's HttpClient
 * (node:http underneath) — connection test and health check on the configured test endpoint, Fetch
 * File (streamed into the caller's sink under a size limit) and Send SMS (a Twilio-style form POST)
 * — and the connector of any HTTP API descriptor for `ConnectorRegistry.layer`. Before every
 * request the host of `base_url` is checked by the `EgressPolicy` and the connection is pinned to
 * the address it allowed.
 *
 * @since 0.1.0
 */
import type * as HttpBody from "@effect/platform/HttpBody"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { ConnectorDriver, DriverError, EgressPolicy, Messaging, SecretScrubber } from "@patchbay/core"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import {
  type AwsConfiguration,
  type Configuration,
  type Credentials,
  type HttpApiDescriptor,
  httpApi,
  twilioSms
} from "./HttpApiDescriptor.js"
import { authorization } from "./internal/auth.js"
import { type AwsCredentials, sign } from "./internal/awsSigV4.js"
import { fromStatus, fromTransport, safeTarget } from "./internal/errors.js"
import * as Sts from "./internal/sts.js"
import { pinnedClient } from "./internal/transport.js"

type Context = ConnectorDriver.DriverContext<Configuration, Credentials>

/** How long before their expiry assumed-role credentials are replaced. */
const assumeRoleMargin = 5 * 60_000

const awsCredentialCodes = new Set([
  "SignatureDoesNotMatch",
  "InvalidClientTokenId",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "AuthFailure"
])

const awsExpiredCodes = new Set(["ExpiredToken", "ExpiredTokenException", "RequestExpired"])

/**
 * The JSON a Twilio-style API answers an accepted message with (extra fields ignored).
 *
 * @since 0.1.0
 */
export const SmsResponse = Schema.Struct({ sid: Schema.String, status: Schema.String })

const ErrorBody = Schema.Struct({ message: Schema.optional(Schema.String) })

/** Replaces `{name}` with the URL-encoded value of a non-secret variable. */
const expand = (path: string, variables: Readonly<Record<string, string>>) =>
  path.replace(/\{(\w+)\}/g, (whole, name: string) =>
    variables[name] === undefined ? whole : encodeURIComponent(variables[name])
  )

/** `path` (with its query) under `base_url`; a path that climbs out of the base path is refused. */
const resolveUrl = (baseUrl: string, path: string): Effect.Effect<URL, DriverError.RequestRejected> => {
  const base = new URL(baseUrl)
  const prefix = base.pathname.replace(/\/+$/, "")
  const queryAt = path.indexOf("?")
  const url = new URL(base.href)
  url.pathname = `${prefix}${queryAt === -1 ? path : path.slice(0, queryAt)}`
  url.search = queryAt === -1 ? "" : path.slice(queryAt)
  return url.origin === base.origin && (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`))
    ? Effect.succeed(url)
    : Effect.fail(new DriverError.RequestRejected({ target: safeTarget(base), detail: "the path leaves base_url" }))
}

/** Removes the credential's secrets (and their encodings) from a provider's text. */
const scrubberOf = (context: Context) => SecretScrubber.fromCredentials(context.credentials)

interface Exchange {
  readonly response: HttpClientResponse.HttpClientResponse
  readonly target: string
  readonly method: string
}

/**
 * The ready-made HTTP API descriptors: the generic `http-api` and the Twilio-style `twilio-sms`
 * (others are made with `HttpApiDescriptor.define`).
 *
 * @since 0.1.0
 */
export const descriptors: ReadonlyArray<HttpApiDescriptor> = [httpApi, twilioSms]

/**
 * The HTTP API driver, with every operation, connecting through the given egress policy.
 *
 * @since 0.1.0
 */
export const make = (
  policy: EgressPolicy.EgressPolicyShape
): ConnectorDriver.ConnectorDriver<Configuration, Credentials> => {
  /** Sends one request; the response lives as long as the scope (its socket is closed with it). */
  const send = (
    context: Context,
    method: "GET" | "HEAD" | "POST",
    path: string,
    body?: HttpBody.HttpBody
  ): Effect.Effect<Exchange, ConnectorDriver.DriverFailure, Scope.Scope> =>
    Effect.gen(function* () {
      const { configuration, credentials, instance } = context
      const auth = yield* authorization(instance.authType, credentials, configuration.api_key_placement)
      const url = yield* resolveUrl(configuration.base_url, expand(path, auth.variables))
      const target = safeTarget(url)
      yield* Effect.annotateCurrentSpan({ "http.request.method": method, "url.target": target })
      const request = HttpClientRequest.make(method)(url).pipe(
        HttpClientRequest.setHeaders(configuration.headers),
        auth.apply,
        body === undefined ? (request) => request : HttpClientRequest.setBody(body)
      )
      const signed =
        instance.authType === "aws_sigv4"
          ? yield* Effect.flatMap(awsSetup(context), ({ aws, credentials }) => sign(request, credentials, aws))
          : request
      return yield* execute(signed, url, configuration.timeout_ms)
    })

  /** Sends a finished request to the address the egress policy allows for its host. */
  const execute = (
    request: HttpClientRequest.HttpClientRequest,
    url: URL,
    timeoutMillis: number
  ): Effect.Effect<Exchange, ConnectorDriver.DriverFailure, Scope.Scope> =>
    Effect.gen(function* () {
      const target = safeTarget(url)
      const address = yield* policy.check(url.hostname)
      const client = yield* pinnedClient(address)
      const response = yield* client
        .execute(request)
        .pipe(
          Effect.mapError((error: HttpClientError.HttpClientError) => fromTransport(error.cause, target, timeoutMillis))
        )
      yield* Effect.annotateCurrentSpan("http.response.status_code", response.status)
      return { response, target, method: request.method }
    })

  /** Temporary credentials from AssumeRole, per instance and role, until shortly before they expire. */
  const assumed = new Map<string, Sts.TemporaryCredentials>()

  /** The `aws` configuration and the credentials requests are signed with (assuming the role when one is set). */
  const awsSetup = (
    context: Context
  ): Effect.Effect<
    { readonly aws: AwsConfiguration; readonly credentials: AwsCredentials },
    ConnectorDriver.DriverFailure
  > =>
    Effect.gen(function* () {
      const { configuration, credentials, instance } = context
      const aws = configuration.aws
      if (aws === undefined) {
        return yield* new DriverError.RequestRejected({
          target: configuration.base_url,
          detail: "auth type aws_sigv4 needs `aws` in the configuration: region and service"
        })
      }
      if (!("access_key_id" in credentials)) {
        return yield* new DriverError.AuthFailed({
          kind: "invalid_credentials",
          detail: "the stored credentials do not fit auth type aws_sigv4: it needs access_key_id and secret_access_key"
        })
      }
      const base: AwsCredentials = {
        accessKeyId: credentials.access_key_id,
        secretAccessKey: credentials.secret_access_key,
        sessionToken: credentials.session_token
      }
      const roleArn = aws.role_arn
      if (roleArn === undefined) return { aws, credentials: base }
      const key = JSON.stringify([instance.id, base.accessKeyId, roleArn, aws.role_session_name, aws.external_id])
      const now = yield* Clock.currentTimeMillis
      const cached = assumed.get(key)
      if (cached !== undefined && cached.expiresAt - assumeRoleMargin > now)
        return { aws, credentials: cached.credentials }
      const fresh = yield* Effect.scoped(
        Effect.gen(function* () {
          const endpoint = Sts.endpointOf(aws)
          const request = yield* sign(Sts.assumeRole(endpoint, { ...aws, role_arn: roleArn }), base, {
            region: aws.region,
            service: "sts"
          })
          const exchange = yield* execute(request, endpoint, configuration.timeout_ms)
          const xml = yield* awsAnswer(context, exchange)
          const parsed = Sts.parseAssumeRole(xml)
          if (parsed === undefined) {
            return yield* new DriverError.ProviderFailure({
              target: exchange.target,
              status: exchange.response.status,
              detail: "STS AssumeRole answered without credentials"
            })
          }
          return parsed
        })
      ).pipe(Effect.withSpan("HttpConnector.assumeRole"))
      assumed.set(key, fresh)
      return { aws, credentials: fresh.credentials }
    })

  /**
   * The body of a 2xx AWS answer; otherwise the failure its error code stands for. AWS answers a
   * bad signature or key with 403 (`SignatureDoesNotMatch`, `InvalidClientTokenId`): the
   * credentials, not the permissions, are wrong.
   */
  const awsAnswer = (context: Context, exchange: Exchange): Effect.Effect<string, ConnectorDriver.DriverFailure> =>
    Effect.gen(function* () {
      const { response, target } = exchange
      const text = yield* response.text.pipe(
        Effect.mapError((error) => fromTransport(error.cause, target, context.configuration.timeout_ms))
      )
      if (response.status >= 200 && response.status < 300) return text
      const code = Sts.errorCode(text)
      const detail = `${exchange.method} ${target} answered ${response.status}${code === undefined ? "" : ` ${code}`}`
      if (code !== undefined && awsExpiredCodes.has(code)) {
        return yield* new DriverError.AuthFailed({ kind: "token_expired", detail })
      }
      if (code !== undefined && awsCredentialCodes.has(code)) {
        return yield* new DriverError.AuthFailed({ kind: "invalid_credentials", detail })
      }
      return yield* Effect.fail(statusFailure(exchange, undefined, code))
    })

  /** The connection test of an `aws_sigv4` instance: STS GetCallerIdentity with its (possibly assumed) credentials. */
  const callerIdentity = (context: Context) =>
    Effect.scoped(
      Effect.gen(function* () {
        const { aws, credentials } = yield* awsSetup(context)
        const endpoint = Sts.endpointOf(aws)
        const request = yield* sign(Sts.getCallerIdentity(endpoint), credentials, {
          region: aws.region,
          service: "sts"
        })
        const exchange = yield* execute(request, endpoint, context.configuration.timeout_ms)
        const identity = Sts.parseCallerIdentity(yield* awsAnswer(context, exchange))
        if (identity === undefined) {
          return yield* new DriverError.ProviderFailure({
            target: exchange.target,
            status: exchange.response.status,
            detail: "STS GetCallerIdentity answered without an identity"
          })
        }
        return identity
      })
    ).pipe(withTimeout(context.configuration, context.configuration.base_url))

  /** The failure a status other than the expected one (any 2xx when `expected` is undefined) stands for. */
  const statusFailure = (exchange: Exchange, expected: number | undefined, detail?: string): DriverError.DriverError =>
    exchange.response.status < 400
      ? new DriverError.RequestRejected({
          target: exchange.target,
          status: exchange.response.status,
          detail: `${exchange.method} ${exchange.target} answered ${exchange.response.status}, expected ${expected ?? "2xx"}`
        })
      : fromStatus({
          target: exchange.target,
          method: exchange.method,
          status: exchange.response.status,
          headers: exchange.response.headers,
          now: Date.now(),
          detail
        })

  const expectStatus = (exchange: Exchange, expected: number | undefined) => {
    const status = exchange.response.status
    const ok = expected === undefined ? status >= 200 && status < 300 : status === expected
    return ok ? Effect.void : Effect.fail(statusFailure(exchange, expected))
  }

  const withTimeout =
    (configuration: Configuration, target: string, millis = configuration.timeout_ms) =>
    <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.timeoutFail(effect, {
        duration: millis,
        onTimeout: () => new DriverError.TimedOut({ target, afterMillis: millis })
      })

  const probe = (context: Context) => {
    const endpoint = context.configuration.test_endpoint
    return Effect.scoped(
      Effect.gen(function* () {
        const exchange = yield* send(context, endpoint.method, endpoint.path)
        yield* expectStatus(exchange, endpoint.expect_status)
        return exchange
      })
    ).pipe(withTimeout(context.configuration, context.configuration.base_url))
  }

  const test = Effect.fn("HttpConnector.test")(function* (context: Context) {
    if (context.instance.authType === "aws_sigv4") {
      const identity = yield* callerIdentity(context)
      return `STS GetCallerIdentity: account ${identity.account}, ${identity.arn}`
    }
    const exchange = yield* probe(context)
    return `${exchange.method} ${exchange.target} answered ${exchange.response.status} as expected`
  })

  const healthCheck = Effect.fn("HttpConnector.healthCheck")(function* (context: Context) {
    if (context.instance.authType === "aws_sigv4") return yield* Effect.asVoid(callerIdentity(context))
    yield* probe(context)
  })

  const fetchFile = <E>(
    context: Context,
    request: Messaging.FetchFileRequest,
    sink: Sink.Sink<unknown, Uint8Array, never, E>
  ): Effect.Effect<Messaging.FetchedFile, ConnectorDriver.DriverFailure | E> =>
    Effect.scoped(
      Effect.gen(function* () {
        const exchange = yield* send(context, "GET", request.path)
        yield* expectStatus(exchange, undefined)
        const { response, target } = exchange
        const tooLarge = (bytes: string) =>
          new DriverError.RequestRejected({
            target,
            status: "too_large",
            detail: `the file is larger than the limit of ${request.maxBytes} bytes (${bytes})`
          })
        const declared = Number(response.headers["content-length"])
        if (Number.isFinite(declared) && declared > request.maxBytes) {
          return yield* tooLarge(`Content-Length ${declared}`)
        }
        let bytes = 0
        const limited = response.stream.pipe(
          Stream.mapError((error) => fromTransport(error.cause, target, request.timeoutMillis)),
          Stream.mapChunksEffect((chunk) => {
            const size = Chunk.reduce(chunk, 0, (total, part) => total + part.byteLength)
            if (bytes + size > request.maxBytes)
              return Effect.fail(tooLarge(`more than ${bytes + size} bytes received`))
            bytes += size
            return Effect.succeed(chunk)
          })
        )
        yield* Stream.run(limited, sink)
        return Messaging.FetchedFile.make({ contentType: response.headers["content-type"] ?? null, bytes })
      })
    ).pipe(
      withTimeout(context.configuration, context.configuration.base_url, request.timeoutMillis),
      Effect.withSpan("HttpConnector.fetchFile")
    )

  const sendSms = Effect.fn("HttpConnector.sendSms")(function* (context: Context, message: Messaging.SmsMessage) {
    const from = message.from ?? context.configuration.sms_from
    if (from === undefined) {
      return yield* new DriverError.RequestRejected({
        target: context.configuration.base_url,
        detail: "the message has no sender: set `from` on the message or `sms_from` in the instance configuration"
      })
    }
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const exchange = yield* send(
          context,
          "POST",
          context.configuration.sms_path,
          HttpClientRequest.bodyUrlParams(HttpClientRequest.post(""), {
            To: message.to,
            From: from,
            Body: message.body
          }).body
        )
        const { response, target } = exchange
        if (response.status < 200 || response.status >= 300) {
          const said = yield* HttpClientResponse.schemaBodyJson(ErrorBody)(response).pipe(
            Effect.map((body) => body.message),
            Effect.orElseSucceed(() => undefined)
          )
          // The provider's words may echo the request (an Authorization header, the key in a query).
          const scrubbed = said === undefined ? undefined : scrubberOf(context).scrub(said).slice(0, 300)
          return yield* Effect.fail(statusFailure(exchange, undefined, scrubbed))
        }
        const body = yield* HttpClientResponse.schemaBodyJson(SmsResponse)(response).pipe(
          Effect.mapError(
            (error) =>
              new DriverError.ProviderFailure({
                target,
                status: response.status,
                detail: scrubberOf(context).scrub(
                  `unexpected answer: ${error._tag === "ParseError" ? error.message : error.reason}`
                )
              })
          )
        )
        return Messaging.SmsReceipt.make({ id: body.sid, status: body.status })
      })
    ).pipe(withTimeout(context.configuration, context.configuration.base_url))
  })

  return { test, healthCheck, fetchFile, sendSms }
}

/**
 * The connector of an HTTP API descriptor for `ConnectorRegistry.layer`, built with the host's
 * `EgressPolicy`. The driver offers only the operations the descriptor declares.
 *
 * @since 0.1.0
 */
export const connector = (
  descriptor: HttpApiDescriptor
): Effect.Effect<ConnectorDriver.Connector, never, EgressPolicy.EgressPolicy> =>
  Effect.map(EgressPolicy.EgressPolicy, (policy) => {
    const { test, healthCheck, fetchFile, sendSms } = make(policy)
    return ConnectorDriver.make(descriptor, {
      test,
      healthCheck,
      ...(descriptor.operations.includes("fetch_file") ? { fetchFile } : {}),
      ...(descriptor.operations.includes("send_sms") ? { sendSms } : {})
    })
  })
