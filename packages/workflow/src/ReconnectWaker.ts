/**
 * Wakes the workflow executions that wait for an instance to be reconnected
 * (`PatchbayActivity.retryAfterReconnect`): the host runs this layer beside its workflow engine,
 * and each `instance.reconnected` or `credential.stored` event published by `LifecycleEvents.Events`
 * completes the `DurableDeferred` of every execution waiting on that instance.
 *
 * @since 0.1.0
 */
import * as DurableDeferred from "@effect/workflow/DurableDeferred"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import type { Ids } from "@patchbay/core"
import { LifecycleEvents } from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { ReconnectWaits } from "./ReconnectWaits.js"

/**
 * The deferred an execution waits on until its instance is reconnected (the name comes from each
 * wait's token).
 *
 * @since 0.1.0
 */
export const Reconnected = DurableDeferred.make("@patchbay/workflow/Reconnected")

/**
 * Whether an event may have made an instance usable again: it was reconnected (its status went
 * back to `active`), or a new credential version was stored for it.
 *
 * @since 0.1.0
 */
export const isReconnect = (
  event: LifecycleEvents.LifecycleEvent
): event is typeof LifecycleEvents.Reconnected.Type | typeof LifecycleEvents.CredentialStored.Type =>
  event._tag === "instance.reconnected" || event._tag === "credential.stored"

/**
 * Completes the deferred of every execution waiting on the instance, then forgets each wait.
 * Returns how many executions it woke.
 *
 * @since 0.1.0
 */
export const wake = Effect.fn("ReconnectWaker.wake")(function* (orgId: Ids.OrgId, instanceId: Ids.InstanceId) {
  const waits = yield* ReconnectWaits
  const waiting = yield* waits.waitingOn(orgId, instanceId)
  for (const wait of waiting) {
    yield* DurableDeferred.succeed(Reconnected, {
      token: DurableDeferred.Token.make(wait.token),
      value: undefined
    })
    yield* waits.remove(wait.token)
  }
  return waiting.length
})

/**
 * Subscribes to the published lifecycle events when built and, for as long as its scope lasts,
 * wakes the executions waiting on each reconnected instance. A failure to wake is logged and the
 * next event is handled; a wait that was not completed stays recorded.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<never, never, LifecycleEvents.Events | ReconnectWaits | WorkflowEngine> =
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const events = yield* LifecycleEvents.Events
      const stream = yield* events.subscription
      const context = yield* Effect.context<ReconnectWaits | WorkflowEngine>()
      yield* stream.pipe(
        Stream.filter(isReconnect),
        Stream.runForEach((event) =>
          wake(event.orgId, event.instanceId).pipe(
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
