/**
 * A connector descriptor bound to non-sensitive configuration for one environment.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { AuthType } from "./ConnectorDescriptor.js"
import { ConnectorId, InstanceId, OrgId, WorkspaceId } from "./Ids.js"

/**
 * 1–255 characters after trimming.
 *
 * @since 0.1.0
 */
export const InstanceName = Schema.Trim.pipe(
  Schema.minLength(1, { message: () => "instance name must not be empty" }),
  Schema.maxLength(255, { message: () => "instance name must be at most 255 characters" })
)

/**
 * The result of the last connection test.
 *
 * @since 0.1.0
 */
export const TestStatus = Schema.Literal("success", "failed", "pending")
/** @since 0.1.0 */
export type TestStatus = typeof TestStatus.Type

/**
 * `reconnect_required` once the external system refused the stored credentials; `active` again
 * after the next success.
 *
 * @since 0.1.0
 */
export const InstanceStatus = Schema.Literal("active", "reconnect_required")
/** @since 0.1.0 */
export type InstanceStatus = typeof InstanceStatus.Type

/**
 * Non-sensitive configuration in its encoded (JSON) form, as stored.
 *
 * @since 0.1.0
 */
export const Configuration = Schema.Record({ key: Schema.String, value: Schema.Unknown })
/** @since 0.1.0 */
export type Configuration = typeof Configuration.Type

/**
 * A connector instance as stored. `accountFingerprint` (keyed HMAC of the account-identifying
 * fields) is internal: views leave it out.
 *
 * @since 0.1.0
 */
export class ConnectorInstance extends Schema.Class<ConnectorInstance>("@patchbay/core/ConnectorInstance")({
  id: InstanceId,
  orgId: OrgId,
  connectorId: ConnectorId,
  connectorKey: Schema.String,
  instanceName: Schema.String,
  description: Schema.NullOr(Schema.String),
  workspaceId: Schema.NullOr(WorkspaceId),
  configuration: Configuration,
  authType: AuthType,
  isEnabled: Schema.Boolean,
  lastTestedAt: Schema.NullOr(Schema.DateFromSelf),
  testStatus: TestStatus,
  testMessage: Schema.NullOr(Schema.String),
  hasCredentials: Schema.Boolean,
  status: InstanceStatus,
  accountFingerprint: Schema.NullOr(Schema.String),
  createdAt: Schema.DateFromSelf,
  updatedAt: Schema.DateFromSelf
}) {}

/**
 * A new instance as `ConnectorInstances.create` stores it: enabled, active, untested, without
 * credentials. Also what tests and benchmarks use to build an instance without the service.
 *
 * @since 0.1.0
 */
export const fresh = (options: {
  readonly id: InstanceId
  readonly orgId: OrgId
  readonly connector: { readonly id: ConnectorId; readonly key: string }
  readonly instanceName: string
  readonly configuration: Configuration
  readonly authType: AuthType
  readonly description?: string | null | undefined
  readonly workspaceId?: WorkspaceId | null | undefined
  readonly hasCredentials?: boolean | undefined
  readonly at: Date
}): ConnectorInstance =>
  ConnectorInstance.make({
    id: options.id,
    orgId: options.orgId,
    connectorId: options.connector.id,
    connectorKey: options.connector.key,
    instanceName: options.instanceName,
    description: options.description ?? null,
    workspaceId: options.workspaceId ?? null,
    configuration: options.configuration,
    authType: options.authType,
    isEnabled: true,
    lastTestedAt: null,
    testStatus: "pending",
    testMessage: null,
    hasCredentials: options.hasCredentials ?? false,
    status: "active",
    accountFingerprint: null,
    createdAt: options.at,
    updatedAt: options.at
  })

/**
 * What callers see of an instance: every field but the account fingerprint, with dates as ISO
 * strings when encoded.
 *
 * @since 0.1.0
 */
export class InstanceView extends Schema.Class<InstanceView>("@patchbay/core/InstanceView")({
  id: InstanceId,
  connectorId: ConnectorId,
  connectorKey: Schema.String,
  instanceName: Schema.String,
  description: Schema.NullOr(Schema.String),
  workspaceId: Schema.NullOr(WorkspaceId),
  configuration: Configuration,
  authType: AuthType,
  isEnabled: Schema.Boolean,
  lastTestedAt: Schema.NullOr(Schema.Date),
  testStatus: TestStatus,
  testMessage: Schema.NullOr(Schema.String),
  hasCredentials: Schema.Boolean,
  status: InstanceStatus,
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}

/**
 * The view of an instance.
 *
 * @since 0.1.0
 */
export const view = (instance: ConnectorInstance): InstanceView => {
  const { accountFingerprint: _, orgId: __, ...visible } = instance
  return InstanceView.make(visible)
}

/**
 * The key under which names are unique: trimmed, Unicode-normalised, lower-cased.
 *
 * @since 0.1.0
 */
export const normalizeName = (name: string): string => name.trim().normalize("NFKC").toLowerCase()
