/**
 * Idempotency keys of creates and stores. A caller that retries a write after an ambiguous
 * failure — a `StorageError` after which it cannot tell whether the write happened — sends the
 * same key again and gets the first call's result, instead of `NameTaken` or `DuplicateAccount`
 * from its own earlier write.
 *
 * A key is unique per (organization, operation). It is recorded with a fingerprint of the decoded
 * request and with the result, inside the unit of work of the write itself: an acknowledged write
 * and its key are committed together, and a call that fails leaves no key behind. The same key
 * with another request fails with `IdempotencyKeyReused`. A key is kept for `retention` (24 hours);
 * after that it counts as unused, and expired keys are removed as new ones are claimed.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { IdempotencyKeyReused, StorageError } from "./DomainError.js"
import type { OrgId } from "./Ids.js"
import * as Journal from "./internal/journal.js"

/**
 * A caller's idempotency key: 1 to 255 printable ASCII characters (space to `~`).
 *
 * @since 0.1.0
 */
export const IdempotencyKey = Schema.String.pipe(
  Schema.filter((text) => /^[\x20-\x7E]{1,255}$/.test(text) || "must be 1 to 255 printable ASCII characters", {
    identifier: "IdempotencyKey"
  }),
  Schema.brand("@patchbay/IdempotencyKey")
)
/** @since 0.1.0 */
export type IdempotencyKey = typeof IdempotencyKey.Type

/**
 * How long a key is kept: a retry within this period gets the first result.
 *
 * @since 0.1.0
 */
export const retention: Duration.Duration = Duration.hours(24)

/**
 * A request to claim a key for a write about to happen, at `at`.
 *
 * @since 0.1.0
 */
export interface Claim {
  readonly orgId: OrgId
  readonly operation: string
  readonly key: IdempotencyKey
  /** The request's fingerprint (see `fingerprint`). */
  readonly fingerprint: string
  readonly at: Date
  /** When the key stops counting; `at` plus `retention`. */
  readonly expiresAt: Date
}

/**
 * What an earlier request recorded under a key: its fingerprint and its encoded result (JSON;
 * undefined while that request's unit has not completed it).
 *
 * @since 0.1.0
 */
export interface Recorded {
  readonly fingerprint: string
  readonly result: unknown
}

/**
 * The port through which keys are stored. Both operations run inside the unit of work of the
 * write (`Transactions.run`), so a key is kept exactly when the write is.
 *
 * @since 0.1.0
 */
export interface IdempotencyKeysShape {
  /**
   * Claims the key for this unit (none: go ahead and write) or returns the record of an earlier
   * request whose key has not expired. A unit holding the same key makes the claim wait until it
   * ends. A claim that takes a key may also remove some expired keys.
   */
  readonly claim: (claim: Claim) => Effect.Effect<Option.Option<Recorded>, StorageError>
  /** Records the result (JSON) under a key this unit claimed. */
  readonly complete: (claim: Claim, result: unknown) => Effect.Effect<void, StorageError>
}

/**
 * @since 0.1.0
 */
export class IdempotencyKeys extends Context.Tag("@patchbay/core/IdempotencyKeys")<
  IdempotencyKeys,
  IdempotencyKeysShape
>() {}

/**
 * JSON with object keys in code-unit order, dates as ISO strings and undefined fields left out:
 * equal values give equal text, whatever order their keys came in.
 *
 * @since 0.1.0
 */
