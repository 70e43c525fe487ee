import { Actor, type CredentialScope, Ids } from "@patchbay/core"

/**
 * The actor a write without a person acts as (a background refresh, a callback completed without
 * a session): the owner of the credential's scope, so the vault's write rule holds.
 */
export const ownerOf = (orgId: Ids.OrgId, scope: CredentialScope.CredentialScope): Actor.ActorInfo => {
  switch (scope.type) {
    case "organization":
      return Actor.ActorInfo.make({ orgId })
    case "workspace":
      return Actor.ActorInfo.make({ orgId, workspaceId: Ids.WorkspaceId.make(scope.id) })
    case "user":
      return Actor.ActorInfo.make({ orgId, userId: Ids.UserId.make(scope.id) })
    case "agent":
      return Actor.ActorInfo.make({ orgId, agentId: Ids.AgentId.make(scope.id) })
  }
}
