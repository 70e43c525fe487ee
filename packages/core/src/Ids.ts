/**
 * Branded identifiers. Every id is a UUID string; the brand keeps an `InstanceId` from being passed
 * where a `CredentialId` is expected.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { uuidv7 } from "./internal/uuid.js"

/** A connector descriptor's stable id. */
export const ConnectorId = Schema.UUID.pipe(Schema.brand("@patchbay/ConnectorId"))
/** @since 0.1.0 */
export type ConnectorId = typeof ConnectorId.Type

/** A connector instance's id (UUIDv7, so ids sort in creation order). */
export const InstanceId = Schema.UUID.pipe(Schema.brand("@patchbay/InstanceId"))
/** @since 0.1.0 */
export type InstanceId = typeof InstanceId.Type

/** One credential version's id. */
export const CredentialId = Schema.UUID.pipe(Schema.brand("@patchbay/CredentialId"))
/** @since 0.1.0 */
export type CredentialId = typeof CredentialId.Type

/** An organization's id: the outermost tenant boundary. */
export const OrgId = Schema.UUID.pipe(Schema.brand("@patchbay/OrgId"))
/** @since 0.1.0 */
export type OrgId = typeof OrgId.Type

/** A workspace's id, inside one organization. */
export const WorkspaceId = Schema.UUID.pipe(Schema.brand("@patchbay/WorkspaceId"))
/** @since 0.1.0 */
export type WorkspaceId = typeof WorkspaceId.Type

/** A user's id. */
export const UserId = Schema.UUID.pipe(Schema.brand("@patchbay/UserId"))
/** @since 0.1.0 */
export type UserId = typeof UserId.Type

/** An agent's id. */
export const AgentId = Schema.UUID.pipe(Schema.brand("@patchbay/AgentId"))
/** @since 0.1.0 */
export type AgentId = typeof AgentId.Type

/** An audit event's id. */
export const AuditEventId = Schema.UUID.pipe(Schema.brand("@patchbay/AuditEventId"))
/** @since 0.1.0 */
export type AuditEventId = typeof AuditEventId.Type

/**
 * A fresh time-ordered UUIDv7 (timestamp from Effect's `Clock`) made into the given branded id.
 *
 * @since 0.1.0
 */
export const make = <A>(id: {
  readonly make: (value: string, options: { readonly disableValidation: true }) => A
}): Effect.Effect<A> => Effect.map(uuidv7, (value) => id.make(value, trusted))

// A generated UUID is valid by construction.
const trusted = { disableValidation: true } as const
