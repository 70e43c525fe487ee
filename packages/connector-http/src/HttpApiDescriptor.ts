/**
 * Descriptors for HTTP APIs: `define` builds one for a specific API (its auth profiles, default
 * base URL, API key placement, test endpoint, Fetch File and Send SMS support); `httpApi` and
 * `twilioSms` are ready-made.
 *
 * Configuration (JSON, snake_case): `base_url`, `headers`, `api_key_placement { in, name }`,
 * `test_endpoint { method, path, expect_status }`, `timeout_ms`, `sms_path`, `sms_from`, and `oauth2`
 * (per-instance OAuth2 client settings).
 * Credentials: one of the shapes of the auth profiles the descriptor offers, chosen by the
 * instance's `auth_type` (see {@link Credentials}).
 *
 * @since 0.1.0
 */
import { ConnectorDescriptor, Ids, OAuth2ClientConfiguration } from "@patchbay/core"
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/**
 * The auth profiles an HTTP API can offer. `oauth2` stands for both OAuth2 flows: the driver
 * sends the resolver's access token as a bearer token. `aws_sigv4` signs every request with AWS
 * Signature Version 4 (configuration `aws`, credentials {@link AwsSigV4Credentials}).
 *
 * @since 0.1.0
 */
export const AuthProfile = Schema.Literal("api_key", "basic", "bearer", "oauth2", "aws_sigv4")
/** @since 0.1.0 */
export type AuthProfile = typeof AuthProfile.Type

/**
 * Where an API key goes: a header or a query parameter, and its name.
 *
 * @since 0.1.0
 */
export const ApiKeyPlacement = Schema.Struct({
  in: Schema.Literal("header", "query"),
  name: Schema.String.pipe(
    Schema.pattern(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: () => "must be a header or parameter name" })
  )
})
/** @since 0.1.0 */
export type ApiKeyPlacement = typeof ApiKeyPlacement.Type

/**
 * The request a connection test (and a health check) makes, in configuration's snake_case form.
 *
 * @since 0.1.0
 */
export const TestEndpointConfig = Schema.Struct({
  method: Schema.Literal("GET", "HEAD", "POST"),
  path: Schema.String.pipe(Schema.startsWith("/", { message: () => "path must start with /" })),
  expect_status: Schema.Int.pipe(Schema.between(100, 599))
})
/** @since 0.1.0 */
export type TestEndpointConfig = typeof TestEndpointConfig.Type

const forbiddenHeaders = new Set(["authorization", "proxy-authorization", "cookie", "host", "content-length"])

const BaseUrl = Schema.Trim.pipe(
  Schema.filter((value) => {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      return "base_url must be an absolute URL like https://api.example.com/v1"
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return "base_url must use http or https"
    if (url.username !== "" || url.password !== "")
      return "base_url must not contain credentials: store them as a credential"
    if (url.search !== "" || url.hash !== "") return "base_url must not have a query string or fragment"
    return true
  })
)

const Headers = Schema.Record({ key: Schema.String, value: Schema.String }).pipe(
  Schema.filter((headers) => {
    for (const name of Object.keys(headers)) {
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return `${name} is not a valid header name`
      if (forbiddenHeaders.has(name.toLowerCase())) {
        return `the ${name} header is not configuration: credentials go in credentials, the rest is set by the driver`
      }
    }
    return true
  })
)

const AwsName = Schema.String.pipe(
  Schema.pattern(/^[a-z0-9-]{1,64}$/, { message: () => "must be an AWS name such as us-east-1 or textract" })
)

/**
 * The `aws_sigv4` profile's settings: the region and service requests are signed for, an optional
 * role to assume through STS with the stored credentials, and the STS endpoint (default
 * `https://sts.<region>.amazonaws.com`) that connection tests call `GetCallerIdentity` on.
 *
 * @since 0.1.0
 */
export const AwsConfiguration = Schema.Struct({
  region: AwsName,
  service: AwsName,
  role_arn: Schema.optional(
    Schema.String.pipe(
      Schema.pattern(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, { message: () => "must be an IAM role ARN" })
    )
  ),
  role_session_name: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^[\w+=,.@-]{2,64}$/, { message: () => "must be 2-64 characters of [\\w+=,.@-]" })
    ),
    { default: () => "patchbay" }
  ),
  external_id: Schema.optional(Schema.String.pipe(Schema.minLength(2), Schema.maxLength(1224))),
  sts_endpoint: Schema.optional(BaseUrl)
})
/** @since 0.1.0 */
export type AwsConfiguration = typeof AwsConfiguration.Type

/**
 * Defaults a definition bakes into its configuration schema.
 *
 * @since 0.1.0
 */
