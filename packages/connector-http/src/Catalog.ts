/**
 * The provider catalog: predefined apps (Gmail, Slack, Salesforce, Stripe…) as data. Each entry
 * says how the provider authenticates (auth modes, OAuth2 endpoints, scopes and extra
 * authorization parameters), where its API is (base URL, test endpoint, who-am-I endpoint), what
 * the person must enter (field metadata), its rate-limit headers and refresh-token lifetime, and
 * what of this was checked against the provider's documentation, and when.
 *
 * `descriptors` turns the entries into connector descriptors on the generic HTTP driver; the host
 * registers its OAuth2 client per entry key with `registration(entry)` as the endpoints.
 *
 * @since 0.1.0
 */
import * as JSONSchema from "effect/JSONSchema"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as HttpApiDescriptor from "./HttpApiDescriptor.js"
import { accounting } from "./internal/catalog/accounting.js"
import { ai } from "./internal/catalog/ai.js"
import { cloudStorage } from "./internal/catalog/cloudStorage.js"
import { crm } from "./internal/catalog/crm.js"
import { developerTools } from "./internal/catalog/developerTools.js"
import { email } from "./internal/catalog/email.js"
import { hr } from "./internal/catalog/hr.js"
import { marketing } from "./internal/catalog/marketing.js"
import { messaging } from "./internal/catalog/messaging.js"
import { ocrVision } from "./internal/catalog/ocrVision.js"
import { payments } from "./internal/catalog/payments.js"
import { productivity } from "./internal/catalog/productivity.js"
import { support } from "./internal/catalog/support.js"

const HttpsUrl = Schema.String.pipe(
  Schema.filter((value) => {
    try {
      return new URL(value).protocol === "https:" ? true : "must be an https URL"
    } catch {
      return "must be an absolute https URL"
    }
  })
)

const Path = Schema.String.pipe(Schema.startsWith("/", { message: () => "path must start with /" }))

/**
 * The categories of the connectors guide, and a few more.
 *
 * @since 0.1.0
 */
export const Category = Schema.Literal(
  "email",
  "cloud_storage",
  "ocr_vision",
  "messaging",
  "hr",
  "crm",
  "developer_tools",
  "payments",
  "productivity",
  "accounting",
  "support",
  "marketing",
  "ecommerce",
  "ai"
)
/** @since 0.1.0 */
export type Category = typeof Category.Type

/**
 * How a provider lets an instance authenticate. `token_in_path` (Telegram's bot token in the URL
 * path) is documented here but not yet offered by the HTTP driver.
 *
 * @since 0.1.0
 */
export const AuthMode = Schema.Literal(
  "oauth2_authorization_code",
  "oauth2_client_credentials",
  "api_key",
  "basic",
  "bearer",
  "aws_sigv4",
  "token_in_path"
)
/** @since 0.1.0 */
export type AuthMode = typeof AuthMode.Type

/**
 * What the Connect UI shows for one configuration or credential field.
 *
 * @since 0.1.0
 */
export const Field = Schema.Struct({
  title: Schema.NonEmptyString,
  description: Schema.NonEmptyString,
  example: Schema.optional(Schema.String),
  /** A regular expression (JavaScript syntax) the value must match. */
  pattern: Schema.optional(Schema.String),
  docs: Schema.optional(HttpsUrl),
  secret: Schema.Boolean
})
/** @since 0.1.0 */
export type Field = typeof Field.Type

/**
 * A provider's OAuth2 authorization server. `scopeSeparator` is how the provider joins scopes in
 * the `scope` parameter (most use a space, a few a comma; a `+` in a provider's example URL is a
 * form-encoded space).
 *
 * @since 0.1.0
 */
