/**
 * A provider whose token cannot be stored (a NUL in the access token) gets a typed, non-retryable
 * answer from the first-token fetch, not a defect.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { ConnectorInstances, EgressPolicy } from "@patchbay/core"
import { CredentialResolver } from "@patchbay/credentials"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { OAuth2, OAuth2Clients } from "../src/index.js"
import { actor, memoryBase } from "./support/stack.js"

let server: Server
let url: string
let tokenRequests = 0

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume()
    request.on("end", () => {
      tokenRequests++
      response.writeHead(200, { "content-type": "application/json" })
      response.end(JSON.stringify({ access_token: "abc\u0000def", token_type: "Bearer", expires_in: 3600 }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
)

const stack = Layer.suspend(() =>
  Layer.merge(
    OAuth2.layerWithResolver({ allowInsecureRequests: true }).pipe(
      Layer.provideMerge(memoryBase()),
      Layer.provide(
        Layer.merge(
          OAuth2Clients.layer({
            connectors: {
              "oauth-api": {
                tokenEndpoint: `${url}/token`,
                clientId: "host-client",
                clientSecret: "host-secret-1f2e3d4c"
              }
            }
          }),
          EgressPolicy.layer({ allowLoopback: true })
        )
      )
    ),
    actor
  )
)

describe("first token", () => {
  it.effect("a token with a NUL character is RequestRejected (not retryable), never a defect", () =>
    Effect.gen(function* () {
      const instances = yield* ConnectorInstances.ConnectorInstances
      const view = yield* instances.create({
        connector: "oauth-api",
        instanceName: "nul token",
        authType: "oauth2_client_credentials",
        configuration: { oauth2: {} }
      })
      const instance = yield* instances.getInstance(view.id)
      const resolver = yield* CredentialResolver.CredentialResolver
      const exit = yield* Effect.exit(resolver.resolve(instance))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        assert.isFalse(Cause.isDie(exit.cause))
        const error = Cause.failureOption(exit.cause)
        assert.isTrue(Option.isSome(error))
        if (Option.isSome(error)) {
          assert.strictEqual(error.value._tag, "RequestRejected")
          assert.isFalse((error.value as { readonly retryable?: boolean }).retryable ?? true)
        }
      }
      assert.strictEqual(tokenRequests, 1)
    }).pipe(Effect.provide(stack))
  )
})