export interface ConfigurationDefaults {
  readonly baseUrl?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly apiKey?: ApiKeyPlacement | undefined
  readonly testEndpoint?: TestEndpointConfig | undefined
  readonly timeoutMillis?: number | undefined
  readonly smsPath?: string | undefined
  readonly aws?: { readonly region: string; readonly service: string } | undefined
}

/** The fields of an HTTP API configuration, with the definition's defaults. */
const fieldsOf = (defaults: ConfigurationDefaults) =>
  Schema.Struct({
    base_url:
      defaults.baseUrl === undefined
        ? BaseUrl
        : Schema.optionalWith(BaseUrl, { default: () => defaults.baseUrl as string }),
    headers: Schema.optionalWith(Headers, { default: () => ({ ...defaults.headers }) }),
    api_key_placement: Schema.optionalWith(ApiKeyPlacement, {
      default: () => defaults.apiKey ?? { in: "header" as const, name: "X-API-Key" }
    }),
    test_endpoint: Schema.optionalWith(TestEndpointConfig, {
      default: () => defaults.testEndpoint ?? { method: "GET" as const, path: "/", expect_status: 200 }
    }),
    timeout_ms: Schema.optionalWith(Schema.Int.pipe(Schema.between(100, 600_000)), {
      default: () => defaults.timeoutMillis ?? 30_000
    }),
    sms_path: Schema.optionalWith(Schema.String.pipe(Schema.startsWith("/")), {
      default: () => defaults.smsPath ?? "/Messages.json"
    }),
    sms_from: Schema.optional(Schema.String.pipe(Schema.nonEmptyString())),
    /** Per-instance OAuth2 client settings (issuer, client id, scopes…), read by @patchbay/oauth2. */
    oauth2: Schema.optional(OAuth2ClientConfiguration.OAuth2ClientConfiguration),
    /** The `aws_sigv4` profile's region, service and optional role. */
    aws:
      defaults.aws === undefined
        ? Schema.optional(AwsConfiguration)
        : Schema.optionalWith(AwsConfiguration, {
            default: () =>
              AwsConfiguration.make({
                ...(defaults.aws as { region: string; service: string }),
                role_session_name: "patchbay"
              })
          })
  })

/**
 * The configuration schema of an HTTP API descriptor, with the definition's defaults. A default
 * base URL may name `{region}` (`https://textract.{region}.amazonaws.com`): it is filled in from
 * the decoded `aws.region`, so that an instance in another region reaches that region's host.
 *
 * @since 0.1.0
 */
export const Configuration = (defaults: ConfigurationDefaults = {}) => {
  const fields = fieldsOf(defaults)
  return Schema.transform(fields, Schema.typeSchema(fields), {
    strict: true,
    decode: (configuration) =>
      configuration.base_url.includes("{region}") && configuration.aws !== undefined
        ? { ...configuration, base_url: configuration.base_url.replaceAll("{region}", configuration.aws.region) }
        : configuration,
    encode: (configuration) => configuration
  })
}

/**
 * A decoded HTTP API configuration.
 *
 * @since 0.1.0
 */
export type Configuration = Schema.Schema.Type<ReturnType<typeof Configuration>>

const Secret = Schema.Redacted(Schema.String.pipe(Schema.nonEmptyString({ message: () => "must not be empty" })))

/**
 * `api_key` profile: `{ api_key }`, sent where the configuration's `api_key_placement` says.
 *
 * @since 0.1.0
 */
export const ApiKeyCredentials = Schema.Struct({ api_key: Secret })

/**
 * `basic` profile: `{ username, password }` (for a Twilio-style API: account SID and auth token).
 *
 * @since 0.1.0
 */
export const BasicCredentials = Schema.Struct({
  username: Schema.String.pipe(Schema.nonEmptyString({ message: () => "username must not be empty" })),
  password: Schema.Redacted(Schema.String)
})

/**
 * `bearer` profile: `{ token }`, sent as `Authorization: Bearer <token>`.
 *
 * @since 0.1.0
 */
export const BearerCredentials = Schema.Struct({ token: Secret })

/**
 * `oauth2` profiles (authorization code, client credentials): the token set the credential
 * resolver delivers. Only `access_token` is used (as a bearer token); the other fields are kept
 * so that a stored token set round-trips. `token_type`, when present, must be `Bearer`.
 *
 * @since 0.1.0
 */
