/**
 * The delivery worker a host runs, in one process or many against the same store:
 *
 * - `fanOut` turns pending outbox events into one delivery per subscriber (see
 *   `WebhookStore.fanOut`: several processes take disjoint events);
 * - `deliver` claims due deliveries under a lease, signs and POSTs each one, and records it as
 *   delivered (a 2xx), to retry at a later time (exponential backoff with jitter, or later when a
 *   429 or 503 carries `Retry-After`), or dead after `maxAttempts`. A process that dies holding a
 *   lease leaves the delivery to another process once the lease runs out;
 * - `prune` deletes delivered rows after `deliveredRetention` and dead letters after
 *   `deadRetention`.
 *
 * Every target is checked by the `EgressPolicy` at send time and the connection is pinned to the
 * approved address; a denied target is never contacted and its delivery is dead at once (the
 * policy will not change by itself: after fixing it, `redeliver`). Redirects are not followed.
 *
 * @since 0.1.0
 */
import { type DomainError, EgressPolicy, LifecycleEvents, WebhookStore } from "@patchbay/core"
import { Envelope } from "@patchbay/crypto"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { post, type SendFailure } from "./internal/post.js"
import * as RetryAfter from "./internal/retryAfter.js"
import * as Secrets from "./internal/secrets.js"
import * as WebhookSignature from "./WebhookSignature.js"

/**
 * @since 0.1.0
 */
export interface WorkerOptions {
  /** Attempts before a delivery is dead (default 8). */
  readonly maxAttempts?: number | undefined
  /** Delay before the first retry, doubled for each further one (default 10 seconds). */
  readonly backoffBase?: Duration.DurationInput | undefined
  /** Longest delay between attempts (default 1 hour). */
  readonly backoffMax?: Duration.DurationInput | undefined
  /**
   * Longest wait a receiver's `Retry-After` (on a 429 or 503) is honoured for (default
   * `backoffMax`): a receiver cannot park a delivery for longer.
   */
  readonly retryAfterMax?: Duration.DurationInput | undefined
  /** Longest one request may take (default 10 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * How long a claim holds a delivery (default 1 minute), raised to what the slowest batch can take
   * (⌈batchSize / concurrency⌉ × timeout + 5 seconds): a lease that runs out while its request is
   * in flight lets another process send the delivery again.
   */
  readonly lease?: Duration.DurationInput | undefined
  /** Events taken by one fan-out step and deliveries claimed by one delivery step (default 50). */
  readonly batchSize?: number | undefined
  /** Requests in flight at once per process (default 8). */
  readonly concurrency?: number | undefined
  /** How long a delivered row is kept after its delivery (default 7 days; `Duration.infinity`: forever). */
  readonly deliveredRetention?: Duration.DurationInput | undefined
  /**
   * How long a dead letter is kept after it died (default 30 days; `Duration.infinity`: forever),
   * for an operator to `redeliver` it.
   */
  readonly deadRetention?: Duration.DurationInput | undefined
  /** How often `run` prunes, at most, in each process (default 1 hour). */
  readonly pruneInterval?: Duration.DurationInput | undefined
}

/** The headers of a delivery, besides the signature. */
const deliveryHeader = "Patchbay-Delivery"
const eventHeader = "Patchbay-Event"

const encodeEvent = Schema.encodeSync(LifecycleEvents.LifecycleEvent)
const publicVerdict = EgressPolicy.verdictOf({})

const settings = (options: WorkerOptions = {}) => {
  const timeout = Duration.decode(options.timeout ?? "10 seconds")
  const batch = Math.max(1, Math.floor(options.batchSize ?? 50))
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 8))
  // A claimed batch is sent in rounds of `concurrency`: the lease covers the slowest possible batch.
  const slowestBatch = Duration.millis(Math.ceil(batch / concurrency) * Duration.toMillis(timeout) + 5_000)
  const max = Duration.toMillis(options.backoffMax ?? "1 hour")
  return {
    maxAttempts: Math.max(1, Math.floor(options.maxAttempts ?? 8)),
    base: Duration.toMillis(options.backoffBase ?? "10 seconds"),
    max,
    retryAfterMax: options.retryAfterMax === undefined ? max : Duration.toMillis(options.retryAfterMax),
    deliveredRetention: Duration.decode(options.deliveredRetention ?? "7 days"),
    deadRetention: Duration.decode(options.deadRetention ?? "30 days"),
    pruneInterval: Duration.decode(options.pruneInterval ?? "1 hour"),
    timeout,
    lease: Duration.max(Duration.decode(options.lease ?? "1 minute"), slowestBatch),
    batch,
    concurrency
  }
}

const now = Effect.map(
  Effect.clockWith((clock) => clock.currentTimeMillis),
  (millis) => new Date(millis)
)

/**
 * Fans out pending outbox events until none is left; how many events it took.
 *
 * @since 0.1.0
 */
