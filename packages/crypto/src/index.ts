/**
 * @patchbay/crypto: the keyring, envelope encryption, integrity of stored metadata, key rotation,
 * account fingerprints and masking.
 *
 * @since 0.1.0
 */
export * as CredentialIntegrity from "./CredentialIntegrity.js"
export * as Envelope from "./Envelope.js"
export * as Fingerprint from "./Fingerprint.js"
export * as Keyring from "./Keyring.js"
export * as Mask from "./Mask.js"
export * as Rotation from "./Rotation.js"
