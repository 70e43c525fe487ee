import { Actor, type ConnectorInstance, ConnectorInstances, type DomainError, type Ids } from "@patchbay/core"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/** The actor a monitor acts as for an organization: its administrator, who sees every instance. */
export const orgActor = (orgId: Ids.OrgId): Actor.ActorInfo => Actor.ActorInfo.make({ orgId })

/**
 * The actor that uses an instance without a person: of the organization, inside the instance's
 * workspace when it has one (so the workspace's and the organization's credentials resolve).
 */
export const actorFor = (instance: ConnectorInstance.ConnectorInstance): Actor.ActorInfo =>
  instance.workspaceId === null
    ? Actor.ActorInfo.make({ orgId: instance.orgId })
    : Actor.ActorInfo.make({ orgId: instance.orgId, workspaceId: instance.workspaceId })

/** The organization's enabled instances, page by page, as full instances. */
export const enabledInstances = (
  instances: ConnectorInstances.ConnectorInstancesShape,
  orgId: Ids.OrgId
): Stream.Stream<ConnectorInstance.ConnectorInstance, DomainError.StorageError> =>
  Stream.paginateChunkEffect(undefined as Ids.InstanceId | undefined, (cursor) =>
    instances.list({ isEnabled: true, limit: 200, ...(cursor === undefined ? {} : { cursor }) }).pipe(
      // The query is built here and valid; an unknown connector cannot be named by it.
      Effect.catchTags({ InvalidInput: Effect.die, ConnectorNotFound: Effect.die }),
      Effect.map((page) => [Chunk.fromIterable(page.items), Option.fromNullable(page.nextCursor)] as const)
    )
  ).pipe(
    Stream.mapEffect((view) =>
      instances.getInstance(view.id).pipe(
        Effect.asSome,
        Effect.catchTag("InstanceNotFound", () => Effect.succeedNone)
      )
    ),
    Stream.filterMap((found) => found),
    Stream.provideService(Actor.Actor, orgActor(orgId))
  )