export const fanOut = (
  options?: WorkerOptions
): Effect.Effect<number, DomainError.StorageError, WebhookStore.WebhookStore> =>
  Effect.gen(function* () {
    const store = yield* WebhookStore.WebhookStore
    const { batch } = settings(options)
    let total = 0
    for (;;) {
      const taken = yield* store.fanOut({ limit: batch, at: yield* now })
      total += taken
      if (taken < batch) return total
    }
  }).pipe(Effect.withSpan("WebhookWorker.fanOut"))

/** The delay before attempt `attempts + 1`: base·2^(attempts−1), capped, half of it jittered. */
const backoff = (base: number, max: number, attempts: number) =>
  Effect.map(Random.next, (random) => {
    const delay = Math.min(max, base * 2 ** Math.min(attempts - 1, 30))
    return Math.round(delay / 2 + (random * delay) / 2)
  })

type Attempt =
  | { readonly _tag: "Status"; readonly status: number; readonly retryAfter: string | undefined }
  | { readonly _tag: "Failed"; readonly error: string; readonly final: boolean }

/**
 * Claims one batch of due deliveries and sends them; how many it claimed.
 *
 * @since 0.1.0
 */
export const deliver = (
  options?: WorkerOptions
): Effect.Effect<
  number,
  DomainError.StorageError,
  WebhookStore.WebhookStore | Envelope.Envelope | EgressPolicy.EgressPolicy
> =>
  Effect.gen(function* () {
    const store = yield* WebhookStore.WebhookStore
    const envelope = yield* Envelope.Envelope
    const policy = yield* EgressPolicy.EgressPolicy
    const config = settings(options)

    const send = (claimed: WebhookStore.Claimed): Effect.Effect<Attempt> =>
      Effect.gen(function* () {
        const { delivery, event, subscription } = claimed
        const at = yield* now
        const secrets = yield* Secrets.open(envelope, subscription, at).pipe(Effect.either)
        if (secrets._tag === "Left") return { _tag: "Failed", error: "secret_corrupted", final: true } as const
        const target = Redacted.value(secrets.right.url)
        const url = URL.canParse(target) ? new URL(target) : undefined
        if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
          return { _tag: "Failed", error: "invalid_url", final: true } as const
        }
        const pinned = yield* EgressPolicy.pin(policy, url.hostname).pipe(Effect.either)
        if (pinned._tag === "Left") {
          return pinned.left._tag === "EgressDenied"
            ? ({ _tag: "Failed", error: "egress_denied", final: true } as const)
            : ({ _tag: "Failed", error: "unresolvable", final: false } as const)
        }
        // Plain http only to addresses the default policy denies (the name may resolve elsewhere now).
        if (url.protocol === "http:" && publicVerdict(pinned.right.address)._tag === "Allowed") {
          return { _tag: "Failed", error: "insecure_http", final: true } as const
        }
        const body = JSON.stringify(encodeEvent(event))
        const signature = WebhookSignature.sign({
          secrets: secrets.right.secrets,
          timestamp: Math.floor(at.getTime() / 1000),
          body
        })
        return yield* post({
          url,
          pinned: pinned.right,
          body,
          timeout: config.timeout,
          headers: {
            [deliveryHeader]: delivery.id,
            [eventHeader]: event._tag,
            [WebhookSignature.header]: signature
          }
        }).pipe(
          Effect.map((response): Attempt => ({ _tag: "Status", ...response })),
          Effect.catchAll((failure: SendFailure) =>
            Effect.succeed<Attempt>({ _tag: "Failed", error: failure.error, final: false })
          )
        )
      }).pipe(
        Effect.withSpan("WebhookWorker.send", {
          attributes: { "webhook.delivery_id": claimed.delivery.id, "webhook.attempt": claimed.delivery.attempts }
        })
      )

    const attempt = (claimed: WebhookStore.Claimed) =>
      Effect.gen(function* () {
        const attempts = claimed.delivery.attempts
        const result = yield* send(claimed)
        const at = yield* now
        if (result._tag === "Status" && result.status >= 200 && result.status < 300) {
          return yield* store.record({
            id: claimed.delivery.id,
            attempt: attempts,
            outcome: { _tag: "Delivered", status: result.status },
            at
          })
        }
        const failed =
          result._tag === "Status"
            ? { status: result.status, error: "http_status", final: false }
            : { status: null, error: result.error, final: result.final }
        // The receiver's own wait, when it is overloaded: not before it (up to `retryAfterMax`).
        const asked =
          result._tag === "Status" && (result.status === 429 || result.status === 503)
            ? Option.getOrElse(RetryAfter.delay(result.retryAfter, at), () => 0)
            : 0
        const outcome: WebhookStore.Outcome =
          failed.final || attempts >= config.maxAttempts
            ? { _tag: "Dead", status: failed.status, error: failed.error }
            : {
                _tag: "Retry",
                status: failed.status,
                error: failed.error,
                nextAttemptAt: new Date(
                  at.getTime() +
                    Math.max(yield* backoff(config.base, config.max, attempts), Math.min(asked, config.retryAfterMax))
                )
              }
        return yield* store.record({ id: claimed.delivery.id, attempt: attempts, outcome, at })
      })

    const at = yield* now
    const claimed = yield* store.claim({
      limit: config.batch,
      now: at,
      leaseUntil: new Date(at.getTime() + Duration.toMillis(config.lease))
    })
    yield* Effect.forEach(claimed, attempt, { concurrency: config.concurrency, discard: true })
    return claimed.length
  }).pipe(Effect.withSpan("WebhookWorker.deliver"))

