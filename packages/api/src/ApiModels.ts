/**
 * The request and response bodies of the HTTP API, in the product document's snake_case field
 * names on the wire (`instance_name`, `scope_type`, `days_ahead`, …) and camelCase once decoded,
 * mapped by `Schema.fromKey`.
 *
 * @since 0.1.0
 */
import { ConnectorDescriptor, ConnectorInstance, CredentialScope, WebhookStore } from "@patchbay/core"
import * as Schema from "effect/Schema"

const field = <K extends string, S extends Schema.Schema.Any>(key: K, schema: S) =>
  Schema.propertySignature(schema).pipe(Schema.fromKey(key))

const optionalField = <K extends string, S extends Schema.Schema.All>(key: K, schema: S) =>
  Schema.optional(schema).pipe(Schema.fromKey(key))

/** Any JSON value (`unknown`'s own JSON Schema names an `$id`, which a document may hold only once). */
const AnyJson = Schema.Unknown.annotations({
  jsonSchema: {
    anyOf: [
      { type: "string" },
      { type: "number" },
      { type: "boolean" },
      { type: "null" },
      { type: "object" },
      { type: "array" }
    ]
  }
})

const Json = Schema.Record({ key: Schema.String, value: AnyJson })

/** @since 0.1.0 */
export const ScopeType = CredentialScope.ScopeType

/**
 * The credential scope an operation uses instead of the actor's precedence: `scope_type`, and
 * `scope_id` (default: the actor's own organization, workspace, user or agent).
 *
 * @since 0.1.0
 */
export const ScopeFields = {
  scopeType: optionalField("scope_type", ScopeType),
  scopeId: optionalField("scope_id", Schema.String)
}

/**
 * A registered connector type.
 *
 * @since 0.1.0
 */
export const Connector = Schema.Struct({
  id: Schema.String,
  key: Schema.String,
  name: Schema.String,
  version: Schema.String,
  authProfiles: field("auth_profiles", Schema.Array(ConnectorDescriptor.AuthType)),
  operations: Schema.Array(ConnectorDescriptor.Operation),
  secretFields: field("secret_fields", Schema.Array(Schema.String)),
  accountFields: field("account_fields", Schema.Array(Schema.String)),
  testEndpoint: field(
    "test_endpoint",
    Schema.NullOr(
      Schema.Struct({
        method: Schema.String,
        path: Schema.String,
        expectStatus: field("expect_status", Schema.Number)
      })
    )
  ),
  supportsSchemaDiscovery: field("supports_schema_discovery", Schema.Boolean)
}).annotations({ identifier: "Connector" })

/**
 * Help for one field of a connector's form: where it goes, its title, description and example
 * (from the schema's annotations), whether it is secret (shown masked, typed as a password) and
 * required.
 *
 * @since 0.1.0
 */
export const FieldHelp = Schema.Struct({
  name: Schema.String,
  location: Schema.Literal("configuration", "credentials"),
  title: Schema.NullOr(Schema.String),
  description: Schema.NullOr(Schema.String),
  example: Schema.NullOr(AnyJson),
  secret: Schema.Boolean,
  required: Schema.Boolean
}).annotations({ identifier: "FieldHelp" })

/**
 * A connector with the JSON Schemas of its configuration and credentials and help for each field.
 *
 * @since 0.1.0
 */
export const ConnectorDetail = Schema.Struct({
  ...Connector.fields,
  configurationSchema: field("configuration_schema", Json),
  credentialsSchema: field("credentials_schema", Json),
  fields: Schema.Array(FieldHelp)
}).annotations({ identifier: "ConnectorDetail" })

/**
 * A connector instance, as every endpoint shows it.
 *
 * @since 0.1.0
 */
export const Instance = Schema.Struct({
  id: Schema.String,
  connectorId: field("connector_id", Schema.String),
  connectorKey: field("connector_key", Schema.String),
  instanceName: field("instance_name", Schema.String),
  description: Schema.NullOr(Schema.String),
  workspaceId: field("workspace_id", Schema.NullOr(Schema.String)),
  configuration: Json,
  authType: field("auth_type", ConnectorDescriptor.AuthType),
  isEnabled: field("is_enabled", Schema.Boolean),
  lastTestedAt: field("last_tested_at", Schema.NullOr(Schema.Date)),
  testStatus: field("test_status", ConnectorInstance.TestStatus),
  testMessage: field("test_message", Schema.NullOr(Schema.String)),
  hasCredentials: field("has_credentials", Schema.Boolean),
  status: ConnectorInstance.InstanceStatus,
  createdAt: field("created_at", Schema.Date),
  updatedAt: field("updated_at", Schema.Date)
}).annotations({ identifier: "ConnectorInstance" })

