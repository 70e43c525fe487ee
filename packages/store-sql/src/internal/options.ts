import type * as SqlClient from "@effect/sql/SqlClient"
import * as Duration from "effect/Duration"
import * as Admission from "./admission.js"

/** Options every SQL repository takes. */
export interface RepositoryOptions {
  /**
   * Longest one operation may take before it fails with `StorageError` (default 10 seconds);
   * `Duration.infinity` leaves timeouts to the client and the server.
   */
  readonly operationTimeout?: Duration.DurationInput | undefined
}

/** How long an operation on a client may take, and how it gets a connection of the client's pool. */
export interface Bound {
  readonly duration: Duration.Duration
  readonly admission: Admission.Admission
}

/** A bound of `duration` for operations on `client`. */
export const boundOf = (client: SqlClient.SqlClient, duration: Duration.DurationInput): Bound => ({
  duration: Duration.decode(duration),
  admission: Admission.of(client)
})

/** The operation timeout of some options, for operations on `client`. */
export const operationTimeout = (options: RepositoryOptions | undefined, client: SqlClient.SqlClient): Bound =>
  boundOf(client, options?.operationTimeout ?? "10 seconds")

/** A parameter for a `jsonb` column: JSON text, so node-postgres and PGlite treat it alike. */
export const json = (value: unknown): string => JSON.stringify(value)

/** A byte array as a plain `Uint8Array` (node-postgres returns `Buffer`s, PGlite `Uint8Array`s). */
export const bytes = (value: Uint8Array): Uint8Array =>
  Object.getPrototypeOf(value) === Uint8Array.prototype
    ? value
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