/** Rows deleted by one prune statement: short transactions, even on a large backlog. */
const pruneBatch = 1000

/** The instant `retention` before `at`; null for an infinite retention (keep forever). */
const before = (at: Date, retention: Duration.Duration) =>
  Duration.isFinite(retention) ? new Date(at.getTime() - Duration.toMillis(retention)) : null

/**
 * Deletes delivered rows older than `deliveredRetention` and dead letters older than
 * `deadRetention`, in batches, until none is left; how many it deleted. Safe in many processes at
 * once (each batch skips the rows another process holds).
 *
 * @since 0.1.0
 */
export const prune = (
  options?: WorkerOptions
): Effect.Effect<number, DomainError.StorageError, WebhookStore.WebhookStore> =>
  Effect.gen(function* () {
    const store = yield* WebhookStore.WebhookStore
    const config = settings(options)
    const at = yield* now
    const deliveredBefore = before(at, config.deliveredRetention)
    const deadBefore = before(at, config.deadRetention)
    let total = 0
    for (;;) {
      const deleted = yield* store.prune({ deliveredBefore, deadBefore, limit: pruneBatch })
      total += deleted
      if (deleted < pruneBatch) return total
    }
  }).pipe(Effect.withSpan("WebhookWorker.prune"))

/**
 * Fans out and delivers until nothing is left to do now; how many deliveries it claimed.
 *
 * @since 0.1.0
 */
export const drain = (
  options?: WorkerOptions
): Effect.Effect<
  number,
  DomainError.StorageError,
  WebhookStore.WebhookStore | Envelope.Envelope | EgressPolicy.EgressPolicy
> =>
  Effect.gen(function* () {
    yield* fanOut(options)
    let total = 0
    for (;;) {
      const claimed = yield* deliver(options)
      total += claimed
      if (claimed === 0) return total
    }
  })

/**
 * Runs the fan-out, the delivery and the pruning loops side by side, each repeated on `schedule`
 * (until interrupted, or until the schedule ends); pruning runs at most once per `pruneInterval`
 * (the first time on the first step). A failed step (the store unreachable) is logged and the loop
 * carries on. Safe in many processes at once.
 *
 * @since 0.1.0
 */
export const run = <X, R>(
  schedule: Schedule.Schedule<X, unknown, R>,
  options?: WorkerOptions
): Effect.Effect<void, never, WebhookStore.WebhookStore | Envelope.Envelope | EgressPolicy.EgressPolicy | R> => {
  const step = <A, E, R2>(name: string, effect: Effect.Effect<A, E, R2>) =>
    Effect.catchAllCause(effect, (cause) => Effect.logWarning(`${name} failed; retrying on schedule`, cause))
  const fanOutLoop = Effect.repeat(step("webhook fan-out", fanOut(options)), schedule)
  const deliverLoop = Effect.repeat(
    step(
      "webhook delivery",
      Effect.gen(function* () {
        const config = settings(options)
        // Claims batch after batch while each one comes back full.
        for (;;) if ((yield* deliver(options)) < config.batch) return
      })
    ),
    schedule
  )
  const pruneLoop = Effect.flatMap(Ref.make<number | null>(null), (lastPruned) =>
    Effect.repeat(
      step(
        "webhook pruning",
        Effect.gen(function* () {
          const at = (yield* now).getTime()
          const last = yield* Ref.get(lastPruned)
          if (last !== null && at - last < Duration.toMillis(settings(options).pruneInterval)) return
          yield* prune(options)
          yield* Ref.set(lastPruned, at)
        })
      ),
      schedule
    )
  )
  return Effect.all([fanOutLoop, deliverLoop, pruneLoop], { concurrency: 3, discard: true })
}

/**
 * `run` forked into the layer's scope: the worker runs while the layer is in use.
 *
 * @since 0.1.0
 */
export const layer = <X, R>(
  schedule: Schedule.Schedule<X, unknown, R>,
  options?: WorkerOptions
): Layer.Layer<never, never, WebhookStore.WebhookStore | Envelope.Envelope | EgressPolicy.EgressPolicy | R> =>
  Layer.scopedDiscard(Effect.forkScoped(run(schedule, options)))
