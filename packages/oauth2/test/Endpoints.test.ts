/**
 * The host's client secret belongs to its endpoints: a tenant who names endpoints in its
 * configuration gets a typed refusal and its listener receives nothing; with a client of its own the
 * tenant's secret (never the host's) goes there, egress-checked and pinned; the text the server
 * sends back is scrubbed of the secret.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, assert, beforeAll, beforeEach, describe, it } from "@effect/vitest"
import { ConnectorInstances, DomainError, EgressPolicy } from "@patchbay/core"
import { CredentialResolver, CredentialVault } from "@patchbay/credentials"
import { Cause, Effect, Exit, FastCheck as fc, Layer, Option, Redacted } from "effect"
import { OAuth2, OAuth2Clients } from "../src/index.js"
import { actor, memoryBase, orgId } from "./support/stack.js"

const hostSecret = "host-secret-5e1f0c7a9b2d4e6f"
const tenantSecret = "tenant-secret-8c3a1d9e7f5b2046"

interface Listener {
  readonly url: string
  connections: number
  readonly requests: Array<{ readonly url: string; readonly headers: IncomingHttpHeaders; readonly body: string }>
  readonly close: () => Promise<void>
}

/** A node:http listener that counts connections, records requests and answers every one with an OAuth error echoing them. */
const listen = async (): Promise<Listener> => {
  const server: Server = createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString()
      listener.requests.push({ url: request.url ?? "", headers: request.headers, body })
      response.writeHead(400, { "content-type": "application/json" })
      response.end(
        JSON.stringify({
          error: "invalid_client",
          error_description: `rejected ${request.headers.authorization ?? ""} with ${body} (${decodeURIComponent(body)})`
        })
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const listener: Listener = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
  server.on("connection", () => {
    listener.connections++
  })
  return listener
}

let host: Listener
let tenant: Listener
beforeAll(async () => {
  host = await listen()
  tenant = await listen()
})
afterAll(async () => {
  await host.close()
  await tenant.close()
})
beforeEach(() => {
  for (const l of [host, tenant]) {
    l.connections = 0
    l.requests.length = 0
  }
})

const stack = (egress: Layer.Layer<EgressPolicy.EgressPolicy> = EgressPolicy.layer({ allowLoopback: true })) =>
  Layer.merge(
    OAuth2.layerWithResolver({ allowInsecureRequests: true }).pipe(
      Layer.provideMerge(memoryBase()),
      Layer.provide(
        Layer.merge(
          Layer.suspend(() =>
            OAuth2Clients.layer({
              connectors: {
                "oauth-api": {
                  tokenEndpoint: `${host.url}/token`,
                  authorizationEndpoint: `${host.url}/authorize`,
                  clientId: "host-client",
                  clientSecret: hostSecret
                }
              }
            })
          ),
          egress
        )
      )
    ),
    actor
  )

const instance = (
  authType: "oauth2_authorization_code" | "oauth2_client_credentials",
  oauth2: Record<string, unknown>,
  name = `${authType} ${JSON.stringify(oauth2)}`
) =>
  Effect.gen(function* () {
    const instances = yield* ConnectorInstances.ConnectorInstances
    const view = yield* instances.create({
      connector: "oauth-api",
      instanceName: name,
      authType,
      configuration: { oauth2 }
    })
    return yield* instances.getInstance(view.id)
  })

/** Every way a tenant may name where requests go. */
const tenantEndpoints = (): ReadonlyArray<Record<string, unknown>> => [
  { token_endpoint: `${tenant.url}/token` },
  { authorization_endpoint: `${tenant.url}/authorize` },
  { issuer: tenant.url },
  { issuer: tenant.url, discovery: "oauth2" },
  { token_endpoint: `${tenant.url}/token`, authorization_endpoint: `${tenant.url}/authorize` },
  { token_endpoint: `${tenant.url}/token`, token_endpoint_auth_method: "client_secret_post" }
]

/** Whether a request carried `secret`: in clear, form-encoded in the body, or inside a Basic header. */
const sawSecret = (l: Listener, secret: string) =>
  l.requests.some((r) => {
    const basic = Buffer.from((r.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString()
    return (
      JSON.stringify(r).includes(secret) ||
      decodeURIComponent(r.body).includes(secret) ||
      decodeURIComponent(basic).includes(secret)
    )
  })

/** The header and body spellings that carried `secret` to the listener (which echoed them back). */
const echoed = (l: Listener, secret: string) =>
  l.requests
    .flatMap((r) => [(r.headers.authorization ?? "").replace(/^Basic /, ""), r.body])
    .filter((x) =>
      [x, Buffer.from(x, "base64").toString()].some((y) => {
        try {
          return decodeURIComponent(y).includes(secret)
        } catch {
          return false
        }
      })
    )

describe("tenant endpoints with the host's client", () => {
  it.effect("are refused with InvalidConfiguration before any request; the listener receives no connection", () =>
    Effect.gen(function* () {
      const oauth2 = yield* OAuth2.OAuth2
      let tries = 0
      for (const [i, endpoints] of tenantEndpoints().entries()) {
        const cc = yield* instance("oauth2_client_credentials", endpoints, `cc ${i}`)
        const connect = yield* Effect.flip(oauth2.connectClientCredentials({ instanceId: cc.id }))
        assert.instanceOf(connect, DomainError.InvalidConfiguration)
        assert.notInclude(connect.message, tenant.url)
        const code = yield* instance("oauth2_authorization_code", endpoints, `code ${i}`)
        const start = yield* Effect.flip(
          oauth2.startAuthorization({ instanceId: code.id, redirectUri: "http://127.0.0.1:9/cb" })
        )
        assert.instanceOf(start, DomainError.InvalidConfiguration)
        tries += 2
      }
      assert.strictEqual(tries, 12)
      assert.strictEqual(tenant.connections, 0)
      assert.strictEqual(host.connections, 0)
    }).pipe(Effect.provide(stack()))
  )

  it.effect("a tenant client_id other than the registration's never carries the host's secret", () =>
    Effect.gen(function* () {
      const oauth2 = yield* OAuth2.OAuth2
      const cc = yield* instance("oauth2_client_credentials", { client_id: "tenant-client" })
      const error = yield* Effect.flip(oauth2.connectClientCredentials({ instanceId: cc.id }))
      assert.instanceOf(error, DomainError.InvalidConfiguration)
      assert.strictEqual(host.connections, 0)
      // Naming the client at connect time, without its secret, does not borrow the host's either.
      const plain = yield* instance("oauth2_client_credentials", {}, "plain")
      const borrowed = yield* Effect.flip(
        oauth2.connectClientCredentials({ instanceId: plain.id, clientId: "tenant-client" })
      )
      assert.instanceOf(borrowed, DomainError.InvalidConfiguration)
      assert.strictEqual(host.connections, 0)
    }).pipe(Effect.provide(stack()))
  )

  it.effect("the host's own endpoints receive the host's secret (control)", () =>
    Effect.gen(function* () {
      const oauth2 = yield* OAuth2.OAuth2
      const cc = yield* instance("oauth2_client_credentials", {})
      const error = yield* Effect.flip(oauth2.connectClientCredentials({ instanceId: cc.id }))
      assert.strictEqual(error._tag, "AuthFailed")
      assert.strictEqual(host.requests.length, 1)
      assert.isTrue(sawSecret(host, hostSecret))
      // The listener echoed the Authorization header and body: the error holds neither secret nor its encodings.
      const text = JSON.stringify(error) + error.message
      assert.notInclude(text, hostSecret)
      for (const spelling of echoed(host, hostSecret)) assert.notInclude(text, spelling)
      assert.isAbove(echoed(host, hostSecret).length, 0)
      assert.include(text, "[redacted]")
    }).pipe(Effect.provide(stack()))
  )
})

describe("tenant endpoints with the tenant's own client", () => {
  it.effect("the tenant's secret goes to the tenant's endpoint, the host's never; the echo is scrubbed", () =>
    Effect.gen(function* () {
      const oauth2 = yield* OAuth2.OAuth2
      const cc = yield* instance("oauth2_client_credentials", {
        token_endpoint: `${tenant.url}/token`,
        client_id: "tenant-client"
      })
      const error = yield* Effect.flip(
        oauth2.connectClientCredentials({
          instanceId: cc.id,
          clientId: "tenant-client",
          clientSecret: Redacted.make(tenantSecret)
        })
      )
      assert.strictEqual(error._tag, "AuthFailed")
      assert.strictEqual(tenant.requests.length, 1)
      assert.isTrue(sawSecret(tenant, tenantSecret))
      assert.isFalse(sawSecret(tenant, hostSecret))
      assert.strictEqual(host.connections, 0)
      const text = JSON.stringify(error) + error.message
      assert.notInclude(text, tenantSecret)
      assert.notInclude(text, encodeURIComponent(tenantSecret))
      for (const spelling of echoed(tenant, tenantSecret)) assert.notInclude(text, spelling)
    }).pipe(Effect.provide(stack()))
  )

  it.effect("without its secret the tenant's client is refused before any request", () =>
    Effect.gen(function* () {
      const oauth2 = yield* OAuth2.OAuth2
      const cc = yield* instance("oauth2_client_credentials", {
        token_endpoint: `${tenant.url}/token`,
        client_id: "tenant-client"
      })
      const error = yield* Effect.flip(oauth2.connectClientCredentials({ instanceId: cc.id }))
      assert.instanceOf(error, DomainError.InvalidConfiguration)
      assert.strictEqual(tenant.connections, 0)
    }).pipe(Effect.provide(stack()))
  )

  it.effect("the tenant's endpoints are still egress-checked: denied loopback, no connection", () =>
    Effect.gen(function* () {
      const oauth2 = yield* OAuth2.OAuth2
      const cc = yield* instance("oauth2_client_credentials", {
        token_endpoint: `${tenant.url}/token`,
        client_id: "tenant-client"
      })
      const error = yield* Effect.flip(
        oauth2.connectClientCredentials({ instanceId: cc.id, clientId: "tenant-client", clientSecret: tenantSecret })
      )
      assert.strictEqual(error._tag, "EgressDenied")
      assert.strictEqual(tenant.connections, 0)
    }).pipe(Effect.provide(stack(EgressPolicy.layer())))
  )
})

describe("pinned requests", () => {
  it.effect("a token request connects to the address the policy approved, resolving the name once", () => {
    let resolutions = 0
    // A name no DNS knows: only the policy's own resolution can give it an address.
    const egress = EgressPolicy.layer({
      allowLoopback: true,
      resolve: () =>
        Effect.sync(() => {
          resolutions++
          return ["127.0.0.1"]
        })
    })
    return Effect.gen(function* () {
      const oauth2 = yield* OAuth2.OAuth2
      const port = new URL(tenant.url).port
      const cc = yield* instance("oauth2_client_credentials", {
        token_endpoint: `http://as.patchbay.invalid:${port}/token`,
        client_id: "tenant-client"
      })
      const error = yield* Effect.flip(
        oauth2.connectClientCredentials({ instanceId: cc.id, clientId: "tenant-client", clientSecret: tenantSecret })
      )
      assert.strictEqual(error._tag, "AuthFailed")
      assert.strictEqual(resolutions, 1)
      assert.strictEqual(tenant.requests.length, 1)
      assert.strictEqual(tenant.requests[0]!.headers.host, `as.patchbay.invalid:${port}`)
    }).pipe(Effect.provide(stack(egress)))
  })
})

describe("bad input", () => {
  it.effect("NUL bytes, lone surrogates, long and many values are InvalidInput, before any request", () =>
    Effect.gen(function* () {
      const oauth2 = yield* OAuth2.OAuth2
      const cc = yield* instance("oauth2_client_credentials", {}, "bounded")
      const poison = fc.oneof(
        fc.string().map((s) => `${s}\u0000${s}`),
        fc.string().map((s) => `${s}\ud800${s}`),
        fc.string().map((s) => `\udc00${s}`),
        fc.constant("x".repeat(10_000))
      )
      const inputs = fc.sample(
        fc.oneof(
          poison.map((p) => ({ instanceId: p })),
          poison.map((p) => ({ instanceId: cc.id, clientId: p, clientSecret: tenantSecret })),
          poison.map((p) => ({ instanceId: cc.id, clientId: "tenant-client", clientSecret: p })),
          poison.map((p) => ({ instanceId: cc.id, scopes: ["read", p] })),
          fc.constant({ instanceId: cc.id, scopes: Array.from({ length: 65 }, (_, i) => `s${i}`) })
        ),
        { numRuns: 300, seed: 13 }
      )
      let failures = 0
      for (const input of inputs) {
        const exit = yield* Effect.exit(oauth2.connectClientCredentials(input))
        if (
          !(
            Exit.isFailure(exit) &&
            Cause.failureOption(exit.cause).pipe(Option.exists((e) => e._tag === "InvalidInput"))
          )
        ) {
          failures++
        }
      }
      assert.strictEqual(inputs.length, 300)
      assert.strictEqual(failures, 0)
      assert.strictEqual(host.connections, 0)
    }).pipe(Effect.provide(stack()))
  )
})

describe("refreshing a stored token set", () => {
  /** Stores `tokens` (an expired access token) for a new instance and resolves it, which refreshes. */
  const refreshWith = (name: string, tokens: Record<string, unknown>) =>
    Effect.gen(function* () {
      const code = yield* instance("oauth2_authorization_code", {}, name)
      const vault = yield* CredentialVault.CredentialVault
      yield* vault.create({
        instanceId: code.id,
        scope: { type: "organization", id: orgId },
        credentials: { access_token: "expired-access", expires_at: Math.floor(Date.now() / 1000) - 60, ...tokens }
      })
      return yield* Effect.flip(Effect.flatMap(CredentialResolver.CredentialResolver, (r) => r.resolve(code)))
    })

  it.live("a token set of another client without its secret never borrows the host's secret", () =>
    Effect.gen(function* () {
      let tries = 0
      let failures = 0
      for (const [i, clientId] of ["tenant-client", "host-client ", "HOST-CLIENT", "other"].entries()) {
        host.requests.length = 0
        yield* refreshWith(`foreign ${i}`, { refresh_token: "refresh-1", client_id: clientId })
        tries++
        if (sawSecret(host, hostSecret)) failures++
      }
      assert.strictEqual(failures, 0)
      assert.strictEqual(tries, 4)
      assert.strictEqual(host.connections, 0)
    }).pipe(Effect.provide(stack()))
  )

  it.live("its own secret goes with its own client id; the registration's client gets the host's (control)", () =>
    Effect.gen(function* () {
      yield* refreshWith("own secret", {
        refresh_token: "refresh-2",
        client_id: "tenant-client",
        client_secret: tenantSecret
      })
      assert.isTrue(sawSecret(host, tenantSecret))
      assert.isFalse(sawSecret(host, hostSecret))
      host.requests.length = 0
      yield* refreshWith("host client", { refresh_token: "refresh-3", client_id: "host-client" })
      assert.isTrue(sawSecret(host, hostSecret))
    }).pipe(Effect.provide(stack()))
  )
})
