/**
 * oidc-provider on 127.0.0.1 as the mail provider's token source: a machine client (`client`) gets
 * access tokens with the client-credentials grant; the mail server asks the introspection endpoint
 * whether a token is active, and a token revoked at the revocation endpoint is not.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void
}
type ProviderConstructor = new (issuer: string, configuration: Readonly<Record<string, unknown>>) => Provider
// oidc-provider ships no types: loaded through a specifier TypeScript does not resolve.
const moduleName = "oidc-provider"

/** The machine client registered at the provider. */
export const client = { id: "mail-robot", secret: "mail-robot-secret-0123456789abcdef" }
const basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString("base64")}`

/** The provider's token operations, as the mailbox's owner and the mail server use them. */
export interface TokenProviderShape {
  readonly issuer: string
  /** Whether the provider still honours an access token (introspection). */
  readonly isActive: (token: string) => Promise<boolean>
  /** Revokes an access token. */
  readonly revoke: (token: string) => Promise<void>
}

export class TokenProvider extends Context.Tag("test/TokenProvider")<TokenProvider, TokenProviderShape>() {}

const form = async (url: string, body: Record<string, string>): Promise<Record<string, unknown>> => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic },
    body: new URLSearchParams(body)
  })
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${await response.text()}`)
  const text = await response.text()
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>)
}

/** The provider, listening for the layer's lifetime. */
export const layer: Layer.Layer<TokenProvider> = Layer.scoped(
  TokenProvider,
  Effect.acquireRelease(
    Effect.promise(async () => {
      const server: Server = createServer()
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const OidcProvider = ((await import(moduleName)) as { readonly default: ProviderConstructor }).default
      const provider = new OidcProvider(issuer, {
        clients: [
          {
            client_id: client.id,
            client_secret: client.secret,
            grant_types: ["client_credentials"],
            response_types: [],
            redirect_uris: []
          }
        ],
        features: {
          clientCredentials: { enabled: true },
          introspection: { enabled: true },
          revocation: { enabled: true },
          devInteractions: { enabled: false }
        },
        scopes: ["mail"]
      })
      server.on("request", provider.callback())
      const shape: TokenProviderShape = {
        issuer,
        isActive: async (token) => (await form(`${issuer}/token/introspection`, { token })).active === true,
        revoke: async (token) => {
          await form(`${issuer}/token/revocation`, { token, token_type_hint: "access_token" })
        }
      }
      return { server, shape }
    }),
    ({ server }) =>
      Effect.promise(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections()
            server.close(() => resolve())
          })
      )
  ).pipe(Effect.map(({ shape }) => shape))
)
