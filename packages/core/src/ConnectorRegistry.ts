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
import { type ConnectorDescriptor, type DescriptorSummary, summary } from "./ConnectorDescriptor.js"
import type { Connector, DriverContext } from "./ConnectorDriver.js"
import type { Configuration, ConnectorInstance } from "./ConnectorInstance.js"
import { ConnectorNotFound, describeParseError, InvalidConfiguration } from "./DomainError.js"

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
 * such as the `EgressPolicy`). Two connectors with the same id or key are a defect at start.
 *
 * @since 0.1.0
 */
export const layer = <E = never, R = never>(
  connectors: ReadonlyArray<Connector | Effect.Effect<Connector, E, R>>
): Layer.Layer<ConnectorRegistry, E, R> =>
  Layer.effect(
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

/**
 * Decodes configuration input with the descriptor's schema and returns it in normalised encoded
 * form, as stored. A secret credential field placed in configuration is refused by name.
 *
 * @since 0.1.0
 */
export const validateConfiguration = (
  descriptor: ConnectorDescriptor,
  input: unknown
): Effect.Effect<Configuration, InvalidConfiguration> =>
  Effect.gen(function* () {
    if (typeof input === "object" && input !== null) {
      const misplaced = descriptor.secretFields.filter((field) => Object.hasOwn(input, field))
      if (misplaced.length > 0) {
        return yield* new InvalidConfiguration({
          connector: descriptor.key,
          detail: `${misplaced.join(", ")} ${misplaced.length === 1 ? "is a secret" : "are secrets"}: store ${misplaced.length === 1 ? "it" : "them"} as a credential, not in configuration`
        })
      }
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
 * (the plaintext that gets sealed). Error messages name fields, never values.
 *
 * @since 0.1.0
 */
export const validateCredentials = (
  descriptor: ConnectorDescriptor,
  input: unknown
): Effect.Effect<Record<string, unknown>, InvalidConfiguration> =>
  Schema.decodeUnknown(
    descriptor.credentials,
    parseOptions
  )(input).pipe(
    Effect.flatMap((decoded) => Schema.encode(descriptor.credentials)(decoded)),
    Effect.map((encoded) => encoded as Record<string, unknown>),
    Effect.catchTag("ParseError", (error) => Effect.fail(credentialsInvalid(descriptor, error)))
  )

const credentialsInvalid = (descriptor: ConnectorDescriptor, error: ParseResult.ParseError) =>
  new InvalidConfiguration({
    connector: descriptor.key,
    detail: `credentials ${describeParseError(error, { redact: true })}`
  })

/**
 * Builds a driver's context: configuration decoded from its stored form and credential plaintext
 * decoded with the credential schema (secret fields become `Redacted`).
 *
 * @since 0.1.0
 */
export const driverContext = (
  connector: Connector,
  instance: ConnectorInstance,
  credentials: unknown
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
  }).pipe(Effect.map(({ configuration, credentials }) => ({ instance, configuration, credentials })))
