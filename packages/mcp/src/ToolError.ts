/**
 * The structured body of a failed tool call. A tool that fails returns `isError: true` with this
 * body as `structuredContent` and as JSON text, so an agent (or the host around it) can branch on
 * `_tag`: `ReconnectRequired` carries the `action` a person must take and the `reconnect_url` when
 * there is one; `retryable` says whether trying again may help. It never carries secrets: its
 * fields come from the typed errors, whose messages are already scrubbed.
 *
 * @since 0.1.0
 */
import { ActivityError } from "@patchbay/core"
import * as Schema from "effect/Schema"

/**
 * A failed tool call's body.
 *
 * @since 0.1.0
 */
export class ToolError extends Schema.Class<ToolError>("@patchbay/mcp/ToolError")({
  _tag: Schema.String,
  message: Schema.String,
  retryable: Schema.Boolean,
  instance_id: Schema.optional(Schema.String),
  instance_name: Schema.optional(Schema.String),
  connector: Schema.optional(Schema.String),
  reason: Schema.optional(Schema.String),
  code: Schema.optional(ActivityError.ReconnectCode),
  action: Schema.optional(ActivityError.ReconnectAction),
  reconnect_url: Schema.optional(Schema.NullOr(Schema.String)),
  retry_after_millis: Schema.optional(Schema.NullOr(Schema.Number))
}) {}

/**
 * What any typed error shows of itself.
 *
 * @since 0.1.0
 */
export interface TypedError {
  readonly _tag: string
  readonly message: string
  readonly retryable?: boolean | undefined
}

/**
 * A typed error as a body. The activity outcomes keep their fields (`ReconnectRequired`: instance,
 * connector, reason, code, action and reconnect URL, null when there is none).
 *
 * @since 0.1.0
 */
export const fromError = (error: TypedError): ToolError => {
  const base = { _tag: error._tag, message: error.message, retryable: error.retryable === true }
  if (error instanceof ActivityError.ReconnectRequired) {
    return ToolError.make({
      ...base,
      instance_id: error.instanceId,
      instance_name: error.instanceName,
      connector: error.connector,
      reason: error.reason,
      code: error.code,
      action: error.action,
      reconnect_url: error.reconnectUrl ?? null
    })
  }
  if (error instanceof ActivityError.TransientFailure) {
    return ToolError.make({
      ...base,
      instance_id: error.instanceId,
      reason: error.reason,
      retry_after_millis: error.retryAfterMillis ?? null
    })
  }
  if (error instanceof ActivityError.ActivityRejected) {
    return ToolError.make({ ...base, instance_id: error.instanceId, reason: error.reason })
  }
  return ToolError.make(base)
}
