/**
 * Who is asking. The host provides an `Actor` per request or per workflow run; every Patchbay
 * operation reads it from the context, so an organization boundary is never a parameter a caller
 * can get wrong.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { AgentId, OrgId, UserId, WorkspaceId } from "./Ids.js"

/**
 * The actor's identity: always an organization, optionally a workspace, a user and an agent.
 *
 * An agent has isolated access: with an `agentId`, the `userId`'s personal credentials are used
 * (and writable) only when the host states that the agent acts on behalf of that user
 * (`onBehalfOfUser: true`); otherwise the agent resolves agent → workspace → organization.
 *
 * @since 0.1.0
 */
export class ActorInfo extends Schema.Class<ActorInfo>("@patchbay/core/ActorInfo")({
  orgId: OrgId,
  workspaceId: Schema.optional(WorkspaceId),
  userId: Schema.optional(UserId),
  agentId: Schema.optional(AgentId),
  onBehalfOfUser: Schema.optional(Schema.Boolean)
}) {}

/**
 * The current actor as a Context service.
 *
 * @since 0.1.0
 */
export class Actor extends Context.Tag("@patchbay/core/Actor")<Actor, ActorInfo>() {}

/**
 * Provides a fixed actor, decoded from its encoded form.
 *
 * @since 0.1.0
 */
export const layer = (actor: typeof ActorInfo.Encoded): Layer.Layer<Actor> =>
  Layer.succeed(Actor, Schema.decodeSync(ActorInfo)(actor))
