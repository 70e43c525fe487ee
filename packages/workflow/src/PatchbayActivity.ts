/**
 * Patchbay's activities as `@effect/workflow` Activities: their results and their typed failures
 * are journaled with the workflow, and `retryTransient` retries `TransientFailure` with durable
 * backoff while `ReconnectRequired` and `ActivityRejected` are never retried.
 *
 * @since 0.1.0
 */
import * as Activity from "@effect/workflow/Activity"
import * as DurableClock from "@effect/workflow/DurableClock"
import type { WorkflowEngine, WorkflowInstance } from "@effect/workflow/WorkflowEngine"
import { Activities } from "@patchbay/activities"
import { ActivityError, type Actor, Database, Messaging } from "@patchbay/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Sink from "effect/Sink"

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
