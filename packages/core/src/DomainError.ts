/**
 * Failures of Patchbay's own rules: missing or disabled instances, name and account clashes,
 * invalid input, credential problems, limits. None of them is retryable as is.
 *
 * @since 0.1.0
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** What a message shows where a schema's default message would quote the input. */
const notShown = "(value not shown)"
const hidden = { toString: () => notShown }

/** A key that reads as a field name (shown in paths, not treated as a value). */
const fieldName = /^[A-Za-z0-9_$-]{1,64}$/

/**
 * The strings of an input (values, and keys that are not field names), longest first, as far as
 * they can be read cheaply and safely.
 */
const stringsOf = (input: unknown): Array<string> => {
  const out: Array<string> = []
  const stack: Array<readonly [unknown, number]> = [[input, 0]]
  try {
    while (stack.length > 0 && out.length < 1024) {
      const [value, depth] = stack.pop()!
      if (typeof value === "string") out.push(value)
      else if (typeof value === "number" || typeof value === "bigint") out.push(String(value))
      else if (typeof value === "object" && value !== null && depth < 32) {
        if (Array.isArray(value)) {
          for (const item of value.slice(0, 256)) stack.push([item, depth + 1])
        } else {
          for (const key of Object.keys(value).slice(0, 256)) {
            if (!fieldName.test(key)) out.push(key)
            const property = Object.getOwnPropertyDescriptor(value, key)
            if (property !== undefined && "value" in property) stack.push([property.value, depth + 1])
          }
        }
      }
    }
  } catch {
    // An input that cannot be read is not quoted either.
  }
  return out.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)
}

/** Custom messages longer than this are not shown (a schema's own messages are short). */
const maxMessage = 500
const messageNotShown = "is invalid (message not shown)"

/**
 * A custom message (a filter's or a transformation's) without the input's strings: the issue's own
 * value quoted, and any string of the input written out. A message that holds the start of a long
 * value, or is itself long, is not shown at all.
 */
const unquote = (message: string | undefined, strings: () => ReadonlyArray<string>, actual: unknown) => {
  if (message === undefined) return undefined
  if (message.length > maxMessage) return messageNotShown
  let out = typeof actual === "string" ? message.split(JSON.stringify(actual)).join(notShown) : message
  for (const value of strings()) {
    if (value.length > maxMessage) {
      if (out.includes(value.slice(0, 32)) || out.includes(value.slice(-32))) return messageNotShown
      continue
    }
    out = out.split(value).join(notShown)
    const escaped = JSON.stringify(value).slice(1, -1)
    if (escaped !== value) out = out.split(escaped).join(notShown)
  }
  return out
}

/** The issue tree with every input value hidden from the formatter and from message annotations. */
const hide = (issue: ParseResult.ParseIssue, strings: () => ReadonlyArray<string>): ParseResult.ParseIssue => {
  switch (issue._tag) {
    case "Type":
      return new ParseResult.Type(issue.ast, hidden, unquote(issue.message, strings, issue.actual))
    case "Missing":
      return issue
    case "Unexpected":
      return new ParseResult.Unexpected(hidden, unquote(issue.message, strings, issue.actual))
    case "Forbidden":
      return new ParseResult.Forbidden(issue.ast, hidden, unquote(issue.message, strings, issue.actual))
    case "Pointer":
      return new ParseResult.Pointer(issue.path, hidden, hide(issue.issue, strings))
    case "Refinement":
      return new ParseResult.Refinement(issue.ast, hidden, issue.kind, hide(issue.issue, strings))
    case "Transformation":
      return new ParseResult.Transformation(issue.ast, hidden, issue.kind, hide(issue.issue, strings))
    case "Composite":
      return new ParseResult.Composite(
        issue.ast,
        hidden,
        Array.isArray(issue.issues)
          ? (issue.issues.map((i) => hide(i, strings)) as unknown as readonly [ParseResult.ParseIssue])
          : hide(issue.issues as ParseResult.ParseIssue, strings)
      )
  }
}

/** A path segment as shown: field names and indexes; a key that does not look like a field name is not shown. */
const segment = (key: PropertyKey): string =>
  typeof key === "number" ? String(key) : typeof key === "string" && fieldName.test(key) ? key : "[key]"

/**
 * A schema's parse error as its own messages, `path: message` issues joined by `; `. Messages never
 * quote the input: values are shown as `(value not shown)`, every string of the input is removed
 * from custom messages, and a key that does not look like a field name is shown as `[key]`. With
 * `redact`, messages say only whether a value is missing or invalid.
 *
 * @since 0.1.0
 */
