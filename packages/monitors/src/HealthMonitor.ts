/**
 * The health monitor: at every tick it checks each enabled, active instance with credentials of the
 * watched organizations whose check of the current time slot no other process has claimed — the driver's health check
 * through the credential pipeline, with a timeout and bounded concurrency — records the check's
 * latency and outcome in the instance's `HealthHistory`, and records the outcome on the instance
 * with `ConnectorInstances.recordTest`, which emits `instance.health_changed` when it changes (and
 * `instance.reconnect_required` when the failure needs a person).
 *
 * @since 0.1.0
 */
import {
  Actor,
  type ConnectorInstance,
  ConnectorInstances,
  ConnectorRegistry,
  DomainError,
  DriverError,
  FailureClassifier,
  HealthHistory,
  MonitorClaims
} from "@patchbay/core"
import { Connection, CredentialResolver } from "@patchbay/credentials"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { actorFor, enabledInstances } from "./internal/instances.js"
import { slotOf } from "./internal/slots.js"
import { Organizations } from "./Monitors.js"

/**
 * `everyMinutes` (default 5): the length of a slot, in which each instance is checked once across
 * processes. `keep` (default 100): checks kept per instance. `concurrency` (default 4): checks at
 * once per process. `timeoutSeconds` (default 10): longest one check may take; then it failed
 * with `TimedOut`.
 *
 * @since 0.1.0
 */
export class HealthOptions extends Schema.Class<HealthOptions>("@patchbay/monitors/HealthOptions")({
  everyMinutes: Schema.optionalWith(
    Schema.Number.pipe(
      Schema.between(0.001, 10_080, { message: () => "everyMinutes must be between 0.001 and 10080" })
    ),
    { default: () => 5 }
  ),
  keep: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 10_000)), { default: () => 100 }),
  concurrency: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 64)), { default: () => 4 }),
  timeoutSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(0.001, 3_600)), { default: () => 10 })
}) {}

/**
 * What one tick did: instances it checked (and how many of those failed), and instances whose
 * check of this slot another tick or process had claimed.
 *
 * @since 0.1.0
 */
export interface HealthReport {
  readonly checked: number
  readonly failed: number
  readonly skipped: number
}

/**
 * An instance's newest checks (newest first) and their summary.
 *
 * @since 0.1.0
 */
export interface InstanceHealth {
  readonly checks: ReadonlyArray<HealthHistory.HealthCheck>
  readonly summary: HealthHistory.Summary
}

/**
 * @since 0.1.0
 */
export interface HealthMonitorShape {
  /** Checks every enabled instance of the watched organizations not yet checked in this slot. */
  readonly tick: Effect.Effect<HealthReport, DomainError.StorageError>
  /** The instance's newest `limit` checks (default 20) with p50/p95 latency, as the actor sees it. */
  readonly history: (
    instanceId: string,
    limit?: number
  ) => Effect.Effect<InstanceHealth, DomainError.InstanceNotFound | DomainError.StorageError, Actor.Actor>
}

/**
 * The health monitor service.
 *
 * @since 0.1.0
 */
export class HealthMonitor extends Context.Tag("@patchbay/monitors/HealthMonitor")<
  HealthMonitor,
  HealthMonitorShape
>() {}

/**
 * What the health monitor is built on.
 *
 * @since 0.1.0
 */
export type Requirements =
  | Organizations
  | ConnectorInstances.ConnectorInstances
  | ConnectorRegistry.ConnectorRegistry
  | CredentialResolver.CredentialResolver
  | HealthHistory.HealthHistory
  | MonitorClaims.MonitorClaims

const monitorName = "health"

/** Failures that mean the instance could not be checked at all (gone, or the store failed). */
const isOperational = (error: { readonly _tag: string }) =>
  error._tag === "InstanceNotFound" || error._tag === "StorageError"

/**
 * The health monitor; invalid options fail the layer with `InvalidInput`.
 *
 * @since 0.1.0
 */
