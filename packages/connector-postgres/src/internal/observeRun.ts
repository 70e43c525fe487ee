/**
 * What observation runs SQL with: any effect that sends one statement on the connection (and in
 * the transaction) the observed statements run on, and hands back its rows.
 */
import type * as Effect from "effect/Effect"

/** Rows of one statement, as `pg` returns them. */
export interface Rows {
  readonly rows: ReadonlyArray<Record<string, unknown>>
}

/** Sends one statement with bound parameters on the observed connection. */
export type Run<E> = (sql: string, params?: ReadonlyArray<unknown>) => Effect.Effect<Rows, E>

/** A number from an int8 (a string in `pg`), int4 or numeric column; null stays null. */
export const numberOf = (value: unknown): number | null => {
  if (value === null || value === undefined) return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

/** `"schema"."name"` with PostgreSQL's identifier quoting. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`
