/**
 * Patchbay's activities as `@effect/workflow` Activities: their results and their typed failures
 * are journaled with the workflow. `retryTransient` retries `TransientFailure` with durable
 * backoff; `retryAfterReconnect` waits durably for a person to reconnect an instance after a
 * `ReconnectRequired` and runs the activity once more; `ActivityRejected` is never retried.
 *
 * @since 0.1.0
 */
import * as Activity from "@effect/workflow/Activity"
import * as DurableClock from "@effect/workflow/DurableClock"
import * as DurableDeferred from "@effect/workflow/DurableDeferred"
import type { WorkflowEngine, WorkflowInstance } from "@effect/workflow/WorkflowEngine"
import { Activities } from "@patchbay/activities"
import {
  ActivityError,
  Actor,
  ConnectorInstances,
  CredentialRepository,
  CredentialScope,
  Database,
  DomainError,
  Ids,
  Messaging,
  ReconnectWaits
} from "@patchbay/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Effectable from "effect/Effectable"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Sink from "effect/Sink"
import * as ReconnectWaker from "./ReconnectWaker.js"

/**
 * What every Patchbay activity needs from its workflow: the activities service and the actor.
 *
 * @since 0.1.0
 */
export type Requirements = Activities.Activities | Actor.Actor

const make = <A, I>(
  name: string,
  success: Schema.Schema<A, I>,
  run: (activities: Activities.ActivitiesShape) => Effect.Effect<A, ActivityError.ActivityError, Actor.Actor>
) =>
  Activity.make({
    name,
    success,
    error: ActivityError.ActivityError,
    execute: Effect.flatMap(Activities.Activities, run)
  })

/**
 * Send Email.
 *
 * @since 0.1.0
 */
export const sendEmail = (name: string, input: Activities.Target & typeof Messaging.EmailMessage.Encoded) =>
  make(name, Messaging.EmailReceipt, (activities) => activities.sendEmail(input))

/**
 * Run Query.
 *
 * @since 0.1.0
 */
export const runQuery = (name: string, input: Activities.Target & typeof Database.QueryRequest.Encoded) =>
  make(name, Database.QueryResult, (activities) => activities.runQuery(input))

/**
 * Get Schema.
 *
 * @since 0.1.0
 */
export const getSchema = (name: string, input: Activities.Target & typeof Database.SchemaRequest.Encoded) =>
  make(name, Database.DatabaseSchema, (activities) => activities.getSchema(input))

/**
 * Execute DDL (preview with `confirm: false`).
 *
 * @since 0.1.0
 */
export const executeDdl = (name: string, input: Activities.Target & typeof Database.DdlRequest.Encoded) =>
  make(name, Database.DdlResult, (activities) => activities.executeDdl(input))

/**
 * Send SMS.
 *
 * @since 0.1.0
 */
export const sendSms = (name: string, input: Activities.Target & typeof Messaging.SmsMessage.Encoded) =>
  make(name, Messaging.SmsReceipt, (activities) => activities.sendSms(input))

/**
 * A fetched file held in the journal: keep `maxBytes` small (the default is 1 MiB here), or use the
 * `Activities.fetchFile` service with your own sink for large files.
 *
 * @since 0.1.0
 */
export class FileContent extends Schema.Class<FileContent>("@patchbay/workflow/FileContent")({
  contentType: Schema.NullOr(Schema.String),
  bytes: Schema.Int,
  content: Schema.Uint8ArrayFromBase64
}) {}

/**
 * Fetch File, its content returned as the activity's result.
 *
 * @since 0.1.0
 */
export const fetchFile = (name: string, input: Activities.Target & typeof Messaging.FetchFileRequest.Encoded) =>
  make(name, FileContent, (activities) =>
    Effect.suspend(() => {
      const chunks: Array<Uint8Array> = []
      const collect = Sink.forEach((chunk: Uint8Array) => Effect.sync(() => void chunks.push(chunk)))
      return activities
        .fetchFile({ maxBytes: 1024 ** 2, ...input }, collect)
        .pipe(
          Effect.map((file) =>
            FileContent.make({ contentType: file.contentType, bytes: file.bytes, content: Buffer.concat(chunks) })
          )
        )
    })
  )

/**
 * Options of `retryTransient`: how many retries (default 5) and the backoff (doubling from `base`,
 * default 1 s, up to `max`, default 5 min; a provider's Retry-After wins).
 *
 * @since 0.1.0
 */
export interface RetryOptions {
  readonly times?: number | undefined
  readonly base?: Duration.DurationInput | undefined
  readonly max?: Duration.DurationInput | undefined
}

/**
 * Runs an activity and retries it while it fails with `TransientFailure`, sleeping on the durable
 * clock between attempts; any other failure ends it at once.
 *
 * @since 0.1.0
 */
