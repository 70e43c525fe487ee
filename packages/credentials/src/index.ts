/**
 * @patchbay/credentials: write-once scoped credentials, the credential resolver, the call pipeline
 * that opens a connection for an instance, and expiry listing.
 *
 * @since 0.1.0
 */
export * as Connection from "./Connection.js"
export * as CredentialRefresher from "./CredentialRefresher.js"
export * as CredentialResolver from "./CredentialResolver.js"
export * as Credentials from "./Credentials.js"
export * as CredentialVault from "./CredentialVault.js"
