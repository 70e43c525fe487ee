/**
 * AWS Signature Version 4 on @smithy/signature-v4: signs a finished request (method, URL,
 * headers, body) and returns it with `Authorization`, `X-Amz-Date`, `X-Amz-Content-Sha256` and
 * (temporary credentials) `X-Amz-Security-Token`.
 */
import { Sha256 } from "@aws-crypto/sha256-js"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { DriverError } from "@patchbay/core"
import { SignatureV4 } from "@smithy/signature-v4"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"

/** Credentials a request is signed with: stored ones, or temporary ones from STS AssumeRole. */
export interface AwsCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken?: Redacted.Redacted<string> | undefined
}

type SignableRequest = Parameters<SignatureV4["sign"]>[0]

const bodyBytes = (request: HttpClientRequest.HttpClientRequest): Uint8Array | string | undefined => {
  switch (request.body._tag) {
    case "Empty":
      return undefined
    case "Uint8Array":
      return request.body.body
    default:
      return undefined
  }
}

/**
 * `request` signed for `region` and `service`. Only empty and in-memory bodies can be signed (a
 * streamed body is refused as RequestRejected: its hash is unknown before it is sent).
 */
export const sign = (
  request: HttpClientRequest.HttpClientRequest,
  credentials: AwsCredentials,
  scope: { readonly region: string; readonly service: string }
): Effect.Effect<HttpClientRequest.HttpClientRequest, DriverError.RequestRejected> =>
  Effect.gen(function* () {
    const url = new URL(request.url)
    if (request.body._tag !== "Empty" && request.body._tag !== "Uint8Array") {
      return yield* new DriverError.RequestRejected({
        target: `${url.origin}${url.pathname}`,
        detail: "a streamed or form-data body cannot be signed with AWS Signature Version 4"
      })
    }
    const query: Record<string, Array<string>> = {}
    for (const [name, value] of [...url.searchParams, ...request.urlParams]) {
      query[name] = [...(query[name] ?? []), value]
    }
    const headers: Record<string, string> = { ...request.headers, host: url.host }
    if (request.body._tag === "Uint8Array") headers["content-type"] = request.body.contentType
    const unsigned: SignableRequest = {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === "" ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query,
      headers,
      body: bodyBytes(request)
    }
    const signer = new SignatureV4({
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: Redacted.value(credentials.secretAccessKey),
        ...(credentials.sessionToken === undefined ? {} : { sessionToken: Redacted.value(credentials.sessionToken) })
      },
      region: scope.region,
      service: scope.service,
      sha256: Sha256,
      applyChecksum: true
    })
    const signed = yield* Effect.promise(() => signer.sign(unsigned))
    const added = Object.fromEntries(
      Object.entries(signed.headers).filter(([name]) => name !== "host" && name !== "content-type")
    )
    return HttpClientRequest.setHeaders(request, added)
  })
