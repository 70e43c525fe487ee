/**
 * Bounded input: schemas that every public API decodes its input with, so that no input ends in a
 * defect, a stack overflow, a hang or a retryable storage error. A refusal is `InvalidInput` (not
 * retryable) whose message names the field and the bound, never the value.
 *
 * Bounds: SQL length; size, depth, value count and key and string lengths of configuration,
 * labels and metadata; id-list lengths; durations as finite, non-negative milliseconds (no NaN,
 * strings or objects); no NUL characters and no unpaired surrogates in any string (PostgreSQL
 * refuses both, and a refusal from storage would look retryable).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { InvalidInput } from "./DomainError.js"
import { firstUnsafe } from "./internal/text.js"

/**
 * A string with no NUL character and no unpaired surrogate.
 *
 * @since 0.1.0
 */
export const SafeString = Schema.String.pipe(
  Schema.filter((text) => firstUnsafe(text) < 0 || "must not contain NUL characters or unpaired surrogates", {
    identifier: "SafeString"
  })
)

/**
 * A `SafeString` of at most `max` characters (UTF-16 code units).
 *
 * @since 0.1.0
 */
export const boundedString = (max: number): Schema.Schema<string> =>
  Schema.String.pipe(
    Schema.filter((text) =>
      text.length > max
        ? `must be at most ${max} characters`
        : firstUnsafe(text) < 0 || "must not contain NUL characters or unpaired surrogates"
    )
  )

/**
 * The longest SQL text any API accepts (1 MiB of characters).
 *
 * @since 0.1.0
 */
export const maxSqlLength = 1_048_576

/**
 * SQL text: 1 to `maxSqlLength` characters, no NUL, no unpaired surrogate.
 *
 * @since 0.1.0
 */
export const Sql: Schema.Schema<string> = Schema.String.pipe(
  Schema.filter((text) =>
    text.length === 0
      ? "must not be empty"
      : text.length > maxSqlLength
        ? `must be at most ${maxSqlLength} characters`
        : firstUnsafe(text) < 0 || "must not contain NUL characters or unpaired surrogates"
  )
)

/**
 * Bounds of a JSON value.
 *
 * @since 0.1.0
 */
export interface JsonLimits {
  /** Nesting of objects and arrays (the root object is depth 1). */
  readonly maxDepth: number
  /** Values in all (objects, arrays and leaves). */
  readonly maxValues: number
  /** Characters of one string. */
  readonly maxStringLength: number
  /** Characters of one object key. */
  readonly maxKeyLength: number
  /** Approximate characters of the value as JSON. */
  readonly maxSize: number
}

/**
 * Bounds of a connector instance's configuration.
 *
 * @since 0.1.0
 */
export const configurationLimits: JsonLimits = {
  maxDepth: 8,
  maxValues: 2_000,
  maxStringLength: 8_192,
  maxKeyLength: 128,
  maxSize: 65_536
}

/**
 * Bounds of metadata (credential metadata, audit details from callers).
 *
 * @since 0.1.0
 */
export const metadataLimits: JsonLimits = {
  maxDepth: 4,
  maxValues: 500,
  maxStringLength: 2_048,
  maxKeyLength: 128,
  maxSize: 16_384
}

const reservedKeys = new Set(["__proto__", "constructor", "prototype"])

/**
 * Why `value` is not plain JSON within `limits`, or undefined when it is. Iterative (no recursion,
 * so no stack overflow at any depth), reads no accessor, and stops at the first breach.
 *
 * @since 0.1.0
 */
export const jsonIssue = (value: unknown, limits: JsonLimits): string | undefined => {
  const stack: Array<readonly [unknown, number]> = [[value, 0]]
  let values = 0
  let size = 0
  try {
    while (stack.length > 0) {
      const [current, depth] = stack.pop()!
      if (++values > limits.maxValues) return `must hold at most ${limits.maxValues} values`
      if (current === null || typeof current === "boolean") {
        size += 5
      } else if (typeof current === "number") {
        if (!Number.isFinite(current)) return "must not hold NaN or infinite numbers"
        size += 24
      } else if (typeof current === "string") {
        if (current.length > limits.maxStringLength) {
          return `must not hold strings longer than ${limits.maxStringLength} characters`
        }
        if (firstUnsafe(current) >= 0) return "must not contain NUL characters or unpaired surrogates"
        size += current.length + 2
      } else if (typeof current === "object") {
        if (depth >= limits.maxDepth) return `must not be nested deeper than ${limits.maxDepth} levels`
        if (Array.isArray(current)) {
          if (current.length > limits.maxValues) return `must hold at most ${limits.maxValues} values`
          for (let i = 0; i < current.length; i++) {
            const item = Object.getOwnPropertyDescriptor(current, i)
            if (item === undefined || !("value" in item)) return "must be plain JSON (no holes or accessors)"
            stack.push([item.value, depth + 1])
          }
          size += current.length + 2
        } else {
          const prototype = Object.getPrototypeOf(current)
          if (prototype !== Object.prototype && prototype !== null) return "must be plain JSON objects and arrays"
          const keys = Object.keys(current)
          if (keys.length > limits.maxValues) return `must hold at most ${limits.maxValues} values`
          for (const key of keys) {
            if (key.length > limits.maxKeyLength)
              return `must not have keys longer than ${limits.maxKeyLength} characters`
            if (reservedKeys.has(key)) return "must not use the keys __proto__, constructor or prototype"
            if (firstUnsafe(key) >= 0) return "must not have keys with NUL characters or unpaired surrogates"
            const property = Object.getOwnPropertyDescriptor(current, key)
            if (property === undefined || !("value" in property)) return "must be plain JSON (no accessors)"
            stack.push([property.value, depth + 1])
            size += key.length + 4
          }
          size += 2
        }
      } else {
        return "must be JSON (no functions, symbols, bigints or undefined)"
      }
      if (size > limits.maxSize) return `must be at most ${limits.maxSize} characters as JSON`
    }
  } catch {
    return "must be plain JSON"
  }
  return undefined
}

