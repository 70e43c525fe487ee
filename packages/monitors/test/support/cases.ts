/** The cases every store runs: the same assertions on memory and on PostgreSQL. */
import { assert } from "@effect/vitest"
import { type Actor, ConnectorInstances, LifecycleEvents } from "@patchbay/core"
import { CredentialVault } from "@patchbay/credentials"
import { Effect, type Layer, type Scope, TestClock } from "effect"
import { ExpiryMonitor, HealthMonitor, SweepMonitor } from "../../src/index.js"
import { type ApiServer, apiServer } from "./apiServer.js"
import { admin, clientSecret, createApiInstance, newOrgId, type Store, stack } from "./stack.js"

/** A realistic start for the test clock (ids and expiry are computed from it). */
export const start = Date.parse("2026-12-01T00:00:00Z")
const minute = 60_000
const day = 86_400_000

export type StoreFor = () => Layer.Layer<Store, unknown>

/** The organization's pending events (tests on one database share the outbox). */
const pendingEvents = (orgId: string) =>
  Effect.flatMap(LifecycleEvents.EventOutbox, (outbox) => outbox.pending({ limit: 100_000 })).pipe(
    Effect.map((events) => events.filter((event) => event.orgId === orgId))
  )

/** Runs `body` as the organization's administrator on a fresh stack over `store`. */
const within = <A, E>(
  store: StoreFor,
  options: { readonly orgId: string; readonly api: ApiServer },
  body: Effect.Effect<A, E, Layer.Layer.Success<ReturnType<typeof stack>> | Actor.Actor | Scope.Scope>
) =>
  body.pipe(
    Effect.provide(stack(store(), { orgId: options.orgId, apiUrl: options.api.url })),
    Effect.provide(admin(options.orgId))
  )

/** Health: latency history, a failing server flips health and emits `instance.health_changed`. */
export const healthHistory = (store: StoreFor) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(start)
    const api = yield* apiServer
    const orgId = newOrgId()
    yield* within(
      store,
      { orgId, api },
      Effect.gen(function* () {
        const monitor = yield* HealthMonitor.HealthMonitor
        const instance = yield* createApiInstance(orgId, api.url, "status-api")
        // Without credentials yet: not checked (it would only fail, and be marked reconnect_required).
        const bare = yield* (yield* ConnectorInstances.ConnectorInstances).create({
          connector: "http-api",
          instanceName: "not-yet-configured",
          authType: "api_key",
          configuration: { base_url: api.url }
        })
        const first = yield* monitor.tick
        assert.deepStrictEqual(first, { checked: 1, failed: 0, skipped: 0 })
        // The same slot: nothing to do.
        assert.deepStrictEqual(yield* monitor.tick, { checked: 0, failed: 0, skipped: 1 })
        assert.strictEqual(api.counts["/health"], 1)

        yield* TestClock.adjust(5 * minute)
        api.up = false
        assert.deepStrictEqual(yield* monitor.tick, { checked: 1, failed: 1, skipped: 0 })
        yield* TestClock.adjust(5 * minute)
        assert.deepStrictEqual(yield* monitor.tick, { checked: 1, failed: 1, skipped: 0 })
        api.up = true
        yield* TestClock.adjust(5 * minute)
        assert.deepStrictEqual(yield* monitor.tick, { checked: 1, failed: 0, skipped: 0 })
        assert.strictEqual(api.counts["/health"], 4)

        const { checks, summary } = yield* monitor.history(instance.id)
        assert.deepStrictEqual(
          checks.map((check) => check.outcome),
          ["success", "failed", "failed", "success"]
        )
        assert.deepStrictEqual(
          checks.map((check) => check.failure),
          [null, "ProviderFailure", "ProviderFailure", null]
        )
        assert.deepStrictEqual(
          checks.map((check) => check.checkedAt.getTime()),
          [start + 15 * minute, start + 10 * minute, start + 5 * minute, start]
        )
        for (const check of checks) assert.isTrue(check.latencyMs > 0 && Number.isFinite(check.latencyMs))
        assert.strictEqual(summary.count, 4)
        assert.strictEqual(summary.successes, 2)
        assert.isNotNull(summary.p50)
        assert.isTrue(summary.p95! >= summary.p50!)

        const stored = yield* (yield* ConnectorInstances.ConnectorInstances).getInstance(instance.id)
        assert.strictEqual(stored.testStatus, "success")
        const untouched = yield* (yield* ConnectorInstances.ConnectorInstances).getInstance(bare.id)
        assert.deepStrictEqual([untouched.testStatus, untouched.status], ["pending", "active"])
        assert.strictEqual((yield* monitor.history(bare.id)).summary.count, 0)
        const changes = (yield* pendingEvents(orgId)).filter(
          (event) => event._tag === "instance.health_changed" && event.instanceId === instance.id
        )
        assert.deepStrictEqual(
          changes.map((event) => (event._tag === "instance.health_changed" ? [event.previous, event.current] : [])),
          [
            ["pending", "success"],
            ["success", "failed"],
            ["failed", "success"]
          ]
        )
      })
    )
  })