/**
 * A page of instances; `next_cursor` is null on the last page.
 *
 * @since 0.1.0
 */
export const InstancePage = Schema.Struct({
  items: Schema.Array(Instance),
  nextCursor: field("next_cursor", Schema.NullOr(Schema.String))
}).annotations({ identifier: "ConnectorInstancePage" })

/**
 * Body of `POST /connector-instances`. `connector_id` is a descriptor id or key.
 *
 * @since 0.1.0
 */
export const CreateInstance = Schema.Struct({
  connectorId: field("connector_id", Schema.String),
  instanceName: field("instance_name", Schema.String),
  description: optionalField("description", Schema.NullOr(Schema.String)),
  workspaceId: optionalField("workspace_id", Schema.NullOr(Schema.String)),
  configuration: optionalField("configuration", Json),
  authType: optionalField("auth_type", ConnectorDescriptor.AuthType)
}).annotations({ identifier: "CreateConnectorInstance" })

/**
 * Body of `PATCH /connector-instances/{instance_id}`: only the fields given change.
 *
 * @since 0.1.0
 */
export const UpdateInstance = Schema.Struct({
  instanceName: optionalField("instance_name", Schema.String),
  description: optionalField("description", Schema.NullOr(Schema.String)),
  configuration: optionalField("configuration", Json),
  isEnabled: optionalField("is_enabled", Schema.Boolean)
}).annotations({ identifier: "UpdateConnectorInstance" })

/**
 * Query of `GET /connector-instances`: filters, a page size (1–200, default 50) and the cursor of
 * the previous page. `workspace_id=null` lists organization-level instances.
 *
 * @since 0.1.0
 */
export const ListInstances = Schema.Struct({
  connectorId: optionalField("connector_id", Schema.String),
  workspaceId: optionalField("workspace_id", Schema.String),
  isEnabled: optionalField("is_enabled", Schema.BooleanFromString),
  status: Schema.optional(ConnectorInstance.InstanceStatus),
  limit: Schema.optional(Schema.NumberFromString),
  cursor: Schema.optional(Schema.String)
})

/**
 * Metadata of a credential version: never its values, only their masks.
 *
 * @since 0.1.0
 */
export const Credential = Schema.Struct({
  id: Schema.String,
  instanceId: field("instance_id", Schema.String),
  scopeType: field("scope_type", ScopeType),
  scopeId: field("scope_id", Schema.String),
  version: Schema.Number,
  credentialMetadata: field("credential_metadata", Json),
  masked: Schema.Record({ key: Schema.String, value: Schema.String }),
  expiresAt: field("expires_at", Schema.NullOr(Schema.Date)),
  revokedAt: field("revoked_at", Schema.NullOr(Schema.Date)),
  createdAt: field("created_at", Schema.Date)
}).annotations({ identifier: "CredentialMetadata" })

/**
 * Body of `POST /connector-instances/{instance_id}/credentials`.
 *
 * @since 0.1.0
 */
export const CreateCredential = Schema.Struct({
  scopeType: field("scope_type", ScopeType),
  scopeId: optionalField("scope_id", Schema.String),
  credentials: Json,
  credentialMetadata: optionalField("credential_metadata", Json),
  expiresAt: optionalField("expires_at", Schema.NullOr(Schema.String))
}).annotations({ identifier: "CreateCredential" })

/**
 * Query of `GET /credentials/expiring`.
 *
 * @since 0.1.0
 */
export const ListExpiring = Schema.Struct({
  daysAhead: field("days_ahead", Schema.NumberFromString)
})

/**
 * A credential that expires within the days asked. `kind` says what dies: the credential itself
 * (`credential`) or an OAuth2 token set's refresh token (`refresh_token`), after which only a
 * reconnect helps; `reconnect_url` is where the person signs in again (authorization-code
 * instances with a redirect URI).
 *
 * @since 0.1.0
 */
export const ExpiringCredential = Schema.Struct({
  credentialId: field("credential_id", Schema.String),
  connectorKey: field("connector_key", Schema.String),
  connectorName: field("connector_name", Schema.String),
  instanceId: field("instance_id", Schema.String),
  instanceName: field("instance_name", Schema.String),
  scopeType: field("scope_type", ScopeType),
  scopeId: field("scope_id", Schema.String),
  expiresAt: field("expires_at", Schema.Date),
  daysRemaining: field("days_remaining", Schema.Number),
  kind: Schema.Literal("credential", "refresh_token"),
  reconnectUrl: optionalField("reconnect_url", Schema.String)
}).annotations({ identifier: "ExpiringCredential" })

