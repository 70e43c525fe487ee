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
 * or an audit row. It is also where failures are counted (`PatchbayMetrics.recordFailure`: the
 * opening's and every driver call's) and health-check round trips timed.
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
  DriverError,
  type FailureClassifier,
  PatchbayMetrics,
  SecretScrubber
} from "@patchbay/core"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
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
> = Effect.fn("Connection.open")(
  function* (instance: ConnectorInstance.ConnectorInstance, options?: OpenOptions) {
    const registry = yield* ConnectorRegistry.ConnectorRegistry
    const resolver = yield* CredentialResolver.CredentialResolver
    const connector = yield* registry.get(instance.connectorId)
    const operation = options?.operation
    if (operation !== undefined && !connector.descriptor.operations.includes(operation)) {
      return yield* new DomainError.OperationUnsupported({ connector: instance.connectorKey, operation })
    }
    const resolved = yield* resolver.resolve(instance, options)
    const { id, version, scope } = resolved.metadata
    const context = yield* ConnectorRegistry.driverContext(connector, instance, Redacted.value(resolved.secrets), {
      id,
      version,
      scope: scope.key
    })
    const scrubber = SecretScrubber.fromCredentials(context.credentials, {
      secretFields: connector.descriptor.secretFields
    })
    return {
      instance,
      connector: {
        ...connector,
        driver: guardedDriver(connector.driver, instance, scrubber.secrets === 0 ? undefined : scrubber.scrub)
      },
      scrub: scrubber.scrub,
      credential: resolved.metadata,
      context
    } satisfies Connection
  },
  (effect, instance) => Effect.tapError(effect, (error) => PatchbayMetrics.recordFailure(instance, error))
)

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

const isDriverError = Schema.is(DriverError.DriverError)

/**
 * The driver as an opened connection calls it: every call's failure counted, scrubbed (when the
 * credential has secret values) with the test's success text, and the health check timed.
 */
const guardedDriver = (
  driver: ConnectorDriver.Connector["driver"],
  instance: FailureClassifier.InstanceRef,
  scrub: Scrub | undefined
): ConnectorDriver.Connector["driver"] => {
  const { discoverSchema, executeDdl, fetchFile, query, sendEmail, sendSms, streamQuery } = driver
  const record = (error: FailureClassifier.Failure) => PatchbayMetrics.recordFailure(instance, error)
  const guard = <A, E extends FailureClassifier.Failure>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> => {
    const observed = Effect.tapError(effect, record)
    return scrub === undefined ? observed : scrubbed(observed, scrub)
  }
  return {
    test: (context) => {
      const tested = guard(driver.test(context))
      return scrub === undefined ? tested : Effect.map(tested, scrub)
    },
    healthCheck: (context) =>
      Effect.flatMap(Effect.timed(Effect.exit(guard(driver.healthCheck(context)))), ([took, exit]) =>
        Effect.zipRight(
          PatchbayMetrics.recordHealthCheck(
            instance.connectorKey,
            Exit.isSuccess(exit) ? "healthy" : "unhealthy",
            Duration.toMillis(took)
          ),
          exit
        )
      ),
    ...(query && { query: (context, request) => guard(query(context, request)) }),
    ...(streamQuery && {
      streamQuery: (context, request) => {
        const observed = Stream.tapError(streamQuery(context, request), record)
        return scrub === undefined
          ? observed
          : Stream.catchAllCause(observed, (cause) => Stream.fromEffect(scrubbed(Effect.failCause(cause), scrub)))
      }
    }),
    ...(discoverSchema && { discoverSchema: (context, request) => guard(discoverSchema(context, request)) }),
    ...(executeDdl && { executeDdl: (context, request) => guard(executeDdl(context, request)) }),
    ...(sendEmail && { sendEmail: (context, message) => guard(sendEmail(context, message)) }),
    ...(sendSms && { sendSms: (context, message) => guard(sendSms(context, message)) }),
    ...(fetchFile && {
      fetchFile: (context, request, sink) => {
        // The sink's own failures are the caller's, not the peer's: only driver failures are counted.
        const observed = Effect.tapError(fetchFile(context, request, sink), (error) =>
          isDriverError(error) || error instanceof DomainError.EgressDenied ? record(error) : Effect.void
        )
        return scrub === undefined ? observed : scrubbed(observed, scrub)
      }
    })
  }
}
