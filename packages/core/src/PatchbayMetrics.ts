/**
 * Patchbay's metrics, as effect `Metric`s: they live in effect's in-process registry and cost a
 * map lookup and an addition per update; an exporter (`@patchbay/telemetry`) reads them. Every
 * metric is tagged by the connector key and by a bounded outcome or reason, never by an id or by
 * text from a peer. The table of names is in docs/observability.md.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"
import * as MetricLabel from "effect/MetricLabel"
import type * as ActivityError from "./ActivityError.js"
import * as FailureClassifier from "./FailureClassifier.js"

const resolvesKey = MetricKey.counter("patchbay.credential.resolves", {
  description: "Credential resolutions, by outcome and connector",
  incremental: true
})
const refreshesKey = MetricKey.counter("patchbay.credential.refreshes", {
  description: "OAuth2 refresh runs, by outcome and connector",
  incremental: true
})
const failuresKey = MetricKey.counter("patchbay.failures", {
  description: "Failures of connections and driver calls, by reason, activity outcome and connector",
  incremental: true
})
const reconnectsKey = MetricKey.counter("patchbay.reconnect_required", {
  description: "Failures that need a person to reconnect, by code and connector",
  incremental: true
})
const healthKey = MetricKey.histogram(
  "patchbay.health_check.duration",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 16 }),
  "Health-check round trips in milliseconds, by connector and status"
)

/**
 * Credential resolutions by `outcome` (`resolved`, or the failure's tag such as
 * `CredentialNotFound`) and `connector`.
 *
 * @since 0.1.0
 */
export const credentialResolves = Metric.fromMetricKey(resolvesKey)

/**
 * The outcome of a refresh run (`RefreshProtocol`).
 *
 * @since 0.1.0
 */
export type RefreshOutcome = "refreshed" | "current" | "transient" | "refused" | "failed"

/**
 * OAuth2 refresh runs by `outcome` (`refreshed`, `current`: another caller or process had
 * refreshed, `transient`: kept the old version, `refused`: the grant was refused, `failed`) and
 * `connector`.
 *
 * @since 0.1.0
 */
export const credentialRefreshes = Metric.fromMetricKey(refreshesKey)

/**
 * Failures on the way to an external system by `reason` (the driver or domain failure's tag, such
 * as `AuthFailed` or `Unreachable`), `outcome` (the activity outcome it classifies as:
 * `ReconnectRequired`, `TransientFailure`, `ActivityRejected`) and `connector`.
 *
 * @since 0.1.0
 */
export const failures = Metric.fromMetricKey(failuresKey)

/**
 * Failures that need a person to reconnect, by `code` (`ReconnectRequired.code`) and `connector`.
 *
 * @since 0.1.0
 */
export const reconnectRequired = Metric.fromMetricKey(reconnectsKey)

/**
 * Health-check round trips in milliseconds, by `connector` and `status` (`healthy`, `unhealthy`).
 *
 * @since 0.1.0
 */
export const healthCheckDuration = Metric.fromMetricKey(healthKey)

/**
 * The age in seconds of the oldest lifecycle event still pending in the outbox (0 when none is).
 *
 * @since 0.1.0
 */
export const outboxLag = Metric.gauge("patchbay.outbox.lag", {
  description: "Age in seconds of the oldest pending outbox event"
})

/**
 * A metric tagged with each combination of values, made once from its tagged key: an update then
 * finds its state without building a key (`Metric.tagged` builds one on every update).
 */
const taggedBy = <M>(make: (labels: ReadonlyArray<MetricLabel.MetricLabel>) => M, names: ReadonlyArray<string>) => {
  const cache = new Map<string, M>()
  return (values: ReadonlyArray<string>): M => {
    const id = values.join("\u0000")
    let tagged = cache.get(id)
    if (tagged === undefined) {
      tagged = make(names.map((name, i) => MetricLabel.make(name, values[i] ?? "")))
      cache.set(id, tagged)
    }
    return tagged
  }
}

const resolvesBy = taggedBy(
  (labels) => Metric.fromMetricKey(MetricKey.taggedWithLabels(resolvesKey, labels)),
  ["connector", "outcome"]
)
const refreshesBy = taggedBy(
  (labels) => Metric.fromMetricKey(MetricKey.taggedWithLabels(refreshesKey, labels)),
  ["connector", "outcome"]
)
const failuresBy = taggedBy(
  (labels) => Metric.fromMetricKey(MetricKey.taggedWithLabels(failuresKey, labels)),
  ["connector", "reason", "outcome"]
)
const reconnectsBy = taggedBy(
  (labels) => Metric.fromMetricKey(MetricKey.taggedWithLabels(reconnectsKey, labels)),
  ["connector", "code"]
)
const healthBy = taggedBy(
  (labels) => Metric.fromMetricKey(MetricKey.taggedWithLabels(healthKey, labels)),
  ["connector", "status"]
)

/**
 * Counts one resolution of a credential for `connector`.
 *
 * @since 0.1.0
 */
export const recordResolve = (connector: string, outcome: string): Effect.Effect<void> =>
  Metric.increment(resolvesBy([connector, outcome]))

/**
 * Counts one refresh run for `connector`.
 *
 * @since 0.1.0
 */
export const recordRefresh = (connector: string, outcome: RefreshOutcome): Effect.Effect<void> =>
  Metric.increment(refreshesBy([connector, outcome]))

/**
 * Counts a failure on `instance` by its reason and the outcome `FailureClassifier.classify` gives
 * it, and a reconnect-required failure by its code too.
 *
 * @since 0.1.0
 */
export const recordFailure = (
  instance: FailureClassifier.InstanceRef,
  failure: FailureClassifier.Failure
): Effect.Effect<void> => {
  const outcome = FailureClassifier.classify(instance, failure)
  const counted = Metric.increment(failuresBy([instance.connectorKey, failure._tag, outcome._tag]))
  return outcome._tag === "ReconnectRequired" ? Effect.zipRight(counted, recordReconnect(instance, outcome)) : counted
}

/**
 * Counts one reconnect-required failure.
 *
 * @since 0.1.0
 */
export const recordReconnect = (
  instance: FailureClassifier.InstanceRef,
  error: ActivityError.ReconnectRequired
): Effect.Effect<void> => Metric.increment(reconnectsBy([instance.connectorKey, error.code]))

/**
 * Records one health check's round trip.
 *
 * @since 0.1.0
 */
export const recordHealthCheck = (
  connector: string,
  status: "healthy" | "unhealthy",
  millis: number
): Effect.Effect<void> => Metric.update(healthBy([connector, status]), millis)

/**
 * Sets the outbox lag gauge.
 *
 * @since 0.1.0
 */
export const recordOutboxLag = (seconds: number): Effect.Effect<void> => Metric.set(outboxLag, seconds)
