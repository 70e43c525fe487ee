/**
 * Wakes the workflow executions that wait for an instance to be reconnected
 * (`PatchbayActivity.retryAfterReconnect`): the host runs this layer beside its workflow engine,
 * and each lifecycle event published by `LifecycleEvents.Events` that settles a wait completes the
 * `DurableDeferred` of the executions waiting on that instance — `instance.reconnected` wakes all
 * of them, `credential.stored` those whose actor uses the new version's scope, and
 * `instance.disabled` / `instance.deleted` wake them all to fail.
 *
 * @since 0.1.0
 */
import * as DurableDeferred from "@effect/workflow/DurableDeferred"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import {
  type Credential,
  CredentialRepository,
  type CredentialScope,
  type Ids,
  LifecycleEvents,
  ReconnectWaits
} from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

/**
 * Why a waiting execution was woken: its instance can be used again, or it was disabled or
 * deleted (the wait then fails with `ActivityRejected`).
 *
 * @since 0.1.0
 */
export const WakeReason = Schema.Literal("reconnected", "disabled", "deleted")

/**
 * @since 0.1.0
 */
export type WakeReason = typeof WakeReason.Type

/**
 * The deferred an execution waits on until its instance is settled (the name comes from each
 * wait's token).
 *
 * @since 0.1.0
 */
export const Reconnected = DurableDeferred.make("@patchbay/workflow/Reconnected", { success: WakeReason })

/**
 * Whether an instance is reconnected for an actor that resolves credentials of `scopes`, judged
 * from the instance's credential versions and since when it has been waiting: a valid version of
 * one of its scopes stored since then reconnects it; an `active` instance does too, unless it
 * became active through versions stored since then in other scopes only (someone else's
 * credential, which the actor would not use).
 *
 * @since 0.1.0
 */
export const reconnectedFor = (options: {
  readonly scopes: ReadonlyArray<Pick<CredentialScope.CredentialScope, "type" | "id">>
  readonly since: number
  readonly active: boolean
  readonly versions: ReadonlyArray<Credential.CredentialMetadata>
  readonly now: Date
}): boolean => {
  const own = (version: Credential.CredentialMetadata) =>
    options.scopes.some((scope) => scope.type === version.scope.type && scope.id === version.scope.id)
  const recent = options.versions.filter((version) => version.createdAt.getTime() >= options.since)
  if (recent.some((version) => own(version) && version.isValidAt(options.now))) return true
  return options.active && !recent.some((version) => !own(version))
}

/**
 * Completes the deferred of every execution waiting on the instance that `select` keeps with
 * `reason`, then forgets each such wait. Returns how many executions it woke.
 *
 * @since 0.1.0
 */
export const wake = Effect.fn("ReconnectWaker.wake")(function* (
  orgId: Ids.OrgId,
  instanceId: Ids.InstanceId,
  reason: WakeReason,
  select: (wait: ReconnectWaits.ReconnectWait) => boolean = () => true
) {
  const waits = yield* ReconnectWaits.ReconnectWaits
  const waiting = (yield* waits.waitingOn(orgId, instanceId)).filter(select)
  for (const wait of waiting) {
    yield* DurableDeferred.succeed(Reconnected, { token: DurableDeferred.Token.make(wait.token), value: reason })
    yield* waits.remove(wait.token)
  }
  return waiting.length
})

/**
 * Wakes the executions one lifecycle event settles, and returns how many: a new credential
 * version wakes only the waits whose actor resolves credentials of its scope, and an instance
 * active again only the waits `reconnectedFor` accepts (a version stored for someone else would
 * not make the re-run succeed); events that settle nothing wake nobody.
 *
 * @since 0.1.0
 */
export const handle = Effect.fn("ReconnectWaker.handle")(function* (event: LifecycleEvents.LifecycleEvent) {
  switch (event._tag) {
    case "instance.reconnected": {
      const repository = yield* CredentialRepository.CredentialRepository
      const versions = yield* repository.list(event.orgId, event.instanceId)
      return yield* wake(event.orgId, event.instanceId, "reconnected", (wait) =>
        reconnectedFor({
          scopes: wait.scopes,
          since: wait.registeredAt.getTime(),
          active: true,
          versions,
          now: event.at
        })
      )
    }
    case "instance.disabled":
      return yield* wake(event.orgId, event.instanceId, "disabled")
    case "instance.deleted":
      return yield* wake(event.orgId, event.instanceId, "deleted")
    case "credential.stored": {
      const repository = yield* CredentialRepository.CredentialRepository
      const stored = yield* repository.get(event.orgId, event.credentialId)
      if (Option.isNone(stored)) return 0
      const { scope } = stored.value.metadata
      return yield* wake(event.orgId, event.instanceId, "reconnected", (wait) => wait.uses(scope))
    }
    default:
      return 0
  }
})

/**
 * Subscribes to the published lifecycle events when built and, for as long as its scope lasts,
 * wakes the executions each event settles. A failure to wake is logged and the next event is
 * handled; a wait that was not completed stays recorded.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<
  never,
  never,
  LifecycleEvents.Events | ReconnectWaits.ReconnectWaits | CredentialRepository.CredentialRepository | WorkflowEngine
> = Layer.scopedDiscard(
  Effect.gen(function* () {
    const events = yield* LifecycleEvents.Events
    const stream = yield* events.subscription
    const context = yield* Effect.context<
      ReconnectWaits.ReconnectWaits | CredentialRepository.CredentialRepository | WorkflowEngine
    >()
    yield* stream.pipe(
      Stream.runForEach((event) =>
        handle(event).pipe(
          Effect.catchAllCause((cause) =>
            Effect.logWarning("ReconnectWaker: could not wake the executions waiting on an instance", cause).pipe(
              Effect.annotateLogs({ instanceId: event.instanceId, event: event._tag })
            )
          ),
          Effect.provide(context)
        )
      ),
      Effect.forkScoped
    )
  })
)
