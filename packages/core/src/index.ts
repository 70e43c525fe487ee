/**
 * @patchbay/core: the domain every Patchbay package stands on.
 *
 * @since 0.1.0
 */
export * as ActivityError from "./ActivityError.js"
export * as Actor from "./Actor.js"
export * as AuditLog from "./AuditLog.js"
export * as ConnectorDescriptor from "./ConnectorDescriptor.js"
export * as ConnectorDriver from "./ConnectorDriver.js"
export * as ConnectorInstance from "./ConnectorInstance.js"
export * as ConnectorInstances from "./ConnectorInstances.js"
export * as ConnectorRegistry from "./ConnectorRegistry.js"
export * as Credential from "./Credential.js"
export * as CredentialRepository from "./CredentialRepository.js"
export * as CredentialScope from "./CredentialScope.js"
export * as Database from "./Database.js"
export * as DomainError from "./DomainError.js"
export * as DriverError from "./DriverError.js"
export * as EgressPolicy from "./EgressPolicy.js"
export * as FailureClassifier from "./FailureClassifier.js"
export * as Ids from "./Ids.js"
export * as InstanceRepository from "./InstanceRepository.js"
export * as Messaging from "./Messaging.js"
export * as OAuth2ClientConfiguration from "./OAuth2ClientConfiguration.js"
export * as PendingAuthorizationRepository from "./PendingAuthorizationRepository.js"
export * as RefreshLock from "./RefreshLock.js"
export * as SecretScrubber from "./SecretScrubber.js"
export * as ResolvedCredential from "./ResolvedCredential.js"
