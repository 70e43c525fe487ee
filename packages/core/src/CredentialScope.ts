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
 * The scopes an actor belongs to, in resolution order: agent → user → workspace → organization.
 *
 * @since 0.1.0
 */
export const forActor = (actor: ActorInfo): ReadonlyArray<CredentialScope> => {
  const scopes: Array<CredentialScope> = []
  if (actor.agentId !== undefined) scopes.push(CredentialScope.make({ type: "agent", id: actor.agentId }))
  if (actor.userId !== undefined) scopes.push(CredentialScope.make({ type: "user", id: actor.userId }))
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
