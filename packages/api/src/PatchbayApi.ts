/**
 * The HTTP API of Patchbay as an `HttpApi` definition: the product's SDK surface
 * (`connector_instances.create`, `create_credential`, `list_expiring_credentials`,
 * `test_connection`, `health_check`, `bulk_operation`, `get_schema`, `execute_ddl`), the
 * connectors, OAuth2, the activities and webhook subscriptions, under `/api/v1`. `ApiRoutes` implements it;
 * `PatchbayClient` calls it.
 *
 * @since 0.1.0
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Context from "effect/Context"
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"
import * as ApiModels from "./ApiModels.js"
import type { Principal } from "./Authentication.js"

/**
 * The authenticated caller of the current request, provided by the `Authenticated` middleware.
 *
 * @since 0.1.0
 */
export class CurrentPrincipal extends Context.Tag("@patchbay/api/CurrentPrincipal")<CurrentPrincipal, Principal>() {}

/**
 * The middleware every endpoint runs behind: the host's `Authentication` turns the request into a
 * `Principal` (401 `Unauthenticated` otherwise).
 *
 * @since 0.1.0
 */
export class Authenticated extends HttpApiMiddleware.Tag<Authenticated>()("@patchbay/api/Authenticated", {
  failure: ApiError.Unauthorized,
  provides: CurrentPrincipal
}) {}

const InstancePath = Schema.Struct({ instance_id: Schema.String })

/** `POST /connector-instances/:instance_id/<action>`: an operation on one instance. */
const instanceAction = <
  const Name extends string,
  Payload extends Schema.Schema.AnyNoContext,
  Success extends Schema.Schema.AnyNoContext
>(
  name: Name,
  action: string,
  payload: Payload,
  success: Success
) =>
  HttpApiEndpoint.post(name, `/connector-instances/:instance_id/${action}`)
    .setPath(InstancePath)
    .setPayload(payload)
    .addSuccess(success)

/** `Idempotency-Key`: a retry with the same key and request returns the first result. */
const IdempotencyHeaders = Schema.Struct({ "idempotency-key": Schema.optional(Schema.String) })

/**
 * The registered connector types.
 *
 * @since 0.1.0
 */
export class ConnectorsGroup extends HttpApiGroup.make("connectors")
  .add(HttpApiEndpoint.get("list", "/connectors").addSuccess(Schema.Array(ApiModels.Connector)))
  .add(
    HttpApiEndpoint.get("get", "/connectors/:connector_id")
      .setPath(Schema.Struct({ connector_id: Schema.String }))
      .addSuccess(ApiModels.ConnectorDetail)
  )
  .annotate(OpenApi.Description, "Connector types: what each can do, and the forms to connect one") {}

/**
 * Connector instances: create, read, list, update, enable, disable, delete.
 *
 * @since 0.1.0
 */
export class InstancesGroup extends HttpApiGroup.make("connectorInstances")
  .add(
    HttpApiEndpoint.post("create", "/connector-instances")
      .setPayload(ApiModels.CreateInstance)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(ApiModels.Instance, { status: 201 })
  )
  .add(
    HttpApiEndpoint.get("list", "/connector-instances")
      .setUrlParams(ApiModels.ListInstances)
      .addSuccess(ApiModels.InstancePage)
  )
  .add(
    HttpApiEndpoint.get("get", "/connector-instances/:instance_id").setPath(InstancePath).addSuccess(ApiModels.Instance)
  )
  .add(
    HttpApiEndpoint.patch("update", "/connector-instances/:instance_id")
      .setPath(InstancePath)
      .setPayload(ApiModels.UpdateInstance)
      .addSuccess(ApiModels.Instance)
  )
  .add(
    HttpApiEndpoint.post("enable", "/connector-instances/:instance_id/enable")
      .setPath(InstancePath)
      .addSuccess(ApiModels.Instance)
  )
  .add(
    HttpApiEndpoint.post("disable", "/connector-instances/:instance_id/disable")
      .setPath(InstancePath)
      .addSuccess(ApiModels.Instance)
  )
  .add(HttpApiEndpoint.del("delete", "/connector-instances/:instance_id").setPath(InstancePath))
  .annotate(OpenApi.Description, "Connector instances: a connector bound to configuration for one environment") {}

