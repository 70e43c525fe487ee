/**
 * @patchbay/credentials: write-once scoped credentials, the credential resolver and expiry listing.
 *
 * @since 0.1.0
 */
export * as CredentialRefresher from "./CredentialRefresher.js"
export * as CredentialResolver from "./CredentialResolver.js"
export * as Credentials from "./Credentials.js"
export * as CredentialVault from "./CredentialVault.js"
