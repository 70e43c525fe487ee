import type { ActivityError, DomainError, DriverError } from "@patchbay/core"
import type { CredentialVault } from "@patchbay/credentials"
import type { OAuth2Error } from "@patchbay/oauth2"
import type { WebhookSubscriptions } from "@patchbay/webhooks"
import * as Effect from "effect/Effect"
import * as ApiError from "../ApiError.js"

/** Every typed failure the services behind the API report. */
export type ServiceFailure =
  | DomainError.InstanceNotFound
  | DomainError.InstanceDisabled
  | DomainError.ConnectorNotFound
  | DomainError.OperationUnsupported
  | DomainError.NameTaken
  | DomainError.DuplicateAccount
  | DomainError.IdempotencyKeyReused
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
  | ActivityError.ReconnectRequired
  | ActivityError.TransientFailure
  | ActivityError.ActivityRejected
  | DriverError.DriverError
  | CredentialVault.CredentialVersionNotFound
  | OAuth2Error.InvalidCallback
  | OAuth2Error.AuthorizationStateRejected
  | OAuth2Error.AuthorizationDenied
  | WebhookSubscriptions.InvalidWebhookUrl
  | WebhookSubscriptions.SubscriptionNotFound
  | WebhookSubscriptions.DeliveryNotFound

const plain = (error: { readonly message: string; readonly retryable: boolean }) => ({
  message: error.message,
  retryable: error.retryable
})

/** The API error a service failure answers with. */
export const toApiError = (error: ServiceFailure): ApiError.ApiError => {
  switch (error._tag) {
    case "InstanceNotFound":
      return new ApiError.InstanceNotFound(plain(error))
    case "ConnectorNotFound":
      return new ApiError.ConnectorNotFound(plain(error))
    case "CredentialVersionNotFound":
      return new ApiError.CredentialNotFound(plain(error))
    case "NameTaken":
      return new ApiError.NameTaken(plain(error))
    case "DuplicateAccount":
      return new ApiError.DuplicateAccount({ ...plain(error), existing_instance_id: error.existingInstanceId })
    case "IdempotencyKeyReused":
      return new ApiError.IdempotencyKeyReused(plain(error))
    case "InstanceDisabled":
      return new ApiError.InstanceDisabled(plain(error))
    case "CredentialCorrupted":
      return new ApiError.CredentialCorrupted(plain(error))
    case "InvalidInput":
    case "DdlNeedsReason":
    case "DdlRejected":
      return new ApiError.InvalidInput(plain(error))
    case "InvalidConfiguration":
      return new ApiError.InvalidConfiguration({ ...plain(error), connector: error.connector, detail: error.detail })
    case "BatchTooLarge":
      return new ApiError.BatchTooLarge({ ...plain(error), size: error.size, max: error.max })
    case "OperationUnsupported":
      return new ApiError.OperationUnsupported(plain(error))
    case "EgressDenied":
      return new ApiError.EgressDenied(plain(error))
    case "ScopeForbidden":
      return new ApiError.ScopeForbidden(plain(error))
    case "ActivityRejected":
      return new ApiError.ActivityRejected({ ...plain(error), instance_id: error.instanceId, reason: error.reason })
    case "ReconnectRequired":
      return new ApiError.ReconnectRequired({
        ...plain(error),
        instance_id: error.instanceId,
        instance_name: error.instanceName,
        connector: error.connector,
        reason: error.reason,
        code: error.code,
        action: error.action,
        reconnect_url: error.reconnectUrl ?? null
      })
    case "CredentialNotFound":
    case "CredentialExpired":
      return new ApiError.ReconnectRequired({
        ...plain(error),
        instance_id: error.instanceId,
        instance_name: error.instanceId,
        connector: "unknown",
        reason: error.message,
        code: error._tag === "CredentialNotFound" ? "credential_missing" : "credential_expired",
        action: "replace_credentials",
        reconnect_url: null
      })
    case "TransientFailure":
      return new ApiError.TransientFailure({
        ...plain(error),
        instance_id: error.instanceId,
        retry_after_ms: error.retryAfterMillis ?? null
      })
    case "StorageError":
      return new ApiError.StorageError(plain(error))
    case "InvalidCallback":
      return new ApiError.OAuth2Rejected({ ...plain(error), kind: error._tag })
    case "AuthorizationStateRejected":
      return new ApiError.OAuth2Rejected({ ...plain(error), kind: error._tag })
    case "AuthorizationDenied":
      return new ApiError.OAuth2Rejected({ ...plain(error), kind: error._tag })
    case "SubscriptionNotFound":
      return new ApiError.SubscriptionNotFound(plain(error))
    case "DeliveryNotFound":
      return new ApiError.DeliveryNotFound(plain(error))
    case "InvalidWebhookUrl":
      return new ApiError.InvalidWebhookUrl({ ...plain(error), reason: error.reason })
    case "AuthFailed":
    case "Unreachable":
    case "TimedOut":
    case "RateLimited":
    case "ProviderFailure":
    case "RequestRejected":
      return new ApiError.UpstreamFailure({ ...plain(error), kind: error._tag })
  }
}

/** Maps an effect's service failures onto API errors. */
export const mapErrors = <A, R>(effect: Effect.Effect<A, ServiceFailure, R>): Effect.Effect<A, ApiError.ApiError, R> =>
  Effect.mapError(effect, toApiError)
