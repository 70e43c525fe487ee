/**
 * The durable record of workflow executions waiting for an instance to be reconnected: each wait
 * names the instance and the token of the `DurableDeferred` that wakes the execution. The
 * workflow side writes it (`PatchbayActivity.retryAfterReconnect`); `ReconnectWaker` reads it when
 * an instance comes back.
 *
 * @since 0.1.0
 */
import { DomainError, Ids } from "@patchbay/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"

/**
 * One execution waiting on one instance: `token` is its `DurableDeferred` token.
 *
 * @since 0.1.0
 */
export class ReconnectWait extends Schema.Class<ReconnectWait>("@patchbay/workflow/ReconnectWait")({
  token: Schema.NonEmptyString,
  orgId: Ids.OrgId,
  instanceId: Ids.InstanceId,
  registeredAt: Schema.DateFromSelf
}) {}

/**
 * @since 0.1.0
 */
export interface ReconnectWaitsShape {
  /** Records a wait; registering the same token again replaces it. */
  readonly register: (wait: ReconnectWait) => Effect.Effect<void, DomainError.StorageError>
  /** The waits on an instance, oldest first. */
  readonly waitingOn: (
    orgId: Ids.OrgId,
    instanceId: Ids.InstanceId
  ) => Effect.Effect<ReadonlyArray<ReconnectWait>, DomainError.StorageError>
  /** Forgets a wait (nothing happens when there is none). */
  readonly remove: (token: string) => Effect.Effect<void, DomainError.StorageError>
}

/**
 * Where waits for a reconnect are kept.
 *
 * @since 0.1.0
 */
export class ReconnectWaits extends Context.Tag("@patchbay/workflow/ReconnectWaits")<
  ReconnectWaits,
  ReconnectWaitsShape
>() {}

/**
 * Waits kept in memory: for tests, and for a host whose workflow engine keeps its state in memory
 * too (`WorkflowEngine.layerMemory`).
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<ReconnectWaits> = Layer.sync(ReconnectWaits, () => {
  const waits = new Map<string, ReconnectWait>()
  return ReconnectWaits.of({
    register: (wait) =>
      Effect.sync(() => {
        waits.delete(wait.token)
        waits.set(wait.token, wait)
      }),
    waitingOn: (orgId, instanceId) =>
      Effect.sync(() => [...waits.values()].filter((wait) => wait.orgId === orgId && wait.instanceId === instanceId)),
    remove: (token) => Effect.sync(() => void waits.delete(token))
  })
})
