/**
 * Turning driver failures into core's `StorageError` without leaking statement parameters, and
 * bounding every operation in time and in connections.
 */
import { DomainError } from "@patchbay/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import type { Bound } from "./options.js"
import { timeLimit } from "./timeLimit.js"

/** Condition names of the SQLSTATE codes an operator is most likely to meet. */
const conditions: Record<string, string> = {
  "08000": "connection exception",
  "08001": "cannot establish connection",
  "08003": "connection does not exist",
  "08006": "connection failure",
  "23503": "foreign key violation",
  "23505": "unique violation",
  "23514": "check violation",
  "25P02": "transaction aborted",
  "40001": "serialization failure",
  "40P01": "deadlock detected",
  "42601": "syntax error",
  "42702": "ambiguous column",
  "42P01": "undefined table",
  "53300": "too many connections",
  "55P03": "lock not available",
  "57014": "query canceled",
  "57P01": "admin shutdown",
  "57P02": "crash shutdown",
  "57P03": "cannot connect now",
  P0001: "raised exception"
}

const field = (value: unknown, key: string): string | undefined => {
  if (!Predicate.isObject(value) || !(key in value)) return undefined
  const found: unknown = Reflect.get(value, key)
  return typeof found === "string" && found.length > 0 ? found : undefined
}

/** The SQLSTATE of a driver error (node-postgres and PGlite both expose `code`), if it is one. */
export const sqlState = (cause: unknown): string | undefined => {
  const code = field(cause, "code")
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** The constraint a driver error names, if any. */
export const constraintOf = (cause: unknown): string | undefined => field(cause, "constraint")

/** A `SqlError`-shaped value (tagged, with the driver error as `cause`). */
interface SqlFailure {
  readonly _tag: "SqlError"
  readonly message: string
  readonly cause?: unknown
}

const isSqlFailure = (u: unknown): u is SqlFailure => Predicate.isTagged(u, "SqlError")

/** Whether a failure is a unique violation of the named constraint. */
export const isUniqueViolation = (error: unknown, constraint: string): boolean =>
  isSqlFailure(error) && sqlState(error.cause) === "23505" && constraintOf(error.cause) === constraint

/**
 * What went wrong, in words safe for logs: the client's own message, the SQLSTATE with its
 * condition name and constraint, or the network error code. Never a server message (those may
 * quote values) and never a parameter.
 */
export const describe = (error: SqlFailure): string => {
  const cause = error.cause
  const state = sqlState(cause)
  if (state !== undefined) {
    const constraint = constraintOf(cause)
    const condition = conditions[state]
    return `${error.message} (SQLSTATE ${state}${condition === undefined ? "" : ` ${condition}`}${
      constraint === undefined ? "" : `, constraint ${constraint}`
    })`
  }
  const code = field(cause, "code")
  if (code !== undefined) return `${error.message} (${code})`
  const message = cause instanceof Error ? cause.message : undefined
  // Driver and network errors without a SQLSTATE ("Connection terminated unexpectedly") carry no values.
  return message === undefined || message === error.message ? error.message : `${error.message}: ${message}`
}

/** A `StorageError` for an operation from a `SqlError`. */
export const fromSqlError = (operation: string, error: SqlFailure): DomainError.StorageError =>
  new DomainError.StorageError({ operation, detail: describe(error) })

/** The failures `guard` turns into `StorageError`. */
type Handled = { readonly _tag: "SqlError" | "ParseError" }

const timedOut = (operation: string, timeout: Duration.Duration) =>
  new DomainError.StorageError({
    operation,
    detail: `the database did not answer within ${Duration.format(timeout)} (operationTimeout)`
  })

/**
 * Turns an operation's `SqlError` and `ParseError` failures (a stored row that does not decode)
 * into `StorageError`s; other failures pass through.
 */
export const typedFailures =
  (operation: string) =>
  <A, E, R>(
    effect: Effect.Effect<A, E, R>
  ): Effect.Effect<A, Exclude<E, Extract<E, Handled>> | DomainError.StorageError, R> =>
    Effect.catchIf(
      effect,
      (e): e is Extract<E, Handled> => Predicate.isTagged(e, "SqlError") || Predicate.isTagged(e, "ParseError"),
      (e) =>
        Effect.fail(
          isSqlFailure(e)
            ? fromSqlError(operation, e)
            : new DomainError.StorageError({ operation, detail: "a stored row does not have the expected shape" })
        )
    )

/**
 * Runs an operation within the pool's capacity (`Admission`), bounds it in time and types its
 * failures (`typedFailures`). Past its bound the operation is interrupted — on `PgClient` that asks
 * the server to cancel the running statement — and fails with `StorageError` naming the bound.
 */
export const guard =
  (operation: string, bound: Bound) =>
  <A, E, R>(
    effect: Effect.Effect<A, E, R>
  ): Effect.Effect<A, Exclude<E, Extract<E, Handled>> | DomainError.StorageError, R> => {
    const timeout = bound.duration
    const handled = typedFailures(operation)(effect)
    return bound.admission.admit(operation, timeLimit(timeout, () => timedOut(operation, timeout))(handled))
  }