export const OAuth2Credentials = Schema.Struct({
  access_token: Secret,
  token_type: Schema.optional(Schema.String),
  refresh_token: Schema.optional(Schema.Redacted(Schema.String)),
  expires_at: Schema.optional(Schema.Union(Schema.Number, Schema.String)),
  scope: Schema.optional(Schema.String),
  id_token: Schema.optional(Schema.Redacted(Schema.String)),
  client_id: Schema.optional(Schema.String),
  client_secret: Schema.optional(Schema.Redacted(Schema.String)),
  /** Who signed in, set by @patchbay/oauth2 (see `Fingerprint.accountIdentityField`); null when unknown. */
  account_identity: Schema.optional(Schema.NullOr(Schema.String)),
  /** When the refresh token dies (epoch seconds), when the provider or the descriptor says. */
  refresh_token_expires_at: Schema.optional(Schema.Number),
  /** The refresh token's documented lifetime in seconds, from the OAuth2 client registration. */
  refresh_token_lifetime: Schema.optional(Schema.Number)
})

/**
 * `aws_sigv4` profile: an IAM access key, and the session token of temporary credentials.
 *
 * @since 0.1.0
 */
export const AwsSigV4Credentials = Schema.Struct({
  access_key_id: Schema.String.pipe(
    Schema.pattern(/^[A-Z0-9]{16,128}$/, { message: () => "must be an AWS access key id such as AKIA…" })
  ),
  secret_access_key: Secret,
  session_token: Schema.optional(Secret)
})

/**
 * The credential schema of an HTTP API descriptor: any of its profiles' shapes. Which one an
 * instance must store is its `auth_type`; the driver refuses a mismatch as `AuthFailed`.
 *
 * @since 0.1.0
 */
export const Credentials = Schema.Union(
  ApiKeyCredentials,
  BasicCredentials,
  BearerCredentials,
  OAuth2Credentials,
  AwsSigV4Credentials
)
/** @since 0.1.0 */
export type Credentials = typeof Credentials.Type

const secretFieldsOf: Record<AuthProfile, ReadonlyArray<string>> = {
  api_key: ["api_key"],
  basic: ["password"],
  bearer: ["token"],
  oauth2: ["access_token", "refresh_token", "id_token", "client_secret"],
  aws_sigv4: ["secret_access_key", "session_token"]
}

const authTypesOf: Record<AuthProfile, ReadonlyArray<ConnectorDescriptor.AuthType>> = {
  api_key: ["api_key"],
  basic: ["basic"],
  bearer: ["bearer"],
  oauth2: ["oauth2_authorization_code", "oauth2_client_credentials"],
  aws_sigv4: ["aws_sigv4"]
}

/**
 * What `define` needs to describe one HTTP API.
 *
 * @since 0.1.0
 */
export interface Definition {
  /** A stable UUID: instances refer to it. */
  readonly id: string
  readonly key: string
  readonly name: string
  readonly version?: string | undefined
  /** The auth profiles an instance of this API may use. */
  readonly auth: ReadonlyArray<AuthProfile>
  /** A fixed API's base URL; when absent, every instance must configure `base_url`. */
  readonly baseUrl?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Where the `api_key` profile sends the key (default: header `X-API-Key`). */
  readonly apiKey?: ApiKeyPlacement | undefined
  /** The connection test's request (default `GET /` expecting 200). `{username}` is replaced by the basic username. */
  readonly testEndpoint?: {
    readonly method: "GET" | "HEAD" | "POST"
    readonly path: string
    readonly expectStatus: number
  }
  /** Offer Fetch File (GET under the base URL). */
  readonly fetchFile?: boolean | undefined
  /** Offer Send SMS: the path messages are POSTed to as a form; `{username}` as above. */
  readonly sms?: { readonly path: string } | undefined
  /** Fields identifying the account (default `base_url` and the identifying credential fields). */
  readonly accountFields?: ReadonlyArray<string> | undefined
  /**
   * The who-am-I request for an OAuth2 account without an id token or userinfo endpoint: a path
   * under the base URL (or an absolute URL) and the dotted path to the account id in its JSON.
   */
  readonly identity?: OAuth2Identity | undefined
  /** The refresh token's documented lifetime, when the provider gives no `refresh_token_expires_in`. */
  readonly refreshTokenLifetime?: Duration.DurationInput | undefined
  readonly timeoutMillis?: number | undefined
  /** The `aws_sigv4` profile's default region and signing service. */
  readonly aws?: { readonly region: string; readonly service: string } | undefined
}

/**
 * An HTTP API descriptor: a core descriptor whose schemas are this module's.
 *
 * @since 0.1.0
 */
export interface HttpApiDescriptor
  extends ConnectorDescriptor.ConnectorDescriptor<ReturnType<typeof Configuration>, typeof Credentials> {
  /** See {@link Definition.identity}. */
  readonly identity?: OAuth2Identity | undefined
  /** See {@link Definition.refreshTokenLifetime}. */
  readonly refreshTokenLifetime?: Duration.Duration | undefined
}