/**
 * Body of `POST /connector-instances/{instance_id}/test-connection`.
 *
 * @since 0.1.0
 */
export const TestConnection = Schema.Struct(ScopeFields).annotations({ identifier: "TestConnection" })

/**
 * The outcome of a connection test, recorded on the instance.
 *
 * @since 0.1.0
 */
export const TestResult = Schema.Struct({
  instanceId: field("instance_id", Schema.String),
  status: Schema.Literal("success", "failed"),
  message: Schema.String,
  testedAt: field("tested_at", Schema.Date),
  failure: Schema.NullOr(Schema.String)
}).annotations({ identifier: "TestResult" })

/**
 * Body of `POST /connector-instances/{instance_id}/health-check` (timeout default 10 s).
 *
 * @since 0.1.0
 */
export const HealthCheck = Schema.Struct({
  ...ScopeFields,
  timeoutSeconds: optionalField("timeout_seconds", Schema.Number)
}).annotations({ identifier: "HealthCheck" })

/**
 * The outcome of a health check.
 *
 * @since 0.1.0
 */
export const HealthResult = Schema.Struct({
  instanceId: field("instance_id", Schema.String),
  status: Schema.Literal("healthy", "unhealthy"),
  latencyMs: field("latency_ms", Schema.Number),
  checkedAt: field("checked_at", Schema.Date),
  message: Schema.String,
  failure: Schema.NullOr(Schema.String)
}).annotations({ identifier: "HealthResult" })

/**
 * Body of `POST /connector-instances/bulk-operation`: at most 50 instance ids and one action.
 *
 * @since 0.1.0
 */
export const BulkOperation = Schema.Struct({
  instanceIds: field("instance_ids", Schema.Array(Schema.String)),
  action: Schema.Literal("health_check", "test_connection", "refresh_credentials"),
  timeoutSeconds: optionalField("timeout_seconds", Schema.Number)
}).annotations({ identifier: "BulkOperation" })

/**
 * One instance's result in a bulk operation. `status` is the action's own (`success`/`failed`,
 * `healthy`/`unhealthy`, `refreshed`) or `error` when the action could not run; `error` is then
 * the failure's tag.
 *
 * @since 0.1.0
 */
export const BulkResult = Schema.Struct({
  instanceId: field("instance_id", Schema.String),
  action: Schema.String,
  status: Schema.Literal("success", "failed", "healthy", "unhealthy", "refreshed", "error"),
  message: Schema.String,
  error: Schema.NullOr(Schema.String),
  retryable: Schema.Boolean
}).annotations({ identifier: "BulkResult" })

/**
 * Query of `GET /connector-instances/{instance_id}/schema`: the scope, and the database schemas to
 * read (comma-separated; default: all but the system's).
 *
 * @since 0.1.0
 */
export const GetSchema = Schema.Struct({
  ...ScopeFields,
  schemas: Schema.optional(Schema.String)
})

/**
 * A database's tables and their fields.
 *
 * @since 0.1.0
 */
export const DatabaseSchema = Schema.Struct({
  tables: Schema.Array(
    Schema.Struct({
      schema: Schema.String,
      name: Schema.String,
      kind: Schema.String,
      estimatedRows: field("estimated_rows", Schema.NullOr(Schema.Number)),
      fields: Schema.Array(
        Schema.Struct({
          name: Schema.String,
          type: Schema.String,
          nullable: Schema.Boolean,
          default: Schema.NullOr(Schema.String),
          primaryKey: field("primary_key", Schema.Boolean)
        })
      )
    })
  )
}).annotations({ identifier: "DatabaseSchema" })

/**
 * Body of `POST /connector-instances/{instance_id}/execute-ddl`: `confirm: false` previews,
 * `confirm: true` executes; `reason` is required for destructive statements on non-empty tables.
 *
 * @since 0.1.0
 */
export const ExecuteDdl = Schema.Struct({
  ...ScopeFields,
  sql: Schema.String,
  confirm: Schema.Boolean,
  reason: Schema.optional(Schema.String)
}).annotations({ identifier: "ExecuteDdl" })

/**
 * What a DDL execution (or its preview) did or would do.
 *
 * @since 0.1.0
 */
export const DdlResult = Schema.Struct({
  executed: Schema.Boolean,
  preview: Schema.String,
  reasonRequired: field("reason_required", Schema.Boolean),
  statements: Schema.Array(
    Schema.Struct({
      sql: Schema.String,
      kind: Schema.String,
      destructive: Schema.Boolean,
      tables: Schema.Array(Schema.Struct({ name: Schema.String, rows: Schema.NullOr(Schema.Number) }))
    })
  ),
  notes: Schema.Array(Schema.String)
}).annotations({ identifier: "DdlResult" })