/** The history keeps the newest `keep` checks of each instance. */
export const boundedHistory = (store: StoreFor) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(start)
    const api = yield* apiServer
    const orgId = newOrgId()
    yield* Effect.gen(function* () {
      const monitor = yield* HealthMonitor.HealthMonitor
      const instance = yield* createApiInstance(orgId, api.url, "kept-api")
      for (let i = 0; i < 5; i++) {
        assert.strictEqual((yield* monitor.tick).checked, 1)
        yield* TestClock.adjust(minute)
      }
      const { checks } = yield* monitor.history(instance.id, 100)
      assert.deepStrictEqual(
        checks.map((check) => check.checkedAt.getTime()),
        [start + 4 * minute, start + 3 * minute, start + 2 * minute]
      )
    }).pipe(
      Effect.provide(stack(store(), { orgId, apiUrl: api.url, health: { everyMinutes: 1, keep: 3 } })),
      Effect.provide(admin(orgId))
    )
  })

/** Expiry and refresh-token deadline warnings: once per version and threshold, however often it ticks. */
export const expiryOnce = (store: StoreFor) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(start)
    const api = yield* apiServer
    const orgId = newOrgId()
    yield* within(
      store,
      { orgId, api },
      Effect.gen(function* () {
        const monitor = yield* ExpiryMonitor.ExpiryMonitor
        const instances = yield* ConnectorInstances.ConnectorInstances
        const vault = yield* CredentialVault.CredentialVault
        const view = yield* instances.create({
          connector: "http-api",
          instanceName: "expiring-api",
          authType: "bearer",
          configuration: { base_url: api.url }
        })
        const version = yield* vault.create({
          instanceId: view.id,
          scope: { type: "organization", id: orgId },
          credentials: { token: "bearer-secret-value" },
          expiresAt: new Date(start + 3 * day).toISOString(),
          labels: { refresh_token_expires_at: (start + day / 2) / 1000 }
        })
        // Far from expiry: no warning.
        const calm = yield* instances.create({
          connector: "http-api",
          instanceName: "calm-api",
          authType: "bearer",
          configuration: { base_url: api.url }
        })
        yield* vault.create({
          instanceId: calm.id,
          scope: { type: "organization", id: orgId },
          credentials: { token: "another-secret" },
          expiresAt: new Date(start + 30 * day).toISOString()
        })

        assert.deepStrictEqual(yield* monitor.tick, { emitted: 2, skipped: 0 })
        assert.deepStrictEqual(yield* monitor.tick, { emitted: 0, skipped: 2 })
        yield* TestClock.adjust(60 * minute)
        assert.deepStrictEqual(yield* monitor.tick, { emitted: 0, skipped: 2 })
        // 12 hours later the refresh token is dead, and the credential is inside the 1-day threshold.
        yield* TestClock.adjust(2.5 * day - 60 * minute)
        assert.deepStrictEqual(yield* monitor.tick, { emitted: 1, skipped: 0 })
        assert.deepStrictEqual(yield* monitor.tick, { emitted: 0, skipped: 1 })

        const warnings = (yield* pendingEvents(orgId)).filter(
          (event) => event._tag === "credential.expiring" || event._tag === "credential.refresh_token_expiring"
        )
        assert.deepStrictEqual(
          warnings.map((event) =>
            event._tag === "credential.expiring" || event._tag === "credential.refresh_token_expiring"
              ? [event._tag, event.credentialId, event.expiresAt.getTime(), event.withinDays]
              : []
          ),
          [
            ["credential.expiring", version.id, start + 3 * day, 7],
            ["credential.refresh_token_expiring", version.id, start + day / 2, 1],
            ["credential.expiring", version.id, start + 3 * day, 1]
          ]
        )
        assert.notInclude(JSON.stringify(warnings), "secret")
      })
    )
  })

