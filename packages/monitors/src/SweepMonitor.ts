/**
 * The refresh sweep as a monitor: at every tick, for each watched organization whose sweep of the
 * current time slot no other process has claimed, it runs `OAuth2.sweep` — refreshing the access
 * tokens that expire soon and touching idle token sets through the refresh protocol (whose
 * failures emit `credential.refresh_failed`).
 *
 * @since 0.1.0
 */
import { Actor, DomainError, MonitorClaims } from "@patchbay/core"
import { OAuth2, Sweep } from "@patchbay/oauth2"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { orgActor } from "./internal/instances.js"
import { slotOf } from "./internal/slots.js"
import { Organizations } from "./Monitors.js"

/**
 * `everyMinutes` (default 5): the length of a slot, in which each organization is swept once across
 * processes; `sweep` (default `{ withinMinutes: 10 }`): the options of `OAuth2.sweep`.
 *
 * @since 0.1.0
 */
export class SweepMonitorOptions extends Schema.Class<SweepMonitorOptions>("@patchbay/monitors/SweepMonitorOptions")({
  everyMinutes: Schema.optionalWith(
    Schema.Number.pipe(
      Schema.between(0.001, 10_080, { message: () => "everyMinutes must be between 0.001 and 10080" })
    ),
    { default: () => 5 }
  ),
  sweep: Schema.optionalWith(Sweep.SweepOptions, { default: () => Sweep.SweepOptions.make({ withinMinutes: 10 }) })
}) {}

/**
 * What one tick did: organizations swept (and skipped, swept by another tick or process in this
 * slot), and the sweep's results.
 *
 * @since 0.1.0
 */
export interface SweepReport {
  readonly swept: number
  readonly skipped: number
  readonly results: ReadonlyArray<Sweep.SweepResult>
}

/**
 * @since 0.1.0
 */
export interface SweepMonitorShape {
  /** Sweeps every watched organization not yet swept in this slot. */
  readonly tick: Effect.Effect<SweepReport, DomainError.StorageError>
}

/**
 * The sweep monitor service.
 *
 * @since 0.1.0
 */
export class SweepMonitor extends Context.Tag("@patchbay/monitors/SweepMonitor")<SweepMonitor, SweepMonitorShape>() {}

/**
 * What the sweep monitor is built on.
 *
 * @since 0.1.0
 */
export type Requirements = Organizations | OAuth2.OAuth2 | MonitorClaims.MonitorClaims

const monitorName = "sweep"

/**
 * The sweep monitor; invalid options fail the layer with `InvalidInput`.
 *
 * @since 0.1.0
 */
export const layer = (
  options: typeof SweepMonitorOptions.Encoded = {}
): Layer.Layer<SweepMonitor, DomainError.InvalidInput, Requirements> =>
  Layer.effect(
    SweepMonitor,
    Effect.gen(function* () {
      const settings = yield* Schema.decodeUnknown(SweepMonitorOptions, { onExcessProperty: "error" })(options).pipe(
        Effect.mapError((error) => DomainError.InvalidInput.fromParseError(error))
      )
      const sweepOptions = Schema.encodeSync(Sweep.SweepOptions)(settings.sweep)
      const organizations = yield* Organizations
      const oauth2 = yield* OAuth2.OAuth2
      const claims = yield* MonitorClaims.MonitorClaims
      const everyMillis = settings.everyMinutes * 60_000

      const tick = Effect.gen(function* () {
        const nowMillis = yield* Clock.currentTimeMillis
        const slot = slotOf(nowMillis, everyMillis)
        const expiresAt = new Date(slot.endsAt.getTime() + everyMillis)
        const results: Array<Sweep.SweepResult> = []
        let swept = 0
        let skipped = 0
        for (const orgId of yield* organizations) {
          const won = yield* claims.claim({ monitor: monitorName, key: orgId, slot: slot.slot, expiresAt })
          if (!won) {
            skipped++
            continue
          }
          swept++
          const found = yield* oauth2.sweep(sweepOptions).pipe(
            Stream.runCollect,
            // The options were decoded when the layer was built.
            Effect.catchTag("InvalidInput", Effect.die),
            Effect.provideService(Actor.Actor, orgActor(orgId))
          )
          results.push(...found)
        }
        yield* claims.prune(new Date(nowMillis))
        return { swept, skipped, results } satisfies SweepReport
      }).pipe(Effect.withSpan("SweepMonitor.tick"))

      return SweepMonitor.of({ tick })
    })
  )
