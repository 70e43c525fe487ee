/**
 * The call pipeline every driver call goes through: an instance made ready for its driver — its
 * connector (looked up once per call), the operation checked against the descriptor, its
 * credential resolved for the current actor, and the driver context decoded from both. Connection
 * tests and activities both open connections here.
 *
 * @since 0.1.0
 */
import {
  type Actor,
  type ConnectorDescriptor,
  type ConnectorDriver,
  type ConnectorInstance,
  ConnectorRegistry,
  type Credential,
  DomainError
} from "@patchbay/core"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as CredentialResolver from "./CredentialResolver.js"

/**
 * An opened connection: the instance, its connector, the credential version in use and the driver
 * context.
 *
 * @since 0.1.0
 */
export interface Connection {
  readonly instance: ConnectorInstance.ConnectorInstance
  readonly connector: ConnectorDriver.Connector
  readonly credential: Credential.CredentialMetadata
  readonly context: ConnectorDriver.DriverContext<
    ConnectorDescriptor.ConnectorDescriptor["configuration"]["Type"],
    ConnectorDescriptor.ConnectorDescriptor["credentials"]["Type"]
  >
}

/**
 * Options of `open`: a credential scope to use instead of the actor's precedence (the actor must
 * belong to it), and the operation the connection is for — checked against the connector's
 * descriptor before any credential is resolved.
 *
 * @since 0.1.0
 */
export interface OpenOptions extends CredentialResolver.ResolveOptions {
  readonly operation?: ConnectorDescriptor.Operation | undefined
}

/**
 * Failures of `open`.
 *
 * @since 0.1.0
 */
export type OpenError =
  | CredentialResolver.ResolveError
  | DomainError.ConnectorNotFound
  | DomainError.OperationUnsupported
  | DomainError.InvalidConfiguration

/**
 * Opens a connection for `instance`: one registry lookup, the operation check, the credential
 * resolution (with refresh) and the driver context.
 *
 * @since 0.1.0
 */
export const open: (
  instance: ConnectorInstance.ConnectorInstance,
  options?: OpenOptions
) => Effect.Effect<
  Connection,
  OpenError,
  ConnectorRegistry.ConnectorRegistry | CredentialResolver.CredentialResolver | Actor.Actor
> = Effect.fn("Connection.open")(function* (instance: ConnectorInstance.ConnectorInstance, options?: OpenOptions) {
  const registry = yield* ConnectorRegistry.ConnectorRegistry
  const resolver = yield* CredentialResolver.CredentialResolver
  const connector = yield* registry.get(instance.connectorId)
  const operation = options?.operation
  if (operation !== undefined && !connector.descriptor.operations.includes(operation)) {
    return yield* new DomainError.OperationUnsupported({ connector: instance.connectorKey, operation })
  }
  const resolved = yield* resolver.resolve(instance, options)
  const context = yield* ConnectorRegistry.driverContext(connector, instance, Redacted.value(resolved.secrets))
  return { instance, connector, credential: resolved.metadata, context } satisfies Connection
})
