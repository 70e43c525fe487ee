/**
 * @patchbay/oauth2: authorization code with PKCE, client credentials, the refresh protocol behind
 * `CredentialResolver` (a `CredentialRefresher`), reconnect links and a refresh sweep.
 *
 * @since 0.1.0
 */
export * as AuthorizationCode from "./AuthorizationCode.js"
export * as AuthorizationServer from "./AuthorizationServer.js"
export * as ClientCredentials from "./ClientCredentials.js"
export * as FirstToken from "./FirstToken.js"
export * as OAuth2 from "./OAuth2.js"
export * as OAuth2Clients from "./OAuth2Clients.js"
export * as OAuth2Error from "./OAuth2Error.js"
export * as RefreshProtocol from "./RefreshProtocol.js"
export * as Sweep from "./Sweep.js"
export * as TokenSet from "./TokenSet.js"
