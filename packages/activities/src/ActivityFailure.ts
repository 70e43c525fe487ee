/**
 * How any failure on the way to an external system becomes one of the three activity outcomes
 * (`ReconnectRequired`, `TransientFailure`, `ActivityRejected`). The table is in docs/errors.md.
 *
 * @since 0.1.0
 */
import { ActivityError, type ConnectorDescriptor, DriverError } from "@patchbay/core"

/**
 * Anything that may fail an activity before classification: a tagged error with a message, and
 * `retryable` when it knows.
 *
 * @since 0.1.0
 */
export interface Failure {
  readonly _tag: string
  readonly message: string
  readonly retryable?: boolean
  /** Set by OAuth2 refresh failures that know where the person can sign in again. */
  readonly reconnectUrl?: string | undefined
}

/** Failures that mean the stored credential cannot be used any more. */
const reconnectTags = new Set(["CredentialNotFound", "CredentialExpired", "CredentialCorrupted", "ReconnectRequired"])

/** Failures of the request or the instance that no retry can fix. */
const rejectedTags = new Set([
  "InstanceNotFound",
  "InstanceDisabled",
  "ScopeForbidden",
  "InvalidInput",
  "InvalidConfiguration",
  "EgressDenied",
  "DdlRejected",
  "DdlNeedsReason",
  "OperationUnsupported",
  "ConnectorNotFound",
  "RequestRejected",
  "BatchTooLarge"
])

/**
 * What classification needs to know of the instance (an unknown instance is named by its id).
 *
 * @since 0.1.0
 */
export interface InstanceRef {
  readonly id: string
  readonly instanceName: string
  readonly connectorKey: string
  readonly authType: ConnectorDescriptor.AuthType
}

const isOAuth2 = (instance: InstanceRef) =>
  instance.authType === "oauth2_authorization_code" || instance.authType === "oauth2_client_credentials"

/**
 * The activity outcome of a failure on `instance`.
 *
 * @since 0.1.0
 */
export const classify = (instance: InstanceRef, failure: Failure): ActivityError.ActivityError => {
  if (failure instanceof ActivityError.ReconnectRequired) return failure
  if (failure instanceof ActivityError.TransientFailure || failure instanceof ActivityError.ActivityRejected) {
    return failure
  }
  const reconnectUrl = failure.reconnectUrl
  const reconnect =
    reconnectTags.has(failure._tag) ||
    reconnectUrl !== undefined ||
    (failure instanceof DriverError.AuthFailed && failure.kind !== "insufficient_permissions")
  if (reconnect) {
    const oauth = isOAuth2(instance)
    return new ActivityError.ReconnectRequired({
      instanceId: instance.id,
      instanceName: instance.instanceName,
      connector: instance.connectorKey,
      reason: failure.message,
      action: oauth && failure._tag !== "CredentialCorrupted" ? "reconnect" : "replace_credentials",
      ...(reconnectUrl !== undefined ? { reconnectUrl } : {})
    })
  }
  if (failure instanceof DriverError.RateLimited) {
    return new ActivityError.TransientFailure({
      instanceId: instance.id,
      reason: failure.message,
      ...(failure.retryAfterMillis !== undefined ? { retryAfterMillis: failure.retryAfterMillis } : {})
    })
  }
  if (rejectedTags.has(failure._tag) || failure instanceof DriverError.AuthFailed || failure.retryable === false) {
    return new ActivityError.ActivityRejected({ instanceId: instance.id, reason: failure.message })
  }
  return new ActivityError.TransientFailure({ instanceId: instance.id, reason: failure.message })
}
