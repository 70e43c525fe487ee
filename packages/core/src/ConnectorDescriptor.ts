/**
 * What a connector type can do: its operations, its auth profiles, and the schemas of its
 * configuration (non-sensitive) and of its credentials (which fields are secret, which identify
 * the external account).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { ConnectorId } from "./Ids.js"

/**
 * How a connector authenticates.
 *
 * @since 0.1.0
 */
export const AuthType = Schema.Literal(
  "basic",
  "api_key",
  "bearer",
  "oauth2_authorization_code",
  "oauth2_client_credentials",
  "database_password",
  "aws_sigv4"
)
/** @since 0.1.0 */
export type AuthType = typeof AuthType.Type

/**
 * The operations a connector may offer.
 *
 * @since 0.1.0
 */
export const Operation = Schema.Literal(
  "test_connection",
  "health_check",
  "run_query",
  "get_schema",
  "execute_ddl",
  "send_email",
  "fetch_file",
  "send_sms"
)
/** @since 0.1.0 */
export type Operation = typeof Operation.Type

/**
 * The request a connection test makes for API-key and basic-auth connectors.
 *
 * @since 0.1.0
 */
export class TestEndpoint extends Schema.Class<TestEndpoint>("@patchbay/core/TestEndpoint")({
  method: Schema.Literal("GET", "HEAD", "POST"),
  path: Schema.String.pipe(Schema.startsWith("/")),
  expectStatus: Schema.Int.pipe(Schema.between(100, 599))
}) {}

/**
 * A connector type. `configuration` and `credentials` are Effect schemas whose encoded side is
 * plain JSON; `secretFields` name the credential fields that are masked in every view and
 * `accountFields` the fields (of configuration or credentials) that identify the external account.
 *
 * @since 0.1.0
 */
export interface ConnectorDescriptor<
  Configuration extends Schema.Schema.AnyNoContext = Schema.Schema.AnyNoContext,
  Credentials extends Schema.Schema.AnyNoContext = Schema.Schema.AnyNoContext
> {
  readonly id: ConnectorId
  readonly key: string
  readonly name: string
  readonly version: string
  readonly authProfiles: ReadonlyArray<AuthType>
  readonly operations: ReadonlyArray<Operation>
  readonly configuration: Configuration
  readonly credentials: Credentials
  readonly secretFields: ReadonlyArray<string>
  readonly accountFields: ReadonlyArray<string>
  readonly testEndpoint?: TestEndpoint | undefined
  readonly supportsSchemaDiscovery: boolean
}

/**
 * The serialisable part of a descriptor, as an API would show it.
 *
 * @since 0.1.0
 */
export class DescriptorSummary extends Schema.Class<DescriptorSummary>("@patchbay/core/DescriptorSummary")({
  id: Schema.String,
  key: Schema.String,
  name: Schema.String,
  version: Schema.String,
  authProfiles: Schema.Array(AuthType),
  operations: Schema.Array(Operation),
  secretFields: Schema.Array(Schema.String),
  accountFields: Schema.Array(Schema.String),
  testEndpoint: Schema.optional(TestEndpoint),
  supportsSchemaDiscovery: Schema.Boolean
}) {}

/**
 * The serialisable summary of a descriptor.
 *
 * @since 0.1.0
 */
export const summary = (descriptor: ConnectorDescriptor): DescriptorSummary =>
  DescriptorSummary.make({
    id: descriptor.id,
    key: descriptor.key,
    name: descriptor.name,
    version: descriptor.version,
    authProfiles: descriptor.authProfiles,
    operations: descriptor.operations,
    secretFields: descriptor.secretFields,
    accountFields: descriptor.accountFields,
    ...(descriptor.testEndpoint ? { testEndpoint: descriptor.testEndpoint } : {}),
    supportsSchemaDiscovery: descriptor.supportsSchemaDiscovery
  })