/**
 * Body of the OAuth2 authorization and reconnect endpoints: the scope the token set is stored in,
 * the redirect URI (default: this API's `/oauth2/callback`) and the OAuth2 scopes.
 *
 * @since 0.1.0
 */
export const Authorize = Schema.Struct({
  ...ScopeFields,
  redirectUri: optionalField("redirect_uri", Schema.String),
  scopes: Schema.optional(Schema.Array(Schema.String))
}).annotations({ identifier: "OAuth2Authorize" })

/**
 * Where to send the person to sign in, and until when.
 *
 * @since 0.1.0
 */
export const AuthorizationUrl = Schema.Struct({
  authorizationUrl: field("authorization_url", Schema.String),
  expiresAt: field("expires_at", Schema.Date)
}).annotations({ identifier: "OAuth2AuthorizationUrl" })

/**
 * What reconnecting an instance takes: a sign-in at `authorization_url` (OAuth2), or new
 * credentials stored with `create_credential`.
 *
 * @since 0.1.0
 */
export const Reconnect = Schema.Struct({
  action: Schema.Literal("reconnect", "replace_credentials"),
  authorizationUrl: field("authorization_url", Schema.NullOr(Schema.String)),
  expiresAt: field("expires_at", Schema.NullOr(Schema.Date))
}).annotations({ identifier: "Reconnect" })

/**
 * Body of Run Query.
 *
 * @since 0.1.0
 */
export const RunQuery = Schema.Struct({
  ...ScopeFields,
  sql: Schema.String,
  params: Schema.optional(Schema.Array(AnyJson)),
  maxRows: optionalField("max_rows", Schema.Number),
  timeoutMs: optionalField("timeout_ms", Schema.Number),
  reason: Schema.optional(Schema.String)
}).annotations({ identifier: "RunQuery" })

/**
 * The rows of a query.
 *
 * @since 0.1.0
 */
export const QueryResult = Schema.Struct({
  columns: Schema.Array(Schema.Struct({ name: Schema.String, type: Schema.String })),
  rows: Schema.Array(Json),
  rowCount: field("row_count", Schema.Number),
  truncated: Schema.Boolean,
  /** Tables a DELETE or UPDATE touched entirely; it ran because the request gave a reason. */
  tableWide: field(
    "table_wide",
    Schema.Array(
      Schema.Struct({
        table: Schema.String,
        rows: Schema.NullOr(Schema.Number),
        why: Schema.Literal("no_restricting_where", "every_row_touched", "unprovable")
      })
    )
  )
}).annotations({ identifier: "QueryResult" })

/**
 * Body of Send Email; attachment content is base64.
 *
 * @since 0.1.0
 */
export const SendEmail = Schema.Struct({
  ...ScopeFields,
  from: Schema.optional(Schema.String),
  to: Schema.optional(Schema.Array(Schema.String)),
  cc: Schema.optional(Schema.Array(Schema.String)),
  bcc: Schema.optional(Schema.Array(Schema.String)),
  subject: Schema.String,
  text: Schema.optional(Schema.String),
  html: Schema.optional(Schema.String),
  attachments: Schema.optional(
    Schema.Array(
      Schema.Struct({
        filename: Schema.String,
        contentType: optionalField("content_type", Schema.String),
        content: Schema.String
      })
    )
  )
}).annotations({ identifier: "SendEmail" })

/**
 * What the mail server accepted.
 *
 * @since 0.1.0
 */
export const EmailReceipt = Schema.Struct({
  messageId: field("message_id", Schema.String),
  accepted: Schema.Array(Schema.String),
  rejected: Schema.Array(Schema.String)
}).annotations({ identifier: "EmailReceipt" })

/**
 * Body of Fetch File. The file comes back in the JSON body, so `max_bytes` is at most 25 MiB
 * (default 5 MiB).
 *
 * @since 0.1.0
 */
export const FetchFile = Schema.Struct({
  ...ScopeFields,
  path: Schema.String,
  maxBytes: optionalField("max_bytes", Schema.Number),
  timeoutMs: optionalField("timeout_ms", Schema.Number)
}).annotations({ identifier: "FetchFile" })

/**
 * A fetched file, its content in base64.
 *
 * @since 0.1.0
 */
export const FetchedFile = Schema.Struct({
  contentType: field("content_type", Schema.NullOr(Schema.String)),
  bytes: Schema.Number,
  contentBase64: field("content_base64", Schema.String)
}).annotations({ identifier: "FetchedFile" })

/**
 * Body of Send SMS.
 *
 * @since 0.1.0
 */
