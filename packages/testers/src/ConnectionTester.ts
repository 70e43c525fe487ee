/**
 * Connection tests, health checks and bulk operations over connector instances.
 *
 * - `testConnection` runs the driver's test and records the outcome on the instance
 *   (`last_tested_at`, `test_status`, `test_message`); a failure core's `FailureClassifier` says
 *   needs a reconnect (refused credentials, none stored, expired, undecryptable) also marks the
 *   instance `reconnect_required`, as an activity would; a success marks it `active` again.
 * - `healthCheck` measures one round trip and honours its timeout even when the peer never answers.
 * - `bulkOperation` runs one action over at most 50 instances with bounded concurrency; every
 *   instance gets its own result, and one failure never fails the batch.
 *
 * @since 0.1.0
 */
import {
  type Actor,
  ConnectorInstances,
  type ConnectorRegistry,
  DomainError,
  DriverError,
  FailureClassifier,
  Ids,
  InputBounds
} from "@patchbay/core"
import { Connection, type CredentialResolver } from "@patchbay/credentials"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/**
 * The most instances one bulk operation may name.
 *
 * @since 0.1.0
 */
export const maxBatchSize = 50

/**
 * The outcome of a connection test.
 *
 * @since 0.1.0
 */
export class TestResult extends Schema.Class<TestResult>("@patchbay/testers/TestResult")({
  instanceId: Schema.String,
  status: Schema.Literal("success", "failed"),
  message: Schema.String,
  testedAt: Schema.Date,
  /** The failure's tag (`AuthFailed`, `Unreachable`, `CredentialNotFound`, …) when it failed. */
  failure: Schema.NullOr(Schema.String)
}) {}

/**
 * The outcome of a health check.
 *
 * @since 0.1.0
 */
export class HealthResult extends Schema.Class<HealthResult>("@patchbay/testers/HealthResult")({
  instanceId: Schema.String,
  status: Schema.Literal("healthy", "unhealthy"),
  latencyMs: Schema.Number,
  checkedAt: Schema.Date,
  message: Schema.String,
  failure: Schema.NullOr(Schema.String)
}) {}

/**
 * The outcome of a credential refresh: the version now in use and when it expires.
 *
 * @since 0.1.0
 */
export class RefreshResult extends Schema.Class<RefreshResult>("@patchbay/testers/RefreshResult")({
  instanceId: Schema.String,
  credentialId: Schema.String,
  version: Schema.Int,
  expiresAt: Schema.NullOr(Schema.Date)
}) {}

/**
 * What a bulk operation does to each instance.
 *
 * @since 0.1.0
 */
export const BulkAction = Schema.Literal("health_check", "test_connection", "refresh_credentials")
/** @since 0.1.0 */
export type BulkAction = typeof BulkAction.Type

/**
 * Options shared by the operations: a credential scope to use instead of the actor's precedence,
 * and a timeout (default 10 s).
 *
 * @since 0.1.0
 */
export interface CheckOptions extends CredentialResolver.ResolveOptions {
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * Why an operation could not run at all (as opposed to a test that ran and failed).
 *
 * @since 0.1.0
 */
export type OperationError =
  | DomainError.InstanceNotFound
  | DomainError.ScopeForbidden
  | DomainError.InvalidInput
  | DomainError.StorageError

/**
 * Why a credential refresh failed.
 *
 * @since 0.1.0
 */
export type RefreshFailure = Connection.OpenError

/**
 * One instance's result in a bulk operation: its value or its own typed error.
 *
 * @since 0.1.0
 */
export interface BulkResult {
  readonly instanceId: string
  readonly action: BulkAction
  readonly result: Either.Either<TestResult | HealthResult | RefreshResult, OperationError | RefreshFailure>
}

/**
 * Connection tests, health checks, credential refreshes and bulk operations on instances.
 *
 * @since 0.1.0
 */
export interface ConnectionTesterShape {
  readonly testConnection: (
    instanceId: string,
    options?: CheckOptions
  ) => Effect.Effect<TestResult, OperationError, Actor.Actor>
  readonly healthCheck: (
    instanceId: string,
    options?: CheckOptions
  ) => Effect.Effect<HealthResult, OperationError, Actor.Actor>
  /** Resolves the credential in use (refreshing an OAuth2 token that is due) and reports it. */
  readonly refreshCredentials: (
    instanceId: string,
    options?: CheckOptions
  ) => Effect.Effect<RefreshResult, OperationError | RefreshFailure, Actor.Actor>
  readonly bulkOperation: (request: {
    readonly instanceIds: ReadonlyArray<string>
    readonly action: BulkAction
    readonly timeout?: Duration.DurationInput | undefined
  }) => Effect.Effect<ReadonlyArray<BulkResult>, DomainError.BatchTooLarge | DomainError.InvalidInput, Actor.Actor>
}

/**
 * The connection tester service.
 *
 * @since 0.1.0
 */
export class ConnectionTester extends Context.Tag("@patchbay/testers/ConnectionTester")<
  ConnectionTester,
  ConnectionTesterShape
>() {}

/**
 * Options of the layer: how many instances a bulk operation works on at once (default 50, the
 * largest batch: a batch is already bounded, and its wall time is then that of its slowest check).
 *
 * @since 0.1.0
 */
export interface TesterOptions {
  readonly bulkConcurrency?: number | undefined
}

const defaultTimeout = Duration.seconds(10)
const now = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))

