import type * as oauth from "oauth4webapi"
import type * as TokenSet from "../TokenSet.js"

/**
 * The token set to store after a token response: a missing refresh token, scope or id token keeps
 * the previous one; `client` (an instance's own client) is stored with it. The account identity
 * is `client.accountIdentity` when given, else the previous one. The refresh token's deadline is
 * the response's `refresh_token_expires_in`; else, for a refresh token not seen before, its
 * documented lifetime (`client.refreshTokenLifetime`, else the one the previous set carries) from
 * now; else the previous deadline while the refresh token is the previous one.
 */
export const nextTokenSet = (
  response: oauth.TokenEndpointResponse,
  previous: Readonly<Record<string, unknown>> | undefined,
  nowMillis: number,
  client: {
    readonly clientId?: string | undefined
    readonly clientSecret?: string | undefined
    readonly accountIdentity?: string | null | undefined
    readonly refreshTokenLifetime?: number | undefined
  } = {}
): TokenSet.TokenSet => {
  const keep = (name: string) => {
    const value = previous?.[name]
    return typeof value === "string" ? value : undefined
  }
  const set: Record<string, string | number | null> = {
    access_token: response.access_token,
    token_type: response.token_type
  }
  const refreshToken = response.refresh_token ?? keep("refresh_token")
  if (refreshToken !== undefined) set.refresh_token = refreshToken
  if (typeof response.expires_in === "number") set.expires_at = Math.floor(nowMillis / 1000) + response.expires_in
  const scope = response.scope ?? keep("scope")
  if (scope !== undefined) set.scope = scope
  const idToken = response.id_token ?? keep("id_token")
  if (idToken !== undefined) set.id_token = idToken
  const clientId = client.clientId ?? keep("client_id")
  if (clientId !== undefined) set.client_id = clientId
  const clientSecret = client.clientSecret ?? keep("client_secret")
  if (clientSecret !== undefined) set.client_secret = clientSecret
  const identity = client.accountIdentity !== undefined ? client.accountIdentity : previous?.account_identity
  if (typeof identity === "string" || identity === null) set.account_identity = identity
  const documented = client.refreshTokenLifetime ?? previous?.refresh_token_lifetime
  const lifetime =
    typeof documented === "number" && Number.isInteger(documented) && documented > 0 ? documented : undefined
  if (lifetime !== undefined) set.refresh_token_lifetime = lifetime
  const announced = response.refresh_token_expires_in
  const nowSeconds = Math.floor(nowMillis / 1000)
  const isNew = response.refresh_token !== undefined && response.refresh_token !== keep("refresh_token")
  if (typeof announced === "number" && Number.isFinite(announced) && announced > 0) {
    set.refresh_token_expires_at = nowSeconds + Math.floor(announced)
  } else if (isNew && lifetime !== undefined) {
    set.refresh_token_expires_at = nowSeconds + lifetime
  } else if (!isNew && typeof previous?.refresh_token_expires_at === "number") {
    set.refresh_token_expires_at = previous.refresh_token_expires_at
  }
  return set as TokenSet.TokenSet
}
