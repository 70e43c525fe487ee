/**
 * The connectors a host has installed, looked up by descriptor id or key.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { type ConnectorDescriptor, type DescriptorSummary, summary } from "./ConnectorDescriptor.js"
import type { Connector, CredentialVersion, DriverContext } from "./ConnectorDriver.js"
import type { Configuration, ConnectorInstance } from "./ConnectorInstance.js"
import { ConnectorNotFound, describeParseError, InvalidConfiguration } from "./DomainError.js"
import { configurationLimits, jsonIssue } from "./InputBounds.js"

/**
 * @since 0.1.0
 */
export interface ConnectorRegistryShape {
  /** A connector by descriptor id or key. */
  readonly get: (idOrKey: string) => Effect.Effect<Connector, ConnectorNotFound>
  /** Every installed descriptor. */
  readonly list: ReadonlyArray<DescriptorSummary>
}

/**
 * @since 0.1.0
 */
export class ConnectorRegistry extends Context.Tag("@patchbay/core/ConnectorRegistry")<
  ConnectorRegistry,
  ConnectorRegistryShape
>() {}

/**
 * A registry of the given connectors (or effects that build them, for drivers that need services
 * such as the `EgressPolicy`). A connector built with a `Scope` (one that holds connection pools)
 * gets the layer's: its resources are released with the layer. Two connectors with the same id or
 * key are a defect at start.
 *
 * @since 0.1.0
 */
export const layer = <E = never, R = never>(
  connectors: ReadonlyArray<Connector | Effect.Effect<Connector, E, R>>
): Layer.Layer<ConnectorRegistry, E, Exclude<R, Scope.Scope>> =>
  Layer.scoped(
    ConnectorRegistry,
    Effect.gen(function* () {
      const byKey = new Map<string, Connector>()
      for (const entry of connectors) {
        const connector = Effect.isEffect(entry) ? yield* entry : entry
        for (const key of [connector.descriptor.id, connector.descriptor.key]) {
          if (byKey.has(key)) return yield* Effect.dieMessage(`connector ${key} is registered twice`)
          byKey.set(key, connector)
        }
      }
      const list = [...new Set(byKey.values())].map((c) => summary(c.descriptor))
      return ConnectorRegistry.of({
        get: (idOrKey) => {
          const found = byKey.get(idOrKey)
          return found === undefined
            ? Effect.fail(new ConnectorNotFound({ connector: idOrKey }))
            : Effect.succeed(found)
        },
        list
      })
    })
  )

const parseOptions = { errors: "all", onExcessProperty: "ignore" } as const

/** Header names whose values are credentials. */
const credentialHeaders = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "api-key",
  "x-auth-token"
])
/** A libpq connection string that spells out a password. */
const conninfoPassword = /(?:^|\s)password\s*=/i

const pathText = (path: ReadonlyArray<string | number>) =>
  path.length === 0
    ? "configuration"
    : path.map((key) => (typeof key === "number" || /^[A-Za-z0-9_$-]{1,64}$/.test(key) ? key : "[key]")).join(".")

/**
 * Whether a configuration string carries a password: a connection string with `password=`, or a
 * URL with `user:password@` (also when the password holds characters a URL parser stops at).
 */
const holdsPassword = (text: string): boolean => {
  if (conninfoPassword.test(text)) return true
  const scheme = text.indexOf("://")
  if (scheme < 0) return false
  const at = text.indexOf("@", scheme + 3)
  return at > 0 && text.slice(scheme + 3, at).includes(":")
}

/**
 * The paths of configuration values that are credentials whatever the descriptor says: a
 * credential header (`Authorization`, `Cookie`, `X-API-Key`, …) and a URL or connection string
 * with a password. Configuration is shown in clear, so these never belong there.
 */
const credentialPaths = (input: unknown): Array<string> => {
  const found: Array<string> = []
  const stack: Array<readonly [unknown, ReadonlyArray<string | number>]> = [[input, []]]
  while (stack.length > 0 && found.length < 16) {
    const [value, path] = stack.pop()!
    if (typeof value === "string") {
      if (holdsPassword(value)) found.push(pathText(path))
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push([item, [...path, i]]))
    } else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (credentialHeaders.has(key.toLowerCase())) found.push(pathText([...path, key]))
        else stack.push([item, [...path, key]])
      }
    }
  }
  return found.sort()
}

/**
 * Decodes configuration input with the descriptor's schema and returns it in normalised encoded
 * form, as stored. Input beyond `InputBounds.configurationLimits`, a secret credential field, a
 * credential header and a URL or connection string with a password are refused by name; no
 * message quotes a value.
 *
 * @since 0.1.0
 */
