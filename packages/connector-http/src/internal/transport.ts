/**
 * A node:http client whose connections go only to one address, the one the egress policy
 * checked: the agent's `lookup` answers with it instead of asking DNS again, so a name cannot
 * re-resolve (DNS rebinding) between the check and the connection. The URL keeps the host name,
 * so the Host header, TLS SNI and certificate verification use the name.
 */

import { isIP, type LookupFunction } from "node:net"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

const pinnedLookup =
  (address: string): LookupFunction =>
  (_hostname, options, callback) => {
    const family = isIP(address) === 6 ? 6 : 4
    if (options.all) callback(null, [{ address, family }])
    else callback(null, address, family)
  }

/**
 * A client pinned to `address`, without keep-alive; its sockets are destroyed when the scope
 * closes. The platform's own client span is disabled: it would record the full URL, query
 * string included, and propagate trace headers to a third party.
 */
export const pinnedClient = (address: string): Effect.Effect<HttpClient.HttpClient, never, Scope.Scope> =>
  Effect.gen(function* () {
    const agent = yield* NodeHttpClient.makeAgent({ lookup: pinnedLookup(address), keepAlive: false })
    const client = yield* Effect.provideService(NodeHttpClient.make, NodeHttpClient.HttpAgent, agent)
    return client.pipe(
      HttpClient.withTracerDisabledWhen(() => true),
      HttpClient.withTracerPropagation(false)
    )
  })