export const OAuth2 = Schema.Struct({
  issuer: Schema.optional(HttpsUrl),
  authorizationEndpoint: Schema.optional(HttpsUrl),
  tokenEndpoint: HttpsUrl,
  revocationEndpoint: Schema.optional(HttpsUrl),
  userinfoEndpoint: Schema.optional(HttpsUrl),
  scopes: Schema.Array(Schema.String),
  scopeSeparator: Schema.Literal(" ", ","),
  /** Extra authorization request parameters: offline access, consent prompt. */
  authorizationParameters: Schema.Record({ key: Schema.String, value: Schema.String }),
  /** Whether the provider documents PKCE for confidential clients. */
  pkce: Schema.Boolean
})
/** @since 0.1.0 */
export type OAuth2 = typeof OAuth2.Type

/**
 * The who-am-I request: an absolute https URL or a path under the base URL, the dotted path of the
 * account id in its JSON answer, and for a POST an optional JSON body (a GraphQL `viewer` query).
 *
 * @since 0.1.0
 */
export const Identity = Schema.Struct({
  method: Schema.Literal("GET", "POST"),
  endpoint: Schema.Union(HttpsUrl, Path),
  accountId: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/)),
  body: Schema.optional(Schema.String)
})
/** @since 0.1.0 */
export type Identity = typeof Identity.Type

/**
 * The response headers a provider reports its rate limit in.
 *
 * @since 0.1.0
 */
export const RateLimitHeaders = Schema.Struct({
  limit: Schema.optional(Schema.String),
  remaining: Schema.optional(Schema.String),
  reset: Schema.optional(Schema.String),
  retryAfter: Schema.optional(Schema.String)
})
/** @since 0.1.0 */
export type RateLimitHeaders = typeof RateLimitHeaders.Type

/**
 * A refresh-token lifetime the provider documents.
 *
 * @since 0.1.0
 */
export const RefreshTokenLifetime = Schema.Struct({
  seconds: Schema.Int.pipe(Schema.positive()),
  note: Schema.NonEmptyString
})
/** @since 0.1.0 */
export type RefreshTokenLifetime = typeof RefreshTokenLifetime.Type

/**
 * What was checked against which page of the provider's documentation, and when. Facts that were
 * not checked are named as such in `what`.
 *
 * @since 0.1.0
 */
export const Checked = Schema.Struct({
  source: HttpsUrl,
  what: Schema.NonEmptyString,
  on: Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}-\d{2}$/))
})
/** @since 0.1.0 */
export type Checked = typeof Checked.Type

/** The credential fields each auth mode asks the person for. */
const credentialFieldsOf: Record<AuthMode, ReadonlyArray<string>> = {
  oauth2_authorization_code: [],
  oauth2_client_credentials: ["client_id", "client_secret"],
  api_key: ["api_key"],
  basic: ["username", "password"],
  bearer: ["token"],
  aws_sigv4: ["access_key_id", "secret_access_key"],
  token_in_path: ["token"]
}

const secretFields = new Set(["client_secret", "api_key", "password", "token", "secret_access_key"])

const isOAuth2 = (mode: AuthMode) => mode === "oauth2_authorization_code" || mode === "oauth2_client_credentials"

/**
 * One predefined app.
 *
 * @since 0.1.0
 */