export const validateConfiguration = (
  descriptor: ConnectorDescriptor,
  input: unknown
): Effect.Effect<Configuration, InvalidConfiguration> =>
  Effect.gen(function* () {
    const refuse = (detail: string) => new InvalidConfiguration({ connector: descriptor.key, detail })
    const bounds = jsonIssue(input ?? {}, configurationLimits)
    if (bounds !== undefined) return yield* refuse(`configuration ${bounds}`)
    if (typeof input === "object" && input !== null) {
      const misplaced = descriptor.secretFields.filter((field) => Object.hasOwn(input, field))
      if (misplaced.length > 0) {
        return yield* refuse(
          `${misplaced.join(", ")} ${misplaced.length === 1 ? "is a secret" : "are secrets"}: store ${misplaced.length === 1 ? "it" : "them"} as a credential, not in configuration`
        )
      }
    }
    const credentials = credentialPaths(input)
    if (credentials.length > 0) {
      return yield* refuse(
        `${credentials.join(", ")} ${credentials.length === 1 ? "holds" : "hold"} a credential (a credential header, or a URL or connection string with a password): store it as a credential, not in configuration`
      )
    }
    const decoded = yield* Schema.decodeUnknown(descriptor.configuration, parseOptions)(input ?? {})
    return (yield* Schema.encode(descriptor.configuration)(decoded)) as Configuration
  }).pipe(
    Effect.catchTag("ParseError", (error) =>
      Effect.fail(new InvalidConfiguration({ connector: descriptor.key, detail: describeParseError(error) }))
    )
  )

/**
 * Decodes credential input with the descriptor's credential schema and returns its encoded form
 * (the plaintext that gets sealed). Input beyond small JSON bounds is refused; error messages name
 * fields, never values.
 *
 * @since 0.1.0
 */
export const validateCredentials = (
  descriptor: ConnectorDescriptor,
  input: unknown
): Effect.Effect<Record<string, unknown>, InvalidConfiguration> => {
  const bounds = jsonIssue(input, credentialLimits)
  if (bounds !== undefined) {
    return Effect.fail(new InvalidConfiguration({ connector: descriptor.key, detail: `credentials ${bounds}` }))
  }
  return Schema.decodeUnknown(
    descriptor.credentials,
    parseOptions
  )(input).pipe(
    Effect.flatMap((decoded) => Schema.encode(descriptor.credentials)(decoded)),
    Effect.map((encoded) => encoded as Record<string, unknown>),
    Effect.catchTag("ParseError", (error) => Effect.fail(credentialsInvalid(descriptor, error)))
  )
}

/** Credential input: shallow, few values, strings up to 64 KiB (a private key, a service-account JSON). */
const credentialLimits = { maxDepth: 4, maxValues: 200, maxStringLength: 65_536, maxKeyLength: 128, maxSize: 262_144 }

const credentialsInvalid = (descriptor: ConnectorDescriptor, error: ParseResult.ParseError) =>
  new InvalidConfiguration({
    connector: descriptor.key,
    detail: `credentials ${describeParseError(error, { redact: true })}`
  })

/**
 * Builds a driver's context: configuration decoded from its stored form and credential plaintext
 * decoded with the credential schema (secret fields become `Redacted`), from the credential
 * version `credential`.
 *
 * @since 0.1.0
 */
export const driverContext = (
  connector: Connector,
  instance: ConnectorInstance,
  credentials: unknown,
  credential: CredentialVersion
): Effect.Effect<
  DriverContext<ConnectorDescriptor["configuration"]["Type"], ConnectorDescriptor["credentials"]["Type"]>,
  InvalidConfiguration
> =>
  Effect.all({
    configuration: Schema.decodeUnknown(
      connector.descriptor.configuration,
      parseOptions
    )(instance.configuration).pipe(
      Effect.catchTag("ParseError", (error) =>
        Effect.fail(
          new InvalidConfiguration({ connector: connector.descriptor.key, detail: describeParseError(error) })
        )
      )
    ),
    credentials: Schema.decodeUnknown(
      connector.descriptor.credentials,
      parseOptions
    )(credentials).pipe(
      Effect.catchTag("ParseError", (error) => Effect.fail(credentialsInvalid(connector.descriptor, error)))
    )
  }).pipe(Effect.map(({ configuration, credentials }) => ({ instance, configuration, credentials, credential })))