export const describeParseError = (error: ParseResult.ParseError, options?: { readonly redact?: boolean }): string => {
  let strings: ReadonlyArray<string> | undefined
  const lazyStrings = () => {
    strings ??= stringsOf(error.issue.actual)
    return strings
  }
  return ParseResult.ArrayFormatter.formatIssueSync(hide(error.issue, lazyStrings))
    .map((issue) => {
      const message = options?.redact
        ? issue._tag === "Missing"
          ? "is missing"
          : "is invalid (value not shown)"
        : issue.message
      return issue.path.length === 0 ? message : `${issue.path.map(segment).join(".")}: ${message}`
    })
    .join("; ")
}

/**
 * No instance with this id in the actor's organization. Also what another organization's instance
 * looks like: the error never hints that it exists.
 *
 * @since 0.1.0
 */
export class InstanceNotFound extends Schema.TaggedError<InstanceNotFound>("@patchbay/core/InstanceNotFound")(
  "InstanceNotFound",
  { instanceId: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return `No connector instance ${this.instanceId} exists in this organization`
  }
}

/**
 * The instance is disabled; enable it before agents or workflows can use it.
 *
 * @since 0.1.0
 */
export class InstanceDisabled extends Schema.TaggedError<InstanceDisabled>("@patchbay/core/InstanceDisabled")(
  "InstanceDisabled",
  { instanceId: Schema.String, instanceName: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return `Connector instance "${this.instanceName}" is disabled; enable it to use it`
  }
}

/**
 * No connector descriptor is registered under this id or key.
 *
 * @since 0.1.0
 */
export class ConnectorNotFound extends Schema.TaggedError<ConnectorNotFound>("@patchbay/core/ConnectorNotFound")(
  "ConnectorNotFound",
  { connector: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return `No connector "${this.connector}" is registered`
  }
}

/**
 * The connector does not offer the requested operation.
 *
 * @since 0.1.0
 */
export class OperationUnsupported extends Schema.TaggedError<OperationUnsupported>(
  "@patchbay/core/OperationUnsupported"
)("OperationUnsupported", { connector: Schema.String, operation: Schema.String }) {
  readonly retryable = false
  override get message(): string {
    return `Connector "${this.connector}" does not support ${this.operation}`
  }
}

/**
 * Another instance of this connector type in the organization already has this name (names are
 * compared trimmed and case-insensitively).
 *
 * @since 0.1.0
 */
export class NameTaken extends Schema.TaggedError<NameTaken>("@patchbay/core/NameTaken")("NameTaken", {
  instanceName: Schema.String,
  connector: Schema.String
}) {
  readonly retryable = false
  override get message(): string {
    return `A ${this.connector} connection named "${this.instanceName}" already exists; choose another name`
  }
}

/**
 * The same external account is already connected through another instance of this connector type.
 *
 * @since 0.1.0
 */
export class DuplicateAccount extends Schema.TaggedError<DuplicateAccount>("@patchbay/core/DuplicateAccount")(
  "DuplicateAccount",
  { connector: Schema.String, existingInstanceId: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return `This ${this.connector} account is already connected as instance ${this.existingInstanceId}; use that connection instead of adding it twice`
  }
}

/**
 * Configuration or credentials do not match the connector's schema; `detail` is the schema's own
 * message.
 *
 * @since 0.1.0
 */
export class InvalidConfiguration extends Schema.TaggedError<InvalidConfiguration>(
  "@patchbay/core/InvalidConfiguration"
)("InvalidConfiguration", { connector: Schema.String, detail: Schema.String }) {
  readonly retryable = false
  override get message(): string {
    return `Invalid ${this.connector} configuration: ${this.detail}`
  }
}

/**
 * A request's own fields are invalid (a name too long, a malformed id); `detail` is the schema's
 * message.
 *
 * @since 0.1.0
 */
export class InvalidInput extends Schema.TaggedError<InvalidInput>("@patchbay/core/InvalidInput")("InvalidInput", {
  detail: Schema.String
}) {
  /** The input's parse error, with the schema's own messages. */
  static fromParseError(error: ParseResult.ParseError, prefix?: string): InvalidInput {
    const detail = describeParseError(error)
    return new InvalidInput({ detail: prefix === undefined ? detail : `${prefix} ${detail}` })
  }
  readonly retryable = false
  override get message(): string {
    return `Invalid input: ${this.detail}`
  }
}

/**
 * No usable credential exists for this instance and actor.
 *
 * @since 0.1.0
 */
export class CredentialNotFound extends Schema.TaggedError<CredentialNotFound>("@patchbay/core/CredentialNotFound")(
  "CredentialNotFound",
  { instanceId: Schema.String, scopes: Schema.Array(Schema.String) }
) {
  readonly retryable = false
  override get message(): string {
    return `No credential for instance ${this.instanceId} in scopes ${this.scopes.join(", ")}; store one first`
  }
}