export const Entry = Schema.Struct({
  /** A stable UUID: the connector id instances refer to. */
  id: Schema.UUID,
  key: Schema.String.pipe(Schema.pattern(/^[a-z0-9]+(-[a-z0-9]+)*$/)),
  name: Schema.NonEmptyString,
  category: Category,
  description: Schema.NonEmptyString,
  auth: Schema.NonEmptyArray(AuthMode),
  /** Absent when every account has its own host (then `fields.base_url` says what to enter). */
  baseUrl: Schema.optional(HttpsUrl),
  headers: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  apiKey: Schema.optional(HttpApiDescriptor.ApiKeyPlacement),
  testEndpoint: Schema.Struct({
    method: Schema.Literal("GET", "HEAD", "POST"),
    path: Path,
    expectStatus: Schema.Int.pipe(Schema.between(100, 599))
  }),
  identity: Schema.optional(Identity),
  oauth2: Schema.optional(OAuth2),
  /** Field metadata by configuration or credential field name. */
  fields: Schema.Record({ key: Schema.String, value: Field }),
  rateLimitHeaders: Schema.optional(RateLimitHeaders),
  refreshToken: Schema.optional(RefreshTokenLifetime),
  /**
   * `aws_sigv4`: the default region and the signing service. A base URL whose host names the
   * region (`textract.us-east-1.amazonaws.com`) follows the instance's `aws.region`.
   */
  aws: Schema.optional(Schema.Struct({ region: Schema.NonEmptyString, service: Schema.NonEmptyString })),
  /** Send SMS: the path messages are POSTed to. */
  smsPath: Schema.optional(Path),
  checked: Checked
}).pipe(
  Schema.filter((entry) => {
    const issues: Array<string> = []
    if (entry.auth.some(isOAuth2) && entry.oauth2 === undefined) issues.push("an OAuth2 auth mode needs oauth2")
    if (entry.auth.includes("oauth2_authorization_code") && entry.oauth2?.authorizationEndpoint === undefined) {
      issues.push("the authorization-code flow needs oauth2.authorizationEndpoint")
    }
    if (entry.auth.includes("api_key") && entry.apiKey === undefined) issues.push("api_key needs apiKey placement")
    if (entry.auth.includes("aws_sigv4") && entry.aws === undefined)
      issues.push("aws_sigv4 needs aws (region, service)")
    if (entry.baseUrl === undefined && entry.fields.base_url === undefined) {
      issues.push("an entry without baseUrl needs fields.base_url")
    }
    for (const mode of entry.auth) {
      for (const name of credentialFieldsOf[mode]) {
        const field = entry.fields[name]
        if (field === undefined) issues.push(`${mode} needs fields.${name}`)
        else if (field.secret !== secretFields.has(name)) issues.push(`fields.${name}.secret must be ${!field.secret}`)
      }
    }
    return issues.length === 0 ? true : issues.join("; ")
  })
)
/** @since 0.1.0 */
export type Entry = typeof Entry.Type

/**
 * The whole catalog: keys and ids are unique.
 *
 * @since 0.1.0
 */
export const Catalog = Schema.Array(Entry).pipe(
  Schema.filter((catalog) => {
    const keys = new Set(catalog.map((entry) => entry.key))
    const ids = new Set(catalog.map((entry) => entry.id))
    if (keys.size !== catalog.length) return "entry keys must be unique"
    if (ids.size !== catalog.length) return "entry ids must be unique"
    return true
  })
)

/**
 * Every entry, ordered by category as in the connectors guide.
 *
 * @since 0.1.0
 */
export const entries: ReadonlyArray<Entry> = [
  ...email,
  ...cloudStorage,
  ...ocrVision,
  ...messaging,
  ...hr,
  ...crm,
  ...developerTools,
  ...payments,
  ...productivity,
  ...accounting,
  ...support,
  ...marketing,
  ...ai
]

/**
 * The HTTP driver's auth profile for an auth mode, when the driver offers it.
 *
 * @since 0.1.0
 */
export const profileOf = (mode: AuthMode): Option.Option<HttpApiDescriptor.AuthProfile> => {
  const profile = isOAuth2(mode) ? "oauth2" : mode
  return Schema.is(HttpApiDescriptor.AuthProfile)(profile) ? Option.some(profile) : Option.none()
}

/**
 * The connector descriptor of an entry on the generic HTTP driver, or none when the driver offers
 * none of the entry's auth modes yet.
 *
 * @since 0.1.0
 */
export const descriptor = (entry: Entry): Option.Option<HttpApiDescriptor.HttpApiDescriptor> => {
  const auth = [...new Set(entry.auth.flatMap((mode) => Option.toArray(profileOf(mode))))]
  return auth.length === 0
    ? Option.none()
    : Option.some(
        HttpApiDescriptor.define({
          id: entry.id,
          key: entry.key,
          name: entry.name,
          auth,
          baseUrl:
            entry.aws === undefined || entry.baseUrl === undefined
              ? entry.baseUrl
              : entry.baseUrl.replace(`.${entry.aws.region}.`, ".{region}."),
          ...(entry.aws === undefined ? {} : { aws: entry.aws }),
          headers: entry.headers,
          apiKey: entry.apiKey,
          testEndpoint: entry.testEndpoint,
          sms: entry.smsPath === undefined ? undefined : { path: entry.smsPath },
          ...(entry.smsPath === undefined ? {} : { accountFields: ["base_url", "username"] })
        })
      )
}

