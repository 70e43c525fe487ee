/**
 * A typed client of the Patchbay HTTP API, built with `HttpApiClient` from `PatchbayApi`: every
 * endpoint as a method (`client.connectorInstances.create({ payload })`), every error decoded into
 * its `ApiError` class.
 *
 * @since 0.1.0
 */
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { PatchbayApi } from "./PatchbayApi.js"

/**
 * The client's type.
 *
 * @since 0.1.0
 */
export type PatchbayClient = Effect.Effect.Success<ReturnType<typeof make>>

/**
 * Options of `make`: a bearer token sent with every request (for `Authentication.layerBearerTokens`
 * or any host authentication that reads `Authorization: Bearer`).
 *
 * @since 0.1.0
 */
export interface Options {
  readonly token?: Redacted.Redacted<string> | undefined
}

/**
 * A client of the API at `baseUrl` (the server's origin: `http://127.0.0.1:8080`).
 *
 * @since 0.1.0
 */
export const make = (baseUrl: string | URL, options: Options = {}) =>
  HttpApiClient.make(PatchbayApi, {
    baseUrl,
    transformClient: (client) => {
      const token = options.token
      return token === undefined
        ? client
        : HttpClient.mapRequest(client, HttpClientRequest.bearerToken(Redacted.value(token)))
    }
  })
