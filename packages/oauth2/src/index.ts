/**
 * @patchbay/oauth2: authorization code with PKCE, client credentials, refresh that never races,
 * reconnect links and a refresh sweep.
 *
 * @since 0.1.0
 */
export * as OAuth2 from "./OAuth2.js"
export * as OAuth2Clients from "./OAuth2Clients.js"
export * as OAuth2Error from "./OAuth2Error.js"
export * as Sweep from "./Sweep.js"
export * as TokenSet from "./TokenSet.js"
