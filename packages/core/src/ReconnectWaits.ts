/**
 * The durable record of workflow executions waiting for an instance to be reconnected: each wait
 * names the instance, the credential scopes the waiting actor resolves, and the token of the
 * `DurableDeferred` that wakes the execution. A workflow writes it when an activity fails with
 * `ReconnectRequired` (`@patchbay/workflow`'s `PatchbayActivity.retryAfterReconnect`); a waker
 * reads it when an instance comes back, is disabled or is deleted.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { CredentialScope } from "./CredentialScope.js"
import type { StorageError } from "./DomainError.js"
import * as Ids from "./Ids.js"

/**
 * One execution waiting on one instance: `token` is its `DurableDeferred` token, `scopes` the
 * scopes whose new credentials can reconnect it (the waiting actor's, in precedence order).
 *
 * @since 0.1.0
 */
export class ReconnectWait extends Schema.Class<ReconnectWait>("@patchbay/core/ReconnectWait")({
  token: Schema.NonEmptyString,
  orgId: Ids.OrgId,
  instanceId: Ids.InstanceId,
  scopes: Schema.Array(CredentialScope),
  registeredAt: Schema.DateFromSelf
}) {
  /** Whether a credential stored in `scope` can reconnect this wait. */
  uses(scope: { readonly type: string; readonly id: string }): boolean {
    return this.scopes.some((own) => own.type === scope.type && own.id === scope.id)
  }
}

/**
 * @since 0.1.0
 */
export interface ReconnectWaitsShape {
  /** Records a wait; registering the same token again replaces it. */
  readonly register: (wait: ReconnectWait) => Effect.Effect<void, StorageError>
  /** The waits on an instance of an organization, oldest first. */
  readonly waitingOn: (
    orgId: Ids.OrgId,
    instanceId: Ids.InstanceId
  ) => Effect.Effect<ReadonlyArray<ReconnectWait>, StorageError>
  /** Forgets a wait (nothing happens when there is none). */
  readonly remove: (token: string) => Effect.Effect<void, StorageError>
}

/**
 * The port through which waits for a reconnect are recorded and found.
 *
 * @since 0.1.0
 */
export class ReconnectWaits extends Context.Tag("@patchbay/core/ReconnectWaits")<
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