/** Failures that end an operation instead of becoming a failed test. */
const isOperationError = (error: { readonly _tag: string }): error is OperationError =>
  error._tag === "InstanceNotFound" ||
  error._tag === "ScopeForbidden" ||
  error._tag === "InvalidInput" ||
  error._tag === "StorageError"

/**
 * The timeout an operation was given, decoded: a finite duration from 0 to core's
 * `InputBounds.maxDurationMillis` (numbers are non-negative milliseconds; Duration strings such as "10 seconds"
 * are read as `Duration.decode` reads them). NaN, infinity, other strings and objects are refused.
 */
const decodeTimeout = (timeout: unknown): Effect.Effect<Duration.Duration, DomainError.InvalidInput> => {
  if (timeout === undefined) return Effect.succeed(defaultTimeout)
  const decoded =
    (typeof timeout === "number" && Number.isFinite(timeout) && timeout >= 0) ||
    // Duration.decode reads a negative string ("-5 seconds") as zero.
    (typeof timeout === "string" && !timeout.includes("-")) ||
    Duration.isDuration(timeout)
      ? Duration.decodeUnknown(timeout)
      : Option.none()
  if (Option.isSome(decoded) && Duration.isFinite(decoded.value)) {
    const millis = Duration.toMillis(decoded.value)
    if (Number.isFinite(millis) && millis >= 0 && millis <= InputBounds.maxDurationMillis)
      return Effect.succeed(decoded.value)
  }
  return Effect.fail(
    new DomainError.InvalidInput({
      detail: `timeout must be a finite duration from 0 to ${InputBounds.maxDurationMillis} milliseconds`
    })
  )
}

/** Bulk instance ids: at most `maxBatchSize` UUIDs (no NUL or unpaired surrogate can pass). */
const BulkIds = InputBounds.boundedArray(Ids.InstanceId, maxBatchSize)