/**
 * The only credentials the actor could use have expired.
 *
 * @since 0.1.0
 */
export class CredentialExpired extends Schema.TaggedError<CredentialExpired>("@patchbay/core/CredentialExpired")(
  "CredentialExpired",
  { instanceId: Schema.String, credentialId: Schema.String, expiredAt: Schema.DateFromString }
) {
  readonly retryable = false
  override get message(): string {
    return `The credential of instance ${this.instanceId} expired at ${this.expiredAt.toISOString()}; store a new one`
  }
}

/**
 * A stored credential failed authentication on decryption: it was altered, copied onto another
 * row, or sealed under a different key.
 *
 * @since 0.1.0
 */
export class CredentialCorrupted extends Schema.TaggedError<CredentialCorrupted>("@patchbay/core/CredentialCorrupted")(
  "CredentialCorrupted",
  { credentialId: Schema.String, detail: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return `Credential ${this.credentialId} cannot be decrypted (${this.detail}); store it again`
  }
}

/**
 * The actor may not use or write credentials of this scope.
 *
 * @since 0.1.0
 */
export class ScopeForbidden extends Schema.TaggedError<ScopeForbidden>("@patchbay/core/ScopeForbidden")(
  "ScopeForbidden",
  { scope: Schema.String }
) {
  readonly retryable = false
  override get message(): string {
    return `The current actor may not use credentials of scope ${this.scope}`
  }
}

/**
 * A bulk operation named more instances than one request may.
 *
 * @since 0.1.0
 */
export class BatchTooLarge extends Schema.TaggedError<BatchTooLarge>("@patchbay/core/BatchTooLarge")("BatchTooLarge", {
  size: Schema.Number,
  max: Schema.Number
}) {
  readonly retryable = false
  override get message(): string {
    return `A batch may hold at most ${this.max} instances; this one has ${this.size}. Split it.`
  }
}

/**
 * A destructive DDL statement would affect a non-empty table and no reason was given; nothing ran.
 *
 * @since 0.1.0
 */
export class DdlNeedsReason extends Schema.TaggedError<DdlNeedsReason>("@patchbay/core/DdlNeedsReason")(
  "DdlNeedsReason",
  { tables: Schema.Array(Schema.String) }
) {
  readonly retryable = false
  override get message(): string {
    return `Destructive DDL on non-empty table(s) ${this.tables.join(", ")} needs a reason; nothing was executed`
  }
}

/**
 * The SQL is not acceptable DDL: a syntax error (with the parser's position) or a statement that is
 * not DDL.
 *
 * @since 0.1.0
 */
export class DdlRejected extends Schema.TaggedError<DdlRejected>("@patchbay/core/DdlRejected")("DdlRejected", {
  detail: Schema.String,
  position: Schema.optional(Schema.Number)
}) {
  readonly retryable = false
  override get message(): string {
    return this.position === undefined
      ? `DDL rejected: ${this.detail}`
      : `DDL rejected at position ${this.position}: ${this.detail}`
  }
}

/**
 * The egress policy forbids connecting to this address.
 *
 * @since 0.1.0
 */
export class EgressDenied extends Schema.TaggedError<EgressDenied>("@patchbay/core/EgressDenied")("EgressDenied", {
  host: Schema.String,
  address: Schema.String,
  rule: Schema.String
}) {
  readonly retryable = false
  override get message(): string {
    return `Connections to ${this.host} (${this.address}) are not allowed: ${this.rule}`
  }
}

/**
 * The idempotency key was used before, within its retention period, for a different request of
 * the same operation in this organization: nothing was written. A retry must send the original
 * request unchanged; a new request needs a new key.
 *
 * @since 0.1.0
 */
export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>(
  "@patchbay/core/IdempotencyKeyReused"
)("IdempotencyKeyReused", { operation: Schema.String, idempotencyKey: Schema.String }) {
  readonly retryable = false
  override get message(): string {
    return `The idempotency key "${this.idempotencyKey}" was already used for a different ${this.operation} request; send the original request or use a new key`
  }
}

/**
 * Patchbay's own storage failed or was unreachable. Usually transient.
 *
 * @since 0.1.0
 */
export class StorageError extends Schema.TaggedError<StorageError>("@patchbay/core/StorageError")("StorageError", {
  operation: Schema.String,
  detail: Schema.String
}) {
  readonly retryable = true
  override get message(): string {
    return `Storage failed during ${this.operation}: ${this.detail}`
  }
}