export const retryTransient = <A, R>(
  activity: Effect.Effect<A, ActivityError.ActivityError, R> & { readonly name: string },
  options: RetryOptions = {}
): Effect.Effect<A, ActivityError.ActivityError, R | WorkflowEngine | WorkflowInstance> => {
  const times = options.times ?? 5
  const base = Duration.toMillis(options.base ?? Duration.seconds(1))
  const max = Duration.toMillis(options.max ?? Duration.minutes(5))
  const attempt = (n: number): Effect.Effect<A, ActivityError.ActivityError, R | WorkflowEngine | WorkflowInstance> =>
    Effect.provideService(activity, Activity.CurrentAttempt, n).pipe(
      Effect.catchIf(
        (error): error is ActivityError.TransientFailure => error._tag === "TransientFailure" && n <= times,
        (error) =>
          DurableClock.sleep({
            name: `${activity.name}/retry-${n}`,
            duration: Duration.millis(error.retryAfterMillis ?? Math.min(max, base * 2 ** (n - 1)))
          }).pipe(Effect.zipRight(attempt(n + 1)))
      )
    )
  return attempt(1)
}

/**
 * What `retryAfterReconnect` needs besides the activity's own requirements: where waits are
 * recorded, and the instance and its credential versions to tell whether a reconnect already
 * happened.
 *
 * @since 0.1.0
 */
export type ReconnectRequirements =
  | ReconnectWaits.ReconnectWaits
  | ConnectorInstances.ConnectorInstances
  | CredentialRepository.CredentialRepository
  | Actor.Actor

/**
 * Options of `retryAfterReconnect`: how long to wait for a reconnect (on the durable clock).
 *
 * @since 0.1.0
 */
export interface ReconnectOptions {
  readonly deadline: Duration.DurationInput
}

/** An effect that keeps the name of the activity it runs, so `retryTransient` can wrap it. */
class Named<A, E, R> extends Effectable.Class<A, E, R> {
  constructor(
    readonly name: string,
    readonly effect: Effect.Effect<A, E, R>
  ) {
    super()
  }
  commit(): Effect.Effect<A, E, R> {
    return this.effect
  }
}

const isInstanceId = Schema.is(Ids.InstanceId)

/**
 * How the first run fails when it needs a reconnect: with the activity's `ReconnectRequired` and
 * when the run started (milliseconds, read by the process that ran it), journaled together.
 * Journaling the start with the failure means a replay after a crash compares against the same
 * instant, so a credential stored between the failure and the registration of the wait is seen.
 */
class NeedsReconnect extends Schema.TaggedError<NeedsReconnect>("@patchbay/workflow/NeedsReconnect")("NeedsReconnect", {
  failure: ActivityError.ReconnectRequired,
  startedAt: Schema.Number
}) {}

/** What the registration found: the execution waits, or the instance was settled meanwhile. */
const Registration = Schema.Literal("waiting", "reconnected", "disabled", "deleted")
const RegistrationError = DomainError.StorageError

/** Attempts at recording a wait before a storage failure ends it (durable backoff between them). */
const registerAttempts = 4

/**
 * Records that this execution waits on the instance, then looks whether the instance was settled
 * since the failed run started: deleted or disabled, or reconnected for the actor
 * (`ReconnectWaker.reconnectedFor`). A reconnect that happened before the wait was recorded woke
 * nobody.
 */
const register = (token: string, instanceId: Ids.InstanceId, startedAt: number) =>
  Effect.gen(function* () {
    const actor = yield* Actor.Actor
    const waits = yield* ReconnectWaits.ReconnectWaits
    const scopes = CredentialScope.forActor(actor)
    const registeredAt = new Date(yield* Clock.currentTimeMillis)
    yield* waits.register(
      ReconnectWaits.ReconnectWait.make({ token, orgId: actor.orgId, instanceId, scopes, registeredAt })
    )
    const settled = (outcome: typeof Registration.Type) => Effect.as(waits.remove(token), outcome)
    const found = yield* Effect.flatMap(ConnectorInstances.ConnectorInstances, (instances) =>
      instances.getInstance(instanceId)
    ).pipe(Effect.catchTag("InstanceNotFound", () => Effect.succeed(null)))
    if (found === null) return yield* settled("deleted")
    if (!found.isEnabled) return yield* settled("disabled")
    const versions = yield* Effect.flatMap(CredentialRepository.CredentialRepository, (repository) =>
      repository.list(actor.orgId, instanceId)
    )
    const reconnected = ReconnectWaker.reconnectedFor({
      scopes,
      since: startedAt,
      active: found.status === "active",
      versions,
      now: registeredAt
    })
    if (reconnected) return yield* settled("reconnected")
    return "waiting" as const
  })

