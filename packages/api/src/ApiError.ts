/**
 * The errors of the HTTP API. Every typed failure of Patchbay's services becomes one of these: an
 * HTTP status and a JSON body with `_tag` (the domain error's tag), a human `message` and
 * `retryable`. Bodies never carry a stack trace or a secret: the message is the domain error's own,
 * which Patchbay's services already scrub of input values and secrets.
 *
 * | status | tags |
 * | --- | --- |
 * | 401 | `Unauthenticated` |
 * | 403 | `Forbidden`, `ScopeForbidden` |
 * | 404 | `InstanceNotFound`, `ConnectorNotFound`, `CredentialNotFound`, `SubscriptionNotFound`, `DeliveryNotFound` |
 * | 409 | `NameTaken`, `DuplicateAccount`, `IdempotencyKeyReused`, `InstanceDisabled`, `CredentialCorrupted` |
 * | 422 | `InvalidInput`, `InvalidConfiguration`, `BatchTooLarge`, `OperationUnsupported`, `EgressDenied`, `ActivityRejected`, `OAuth2Rejected`, `InvalidWebhookUrl` |
 * | 424 | `ReconnectRequired` (with `action` and `reconnect_url`) |
 * | 502 | `UpstreamFailure` (an OAuth2 authorization server failed) |
 * | 503 | `StorageError`, `TransientFailure` (retryable) |
 *
 * @since 0.1.0
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { ActivityError } from "@patchbay/core"
import * as Schema from "effect/Schema"
import { Unauthenticated } from "./Authentication.js"

const common = { message: Schema.String, retryable: Schema.Boolean }

/**
 * 401: the request carries no acceptable identity (the host's `Authentication` said so).
 *
 * @since 0.1.0
 */
export const Unauthorized = Unauthenticated.annotations(HttpApiSchema.annotations({ status: 401 }))

/**
 * 403: the caller's role does not allow the operation.
 *
 * @since 0.1.0
 */
export class Forbidden extends Schema.TaggedError<Forbidden>("@patchbay/api/Forbidden")(
  "Forbidden",
  { ...common, role: Schema.String, action: Schema.String },
  { identifier: "Forbidden", ...HttpApiSchema.annotations({ status: 403 }) }
) {}

/**
 * 403: the actor may not use or write credentials of the scope it named.
 *
 * @since 0.1.0
 */
export class ScopeForbidden extends Schema.TaggedError<ScopeForbidden>("@patchbay/api/ScopeForbidden")(
  "ScopeForbidden",
  common,
  { identifier: "ScopeForbidden", ...HttpApiSchema.annotations({ status: 403 }) }
) {}

/**
 * 404: no such instance in the caller's organization (another organization's instance looks the same).
 *
 * @since 0.1.0
 */
export class InstanceNotFound extends Schema.TaggedError<InstanceNotFound>("@patchbay/api/InstanceNotFound")(
  "InstanceNotFound",
  common,
  { identifier: "InstanceNotFound", ...HttpApiSchema.annotations({ status: 404 }) }
) {}

/**
 * 404: no connector is registered under this id or key.
 *
 * @since 0.1.0
 */
export class ConnectorNotFound extends Schema.TaggedError<ConnectorNotFound>("@patchbay/api/ConnectorNotFound")(
  "ConnectorNotFound",
  common,
  { identifier: "ConnectorNotFound", ...HttpApiSchema.annotations({ status: 404 }) }
) {}

/**
 * 404: no such credential version for this instance.
 *
 * @since 0.1.0
 */
export class CredentialNotFound extends Schema.TaggedError<CredentialNotFound>("@patchbay/api/CredentialNotFound")(
  "CredentialNotFound",
  common,
  { identifier: "CredentialNotFound", ...HttpApiSchema.annotations({ status: 404 }) }
) {}

/**
 * 409: another instance of this connector type already has the name.
 *
 * @since 0.1.0
 */
export class NameTaken extends Schema.TaggedError<NameTaken>("@patchbay/api/NameTaken")("NameTaken", common, {
  identifier: "NameTaken",
  ...HttpApiSchema.annotations({ status: 409 })
}) {}

/**
 * 409: the same external account is already connected through another instance.
 *
 * @since 0.1.0
 */
export class DuplicateAccount extends Schema.TaggedError<DuplicateAccount>("@patchbay/api/DuplicateAccount")(
  "DuplicateAccount",
  { ...common, existing_instance_id: Schema.String },
  { identifier: "DuplicateAccount", ...HttpApiSchema.annotations({ status: 409 }) }
) {}

/**
 * 409: the `Idempotency-Key` was already used for a different request.
 *
 * @since 0.1.0
 */