export const SendSms = Schema.Struct({
  ...ScopeFields,
  to: Schema.String,
  from: Schema.optional(Schema.String),
  body: Schema.String
}).annotations({ identifier: "SendSms" })

/**
 * What the SMS provider answered.
 *
 * @since 0.1.0
 */
export const SmsReceipt = Schema.Struct({
  id: Schema.String,
  status: Schema.String
}).annotations({ identifier: "SmsReceipt" })

/**
 * A lifecycle event type a webhook subscription can ask for (`InstanceCreated`, …).
 *
 * @since 0.1.0
 */
export const WebhookEventType = WebhookStore.EventType.annotations({
  identifier: "WebhookEventType",
  jsonSchema: { type: "string" }
})

/**
 * A webhook subscription of the caller's organization, as listings show it: never its secret.
 * `url` is the target's mask (scheme, host and `/…`): the full URL is sealed with the secret.
 * `event_types` null means every type.
 *
 * @since 0.1.0
 */
export const WebhookSubscription = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  eventTypes: field("event_types", Schema.NullOr(Schema.Array(WebhookEventType))),
  enabled: Schema.Boolean,
  secretVersion: field("secret_version", Schema.Number),
  previousSecretUntil: field("previous_secret_until", Schema.NullOr(Schema.Date)),
  createdAt: field("created_at", Schema.Date),
  updatedAt: field("updated_at", Schema.Date)
}).annotations({ identifier: "WebhookSubscription" })

/**
 * A webhook subscription with its signing secret, answered only by create and rotate: the secret
 * is never shown again. The client decodes it as a `Redacted`.
 *
 * @since 0.1.0
 */
export const WebhookSubscriptionWithSecret = Schema.Struct({
  subscription: WebhookSubscription,
  secret: Schema.Redacted(Schema.String)
}).annotations({ identifier: "WebhookSubscriptionWithSecret" })

/**
 * Body of `POST /webhook-subscriptions`: an `https` URL (plain `http` only to an address the
 * host's egress policy opens and the default denies, such as loopback) and the event types
 * (absent or null for all).
 *
 * @since 0.1.0
 */
export const CreateWebhookSubscription = Schema.Struct({
  url: Schema.String,
  eventTypes: optionalField("event_types", Schema.NullOr(Schema.Array(WebhookEventType)))
}).annotations({ identifier: "CreateWebhookSubscription" })

/**
 * Body of `PATCH /webhook-subscriptions/{subscription_id}`: only the fields given change.
 *
 * @since 0.1.0
 */
export const UpdateWebhookSubscription = Schema.Struct({
  url: Schema.optional(Schema.String),
  eventTypes: optionalField("event_types", Schema.NullOr(Schema.Array(WebhookEventType))),
  enabled: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "UpdateWebhookSubscription" })

/**
 * Body of `POST /webhook-subscriptions/{subscription_id}/rotate-secret`: for `overlap_seconds`
 * (default 86400) deliveries are signed with both the old and the new secret.
 *
 * @since 0.1.0
 */
export const RotateWebhookSecret = Schema.Struct({
  overlapSeconds: optionalField("overlap_seconds", Schema.Number.pipe(Schema.int(), Schema.between(0, 604_800)))
}).annotations({ identifier: "RotateWebhookSecret" })

/**
 * One event for one subscription: where it stands, attempts since it was created or redelivered,
 * the receiver's last HTTP status and the class of the last failure. Never a body or a secret.
 *
 * @since 0.1.0
 */
export const WebhookDelivery = Schema.Struct({
  id: Schema.String,
  subscriptionId: field("subscription_id", Schema.String),
  eventId: field("event_id", Schema.String),
  eventType: field("event_type", WebhookEventType),
  status: WebhookStore.DeliveryStatus,
  attempts: Schema.Number,
  nextAttemptAt: field("next_attempt_at", Schema.Date),
  lastStatusCode: field("last_status_code", Schema.NullOr(Schema.Number)),
  lastError: field("last_error", Schema.NullOr(Schema.String)),
  createdAt: field("created_at", Schema.Date),
  updatedAt: field("updated_at", Schema.Date),
  deliveredAt: field("delivered_at", Schema.NullOr(Schema.Date))
}).annotations({ identifier: "WebhookDelivery" })

/**
 * Query of `GET /webhook-subscriptions/{subscription_id}/deliveries`: a status filter and a limit
 * (1–1000, default 100); newest first.
 *
 * @since 0.1.0
 */
export const ListWebhookDeliveries = Schema.Struct({
  status: Schema.optional(WebhookStore.DeliveryStatus),
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000)))
})