/**
 * Credentials: write-once versions; only metadata and masks ever come back.
 *
 * @since 0.1.0
 */
export class CredentialsGroup extends HttpApiGroup.make("credentials")
  .add(
    HttpApiEndpoint.post("create", "/connector-instances/:instance_id/credentials")
      .setPath(InstancePath)
      .setPayload(ApiModels.CreateCredential)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(ApiModels.Credential, { status: 201 })
  )
  .add(
    HttpApiEndpoint.get("list", "/connector-instances/:instance_id/credentials")
      .setPath(InstancePath)
      .addSuccess(Schema.Array(ApiModels.Credential))
  )
  .add(
    HttpApiEndpoint.post("revoke", "/connector-instances/:instance_id/credentials/:credential_id/revoke")
      .setPath(Schema.Struct({ instance_id: Schema.String, credential_id: Schema.String }))
      .addSuccess(ApiModels.Credential)
  )
  .add(
    HttpApiEndpoint.get("listExpiring", "/credentials/expiring")
      .setUrlParams(ApiModels.ListExpiring)
      .addSuccess(Schema.Array(ApiModels.ExpiringCredential))
  )
  .annotate(OpenApi.Description, "Credentials: encrypted at rest, never returned in full") {}

/**
 * Connection tests, health checks, bulk operations, schema discovery and DDL.
 *
 * @since 0.1.0
 */
export class OperationsGroup extends HttpApiGroup.make("operations")
  .add(instanceAction("testConnection", "test-connection", ApiModels.TestConnection, ApiModels.TestResult))
  .add(instanceAction("healthCheck", "health-check", ApiModels.HealthCheck, ApiModels.HealthResult))
  .add(
    HttpApiEndpoint.post("bulkOperation", "/connector-instances/bulk-operation")
      .setPayload(ApiModels.BulkOperation)
      .addSuccess(Schema.Array(ApiModels.BulkResult))
  )
  .add(
    HttpApiEndpoint.get("getSchema", "/connector-instances/:instance_id/schema")
      .setPath(InstancePath)
      .setUrlParams(ApiModels.GetSchema)
      .addSuccess(ApiModels.DatabaseSchema)
  )
  .add(instanceAction("executeDdl", "execute-ddl", ApiModels.ExecuteDdl, ApiModels.DdlResult))
  .annotate(OpenApi.Description, "Testing, monitoring, schema discovery and guarded DDL") {}

/**
 * OAuth2: the authorization URL of an instance, the callback that completes the code exchange,
 * and reconnect.
 *
 * @since 0.1.0
 */
export class OAuth2Group extends HttpApiGroup.make("oauth2")
  .add(instanceAction("authorize", "oauth2/authorize", ApiModels.Authorize, ApiModels.AuthorizationUrl))
  .add(
    HttpApiEndpoint.get("callback", "/oauth2/callback")
      .setUrlParams(Schema.Record({ key: Schema.String, value: Schema.String }))
      .addSuccess(ApiModels.Credential)
  )
  .add(instanceAction("reconnect", "reconnect", ApiModels.Authorize, ApiModels.Reconnect))
  .annotate(OpenApi.Description, "OAuth2 sign-in and reconnect") {}

/**
 * The activities: Run Query, Send Email, Fetch File, Send SMS.
 *
 * @since 0.1.0
 */
export class ActivitiesGroup extends HttpApiGroup.make("activities")
  .add(instanceAction("runQuery", "run-query", ApiModels.RunQuery, ApiModels.QueryResult))
  .add(instanceAction("sendEmail", "send-email", ApiModels.SendEmail, ApiModels.EmailReceipt))
  .add(instanceAction("fetchFile", "fetch-file", ApiModels.FetchFile, ApiModels.FetchedFile))
  .add(instanceAction("sendSms", "send-sms", ApiModels.SendSms, ApiModels.SmsReceipt))
  .annotate(OpenApi.Description, "Activities with typed outcomes") {}

const SubscriptionPath = Schema.Struct({ subscription_id: Schema.String })

/**
 * Webhook subscriptions of the caller's organization (admin only): the signing secret comes back
 * once, from create and from rotate-secret; deliveries show status, attempts and the last status
 * code, never a body or a secret.
 *
 * @since 0.1.0
 */
