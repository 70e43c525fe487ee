import type {
  Actor,
  ConnectorDescriptor,
  ConnectorDriver,
  Credential,
  CredentialScope,
  Database,
  WebhookStore
} from "@patchbay/core"
import { DomainError } from "@patchbay/core"
import type { ConnectionTester } from "@patchbay/testers"
import * as Effect from "effect/Effect"
import * as JSONSchema from "effect/JSONSchema"
import type * as Schema from "effect/Schema"
import type * as ApiModels from "../ApiModels.js"

/**
 * The credential scope a request names: `scope_type`, and `scope_id` defaulting to the actor's own
 * organization, workspace, user or agent. No `scope_type`: the actor's precedence decides.
 */
export const scopeOf = (
  actor: Actor.ActorInfo,
  fields: { readonly scopeType?: CredentialScope.ScopeType | undefined; readonly scopeId?: string | undefined }
): Effect.Effect<typeof CredentialScope.CredentialScope.Encoded | undefined, DomainError.InvalidInput> => {
  if (fields.scopeType === undefined) {
    return fields.scopeId === undefined
      ? Effect.succeed(undefined)
      : Effect.fail(new DomainError.InvalidInput({ detail: "scope_id needs a scope_type" }))
  }
  const own = {
    organization: actor.orgId,
    workspace: actor.workspaceId,
    user: actor.userId,
    agent: actor.agentId
  }[fields.scopeType]
  const id = fields.scopeId ?? own
  return id === undefined
    ? Effect.fail(
        new DomainError.InvalidInput({
          detail: `scope_id is required: the caller has no ${fields.scopeType} of its own`
        })
      )
    : Effect.succeed({ type: fields.scopeType, id })
}

/** A credential version's metadata as the API shows it. */
export const credential = (metadata: Credential.CredentialMetadata): typeof ApiModels.Credential.Type => ({
  id: metadata.id,
  instanceId: metadata.instanceId,
  scopeType: metadata.scope.type,
  scopeId: metadata.scope.id,
  version: metadata.version,
  credentialMetadata: metadata.labels,
  masked: metadata.masked,
  expiresAt: metadata.expiresAt,
  revokedAt: metadata.revokedAt,
  createdAt: metadata.createdAt
})

/** A connector summary as the API shows it. */
export const connector = (descriptor: {
  readonly id: string
  readonly key: string
  readonly name: string
  readonly version: string
  readonly authProfiles: ReadonlyArray<ConnectorDescriptor.AuthType>
  readonly operations: ReadonlyArray<ConnectorDescriptor.Operation>
  readonly secretFields: ReadonlyArray<string>
  readonly accountFields: ReadonlyArray<string>
  readonly testEndpoint?: { readonly method: string; readonly path: string; readonly expectStatus: number } | undefined
  readonly supportsSchemaDiscovery: boolean
}): typeof ApiModels.Connector.Type => ({
  id: descriptor.id,
  key: descriptor.key,
  name: descriptor.name,
  version: descriptor.version,
  authProfiles: descriptor.authProfiles,
  operations: descriptor.operations,
  secretFields: descriptor.secretFields,
  accountFields: descriptor.accountFields,
  testEndpoint: descriptor.testEndpoint ?? null,
  supportsSchemaDiscovery: descriptor.supportsSchemaDiscovery
})

type JsonObject = { readonly [key: string]: unknown }

const isObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null

/** The JSON Schema of a schema's encoded (JSON) side; an empty schema when it has no JSON form. */
const jsonSchemaOf = (schema: Schema.Schema.AnyNoContext): JsonObject => {
  try {
    return JSONSchema.make(schema) as unknown as JsonObject
  } catch {
    return {}
  }
}

