/**
 * oidc-provider on 127.0.0.1 with its own login and consent pages (devInteractions), which the
 * browser fills like a person: any login and password signs in, Continue grants the scopes.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void
  on(event: string, listener: (ctx: unknown, error: Error) => void): void
}
type ProviderConstructor = new (issuer: string, configuration: Readonly<Record<string, unknown>>) => Provider

// oidc-provider ships no types: the module is loaded by name, typed by the parts used above.
const moduleName = "oidc-provider"
const loadProvider = async (): Promise<ProviderConstructor> =>
  ((await import(moduleName)) as { readonly default: ProviderConstructor }).default

export const client = { id: "connect-ui-app", secret: "connect-ui-secret-0123456789abcdef" }

export interface TestProvider {
  readonly issuer: string
  readonly close: () => Promise<void>
}

/** Starts the provider with one client whose redirect URI is `redirectUri`. */
export const start = async (redirectUri: string): Promise<TestProvider> => {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const OidcProvider = await loadProvider()
  const provider = new OidcProvider(issuer, {
    clients: [
      {
        client_id: client.id,
        client_secret: client.secret,
        grant_types: ["authorization_code"],
        response_types: ["code"],
        redirect_uris: [redirectUri]
      }
    ],
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    scopes: ["openid"],
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) })
  })
  provider.on("server_error", (_ctx, error) => console.error("oidc-provider:", error))
  server.on("request", provider.callback())
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
