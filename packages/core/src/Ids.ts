/**
 * Branded identifiers. Every id is a UUID string; the brand keeps an `InstanceId` from being passed
 * where a `CredentialId` is expected.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Schema from "effect/Schema"
import { v7 } from "uuid"

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
 * A fresh UUIDv7 (`uuid`'s `v7`) made into the given branded id. The timestamp comes from Effect's
 * `Clock` in nanoseconds: milliseconds fill the 48-bit timestamp and the fraction of a millisecond
 * the 32-bit counter (RFC 9562 §6.2, method 3), so ids sort in creation order across fibers. Within
 * one fiber the counter also steps past the fiber's previous id (method 1), so ids still sort in
 * creation order while the clock stands still, as under `TestClock`.
 *
 * @since 0.1.0
 */
export const make = <A>(id: {
  readonly make: (value: string, options: { readonly disableValidation: true }) => A
}): Effect.Effect<A> =>
  Effect.clockWith((clock) =>
    FiberRef.modify(latestStamp, (latest) => {
      const stamp = nextStamp(latest, clock.unsafeCurrentTimeNanos())
      return [id.make(v7(stamp), trusted), stamp]
    })
  )

interface Stamp {
  readonly msecs: number
  readonly seq: number
}

// The stamp of the fiber's latest id; forked fibers start from their parent's.
const latestStamp = globalValue(Symbol.for("@patchbay/core/Ids/latestStamp"), () =>
  FiberRef.unsafeMake<Stamp>({ msecs: -1, seq: 0 })
)

const nanosPerMilli = BigInt(1_000_000)
// Scales the nanoseconds within a millisecond (0–999 999) onto the whole 32-bit counter.
const counterPerNano = 2 ** 32 / 1_000_000
const maxCounter = 2 ** 32 - 1

const nextStamp = (latest: Stamp, nanos: bigint): Stamp => {
  const msecs = Number(nanos / nanosPerMilli)
  const seq = Math.floor(Number(nanos % nanosPerMilli) * counterPerNano)
  if (msecs > latest.msecs || (msecs === latest.msecs && seq > latest.seq)) return { msecs, seq }
  return latest.seq < maxCounter ? { msecs: latest.msecs, seq: latest.seq + 1 } : { msecs: latest.msecs + 1, seq: 0 }
}

// A generated UUID is valid by construction.
const trusted = { disableValidation: true } as const
