import type { ConnectorInstance, CredentialScope } from "@patchbay/core"

/**
 * The key of one credential (instance and scope) for the in-process single flight and the
 * cross-process `RefreshLock`: refresh and the first client-credentials token share it.
 */
export const refreshKey = (instance: ConnectorInstance.ConnectorInstance, scope: CredentialScope.CredentialScope) =>
  `oauth2:${instance.orgId}:${instance.id}:${scope.type}:${scope.id}`

/** Whether the instance authenticates with OAuth2 at all. */
export const isOAuth2 = (instance: { readonly authType: string }) =>
  instance.authType === "oauth2_authorization_code" || instance.authType === "oauth2_client_credentials"
