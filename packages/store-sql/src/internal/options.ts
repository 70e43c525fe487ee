import * as Duration from "effect/Duration"

/** Options every SQL repository takes. */
export interface RepositoryOptions {
  /**
   * Longest one operation may take before it fails with `StorageError` (default 10 seconds);
   * `Duration.infinity` leaves timeouts to the client.
   */
  readonly operationTimeout?: Duration.DurationInput | undefined
}

/** The operation timeout of some options. */
export const operationTimeout = (options: RepositoryOptions | undefined): Duration.Duration =>
  Duration.decode(options?.operationTimeout ?? "10 seconds")

/** A parameter for a `jsonb` column: JSON text, so node-postgres and PGlite treat it alike. */
export const json = (value: unknown): string => JSON.stringify(value)

/** A byte array as a plain `Uint8Array` (node-postgres returns `Buffer`s, PGlite `Uint8Array`s). */
export const bytes = (value: Uint8Array): Uint8Array =>
  Object.getPrototypeOf(value) === Uint8Array.prototype
    ? value
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
