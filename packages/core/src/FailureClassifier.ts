/**
 * The one failure classifier: how any failure on the way to an external system — a driver's, a
 * Patchbay rule's, a token refresh's — becomes one of the three activity outcomes
 * (`ReconnectRequired`, `TransientFailure`, `ActivityRejected`). Activities and connection tests
 * both use it, so they agree on which failures need a person to reconnect. The table is in
 * docs/errors.md.
 *
 * @since 0.1.0
 */
import * as Match from "effect/Match"
import * as ActivityError from "./ActivityError.js"
import type { AuthType } from "./ConnectorDescriptor.js"
import type * as DomainError from "./DomainError.js"
import type * as DriverError from "./DriverError.js"

/**
 * Every failure of Patchbay's own rules.
 *
 * @since 0.1.0
 */
export type DomainFailure =
  | DomainError.InstanceNotFound
  | DomainError.InstanceDisabled
  | DomainError.ConnectorNotFound
  | DomainError.OperationUnsupported
  | DomainError.NameTaken
  | DomainError.DuplicateAccount
  | DomainError.InvalidConfiguration
  | DomainError.InvalidInput
  | DomainError.CredentialNotFound
  | DomainError.CredentialExpired
  | DomainError.CredentialCorrupted
  | DomainError.ScopeForbidden
  | DomainError.BatchTooLarge
  | DomainError.DdlNeedsReason
  | DomainError.DdlRejected
  | DomainError.EgressDenied
  | DomainError.StorageError

/**
 * What `classify` accepts: a driver failure, a domain failure, or an outcome already decided (a
 * token refresh that knows the person must reconnect fails with `ReconnectRequired` itself).
 *
 * @since 0.1.0
 */
export type Failure = DriverError.DriverError | DomainFailure | ActivityError.ActivityError

/**
 * What classification needs to know of the instance (an unknown instance is named by its id).
 *
 * @since 0.1.0
 */
export interface InstanceRef {
  readonly id: string
  readonly instanceName: string
  readonly connectorKey: string
  readonly authType: AuthType
}

/**
 * What the person must do when the credential no longer works: sign in again for an
 * authorization-code instance (a new authorization stores a new token set), else store new
 * credentials (a password, a key, a client secret).
 *
 * @since 0.1.0
 */
export const reconnectAction = (instance: InstanceRef): ActivityError.ReconnectAction =>
  instance.authType === "oauth2_authorization_code" ? "reconnect" : "replace_credentials"

/** The `ReconnectRequired.code` of a failure that needs a person. */
const reconnectCode = (failure: Failure): ActivityError.ReconnectCode => {
  switch (failure._tag) {
    case "AuthFailed":
      return failure.kind === "token_expired" || failure.kind === "token_revoked"
        ? failure.kind
        : "credentials_rejected"
    case "CredentialNotFound":
      return "credential_missing"
    case "CredentialExpired":
      return "credential_expired"
    case "CredentialCorrupted":
      return "credential_unreadable"
    default:
      return "credentials_rejected"
  }
}

/**
 * The activity outcome of a failure on `instance`. Exhaustive: a failure added to the union
 * without a rule here does not compile.
 *
 * @since 0.1.0
 */
export const classify = (instance: InstanceRef, failure: Failure): ActivityError.ActivityError => {
  const reconnect = (cause: Failure) =>
    new ActivityError.ReconnectRequired({
      instanceId: instance.id,
      instanceName: instance.instanceName,
      connector: instance.connectorKey,
      reason: cause.message,
      code: reconnectCode(cause),
      action: reconnectAction(instance)
    })
  const transient = (cause: Failure, retryAfterMillis?: number) =>
    new ActivityError.TransientFailure({
      instanceId: instance.id,
      reason: cause.message,
      ...(retryAfterMillis === undefined ? {} : { retryAfterMillis })
    })
  const rejected = (cause: Failure) =>
    new ActivityError.ActivityRejected({ instanceId: instance.id, reason: cause.message })
  return Match.value(failure).pipe(
    // Outcomes already decided pass through (a refused refresh carries its reconnect URL).
    Match.tag("ReconnectRequired", "TransientFailure", "ActivityRejected", (decided) => decided),
    // The stored credential no longer works: a person must act.
    Match.when({ _tag: "AuthFailed", kind: "insufficient_permissions" }, rejected),
    Match.tag("AuthFailed", "CredentialNotFound", "CredentialExpired", "CredentialCorrupted", reconnect),
    // It may pass.
    Match.tag("RateLimited", (limited) => transient(limited, limited.retryAfterMillis)),
    Match.tag("Unreachable", "TimedOut", "ProviderFailure", "StorageError", (cause) => transient(cause)),
    // No retry of the same request can succeed.
    Match.tag(
      "RequestRejected",
      "InstanceNotFound",
      "InstanceDisabled",
      "ConnectorNotFound",
      "OperationUnsupported",
      "NameTaken",
      "DuplicateAccount",
      "InvalidConfiguration",
      "InvalidInput",
      "ScopeForbidden",
      "BatchTooLarge",
      "DdlNeedsReason",
      "DdlRejected",
      "EgressDenied",
      rejected
    ),
    Match.exhaustive
  )
}

/**
 * Whether a failure means the stored credential no longer works (the instance becomes
 * `reconnect_required`): `classify`'s verdict, for callers that report rather than fail.
 *
 * @since 0.1.0
 */
export const needsReconnect = (instance: InstanceRef, failure: Failure): boolean =>
  classify(instance, failure)._tag === "ReconnectRequired"