/**
 * Any JSON value within `limits`.
 *
 * @since 0.1.0
 */
export const boundedJson = (limits: JsonLimits): Schema.Schema<unknown> =>
  Schema.Unknown.pipe(Schema.filter((value) => jsonIssue(value, limits) ?? true))

/**
 * A JSON object within `limits`.
 *
 * @since 0.1.0
 */
export const boundedJsonObject = (limits: JsonLimits): Schema.Schema<Readonly<Record<string, unknown>>, unknown> =>
  Schema.Unknown.pipe(
    Schema.filter(
      (value): value is Readonly<Record<string, unknown>> =>
        typeof value === "object" && value !== null && !Array.isArray(value),
      { message: () => "must be a JSON object" }
    ),
    Schema.filter((value) => jsonIssue(value, limits) ?? true)
  )

/**
 * A connector instance's configuration input: JSON within `configurationLimits`.
 *
 * @since 0.1.0
 */
export const Configuration: Schema.Schema<unknown> = boundedJson(configurationLimits)

/**
 * Metadata: a JSON object within `metadataLimits`.
 *
 * @since 0.1.0
 */
export const Metadata: Schema.Schema<Readonly<Record<string, unknown>>, unknown> = boundedJsonObject(metadataLimits)

/**
 * The most labels one object carries.
 *
 * @since 0.1.0
 */
export const maxLabels = 64

/**
 * Labels: at most 64 entries, keys of 1–128 and values of at most 512 safe characters.
 *
 * @since 0.1.0
 */
export const Labels: Schema.Schema<Readonly<Record<string, string>>> = Schema.Record({
  key: boundedString(128).pipe(Schema.filter((key) => key.length > 0 || "label keys must not be empty")),
  value: boundedString(512)
}).pipe(Schema.filter((labels) => Object.keys(labels).length <= maxLabels || `must hold at most ${maxLabels} labels`))

/**
 * A list of at most `max` items of `item` (ids of a bulk request, scopes of a query).
 *
 * @since 0.1.0
 */
export const boundedArray = <A, I, R>(
  item: Schema.Schema<A, I, R>,
  max: number
): Schema.Schema<ReadonlyArray<A>, ReadonlyArray<I>, R> =>
  Schema.Array(item).pipe(Schema.maxItems(max, { message: () => `must hold at most ${max} items` }))

/**
 * The longest duration any API accepts: 10 years in milliseconds.
 *
 * @since 0.1.0
 */
export const maxDurationMillis = 10 * 366 * 24 * 60 * 60 * 1000

/**
 * Milliseconds: a finite number from 0 to `maxDurationMillis`. NaN, infinities, strings and
 * objects are refused.
 *
 * @since 0.1.0
 */
export const Millis: Schema.Schema<number> = Schema.Number.pipe(
  Schema.filter((n) =>
    Number.isFinite(n) && n >= 0 && n <= maxDurationMillis
      ? true
      : `must be a finite number of milliseconds from 0 to ${maxDurationMillis}`
  )
)

/**
 * A `Duration` given as `Millis`.
 *
 * @since 0.1.0
 */
export const DurationFromMillis: Schema.Schema<Duration.Duration, number> = Schema.transform(
  Millis,
  Schema.DurationFromSelf,
  {
    strict: true,
    decode: (millis) => Duration.millis(millis),
    encode: (duration) => Duration.toMillis(duration)
  }
)

/**
 * The latest instant any API accepts: the end of year 9999. Every store and wire format holds it
 * (PostgreSQL cannot read the six-digit years of ISO strings beyond it).
 *
 * @since 0.1.0
 */
export const maxDateMillis = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

/**
 * A date given as a `Date` or an ISO 8601 string: valid, and no later than `maxDateMillis`.
 *
 * @since 0.1.0
 */
export const DateInput: Schema.Schema<Date, Date | string> = Schema.Union(Schema.ValidDateFromSelf, Schema.Date).pipe(
  Schema.filter((date) => date.getTime() <= maxDateMillis || "must be no later than 9999-12-31T23:59:59.999Z")
)

/**
 * Decodes unknown input with `schema` (all errors, excess properties refused) and answers
 * `InvalidInput` that names fields and bounds, never values.
 *
 * @since 0.1.0
 */
export const decode =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (input: unknown): Effect.Effect<A, InvalidInput> =>
    Schema.decodeUnknown(schema, { errors: "all", onExcessProperty: "error" })(input).pipe(
      Effect.mapError((error) => InvalidInput.fromParseError(error))
    )

/**
 * An id as a "not found" error names it: the string given, or a placeholder when a caller passed
 * something else (the error's own schema would refuse a non-string and the refusal would be a
 * defect).
 *
 * @since 0.1.0
 */
export const idText = (id: unknown): string => (typeof id === "string" ? id : "(not a string)")
