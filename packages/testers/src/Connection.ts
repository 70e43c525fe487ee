/**
 * An instance made ready for a driver call: its connector, its credential resolved for the current
 * actor, and the driver context decoded from both.
 *
 * @since 0.1.0
 */
import {
  type ConnectorDescriptor,
  type ConnectorDriver,
  type ConnectorInstance,
  ConnectorRegistry,
  type Credential,
  type DomainError
} from "@patchbay/core"
import { CredentialResolver } from "@patchbay/credentials"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"

/**
 * An opened connection: the instance, its connector, the credential version in use and the driver context.
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
 * Failures of `open`.
 *
 * @since 0.1.0
 */
export type OpenError =
  | CredentialResolver.ResolveError
  | DomainError.ConnectorNotFound
  | DomainError.InvalidConfiguration

/**
 * Resolves the instance's connector and credential and decodes the driver context. `scope` forces
 * one credential scope (the actor must belong to it).
 *
 * @since 0.1.0
 */
export const open = Effect.fn("Connection.open")(function* (
  instance: ConnectorInstance.ConnectorInstance,
  options?: CredentialResolver.ResolveOptions
) {
  const registry = yield* ConnectorRegistry.ConnectorRegistry
  const resolver = yield* CredentialResolver.CredentialResolver
  const connector = yield* registry.get(instance.connectorId)
  const resolved = yield* resolver.resolve(instance, options)
  const context = yield* ConnectorRegistry.driverContext(connector, instance, Redacted.value(resolved.secrets))
  return { instance, connector, credential: resolved.metadata, context } satisfies Connection
})
