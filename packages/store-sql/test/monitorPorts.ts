/**
 * The contract of the ports the monitors are built on — `HealthHistory` and `MonitorClaims` — on
 * a store under test. `contract` runs it inside its store's layer, so it covers core's memory
 * layers, PGlite and PostgreSQL alike.
 */
import { assert, describe, type Vitest } from "@effect/vitest"
import { HealthHistory, Ids, MonitorClaims, Transactions } from "@patchbay/core"
import { Effect } from "effect"
import type { SqlStore } from "../src/index.js"
import { storedInstance } from "./fixtures.js"

const check = (
  orgId: Ids.OrgId,
  instanceId: Ids.InstanceId,
  at: number,
  latencyMs: number,
  outcome: HealthHistory.Outcome = "success"
) =>
  HealthHistory.HealthCheck.make({
    orgId,
    instanceId,
    checkedAt: new Date(at),
    latencyMs,
    outcome,
    failure: outcome === "success" ? null : "Unreachable"
  })

export const monitorPorts = (it: Vitest.MethodsNonLive<SqlStore.Services, true>): void => {
  describe("HealthHistory", () => {
    it.effect("keeps the newest checks of each instance, newest first, and summarises them", () =>
      Effect.gen(function* () {
        const history = yield* HealthHistory.HealthHistory
        const { instance, orgId } = yield* storedInstance
        const other = yield* storedInstance
        const base = Date.parse("2026-12-01T00:00:00Z")
        for (let i = 0; i < 6; i++) {
          yield* history.record(check(orgId, instance.id, base + i * 1000, 10 + i, i === 4 ? "failed" : "success"), 4)
        }
        yield* history.record(check(other.orgId, other.instance.id, base, 99), 4)
        const latest = yield* history.latest(orgId, instance.id, 10)
        assert.deepStrictEqual(
          latest.map((c) => [c.checkedAt.getTime() - base, c.latencyMs, c.outcome, c.failure]),
          [
            [5000, 15, "success", null],
            [4000, 14, "failed", "Unreachable"],
            [3000, 13, "success", null],
            [2000, 12, "success", null]
          ]
        )
        assert.strictEqual((yield* history.latest(orgId, instance.id, 2)).length, 2)
        assert.deepStrictEqual((yield* history.latest(other.orgId, instance.id, 10)).length, 0)
        const summary = HealthHistory.summarize(latest)
        assert.deepStrictEqual([summary.count, summary.successes, summary.p50, summary.p95], [4, 3, 13, 15])
      })
    )
  })

  describe("MonitorClaims", () => {
    it.effect(
      "one caller wins each (monitor, key, slot); a failed unit undoes its claim; expired claims are pruned",
      () =>
        Effect.gen(function* () {
          const claims = yield* MonitorClaims.MonitorClaims
          const transactions = yield* Transactions.Transactions
          const key = yield* Ids.make(Ids.InstanceId)
          const at = (iso: string) => new Date(iso)
          const claim = { monitor: "health", key, slot: 5, expiresAt: at("2026-12-01T00:10:00Z") }
          const results = yield* Effect.all(
            Array.from({ length: 4 }, () => claims.claim(claim)),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(results.filter((won) => won).length, 1)
          assert.isTrue(yield* claims.claim({ ...claim, slot: 6 }))
          assert.isTrue(yield* claims.claim({ ...claim, monitor: "sweep" }))

          const undone = { ...claim, key: `${key}:undone` }
          yield* Effect.flip(transactions.run(Effect.zipRight(claims.claim(undone), Effect.fail("boom" as const))))
          assert.isTrue(yield* claims.claim(undone))

          assert.isTrue((yield* claims.prune(at("2026-12-01T00:11:00Z"))) >= 4)
          assert.isTrue(yield* claims.claim(claim))
        })
    )
  })
}
