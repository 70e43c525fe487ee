/**
 * Claims that keep the monitors of many processes from doing the same work twice: a monitor claims
 * `(monitor, key, slot)` — what it is about to do (`key`: an instance, a credential version and
 * threshold) in which time bucket (`slot`) — and only the process whose claim is new does it. A
 * claim lives until its `expiresAt`, after which `prune` may remove it.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { StorageError } from "./DomainError.js"
import * as Journal from "./internal/journal.js"

/**
 * A unit of monitor work in one time bucket; kept at least until `expiresAt`.
 *
 * @since 0.1.0
 */
export interface Claim {
  readonly monitor: string
  readonly key: string
  readonly slot: number
  readonly expiresAt: Date
}

/**
 * @since 0.1.0
 */
export interface MonitorClaimsShape {
  /**
   * Claims the work: true for the one caller (across processes sharing the store) that claimed it
   * first. Inside a unit of `Transactions` the claim is written, or undone, with that unit.
   */
  readonly claim: (claim: Claim) => Effect.Effect<boolean, StorageError>
  /** Removes claims that expired before `now`; returns how many. */
  readonly prune: (now: Date) => Effect.Effect<number, StorageError>
}

/**
 * The port through which monitors claim their work.
 *
 * @since 0.1.0
 */
export class MonitorClaims extends Context.Tag("@patchbay/core/MonitorClaims")<MonitorClaims, MonitorClaimsShape>() {}

/**
 * In-memory claims, shared by everything that uses one instance of the layer.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<MonitorClaims> = Layer.sync(MonitorClaims, () => {
  const claims = new Map<string, Date>()
  return MonitorClaims.of({
    claim: ({ expiresAt, key, monitor, slot }) =>
      Journal.mutate((onRollback) => {
        const id = JSON.stringify([monitor, key, slot])
        if (claims.has(id)) return Effect.succeed(false)
        claims.set(id, expiresAt)
        onRollback(() => claims.delete(id))
        return Effect.succeed(true)
      }),
    prune: (now) =>
      Effect.sync(() => {
        let removed = 0
        for (const [id, expiresAt] of claims) {
          if (expiresAt.getTime() < now.getTime()) {
            claims.delete(id)
            removed++
          }
        }
        return removed
      })
  })
})