/**
 * Who an OAuth2 access token belongs to, asked of the API: `endpoint` (a path under the base URL
 * or an absolute URL, called with the access token) and `accountIdPath` (dotted path to the
 * account id in the JSON answer, e.g. `id` or `user.login`).
 *
 * @since 0.1.0
 */
export interface OAuth2Identity {
  readonly endpoint: string
  readonly accountIdPath: string
}

/**
 * Builds the descriptor of one HTTP API.
 *
 * @since 0.1.0
 */
export const define = (definition: Definition): HttpApiDescriptor => {
  const testEndpoint = definition.testEndpoint ?? { method: "GET" as const, path: "/", expectStatus: 200 }
  return {
    id: Ids.ConnectorId.make(definition.id),
    key: definition.key,
    name: definition.name,
    version: definition.version ?? "1.0.0",
    authProfiles: definition.auth.flatMap((profile) => authTypesOf[profile]),
    operations: [
      "test_connection",
      "health_check",
      ...(definition.fetchFile ? (["fetch_file"] as const) : []),
      ...(definition.sms ? (["send_sms"] as const) : [])
    ],
    configuration: Configuration({
      baseUrl: definition.baseUrl,
      headers: definition.headers,
      apiKey: definition.apiKey,
      testEndpoint: {
        method: testEndpoint.method,
        path: testEndpoint.path,
        expect_status: testEndpoint.expectStatus
      },
      timeoutMillis: definition.timeoutMillis,
      smsPath: definition.sms?.path,
      aws: definition.aws
    }),
    credentials: Credentials,
    secretFields: definition.auth.flatMap((profile) => secretFieldsOf[profile]),
    accountFields: definition.accountFields ?? [
      "base_url",
      ...(definition.auth.includes("basic") ? ["username"] : []),
      ...(definition.auth.includes("api_key") ? ["api_key"] : []),
      // A bearer token identifies its account as an API key does (fingerprints are keyed HMACs).
      ...(definition.auth.includes("bearer") ? ["token"] : []),
      // An OAuth2 token set is identified by who signed in, never by the base URL alone.
      ...(definition.auth.includes("oauth2") ? ["account_identity"] : []),
      ...(definition.auth.includes("aws_sigv4") ? ["access_key_id"] : [])
    ],
    testEndpoint: ConnectorDescriptor.TestEndpoint.make(testEndpoint),
    supportsSchemaDiscovery: false,
    ...(definition.identity === undefined ? {} : { identity: definition.identity }),
    ...(definition.refreshTokenLifetime === undefined
      ? {}
      : { refreshTokenLifetime: Duration.decode(definition.refreshTokenLifetime) })
  }
}

/**
 * A generic HTTP API: every auth profile, any base URL, Fetch File.
 *
 * @since 0.1.0
 */
export const httpApi: HttpApiDescriptor = define({
  id: "a3c1e2d4-5f60-4718-8a9b-0c1d2e3f4a5b",
  key: "http-api",
  name: "HTTP API",
  auth: ["api_key", "basic", "bearer", "oauth2", "aws_sigv4"],
  fetchFile: true
})

/**
 * A Twilio-style SMS API: basic auth with the account SID as username and the auth token as
 * password, messages POSTed as a form to `/2010-04-01/Accounts/{username}/Messages.json`.
 *
 * @since 0.1.0
 */
export const twilioSms: HttpApiDescriptor = define({
  id: "c7e4b2a1-9d3f-4e5a-b6c7-d8e9f0a1b2c3",
  key: "twilio-sms",
  name: "Twilio SMS",
  auth: ["basic"],
  baseUrl: "https://api.twilio.com",
  testEndpoint: { method: "GET", path: "/2010-04-01/Accounts/{username}.json", expectStatus: 200 },
  sms: { path: "/2010-04-01/Accounts/{username}/Messages.json" },
  accountFields: ["base_url", "username"]
})

/**
 * AWS Textract (us-east-1 by default; set `aws.region` and `base_url` for another region): requests
 * signed with Signature Version 4 for the `textract` service; the connection test calls STS
 * `GetCallerIdentity`.
 *
 * @since 0.1.0
 */
export const awsTextract: HttpApiDescriptor = define({
  id: "5d0c9e7a-3b1f-4c2d-9e8f-a7b6c5d4e3f2",
  key: "aws-textract",
  name: "AWS Textract",
  auth: ["aws_sigv4"],
  baseUrl: "https://textract.{region}.amazonaws.com",
  aws: { region: "us-east-1", service: "textract" },
  accountFields: ["access_key_id"]
})
