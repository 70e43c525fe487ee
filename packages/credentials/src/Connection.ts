/**
 * The call pipeline every driver call goes through: an instance made ready for its driver — its
 * connector (looked up once per call), the operation checked against the descriptor, its
 * credential resolved for the current actor, and the driver context decoded from both. Connection
 * tests and activities both open connections here.
 *
 * This is the one place where text from a peer is scrubbed of the credential in use: the opened
 * connection's driver answers with every failure (its fields, message and stack, and any defect)
 * and its test's success text stripped of every secret value of the resolved credential and of its
 * encodings (`SecretScrubber`), before the text reaches an error, a span, a log, a `test_message`
 * or an audit row.
 *
 * @since 0.1.0
 */
import {
  type Actor,
  type ConnectorDescriptor,
  type ConnectorDriver,
  type ConnectorInstance,
  ConnectorRegistry,
  type Credential,
  DomainError,
  SecretScrubber
} from "@patchbay/core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as CredentialResolver from "./CredentialResolver.js"

/**
 * An opened connection: the instance, its connector (whose driver's answers are scrubbed), the
 * credential version in use and the driver context.
 *
 * @since 0.1.0
 */
export interface Connection {
  readonly instance: ConnectorInstance.ConnectorInstance
  readonly connector: ConnectorDriver.Connector
  /** Removes the credential's secret values and their encodings from `text`. */
  readonly scrub: (text: string) => string
  readonly credential: Credential.CredentialMetadata
  readonly context: ConnectorDriver.DriverContext<
    ConnectorDescriptor.ConnectorDescriptor["configuration"]["Type"],
    ConnectorDescriptor.ConnectorDescriptor["credentials"]["Type"]
  >
}

/**
 * Options of `open`: a credential scope to use instead of the actor's precedence (the actor must
 * belong to it), and the operation the connection is for — checked against the connector's
 * descriptor before any credential is resolved.
 *
 * @since 0.1.0
 */
export interface OpenOptions extends CredentialResolver.ResolveOptions {
  readonly operation?: ConnectorDescriptor.Operation | undefined
}

/**
 * Failures of `open`.
 *
 * @since 0.1.0
 */
export type OpenError =
  | CredentialResolver.ResolveError
  | DomainError.ConnectorNotFound
  | DomainError.OperationUnsupported
  | DomainError.InvalidConfiguration

/**
 * Opens a connection for `instance`: one registry lookup, the operation check, the credential
 * resolution (with refresh) and the driver context.
 *
 * @since 0.1.0
 */
export const open: (
  instance: ConnectorInstance.ConnectorInstance,
  options?: OpenOptions
) => Effect.Effect<
  Connection,
  OpenError,
  ConnectorRegistry.ConnectorRegistry | CredentialResolver.CredentialResolver | Actor.Actor
> = Effect.fn("Connection.open")(function* (instance: ConnectorInstance.ConnectorInstance, options?: OpenOptions) {
  const registry = yield* ConnectorRegistry.ConnectorRegistry
  const resolver = yield* CredentialResolver.CredentialResolver
  const connector = yield* registry.get(instance.connectorId)
  const operation = options?.operation
  if (operation !== undefined && !connector.descriptor.operations.includes(operation)) {
    return yield* new DomainError.OperationUnsupported({ connector: instance.connectorKey, operation })
  }
  const resolved = yield* resolver.resolve(instance, options)
  const context = yield* ConnectorRegistry.driverContext(connector, instance, Redacted.value(resolved.secrets))
  const scrubber = SecretScrubber.fromCredentials(context.credentials, {
    secretFields: connector.descriptor.secretFields
  })
  return {
    instance,
    connector:
      scrubber.secrets === 0 ? connector : { ...connector, driver: scrubbedDriver(connector.driver, scrubber.scrub) },
    scrub: scrubber.scrub,
    credential: resolved.metadata,
    context
  } satisfies Connection
})

type Scrub = (text: string) => string

/** Values whose text is not a peer's: left as they are. */
const isOpaque = (value: object) =>
  value instanceof Date ||
  ArrayBuffer.isView(value) ||
  value instanceof Map ||
  value instanceof Set ||
  Redacted.isRedacted(value)

/**
 * A copy of `value` with every string in it scrubbed: errors keep their class (and so their
 * `message`, computed from their fields), and their stack is scrubbed text.
 */
const scrubValue = <A>(value: A, scrub: Scrub, depth = 0): A => {
  if (typeof value === "string") return scrub(value) as A
  if (typeof value !== "object" || value === null || depth > 4 || isOpaque(value)) return value
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, scrub, depth + 1)) as A
  const copy: object = Object.create(Object.getPrototypeOf(value))
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!
    if (key === "stack" || key === "message") {
      const text: unknown = Reflect.get(value, key)
      Object.defineProperty(copy, key, {
        value: typeof text === "string" ? scrub(text) : text,
        writable: true,
        configurable: true,
        enumerable: descriptor.enumerable ?? false
      })
    } else if ("value" in descriptor) {
      Object.defineProperty(copy, key, { ...descriptor, value: scrubValue(descriptor.value, scrub, depth + 1) })
    }
  }
  return copy as A
}

/** `effect` with its failures, defects and (for text) its success scrubbed. */
const scrubbed = <A, E, R>(effect: Effect.Effect<A, E, R>, scrub: Scrub): Effect.Effect<A, E, R> =>
  Effect.catchAllCause(effect, (cause) =>
    Effect.failCause(
      Cause.isInterruptedOnly(cause)
        ? cause
        : cause.pipe(
            Cause.map((error) => scrubValue(error, scrub)),
            (mapped) => (Cause.isDie(mapped) ? Cause.die(scrubValue(Cause.squash(mapped), scrub)) : mapped)
          )
    )
  )

/** The driver with every answer scrubbed: failures of every call, the test's success text. */
const scrubbedDriver = (
  driver: ConnectorDriver.Connector["driver"],
  scrub: Scrub
): ConnectorDriver.Connector["driver"] => {
  const { discoverSchema, executeDdl, fetchFile, query, sendEmail, sendSms, streamQuery } = driver
  return {
    test: (context) => Effect.map(scrubbed(driver.test(context), scrub), scrub),
    healthCheck: (context) => scrubbed(driver.healthCheck(context), scrub),
    ...(query && { query: (context, request) => scrubbed(query(context, request), scrub) }),
    ...(streamQuery && {
      streamQuery: (context, request) =>
        Stream.catchAllCause(streamQuery(context, request), (cause) =>
          Stream.fromEffect(scrubbed(Effect.failCause(cause), scrub))
        )
    }),
    ...(discoverSchema && {
      discoverSchema: (context, request) => scrubbed(discoverSchema(context, request), scrub)
    }),
    ...(executeDdl && { executeDdl: (context, request) => scrubbed(executeDdl(context, request), scrub) }),
    ...(sendEmail && { sendEmail: (context, message) => scrubbed(sendEmail(context, message), scrub) }),
    ...(sendSms && { sendSms: (context, message) => scrubbed(sendSms(context, message), scrub) }),
    ...(fetchFile && { fetchFile: (context, request, sink) => scrubbed(fetchFile(context, request, sink), scrub) })
  }
}