export const canonicalJson = (value: unknown): string => {
  if (value instanceof Date) return JSON.stringify(value.toISOString())
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (typeof value === "object" && value !== null) {
    const entries = Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
    return `{${entries.join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

/**
 * The fingerprint of a decoded request: SHA-256 of its canonical JSON with the operation. The
 * request must hold no secret in clear (a credential's values go in as a keyed hash).
 *
 * @since 0.1.0
 */
export const fingerprint = (operation: string, request: unknown): string =>
  `v1:${createHash("sha256")
    .update(canonicalJson([operation, request]))
    .digest("base64url")}`

/**
 * Makes a write run once per key: with no key it simply runs; with a key first used here it runs
 * and its result (encoded with `result`, which must encode to JSON) is recorded under the key;
 * with a key an equal request used before, the recorded result is returned and nothing runs; with
 * a key another request used, it fails with `IdempotencyKeyReused`. The write must run inside its
 * unit of `Transactions`, with the key.
 *
 * @since 0.1.0
 */
export const once =
  <A, I>(
    keys: IdempotencyKeysShape,
    request: {
      readonly orgId: OrgId
      readonly operation: string
      readonly key: IdempotencyKey | undefined
      readonly fingerprint: string
      readonly at: Date
      readonly result: Schema.Schema<A, I>
    }
  ) =>
  <E, R>(write: Effect.Effect<A, E, R>): Effect.Effect<A, E | IdempotencyKeyReused | StorageError, R> => {
    const key = request.key
    if (key === undefined) return write
    const claim: Claim = {
      orgId: request.orgId,
      operation: request.operation,
      key,
      fingerprint: request.fingerprint,
      at: request.at,
      expiresAt: new Date(request.at.getTime() + Duration.toMillis(retention))
    }
    return Effect.flatMap(keys.claim(claim), (found): Effect.Effect<A, E | IdempotencyKeyReused | StorageError, R> => {
      if (Option.isNone(found)) {
        return Effect.tap(write, (value) =>
          Schema.encode(request.result)(value).pipe(
            Effect.orDie,
            Effect.flatMap((encoded) => keys.complete(claim, encoded))
          )
        )
      }
      if (found.value.fingerprint !== request.fingerprint) {
        return Effect.fail(new IdempotencyKeyReused({ operation: request.operation, idempotencyKey: key }))
      }
      return Schema.decodeUnknown(request.result)(found.value.result).pipe(
        Effect.mapError(
          () =>
            new StorageError({
              operation: request.operation,
              detail: "the result recorded under the idempotency key cannot be read"
            })
        )
      )
    })
  }

/** The keys in one map; JSON text of the triple, so no separator can be forged. */
const rowKey = (claim: Claim) => JSON.stringify([claim.orgId, claim.operation, claim.key])

/**
 * In-memory keys, journalled like core's other memory repositories: inside a unit of
 * `Transactions.layerMemory` a claim and its result are undone when the unit fails. Units run one
 * at a time, so a claim never meets one in flight. `InstanceRepository.layerMemory` includes it.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<IdempotencyKeys> = Layer.sync(IdempotencyKeys, () => {
  interface Row extends Recorded {
    readonly expiresAt: number
  }
  // Insertion order is expiry order (every key lives for `retention`), so the oldest come first.
  const rows = new Map<string, Row>()
  const restore = (id: string, previous: Row | undefined) => () => {
    rows.delete(id)
    if (previous !== undefined) rows.set(id, previous)
  }
  const sweep = (now: number) => {
    for (const [id, row] of rows) {
      if (row.expiresAt > now) break
      rows.delete(id)
    }
  }
  return IdempotencyKeys.of({
    claim: (claim) =>
      Journal.mutate((onRollback) => {
        const id = rowKey(claim)
        const found = rows.get(id)
        if (found !== undefined && found.expiresAt > claim.at.getTime()) {
          return Effect.succeed(Option.some<Recorded>({ fingerprint: found.fingerprint, result: found.result }))
        }
        sweep(claim.at.getTime())
        onRollback(restore(id, found))
        rows.delete(id)
        rows.set(id, { fingerprint: claim.fingerprint, result: undefined, expiresAt: claim.expiresAt.getTime() })
        return Effect.succeed(Option.none())
      }),
    complete: (claim, result) =>
      Journal.mutate((onRollback) => {
        const id = rowKey(claim)
        const found = rows.get(id)
        if (found === undefined) return Effect.void
        onRollback(() => void rows.set(id, found))
        // Kept as JSON, as a SQL store keeps it.
        rows.set(id, { ...found, result: JSON.parse(JSON.stringify(result) ?? "null") })
        return Effect.void
      })
  })
})
