/**
 * A credential as resolution hands it to a call: the version's metadata and its plaintext.
 *
 * @since 0.1.0
 */
import type * as Redacted from "effect/Redacted"
import type { CredentialMetadata } from "./Credential.js"

/**
 * A resolved credential: the version's metadata and its plaintext (the encoded credential values,
 * as validated when stored), wrapped whole in `Redacted`. Drivers decode the secrets with
 * `ConnectorRegistry.driverContext`.
 *
 * @since 0.1.0
 */
export interface ResolvedCredential {
  readonly metadata: CredentialMetadata
  readonly secrets: Redacted.Redacted<Readonly<Record<string, unknown>>>
}