export const layer = (
  options: typeof HealthOptions.Encoded = {}
): Layer.Layer<HealthMonitor, DomainError.InvalidInput, Requirements> =>
  Layer.effect(
    HealthMonitor,
    Effect.gen(function* () {
      const settings = yield* Schema.decodeUnknown(HealthOptions, { onExcessProperty: "error" })(options).pipe(
        Effect.mapError((error) => DomainError.InvalidInput.fromParseError(error))
      )
      const context = yield* Effect.context<Requirements>()
      const organizations = Context.get(context, Organizations)
      const instances = Context.get(context, ConnectorInstances.ConnectorInstances)
      const history = Context.get(context, HealthHistory.HealthHistory)
      const claims = Context.get(context, MonitorClaims.MonitorClaims)
      const everyMillis = settings.everyMinutes * 60_000
      const timeoutMillis = settings.timeoutSeconds * 1_000

      /** One check: the driver's health check, timed, with its failure as a value. */
      const probe = (instance: ConnectorInstance.ConnectorInstance) =>
        Effect.gen(function* () {
          const start = performance.now()
          const outcome = yield* Connection.open(instance).pipe(
            Effect.flatMap((connection) => connection.connector.driver.healthCheck(connection.context)),
            Effect.timeoutFail({
              duration: timeoutMillis,
              onTimeout: () => new DriverError.TimedOut({ target: instance.instanceName, afterMillis: timeoutMillis })
            }),
            Effect.either
          )
          return { outcome, latencyMs: Math.round((performance.now() - start) * 100) / 100 }
        }).pipe(Effect.provide(context), Effect.provideService(Actor.Actor, actorFor(instance)))

      const checkOne = (instance: ConnectorInstance.ConnectorInstance, slot: ReturnType<typeof slotOf>) =>
        Effect.gen(function* () {
          // Kept a slot longer than it lasts, so a process whose clock runs behind cannot claim it again.
          const expiresAt = new Date(slot.endsAt.getTime() + everyMillis)
          const won = yield* claims.claim({ monitor: monitorName, key: instance.id, slot: slot.slot, expiresAt })
          if (!won) return "skipped" as const
          const { latencyMs, outcome } = yield* probe(instance)
          if (Either.isLeft(outcome) && isOperational(outcome.left)) {
            yield* Effect.logWarning("an instance could not be checked").pipe(
              Effect.annotateLogs({ instanceId: instance.id, error: outcome.left.message })
            )
            return "skipped" as const
          }
          const checkedAt = new Date(yield* Clock.currentTimeMillis)
          const failure = Either.isLeft(outcome) ? outcome.left : undefined
          yield* history.record(
            HealthHistory.HealthCheck.make({
              orgId: instance.orgId,
              instanceId: instance.id,
              checkedAt,
              latencyMs,
              outcome: failure === undefined ? "success" : "failed",
              failure: failure === undefined ? null : failure._tag
            }),
            settings.keep
          )
          yield* instances
            .recordTest(instance.id, {
              status: failure === undefined ? "success" : "failed",
              message: failure === undefined ? "ok" : failure.message,
              testedAt: checkedAt,
              instanceStatus:
                failure === undefined
                  ? "active"
                  : FailureClassifier.needsReconnect(instance, failure)
                    ? "reconnect_required"
                    : undefined
            })
            .pipe(
              Effect.provideService(Actor.Actor, actorFor(instance)),
              Effect.catchTag("InstanceNotFound", () => Effect.void)
            )
          return failure === undefined ? ("healthy" as const) : ("failed" as const)
        }).pipe(Effect.withSpan("HealthMonitor.check", { attributes: { instanceId: instance.id } }))

      const tick = Effect.gen(function* () {
        const slot = slotOf(yield* Clock.currentTimeMillis, everyMillis)
        const report = { checked: 0, failed: 0, skipped: 0 }
        for (const orgId of yield* organizations) {
          yield* enabledInstances(instances, orgId).pipe(
            // Not yet configured, or waiting for a person: a check would only repeat a known failure
            // (and, with refused credentials, could lock the account out).
            Stream.filter((instance) => instance.hasCredentials && instance.status === "active"),
            Stream.mapEffect((instance) => checkOne(instance, slot), {
              concurrency: settings.concurrency,
              unordered: true
            }),
            Stream.runForEach((result) =>
              Effect.sync(() => {
                if (result === "skipped") report.skipped++
                else {
                  report.checked++
                  if (result === "failed") report.failed++
                }
              })
            )
          )
        }
        yield* claims.prune(new Date(yield* Clock.currentTimeMillis))
        return report as HealthReport
      }).pipe(Effect.withSpan("HealthMonitor.tick"))

      const historyOf = Effect.fn("HealthMonitor.history")(function* (instanceId: string, limit = 20) {
        const instance = yield* instances.getInstance(instanceId)
        const checks = yield* history.latest(instance.orgId, instance.id, Math.max(1, Math.min(10_000, limit)))
        return { checks, summary: HealthHistory.summarize(checks) } satisfies InstanceHealth
      })

      return HealthMonitor.of({ tick, history: historyOf })
    })
  )
