/**
 * What every monitor shares: the organizations the monitors watch, and running a monitor's tick on
 * an Effect `Schedule` in a host's scope. A monitor (`HealthMonitor`, `ExpiryMonitor`,
 * `SweepMonitor`) claims each unit of work in `MonitorClaims` before doing it, so any number of
 * processes may run the same schedules against one store: each check, warning and sweep happens
 * once per time slot.
 *
 * @since 0.1.0
 */
import { DomainError, Ids } from "@patchbay/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"

/**
 * The organizations the monitors watch, read at every tick (so a host may list them from its own
 * tables).
 *
 * @since 0.1.0
 */
export class Organizations extends Context.Tag("@patchbay/monitors/Organizations")<
  Organizations,
  Effect.Effect<ReadonlyArray<Ids.OrgId>, DomainError.StorageError>
>() {}

const decodeOrgIds = Schema.decodeUnknown(Schema.Array(Ids.OrgId))

/**
 * A fixed list of organizations; an id that is not a UUID fails the layer with `InvalidInput`.
 *
 * @since 0.1.0
 */
export const organizations = (orgIds: ReadonlyArray<string>): Layer.Layer<Organizations, DomainError.InvalidInput> =>
  Layer.effect(
    Organizations,
    decodeOrgIds(orgIds).pipe(
      Effect.map((decoded) => Effect.succeed(decoded)),
      Effect.mapError((error) => DomainError.InvalidInput.fromParseError(error))
    )
  )

/**
 * The organizations an effect lists at every tick (the host's own query).
 *
 * @since 0.1.0
 */
export const organizationsFrom = <R>(
  list: Effect.Effect<ReadonlyArray<Ids.OrgId>, DomainError.StorageError, R>
): Layer.Layer<Organizations, never, R> =>
  Layer.effect(
    Organizations,
    Effect.map(Effect.context<R>(), (context) => Effect.provide(list, context))
  )

/**
 * A monitor: `tick` does the work due now, claiming each unit first, and reports what it did.
 *
 * @since 0.1.0
 */
export interface Monitor<Report> {
  readonly tick: Effect.Effect<Report, DomainError.StorageError>
}

/**
 * Runs the monitor in context on `schedule` for as long as the returned effect runs: fork it in
 * the host's scope. A failed tick (the store unreachable) is logged and the schedule goes on.
 *
 * @since 0.1.0
 */
export const run = <I, S extends Monitor<unknown>, X, R>(
  monitor: Context.Tag<I, S>,
  schedule: Schedule.Schedule<X, unknown, R>
): Effect.Effect<X, never, I | R> =>
  Effect.flatMap(monitor, ({ tick }) =>
    Effect.repeat(
      tick.pipe(
        Effect.asVoid,
        Effect.catchAll((error) =>
          Effect.logWarning("a monitor tick failed").pipe(
            Effect.annotateLogs({ monitor: monitor.key, error: error.message })
          )
        )
      ),
      schedule
    )
  )

/**
 * `run` forked for the lifetime of the layer: what a host merges into its application layer.
 *
 * @since 0.1.0
 */
export const layerRun = <I, S extends Monitor<unknown>, X, R>(
  monitor: Context.Tag<I, S>,
  schedule: Schedule.Schedule<X, unknown, R>
): Layer.Layer<never, never, I | R> => Layer.scopedDiscard(Effect.forkScoped(run(monitor, schedule)))