/**
 * The descriptors of every entry the HTTP driver can serve today.
 *
 * @since 0.1.0
 */
export const descriptors: ReadonlyArray<HttpApiDescriptor.HttpApiDescriptor> = entries.flatMap((entry) =>
  Option.toArray(descriptor(entry))
)

/**
 * The authorization-server part of a host's OAuth2 client registration for an entry.
 *
 * @since 0.1.0
 */
export interface Registration {
  readonly issuer?: string
  readonly authorizationEndpoint?: string
  readonly tokenEndpoint: string
  /** The userinfo endpoint, when the entry's scopes include `openid` (else userinfo refuses the token). */
  readonly userinfoEndpoint?: string
  /** The who-am-I request, its endpoint absolute (a path is resolved against the base URL). */
  readonly identity?: {
    readonly method: "GET" | "POST"
    readonly endpoint: string
    readonly accountId: string
    readonly body?: string | undefined
  }
  /** The documented refresh-token lifetime in seconds. */
  readonly refreshTokenLifetime?: number
  readonly scopes: ReadonlyArray<string>
  readonly authorizationParameters: Readonly<Record<string, string>>
}

/**
 * The who-am-I request of an entry with an absolute endpoint, when it has one: a path needs the
 * entry's base URL (an entry whose every account has its own host has no fixed who-am-I URL).
 *
 * @since 0.1.0
 */
export const identityOf = (entry: Entry): Option.Option<NonNullable<Registration["identity"]>> => {
  const identity = entry.identity
  if (identity === undefined) return Option.none()
  if (!identity.endpoint.startsWith("/")) return Option.some(identity)
  if (entry.baseUrl === undefined) return Option.none()
  return Option.some({ ...identity, endpoint: `${entry.baseUrl.replace(/\/+$/, "")}${identity.endpoint}` })
}

/**
 * The authorization-server part of a host's OAuth2 client registration for an entry (in
 * `@patchbay/oauth2`'s `ClientRegistration` field names): endpoints, the who-am-I request, the
 * documented refresh-token lifetime, scopes and authorization parameters. The host adds its
 * `clientId`, `clientSecret` and `redirectUri` and registers it under the entry's key. Scopes a
 * provider joins with a comma come as one pre-joined scope.
 *
 * @since 0.1.0
 */
export const registration = (entry: Entry): Option.Option<Registration> =>
  Option.map(Option.fromNullable(entry.oauth2), (oauth2) => {
    const identity = identityOf(entry)
    return {
      ...(oauth2.issuer === undefined ? {} : { issuer: oauth2.issuer }),
      ...(oauth2.authorizationEndpoint === undefined ? {} : { authorizationEndpoint: oauth2.authorizationEndpoint }),
      tokenEndpoint: oauth2.tokenEndpoint,
      // OpenID Connect's userinfo answers only tokens granted the `openid` scope.
      ...(oauth2.userinfoEndpoint === undefined || !oauth2.scopes.includes("openid")
        ? {}
        : { userinfoEndpoint: oauth2.userinfoEndpoint }),
      ...(Option.isNone(identity) ? {} : { identity: identity.value }),
      ...(entry.refreshToken === undefined ? {} : { refreshTokenLifetime: entry.refreshToken.seconds }),
      scopes:
        oauth2.scopeSeparator === " " || oauth2.scopes.length === 0
          ? oauth2.scopes
          : [oauth2.scopes.join(oauth2.scopeSeparator)],
      authorizationParameters: oauth2.authorizationParameters
    }
  })

/**
 * The JSON Schema of the catalog (an array of entries).
 *
 * @since 0.1.0
 */
export const jsonSchema: JSONSchema.JsonSchema7Root = JSONSchema.make(Catalog)
