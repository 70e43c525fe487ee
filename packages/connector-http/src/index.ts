/**
 * @patchbay/connector-http: HTTP API connectors (api key, basic, bearer, OAuth2 bearer) with
 * connection test, health check, Fetch File and Send SMS.
 *
 * @since 0.1.0
 */

export * as Catalog from "./Catalog.js"
export * as HttpApiDescriptor from "./HttpApiDescriptor.js"
export * as HttpConnector from "./HttpConnector.js"