const withTimeout =
  (timeout: Duration.DurationInput, target: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | DriverError.TimedOut, R> =>
    Effect.timeoutFail(effect, {
      duration: timeout,
      onTimeout: () => new DriverError.TimedOut({ target, afterMillis: Duration.toMillis(timeout) })
    })

/**
 * The tester on `ConnectorInstances`, `ConnectorRegistry` and `CredentialResolver`.
 *
 * @since 0.1.0
 */
export const layerWith = (
  options: TesterOptions = {}
): Layer.Layer<
  ConnectionTester,
  never,
  ConnectorInstances.ConnectorInstances | ConnectorRegistry.ConnectorRegistry | CredentialResolver.CredentialResolver
> =>
  Layer.effect(
    ConnectionTester,
    Effect.gen(function* () {
      const context = yield* Effect.context<
        | ConnectorInstances.ConnectorInstances
        | ConnectorRegistry.ConnectorRegistry
        | CredentialResolver.CredentialResolver
      >()
      const instances = Context.get(context, ConnectorInstances.ConnectorInstances)

      /** Opens the connection and runs `use` on it within the timeout; failures come back as values. */
      const attempt = <A, E>(
        instance: Parameters<typeof Connection.open>[0],
        options: CheckOptions | undefined,
        use: (connection: Connection.Connection) => Effect.Effect<A, E>
      ) =>
        Connection.open(instance, options).pipe(
          Effect.flatMap(use),
          (effect) =>
            Effect.flatMap(decodeTimeout(options?.timeout), (timeout) =>
              withTimeout(timeout, instance.instanceName)(effect)
            ),
          Effect.either,
          Effect.provide(context)
        )

      const testConnection = Effect.fn("ConnectionTester.testConnection")(function* (
        instanceId: string,
        options?: CheckOptions
      ) {
        const instance = yield* instances.getInstance(instanceId)
        const outcome = yield* attempt(instance, options, (c) => c.connector.driver.test(c.context))
        if (Either.isLeft(outcome) && isOperationError(outcome.left)) return yield* Effect.fail(outcome.left)
        const testedAt = yield* now
        const result = Either.match(outcome, {
          onRight: (detail) =>
            TestResult.make({ instanceId: instance.id, status: "success", message: detail, testedAt, failure: null }),
          onLeft: (error) =>
            TestResult.make({
              instanceId: instance.id,
              status: "failed",
              message: error.message,
              testedAt,
              failure: error._tag
            })
        })
        yield* instances.recordTest(instance.id, {
          status: result.status,
          message: result.message,
          testedAt,
          instanceStatus: Either.isRight(outcome)
            ? "active"
            : FailureClassifier.needsReconnect(instance, outcome.left)
              ? "reconnect_required"
              : undefined
        })
        return result
      })

      const healthCheck = Effect.fn("ConnectionTester.healthCheck")(function* (
        instanceId: string,
        options?: CheckOptions
      ) {
        const instance = yield* instances.getInstance(instanceId)
        const start = performance.now()
        const outcome = yield* attempt(instance, options, (c) => c.connector.driver.healthCheck(c.context))
        const latencyMs = Math.round((performance.now() - start) * 100) / 100
        if (Either.isLeft(outcome) && isOperationError(outcome.left)) return yield* Effect.fail(outcome.left)
        return HealthResult.make({
          instanceId: instance.id,
          status: Either.isRight(outcome) ? "healthy" : "unhealthy",
          latencyMs,
          checkedAt: yield* now,
          message: Either.isRight(outcome) ? "ok" : outcome.left.message,
          failure: Either.isRight(outcome) ? null : outcome.left._tag
        })
      })

      const refreshCredentials = Effect.fn("ConnectionTester.refreshCredentials")(function* (
        instanceId: string,
        options?: CheckOptions
      ) {
        yield* decodeTimeout(options?.timeout)
        const instance = yield* instances.getInstance(instanceId)
        const connection = yield* Connection.open(instance, options).pipe(Effect.provide(context))
        return RefreshResult.make({
          instanceId: instance.id,
          credentialId: connection.credential.id,
          version: connection.credential.version,
          expiresAt: connection.credential.expiresAt
        })
      })

      const run = (
        action: BulkAction,
        instanceId: string,
        options: CheckOptions
      ): Effect.Effect<TestResult | HealthResult | RefreshResult, OperationError | RefreshFailure, Actor.Actor> => {
        switch (action) {
          case "health_check":
            return healthCheck(instanceId, options)
          case "test_connection":
            return testConnection(instanceId, options)
          case "refresh_credentials":
            return refreshCredentials(instanceId, options)
        }
      }

      const bulkOperation = Effect.fn("ConnectionTester.bulkOperation")(function* (request: {
        readonly instanceIds: ReadonlyArray<string>
        readonly action: BulkAction
        readonly timeout?: Duration.DurationInput | undefined
      }) {
        const action = yield* Schema.decodeUnknown(BulkAction)(request.action).pipe(
          Effect.mapError(
            () => new DomainError.InvalidInput({ detail: `unknown bulk action ${String(request.action)}` })
          )
        )
        const given: unknown = request.instanceIds
        const unique = Array.isArray(given) ? [...new Set<unknown>(given)] : given
        if (Array.isArray(unique) && unique.length > maxBatchSize) {
          return yield* new DomainError.BatchTooLarge({ size: unique.length, max: maxBatchSize })
        }
        const ids = yield* InputBounds.decode(BulkIds)(unique).pipe(
          Effect.mapError((error) => new DomainError.InvalidInput({ detail: `instanceIds ${error.detail}` }))
        )
        yield* decodeTimeout(request.timeout)
        return yield* Effect.forEach(
          ids,
          (instanceId) =>
            Effect.map(
              Effect.either(run(action, instanceId, { timeout: request.timeout })),
              (result): BulkResult => ({ instanceId, action, result })
            ),
          { concurrency: options.bulkConcurrency ?? maxBatchSize }
        )
      })

      return ConnectionTester.of({ testConnection, healthCheck, refreshCredentials, bulkOperation })
    })
  )

/**
 * The tester with default options.
 *
 * @since 0.1.0
 */
export const layer = layerWith()