export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>(
  "@patchbay/api/IdempotencyKeyReused"
)("IdempotencyKeyReused", common, {
  identifier: "IdempotencyKeyReused",
  ...HttpApiSchema.annotations({ status: 409 })
}) {}

/**
 * 409: the instance is disabled; enable it first.
 *
 * @since 0.1.0
 */
export class InstanceDisabled extends Schema.TaggedError<InstanceDisabled>("@patchbay/api/InstanceDisabled")(
  "InstanceDisabled",
  common,
  { identifier: "InstanceDisabled", ...HttpApiSchema.annotations({ status: 409 }) }
) {}

/**
 * 409: a stored credential cannot be decrypted; store it again.
 *
 * @since 0.1.0
 */
export class CredentialCorrupted extends Schema.TaggedError<CredentialCorrupted>("@patchbay/api/CredentialCorrupted")(
  "CredentialCorrupted",
  common,
  { identifier: "CredentialCorrupted", ...HttpApiSchema.annotations({ status: 409 }) }
) {}

/**
 * 422: the request's own fields are invalid (the schema's message, never the value).
 *
 * @since 0.1.0
 */
export class InvalidInput extends Schema.TaggedError<InvalidInput>("@patchbay/api/InvalidInput")(
  "InvalidInput",
  common,
  { identifier: "InvalidInput", ...HttpApiSchema.annotations({ status: 422 }) }
) {}

/**
 * 422: configuration or credentials do not match the connector's schema.
 *
 * @since 0.1.0
 */
export class InvalidConfiguration extends Schema.TaggedError<InvalidConfiguration>(
  "@patchbay/api/InvalidConfiguration"
)(
  "InvalidConfiguration",
  { ...common, connector: Schema.String, detail: Schema.String },
  { identifier: "InvalidConfiguration", ...HttpApiSchema.annotations({ status: 422 }) }
) {}

/**
 * 422: a bulk operation named more than 50 instances.
 *
 * @since 0.1.0
 */
export class BatchTooLarge extends Schema.TaggedError<BatchTooLarge>("@patchbay/api/BatchTooLarge")(
  "BatchTooLarge",
  { ...common, size: Schema.Number, max: Schema.Number },
  { identifier: "BatchTooLarge", ...HttpApiSchema.annotations({ status: 422 }) }
) {}

/**
 * 422: the connector does not offer the operation.
 *
 * @since 0.1.0
 */
export class OperationUnsupported extends Schema.TaggedError<OperationUnsupported>(
  "@patchbay/api/OperationUnsupported"
)("OperationUnsupported", common, {
  identifier: "OperationUnsupported",
  ...HttpApiSchema.annotations({ status: 422 })
}) {}

/**
 * 422: the egress policy forbids the address a connection would reach.
 *
 * @since 0.1.0
 */
export class EgressDenied extends Schema.TaggedError<EgressDenied>("@patchbay/api/EgressDenied")(
  "EgressDenied",
  common,
  { identifier: "EgressDenied", ...HttpApiSchema.annotations({ status: 422 }) }
) {}

/**
 * 422: an activity cannot succeed as requested (bad input, disabled instance, forbidden scope,
 * refused SQL, a destructive DDL without a reason). Not retryable.
 *
 * @since 0.1.0
 */
export class ActivityRejected extends Schema.TaggedError<ActivityRejected>("@patchbay/api/ActivityRejected")(
  "ActivityRejected",
  { ...common, instance_id: Schema.String, reason: Schema.String },
  { identifier: "ActivityRejected", ...HttpApiSchema.annotations({ status: 422 }) }
) {}

/**
 * 422: an OAuth2 authorization cannot be completed: an invalid callback, a state that is unknown,
 * expired or already used, or the person declined (`kind` says which).
 *
 * @since 0.1.0
 */
export class OAuth2Rejected extends Schema.TaggedError<OAuth2Rejected>("@patchbay/api/OAuth2Rejected")(
  "OAuth2Rejected",
  { ...common, kind: Schema.String },
  { identifier: "OAuth2Rejected", ...HttpApiSchema.annotations({ status: 422 }) }
) {}

/**
 * 424 (Failed Dependency): the connection's credentials no longer work. `code` says why (such as
 * `token_revoked` or `different_account`); `action` says what the person must do (`reconnect`
 * through OAuth2 at `reconnect_url`, or `replace_credentials`).
 *
 * @since 0.1.0
 */
