/**
 * The expiry monitor: at every tick it lists the watched organizations' current credential
 * versions whose expiry, or whose refresh-token deadline (the label the oauth2 package stores,
 * `Credential.refreshTokenDeadline`), falls within the largest threshold, and emits
 * `credential.expiring` or `credential.refresh_token_expiring` — once per version, deadline kind
 * and threshold across every process: the event and its claim are written in one unit. A version
 * first seen inside several thresholds is announced for the smallest only.
 *
 * @since 0.1.0
 */
import {
  Actor,
  ConnectorInstances,
  Credential,
  CredentialRepository,
  DomainError,
  type Ids,
  LifecycleEvents,
  MonitorClaims,
  Transactions
} from "@patchbay/core"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { orgActor } from "./internal/instances.js"
import { claimed } from "./internal/slots.js"
import { Organizations } from "./Monitors.js"

/**
 * `thresholdDays` (default `[7, 1]`): warn when a deadline comes within each of these many days.
 *
 * @since 0.1.0
 */
export class ExpiryOptions extends Schema.Class<ExpiryOptions>("@patchbay/monitors/ExpiryOptions")({
  thresholdDays: Schema.optionalWith(
    Schema.NonEmptyArray(
      Schema.Number.pipe(
        Schema.between(0.001, 3650, { message: () => "each threshold must be between 0.001 and 3650 days" })
      )
    ),
    { default: () => [7, 1] as const }
  )
}) {}

/**
 * What one tick did: the warnings it emitted, and those another tick or process had emitted.
 *
 * @since 0.1.0
 */
export interface ExpiryReport {
  readonly emitted: number
  readonly skipped: number
}

/**
 * @since 0.1.0
 */
export interface ExpiryMonitorShape {
  /** Emits the warnings due now that no tick has emitted yet. */
  readonly tick: Effect.Effect<ExpiryReport, DomainError.StorageError>
}

/**
 * The expiry monitor service.
 *
 * @since 0.1.0
 */
export class ExpiryMonitor extends Context.Tag("@patchbay/monitors/ExpiryMonitor")<
  ExpiryMonitor,
  ExpiryMonitorShape
>() {}

/**
 * What the expiry monitor is built on.
 *
 * @since 0.1.0
 */
export type Requirements =
  | Organizations
  | ConnectorInstances.ConnectorInstances
  | CredentialRepository.CredentialRepository
  | MonitorClaims.MonitorClaims
  | Transactions.Transactions
  | LifecycleEvents.EventOutbox

const monitorName = "expiry"
const dayMillis = 86_400_000

/**
 * The expiry monitor; invalid options fail the layer with `InvalidInput`.
 *
 * @since 0.1.0
 */
export const layer = (
  options: typeof ExpiryOptions.Encoded = {}
): Layer.Layer<ExpiryMonitor, DomainError.InvalidInput, Requirements> =>
  Layer.effect(
    ExpiryMonitor,
    Effect.gen(function* () {
      const settings = yield* Schema.decodeUnknown(ExpiryOptions, { onExcessProperty: "error" })(options).pipe(
        Effect.mapError((error) => DomainError.InvalidInput.fromParseError(error))
      )
      const thresholds = [...new Set(settings.thresholdDays)].sort((a, b) => a - b)
      const horizonDays = thresholds[thresholds.length - 1]!
      const organizations = yield* Organizations
      const instances = yield* ConnectorInstances.ConnectorInstances
      const repository = yield* CredentialRepository.CredentialRepository
      const claims = yield* MonitorClaims.MonitorClaims
      const transactions = yield* Transactions.Transactions
      const outbox = yield* LifecycleEvents.EventOutbox

      const warnOrg = (orgId: Ids.OrgId, nowMillis: number, report: { emitted: number; skipped: number }) =>
        Effect.gen(function* () {
          const now = new Date(nowMillis)
          const versions = yield* repository.listExpiring(orgId, now, new Date(nowMillis + horizonDays * dayMillis))
          const connectorKeys = new Map<string, Option.Option<string>>()
          for (const version of versions) {
            if (!connectorKeys.has(version.instanceId)) {
              const instance = yield* instances.getInstance(version.instanceId).pipe(
                Effect.map((found) => Option.some(found.connectorKey)),
                Effect.catchTag("InstanceNotFound", () => Effect.succeedNone),
                Effect.provideService(Actor.Actor, orgActor(orgId))
              )
              connectorKeys.set(version.instanceId, instance)
            }
            const connectorKey = connectorKeys.get(version.instanceId)!
            if (Option.isNone(connectorKey)) continue
            const deadlines = [
              { kind: "credential" as const, at: version.expiresAt },
              { kind: "refresh_token" as const, at: Credential.refreshTokenDeadline(version.labels) }
            ]
            for (const { at, kind } of deadlines) {
              if (at === null || at.getTime() <= nowMillis) continue
              const remainingDays = (at.getTime() - nowMillis) / dayMillis
              const withinDays = thresholds.find((threshold) => remainingDays <= threshold)
              if (withinDays === undefined) continue
              const about = {
                orgId,
                instanceId: version.instanceId,
                connectorKey: connectorKey.value,
                credentialId: version.id,
                expiresAt: at,
                withinDays
              }
              const result = yield* claimed(
                claims,
                transactions,
                // A version's deadline is fixed: the claim is needed only until it passes.
                { monitor: monitorName, key: `${version.id}:${kind}:${withinDays}`, slot: 0, expiresAt: at },
                LifecycleEvents.emit(
                  kind === "credential"
                    ? { _tag: "credential.expiring", ...about }
                    : { _tag: "credential.refresh_token_expiring", ...about }
                ).pipe(Effect.provideService(LifecycleEvents.EventOutbox, outbox))
              )
              if (result.claimed) report.emitted++
              else report.skipped++
            }
          }
        })

      const tick = Effect.gen(function* () {
        const nowMillis = yield* Clock.currentTimeMillis
        const report = { emitted: 0, skipped: 0 }
        for (const orgId of yield* organizations) yield* warnOrg(orgId, nowMillis, report)
        yield* claims.prune(new Date(nowMillis))
        return report as ExpiryReport
      }).pipe(Effect.withSpan("ExpiryMonitor.tick"))

      return ExpiryMonitor.of({ tick })
    })
  )