/** The sweep as a monitor: a refused refresh emits `credential.refresh_failed` with no secret in it. */
export const refreshFailed = (store: StoreFor) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(start)
    const api = yield* apiServer
    const orgId = newOrgId()
    yield* within(
      store,
      { orgId, api },
      Effect.gen(function* () {
        const monitor = yield* SweepMonitor.SweepMonitor
        const instances = yield* ConnectorInstances.ConnectorInstances
        const vault = yield* CredentialVault.CredentialVault
        const view = yield* instances.create({
          connector: "http-api",
          instanceName: "machine-api",
          authType: "oauth2_client_credentials",
          configuration: { base_url: api.url }
        })
        const version = yield* vault.create({
          instanceId: view.id,
          scope: { type: "organization", id: orgId },
          credentials: {
            access_token: "access-token-must-not-leak",
            token_type: "Bearer",
            expires_at: (start + 2 * minute) / 1000
          }
        })
        const report = yield* monitor.tick
        assert.strictEqual(report.swept, 1)
        assert.deepStrictEqual(
          report.results.map((result) => [result.outcome, result.error?._tag]),
          [["failed", "ReconnectRequired"]]
        )
        assert.strictEqual(api.counts["/token"], 1)
        // The same slot: swept already.
        assert.deepStrictEqual((yield* monitor.tick).skipped, 1)
        // A later slot: the refusal is recorded, so no token request is sent again.
        yield* TestClock.adjust(5 * minute)
        yield* monitor.tick
        assert.strictEqual(api.counts["/token"], 1)

        const events = yield* pendingEvents(orgId)
        const failed = events.filter((event) => event._tag === "credential.refresh_failed")
        assert.strictEqual(failed.length, 1)
        const event = failed[0]!
        assert.strictEqual(event._tag === "credential.refresh_failed" && event.reason, "credentials_rejected")
        assert.strictEqual(event._tag === "credential.refresh_failed" && event.credentialId, version.id)
        const text = JSON.stringify(events)
        assert.notInclude(text, "access-token-must-not-leak")
        assert.notInclude(text, clientSecret)
        // The provider's own words stay out of the event: its reason is a code.
        assert.notInclude(JSON.stringify(event), "unknown client")
        const stored = yield* instances.getInstance(view.id)
        assert.strictEqual(stored.status, "reconnect_required")
      })
    )
  })

/** A token endpoint that is down: the refresh backs off, the version is kept, `refresh_failed` says why. */
export const refreshTransient = (store: StoreFor) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(start)
    const api = yield* apiServer
    api.tokenDown = true
    const orgId = newOrgId()
    yield* within(
      store,
      { orgId, api },
      Effect.gen(function* () {
        const monitor = yield* SweepMonitor.SweepMonitor
        const instances = yield* ConnectorInstances.ConnectorInstances
        const vault = yield* CredentialVault.CredentialVault
        const view = yield* instances.create({
          connector: "http-api",
          instanceName: "flaky-token-api",
          authType: "oauth2_client_credentials",
          configuration: { base_url: api.url }
        })
        const version = yield* vault.create({
          instanceId: view.id,
          scope: { type: "organization", id: orgId },
          credentials: {
            access_token: "access-token-must-not-leak",
            token_type: "Bearer",
            expires_at: (start + 2 * minute) / 1000
          }
        })
        const report = yield* monitor.tick
        assert.deepStrictEqual(
          report.results.map((result) => [result.outcome, result.error?._tag, result.credentialId]),
          [["failed", "ProviderFailure", version.id]]
        )
        const failed = (yield* pendingEvents(orgId)).filter((event) => event._tag === "credential.refresh_failed")
        assert.deepStrictEqual(
          failed.map((event) => (event._tag === "credential.refresh_failed" ? [event.credentialId, event.reason] : [])),
          [[version.id, "ProviderFailure"]]
        )
        assert.notInclude(JSON.stringify(failed), "access-token-must-not-leak")
        assert.strictEqual((yield* instances.getInstance(view.id)).status, "active")
      })
    )
  })
