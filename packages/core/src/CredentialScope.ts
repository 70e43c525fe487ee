/**
 * Credential scopes: who may use a credential.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { ActorInfo } from "./Actor.js"

/**
 * `organization` (any actor of the org), `workspace` (actors in that workspace), `user` (that user
 * only), `agent` (that agent only).
 *
 * @since 0.1.0
 */
export const ScopeType = Schema.Literal("organization", "workspace", "user", "agent")
/** @since 0.1.0 */
export type ScopeType = typeof ScopeType.Type

/**
 * A scope: its type and the id of the organization, workspace, user or agent it names.
 *
 * @since 0.1.0
 */
export class CredentialScope extends Schema.Class<CredentialScope>("@patchbay/core/CredentialScope")({
  type: ScopeType,
  id: Schema.UUID
}) {
  /** `type:id`, the scope's stable key. */
  get key(): string {
    return `${this.type}:${this.id}`
  }
}

/**
 * The scopes an actor belongs to, in resolution order: a person user → workspace → organization;
 * an agent agent → workspace → organization, with its user's scope after its own only when the
 * host states that it acts on behalf of that user (`ActorInfo.onBehalfOfUser`).
 *
 * @since 0.1.0
 */
export const forActor = (actor: ActorInfo): ReadonlyArray<CredentialScope> => {
  const scopes: Array<CredentialScope> = []
  if (actor.agentId !== undefined) scopes.push(CredentialScope.make({ type: "agent", id: actor.agentId }))
  if (actor.userId !== undefined && (actor.agentId === undefined || actor.onBehalfOfUser === true)) {
    scopes.push(CredentialScope.make({ type: "user", id: actor.userId }))
  }
  if (actor.workspaceId !== undefined) scopes.push(CredentialScope.make({ type: "workspace", id: actor.workspaceId }))
  scopes.push(CredentialScope.make({ type: "organization", id: actor.orgId }))
  return scopes
}

/**
 * Whether an actor may use credentials of a scope.
 *
 * @since 0.1.0
 */
export const allows = (actor: ActorInfo, scope: CredentialScope): boolean =>
  forActor(actor).some((own) => own.type === scope.type && own.id === scope.id)

/**
 * Whether an actor may see an instance: org-level instances, instances of the actor's workspace,
 * and — for an organization-level actor (no workspace, not an agent) — every instance of the
 * organization, which it may administer but not use (see `usableBy`).
 *
 * @since 0.1.0
 */
export const visibleTo = (actor: ActorInfo, instance: { readonly workspaceId: string | null }): boolean =>
  instance.workspaceId === null ||
  instance.workspaceId === actor.workspaceId ||
  (actor.workspaceId === undefined && actor.agentId === undefined)

/**
 * Whether an actor may use an instance (resolve its credentials, run activities): org-level
 * instances by any actor of the organization, a workspace's instances only by actors of that
 * workspace.
 *
 * @since 0.1.0
 */
export const usableBy = (actor: ActorInfo, instance: { readonly workspaceId: string | null }): boolean =>
  instance.workspaceId === null || instance.workspaceId === actor.workspaceId

/**
 * Whether an actor may see a credential version's metadata: the scopes it may use, and — for an
 * organization-level person (no workspace, not an agent) — workspace scopes, which it administers.
 * Another user's or agent's personal credential is never visible.
 *
 * @since 0.1.0
 */
export const listableBy = (actor: ActorInfo, scope: CredentialScope): boolean =>
  allows(actor, scope) || (scope.type === "workspace" && actor.workspaceId === undefined && actor.agentId === undefined)