export class ReconnectRequired extends Schema.TaggedError<ReconnectRequired>("@patchbay/api/ReconnectRequired")(
  "ReconnectRequired",
  {
    ...common,
    instance_id: Schema.String,
    instance_name: Schema.String,
    connector: Schema.String,
    reason: Schema.String,
    code: ActivityError.ReconnectCode,
    action: Schema.Literal("reconnect", "replace_credentials"),
    reconnect_url: Schema.NullOr(Schema.String)
  },
  { identifier: "ReconnectRequired", ...HttpApiSchema.annotations({ status: 424 }) }
) {}

/**
 * 502: an external system Patchbay called on the caller's behalf (an OAuth2 authorization server)
 * failed; `kind` is the driver failure's tag.
 *
 * @since 0.1.0
 */
export class UpstreamFailure extends Schema.TaggedError<UpstreamFailure>("@patchbay/api/UpstreamFailure")(
  "UpstreamFailure",
  { ...common, kind: Schema.String },
  { identifier: "UpstreamFailure", ...HttpApiSchema.annotations({ status: 502 }) }
) {}

/**
 * 503: Patchbay's own storage failed. Retryable.
 *
 * @since 0.1.0
 */
export class StorageError extends Schema.TaggedError<StorageError>("@patchbay/api/StorageError")(
  "StorageError",
  common,
  { identifier: "StorageError", ...HttpApiSchema.annotations({ status: 503 }) }
) {}

/**
 * 503: the external system is unreachable, slow, rate limiting or failing. Retryable, after
 * `retry_after_ms` when the provider said.
 *
 * @since 0.1.0
 */
export class TransientFailure extends Schema.TaggedError<TransientFailure>("@patchbay/api/TransientFailure")(
  "TransientFailure",
  { ...common, instance_id: Schema.String, retry_after_ms: Schema.NullOr(Schema.Number) },
  { identifier: "TransientFailure", ...HttpApiSchema.annotations({ status: 503 }) }
) {}

/**
 * 404: no webhook subscription with this id in the caller's organization.
 *
 * @since 0.1.0
 */
export class SubscriptionNotFound extends Schema.TaggedError<SubscriptionNotFound>(
  "@patchbay/api/SubscriptionNotFound"
)("SubscriptionNotFound", common, {
  identifier: "SubscriptionNotFound",
  ...HttpApiSchema.annotations({ status: 404 })
}) {}

/**
 * 404: no dead webhook delivery with this id in the caller's organization.
 *
 * @since 0.1.0
 */
export class DeliveryNotFound extends Schema.TaggedError<DeliveryNotFound>("@patchbay/api/DeliveryNotFound")(
  "DeliveryNotFound",
  common,
  { identifier: "DeliveryNotFound", ...HttpApiSchema.annotations({ status: 404 }) }
) {}

/**
 * 422: the webhook URL cannot be used (not https, plain http to a public address, credentials in
 * it, too long). The message says why without quoting the URL.
 *
 * @since 0.1.0
 */
export class InvalidWebhookUrl extends Schema.TaggedError<InvalidWebhookUrl>("@patchbay/api/InvalidWebhookUrl")(
  "InvalidWebhookUrl",
  { ...common, reason: Schema.String },
  { identifier: "InvalidWebhookUrl", ...HttpApiSchema.annotations({ status: 422 }) }
) {}

/**
 * Every error an endpoint may answer with (besides 400 `HttpApiDecodeError` for a request that
 * does not match the endpoint's schema).
 *
 * @since 0.1.0
 */
export type ApiError =
  | Forbidden
  | ScopeForbidden
  | InstanceNotFound
  | ConnectorNotFound
  | CredentialNotFound
  | NameTaken
  | DuplicateAccount
  | IdempotencyKeyReused
  | InstanceDisabled
  | CredentialCorrupted
  | InvalidInput
  | InvalidConfiguration
  | BatchTooLarge
  | OperationUnsupported
  | EgressDenied
  | ActivityRejected
  | OAuth2Rejected
  | ReconnectRequired
  | UpstreamFailure
  | StorageError
  | TransientFailure
  | SubscriptionNotFound
  | DeliveryNotFound
  | InvalidWebhookUrl

/**
 * The error schemas, for `HttpApi.addError`.
 *
 * @since 0.1.0
 */
export const schemas = [
  Forbidden,
  ScopeForbidden,
  InstanceNotFound,
  ConnectorNotFound,
  CredentialNotFound,
  NameTaken,
  DuplicateAccount,
  IdempotencyKeyReused,
  InstanceDisabled,
  CredentialCorrupted,
  InvalidInput,
  InvalidConfiguration,
  BatchTooLarge,
  OperationUnsupported,
  EgressDenied,
  ActivityRejected,
  OAuth2Rejected,
  ReconnectRequired,
  UpstreamFailure,
  StorageError,
  TransientFailure,
  SubscriptionNotFound,
  DeliveryNotFound,
  InvalidWebhookUrl
] as const
