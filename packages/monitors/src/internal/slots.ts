import type { DomainError, MonitorClaims, Transactions } from "@patchbay/core"
import * as Effect from "effect/Effect"

/** The time slot of `nowMillis` for work done every `everyMillis`, and when that slot ends. */
export const slotOf = (nowMillis: number, everyMillis: number) => {
  const slot = Math.floor(nowMillis / everyMillis)
  return { slot, endsAt: new Date((slot + 1) * everyMillis) }
}

/** Whether the claim was this caller's, and what `work` returned when it was. */
export type Claimed<A> = { readonly claimed: false } | { readonly claimed: true; readonly value: A }

/**
 * Runs `work` only when this caller claims `(monitor, key, slot)` first, in one unit with the
 * claim: when `work` fails, the claim is undone and another tick may do it.
 */
export const claimed = <A, E, R>(
  claims: MonitorClaims.MonitorClaimsShape,
  transactions: Transactions.TransactionsShape,
  claim: MonitorClaims.Claim,
  work: Effect.Effect<A, E, R>
): Effect.Effect<Claimed<A>, E | DomainError.StorageError, R> =>
  transactions.run(
    Effect.flatMap(
      claims.claim(claim),
      (won): Effect.Effect<Claimed<A>, E, R> =>
        won ? Effect.map(work, (value) => ({ claimed: true, value })) : Effect.succeed({ claimed: false })
    )
  )