/**
 * Runs an activity; when it fails with `ReconnectRequired`, waits durably until the instance is
 * reconnected (its status is `active` again, or a new credential version is stored in a scope the
 * actor uses), then runs the activity once more. The wait is a `DurableDeferred` that
 * `ReconnectWaker` completes, raced with a `DurableClock` of `deadline`: once the deadline passes,
 * the activity's `ReconnectRequired` stands. When the instance is disabled or deleted while the
 * execution waits, the wait ends with `ActivityRejected`. A failure of the second run,
 * `ReconnectRequired` included, is the result; any other failure of the first run is returned at
 * once.
 *
 * The result keeps the activity's name: `retryTransient(retryAfterReconnect(activity, options))`
 * retries transient failures of either run too.
 *
 * @since 0.1.0
 */
export const retryAfterReconnect = <Success extends Schema.Schema.Any, R>(
  activity: Activity.Activity<Success, typeof ActivityError.ActivityError, R>,
  options: ReconnectOptions
): Effect.Effect<
  Success["Type"],
  ActivityError.ActivityError,
  R | Success["Context"] | ReconnectRequirements | WorkflowEngine | WorkflowInstance
> & { readonly name: string } => {
  const name = activity.name
  const first = Activity.make({
    name,
    success: activity.successSchema,
    error: Schema.Union(activity.errorSchema, NeedsReconnect),
    execute: Effect.gen(function* () {
      const startedAt = yield* Clock.currentTimeMillis
      return yield* activity.execute.pipe(
        Effect.catchIf(
          (error): error is ActivityError.ReconnectRequired =>
            error._tag === "ReconnectRequired" && isInstanceId(error.instanceId),
          (failure) => new NeedsReconnect({ failure, startedAt })
        )
      )
    })
  })
  const again = Activity.make({
    name: `${name}/after-reconnect`,
    success: activity.successSchema,
    error: activity.errorSchema,
    execute: activity.execute
  })
  const run = Effect.gen(function* () {
    const outcome = yield* Effect.either(first)
    if (Either.isRight(outcome)) return outcome.right
    if (outcome.left._tag !== "NeedsReconnect") return yield* outcome.left
    const { failure, startedAt } = outcome.left
    const instanceId = Ids.InstanceId.make(failure.instanceId)
    const attempt = yield* Activity.CurrentAttempt
    const settled = DurableDeferred.make(`${name}/reconnected/${attempt}`, { success: ReconnectWaker.WakeReason })
    const token = yield* DurableDeferred.token(settled)
    const registerOnce = (n: number) =>
      Activity.make({
        name: `${name}/await-reconnect/${attempt}/${n}`,
        success: Registration,
        error: RegistrationError,
        execute: register(token, instanceId, startedAt)
      })
    // A storage failure while recording the wait is retried after a durable pause (a replay may
    // happen in between, on another process): the journaled start still decides what is new.
    const registration = (
      n: number
    ): Effect.Effect<
      typeof Registration.Type,
      ActivityError.ActivityError,
      ReconnectRequirements | WorkflowEngine | WorkflowInstance
    > =>
      registerOnce(n).pipe(
        Effect.catchAll((error) =>
          n >= registerAttempts
            ? Effect.logWarning("retryAfterReconnect: the wait for a reconnect could not be recorded", error).pipe(
                Effect.zipRight(Effect.fail(failure))
              )
            : DurableClock.sleep({
                name: `${name}/await-reconnect-retry/${attempt}/${n}`,
                duration: Duration.millis(200 * 2 ** (n - 1)),
                inMemoryThreshold: Duration.zero
              }).pipe(Effect.zipRight(registration(n + 1)))
        )
      )
    const registered = yield* registration(1)
    const racers = [
      DurableDeferred.await(settled),
      DurableClock.sleep({
        name: `${name}/reconnect-deadline/${attempt}`,
        duration: options.deadline,
        // An in-memory sleep would keep the execution running, deaf to the deferred.
        inMemoryThreshold: Duration.zero
      }).pipe(Effect.as("deadline" as const))
    ] as const
    const woken =
      registered !== "waiting"
        ? registered
        : yield* DurableDeferred.raceAll({
            name: `${name}/reconnect-or-deadline/${attempt}`,
            success: Schema.Literal("reconnected", "disabled", "deleted", "deadline"),
            error: Schema.Never,
            effects: racers
          })
    if (woken === "deadline") {
      yield* Activity.make({
        name: `${name}/stop-awaiting-reconnect`,
        execute: Effect.flatMap(ReconnectWaits.ReconnectWaits, (waits) => waits.remove(token)).pipe(
          Effect.catchAll((error) => Effect.logWarning("retryAfterReconnect: a stale wait was left behind", error))
        )
      })
      return yield* failure
    }
    if (woken !== "reconnected") {
      return yield* new ActivityError.ActivityRejected({
        instanceId,
        reason: `the instance was ${woken} while waiting for a reconnect`
      })
    }
    return yield* again
  }).pipe(Effect.withSpan("PatchbayActivity.retryAfterReconnect", { attributes: { activity: name } }))
  return new Named(name, run)
}