export class WebhooksGroup extends HttpApiGroup.make("webhooks")
  .add(
    HttpApiEndpoint.post("create", "/webhook-subscriptions")
      .setPayload(ApiModels.CreateWebhookSubscription)
      .addSuccess(ApiModels.WebhookSubscriptionWithSecret, { status: 201 })
  )
  .add(HttpApiEndpoint.get("list", "/webhook-subscriptions").addSuccess(Schema.Array(ApiModels.WebhookSubscription)))
  .add(
    HttpApiEndpoint.get("get", "/webhook-subscriptions/:subscription_id")
      .setPath(SubscriptionPath)
      .addSuccess(ApiModels.WebhookSubscription)
  )
  .add(
    HttpApiEndpoint.patch("update", "/webhook-subscriptions/:subscription_id")
      .setPath(SubscriptionPath)
      .setPayload(ApiModels.UpdateWebhookSubscription)
      .addSuccess(ApiModels.WebhookSubscription)
  )
  .add(HttpApiEndpoint.del("delete", "/webhook-subscriptions/:subscription_id").setPath(SubscriptionPath))
  .add(
    HttpApiEndpoint.post("rotateSecret", "/webhook-subscriptions/:subscription_id/rotate-secret")
      .setPath(SubscriptionPath)
      .setPayload(ApiModels.RotateWebhookSecret)
      .addSuccess(ApiModels.WebhookSubscriptionWithSecret)
  )
  .add(
    HttpApiEndpoint.get("listDeliveries", "/webhook-subscriptions/:subscription_id/deliveries")
      .setPath(SubscriptionPath)
      .setUrlParams(ApiModels.ListWebhookDeliveries)
      .addSuccess(Schema.Array(ApiModels.WebhookDelivery))
  )
  .add(
    HttpApiEndpoint.post("redeliver", "/webhook-deliveries/:delivery_id/redeliver")
      .setPath(Schema.Struct({ delivery_id: Schema.String }))
      .addSuccess(ApiModels.WebhookDelivery)
  )
  .annotate(OpenApi.Description, "Webhook subscriptions, their signing secrets and deliveries") {}

/**
 * The Patchbay HTTP API: every group under `/api/v1`, every endpoint behind `Authenticated`, every
 * typed error with its status (see `ApiError`).
 *
 * @since 0.1.0
 */
export class PatchbayApi extends HttpApi.make("patchbay")
  .add(ConnectorsGroup)
  .add(InstancesGroup)
  .add(CredentialsGroup)
  .add(OperationsGroup)
  .add(OAuth2Group)
  .add(ActivitiesGroup)
  .add(WebhooksGroup)
  .addError(ApiError.Forbidden)
  .addError(ApiError.ScopeForbidden)
  .addError(ApiError.InstanceNotFound)
  .addError(ApiError.ConnectorNotFound)
  .addError(ApiError.CredentialNotFound)
  .addError(ApiError.NameTaken)
  .addError(ApiError.DuplicateAccount)
  .addError(ApiError.IdempotencyKeyReused)
  .addError(ApiError.InstanceDisabled)
  .addError(ApiError.CredentialCorrupted)
  .addError(ApiError.InvalidInput)
  .addError(ApiError.InvalidConfiguration)
  .addError(ApiError.BatchTooLarge)
  .addError(ApiError.OperationUnsupported)
  .addError(ApiError.EgressDenied)
  .addError(ApiError.ActivityRejected)
  .addError(ApiError.OAuth2Rejected)
  .addError(ApiError.ReconnectRequired)
  .addError(ApiError.UpstreamFailure)
  .addError(ApiError.StorageError)
  .addError(ApiError.TransientFailure)
  .addError(ApiError.SubscriptionNotFound)
  .addError(ApiError.DeliveryNotFound)
  .addError(ApiError.InvalidWebhookUrl)
  .middleware(Authenticated)
  .prefix("/api/v1")
  .annotate(OpenApi.Title, "Patchbay API")
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(
    OpenApi.Description,
    "Connectors, connector instances, credentials, tests, OAuth2, activities and webhooks of Patchbay"
  ) {}