/** The properties of an object JSON Schema, following a top-level `$ref` into `$defs`. */
const propertiesOf = (root: JsonObject): { properties: JsonObject; required: ReadonlyArray<string> } => {
  let node: unknown = root
  const ref = root.$ref
  if (typeof ref === "string" && ref.startsWith("#/$defs/") && isObject(root.$defs)) {
    node = root.$defs[ref.slice("#/$defs/".length)]
  }
  if (!isObject(node)) return { properties: {}, required: [] }
  const properties = isObject(node.properties) ? node.properties : {}
  const required = Array.isArray(node.required) ? node.required.filter((r): r is string => typeof r === "string") : []
  return { properties, required }
}

const text = (value: unknown): string | null => (typeof value === "string" ? value : null)

/** A connector with the JSON Schemas of its configuration and credentials and help for each field. */
export const connectorDetail = (c: ConnectorDriver.Connector): typeof ApiModels.ConnectorDetail.Type => {
  const descriptor = c.descriptor
  const configurationSchema = jsonSchemaOf(descriptor.configuration)
  const credentialsSchema = jsonSchemaOf(descriptor.credentials)
  const help = (location: "configuration" | "credentials", root: JsonObject) => {
    const { properties, required } = propertiesOf(root)
    return Object.entries(properties).map(([name, property]) => {
      const p = isObject(property) ? property : {}
      const examples = Array.isArray(p.examples) ? p.examples : []
      return {
        name,
        location,
        title: text(p.title),
        description: text(p.description),
        example: examples.length > 0 ? examples[0] : null,
        secret: location === "credentials" && descriptor.secretFields.includes(name),
        required: required.includes(name)
      }
    })
  }
  return {
    ...connector({ ...descriptor, testEndpoint: descriptor.testEndpoint }),
    configurationSchema,
    credentialsSchema,
    fields: [...help("configuration", configurationSchema), ...help("credentials", credentialsSchema)]
  }
}

/** The preview of a DDL request: one line per statement, with what it does. */
export const ddlPreview = (result: Database.DdlResult): string =>
  result.statements
    .map((statement) => {
      const tables = statement.tables.map((t) => `${t.name}${t.rows === null ? "" : ` (${t.rows} rows)`}`)
      return `${statement.kind}${statement.destructive ? " (destructive)" : ""}${tables.length > 0 ? ` on ${tables.join(", ")}` : ""}: ${statement.sql}`
    })
    .join("\n")

/** One instance's result of a bulk operation as the API shows it. */
export const bulkResult = (result: ConnectionTester.BulkResult): typeof ApiModels.BulkResult.Type => {
  const base = { instanceId: result.instanceId, action: result.action }
  if (result.result._tag === "Left") {
    const error = result.result.left
    return {
      ...base,
      status: "error",
      message: error.message,
      error: error._tag,
      retryable: "retryable" in error && error.retryable === true
    }
  }
  const value = result.result.right
  if ("version" in value) {
    return {
      ...base,
      status: "refreshed",
      message: `credential version ${value.version} in use`,
      error: null,
      retryable: false
    }
  }
  return { ...base, status: value.status, message: value.message, error: value.failure, retryable: false }
}

/** A webhook subscription as the API shows it: no secret. */
export const webhookSubscription = (
  subscription: WebhookStore.Subscription
): typeof ApiModels.WebhookSubscription.Type => ({
  id: subscription.id,
  url: subscription.url,
  eventTypes: subscription.eventTypes,
  enabled: subscription.enabled,
  secretVersion: subscription.secretVersion,
  previousSecretUntil: subscription.previousSecretUntil,
  createdAt: subscription.createdAt,
  updatedAt: subscription.updatedAt
})

/** A webhook delivery as the API shows it: state only, never the event body. */
export const webhookDelivery = (delivery: WebhookStore.Delivery): typeof ApiModels.WebhookDelivery.Type => ({
  id: delivery.id,
  subscriptionId: delivery.subscriptionId,
  eventId: delivery.eventId,
  eventType: delivery.eventType,
  status: delivery.status,
  attempts: delivery.attempts,
  nextAttemptAt: delivery.nextAttemptAt,
  lastStatusCode: delivery.lastStatus,
  lastError: delivery.lastError,
  createdAt: delivery.createdAt,
  updatedAt: delivery.updatedAt,
  deliveredAt: delivery.deliveredAt
})
