/**
 * The undo journal of a memory transaction. A memory repository mutates its maps through `mutate`;
 * inside `Transactions.layerMemory`'s `run` each mutation leaves an undo step in the journal of the
 * running transaction, and a failed transaction replays them newest first. Outside a transaction
 * the steps are dropped. This is the memory counterpart of @effect/sql's `TransactionConnection`.
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"

/** The undo steps of the running memory transaction, oldest first. */
export type Journal = Array<() => void>

/** The journal of the transaction the fiber runs in, if any. */
export const current: FiberRef.FiberRef<Journal | undefined> = globalValue(
  Symbol.for("@patchbay/core/internal/journal"),
  () => FiberRef.unsafeMake<Journal | undefined>(undefined)
)

const drop = (_undo: () => void) => {}

/**
 * Runs a synchronous mutation; `onRollback` registers how to undo what it changed. The journal is
 * read before the mutation runs, so no interruption falls between a change and its undo step.
 */
export const mutate = <A, E>(f: (onRollback: (undo: () => void) => void) => Effect.Effect<A, E>): Effect.Effect<A, E> =>
  FiberRef.getWith(current, (journal) =>
    Effect.suspend(() => f(journal === undefined ? drop : (undo) => void journal.push(undo)))
  )
