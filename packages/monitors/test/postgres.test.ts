import { assert, describe, inject, it } from "@effect/vitest"
import { ConnectorInstances, LifecycleEvents } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import type {} from "@patchbay/testing/globalSetup"
import { Context, Effect, Layer, TestClock } from "effect"
import { ExpiryMonitor, HealthMonitor } from "../src/index.js"
import { apiServer } from "./support/apiServer.js"
import { boundedHistory, expiryOnce, healthHistory, refreshFailed, refreshTransient, start } from "./support/cases.js"
import { admin, createApiInstance, newOrgId, pgStore, stack } from "./support/stack.js"

const url = inject("databaseUrl")
const store = () => pgStore(url)

describe("monitors on PostgreSQL", () => {
  it.scoped("health: latency history; a failing server flips health and emits health_changed", () =>
    healthHistory(store)
  )
  it.scoped("health: the history keeps the newest checks of each instance", () => boundedHistory(store))
  it.scoped("expiry: credential and refresh-token deadline warnings once per version and threshold", () =>
    expiryOnce(store)
  )
  it.scoped("sweep: a refused refresh emits refresh_failed without a secret", () => refreshFailed(store))
  it.scoped("sweep: a token endpoint that is down emits refresh_failed and keeps the version", () =>
    refreshTransient(store)
  )

  it.scoped("three runners with pools of their own do each check and each warning once per slot", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(start)
      const api = yield* apiServer
      const orgId = newOrgId()
      // Each runner builds its own stack: its own pool on the same database, as a process would.
      const runners = yield* Effect.forEach([1, 2, 3], () =>
        Layer.build(Layer.merge(stack(store(), { orgId, apiUrl: api.url }), admin(orgId)))
      )
      const first = runners[0]!
      const instances = 8
      yield* Effect.forEach(
        Array.from({ length: instances }, (_, i) => i),
        (i) => createApiInstance(orgId, api.url, `api-${i}`),
        { discard: true }
      ).pipe(Effect.provide(first))

      for (let slot = 1; slot <= 3; slot++) {
        const reports = yield* Effect.all(
          runners.map((runner) =>
            Effect.flatMap(HealthMonitor.HealthMonitor, (m) => m.tick).pipe(Effect.provide(runner))
          ),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(
          reports.reduce((sum, report) => sum + report.checked, 0),
          instances
        )
        assert.strictEqual(
          reports.reduce((sum, report) => sum + report.skipped, 0),
          instances * (runners.length - 1)
        )
        assert.strictEqual(api.counts["/health"], instances * slot)
        yield* TestClock.adjust("5 minutes")
      }

      const vault = Context.get(first, CredentialVault.CredentialVault)
      const view = yield* Effect.flatMap(ConnectorInstances.ConnectorInstances, (s) =>
        s.create({
          connector: "http-api",
          instanceName: "expiring",
          authType: "bearer",
          configuration: { base_url: api.url }
        })
      ).pipe(Effect.provide(first))
      yield* vault
        .create({
          instanceId: view.id,
          scope: { type: "organization", id: orgId },
          credentials: { token: "t" },
          expiresAt: new Date(start + 3 * 86_400_000).toISOString()
        })
        .pipe(Effect.provide(first))
      for (let round = 0; round < 3; round++) {
        const reports = yield* Effect.all(
          runners.map((runner) =>
            Effect.flatMap(ExpiryMonitor.ExpiryMonitor, (m) => m.tick).pipe(Effect.provide(runner))
          ),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(
          reports.reduce((sum, report) => sum + report.emitted, 0),
          round === 0 ? 1 : 0
        )
      }
      const events = yield* Effect.flatMap(LifecycleEvents.EventOutbox, (outbox) =>
        outbox.pending({ limit: 10_000 })
      ).pipe(Effect.provide(first))
      assert.strictEqual(
        events.filter((event) => event._tag === "credential.expiring" && event.instanceId === view.id).length,
        1
      )
    })
  )
})
