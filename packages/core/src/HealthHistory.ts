/**
 * The history of an instance's health checks: one entry per check with its latency and outcome,
 * bounded per instance (a store keeps the newest `keep` entries of each instance), and a summary
 * (success count, p50 and p95 latency) computed from the newest entries.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { StorageError } from "./DomainError.js"
import * as Ids from "./Ids.js"
import * as Journal from "./internal/journal.js"

/**
 * The outcome of one check.
 *
 * @since 0.1.0
 */
export const Outcome = Schema.Literal("success", "failed")

/**
 * @since 0.1.0
 */
export type Outcome = typeof Outcome.Type

/**
 * One health check of an instance: when it ran, how long it took (milliseconds) and how it ended.
 * `failure` is the failure's tag (`Unreachable`, `AuthFailed`, …), never a peer's text.
 *
 * @since 0.1.0
 */
export class HealthCheck extends Schema.Class<HealthCheck>("@patchbay/core/HealthCheck")({
  orgId: Ids.OrgId,
  instanceId: Ids.InstanceId,
  checkedAt: Schema.DateFromSelf,
  latencyMs: Schema.NonNegative,
  outcome: Outcome,
  failure: Schema.NullOr(Schema.String)
}) {}

/**
 * @since 0.1.0
 */
export interface HealthHistoryShape {
  /**
   * Appends a check and drops the instance's entries beyond the newest `keep`. A check of an
   * instance that no longer exists is not recorded.
   */
  readonly record: (check: HealthCheck, keep: number) => Effect.Effect<void, StorageError>
  /** The instance's newest `limit` checks, newest first. */
  readonly latest: (
    orgId: Ids.OrgId,
    instanceId: Ids.InstanceId,
    limit: number
  ) => Effect.Effect<ReadonlyArray<HealthCheck>, StorageError>
}

/**
 * The port through which health checks are recorded and read.
 *
 * @since 0.1.0
 */
export class HealthHistory extends Context.Tag("@patchbay/core/HealthHistory")<HealthHistory, HealthHistoryShape>() {}

/**
 * What a run of checks says: how many, how many succeeded, the latency percentiles (nearest rank,
 * milliseconds; null without checks) and the newest check.
 *
 * @since 0.1.0
 */
export interface Summary {
  readonly count: number
  readonly successes: number
  readonly p50: number | null
  readonly p95: number | null
  readonly latest: HealthCheck | null
}

const percentile = (sorted: ReadonlyArray<number>, p: number): number | null =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!

/**
 * Summarises checks given newest first (as `latest` returns them).
 *
 * @since 0.1.0
 */
export const summarize = (checks: ReadonlyArray<HealthCheck>): Summary => {
  const sorted = checks.map((check) => check.latencyMs).sort((a, b) => a - b)
  return {
    count: checks.length,
    successes: checks.filter((check) => check.outcome === "success").length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    latest: checks[0] ?? null
  }
}

const newestFirst = (a: HealthCheck, b: HealthCheck) => b.checkedAt.getTime() - a.checkedAt.getTime()

/**
 * An in-memory history (it records checks of any instance id). Inside a unit of
 * `Transactions.layerMemory` a recorded check is removed again when the unit fails.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<HealthHistory> = Layer.sync(HealthHistory, () => {
  const byInstance = new Map<string, Array<HealthCheck>>()
  const keyOf = (orgId: string, instanceId: string) => `${orgId}/${instanceId}`
  return HealthHistory.of({
    record: (check, keep) =>
      Journal.mutate((onRollback) => {
        const key = keyOf(check.orgId, check.instanceId)
        const before = byInstance.get(key) ?? []
        const next = [check, ...before].sort(newestFirst).slice(0, Math.max(1, Math.floor(keep)))
        byInstance.set(key, next)
        onRollback(() => byInstance.set(key, before))
        return Effect.void
      }),
    latest: (orgId, instanceId, limit) =>
      Effect.sync(() => (byInstance.get(keyOf(orgId, instanceId)) ?? []).slice(0, Math.max(0, Math.floor(limit))))
  })
})
