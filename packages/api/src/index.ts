/**
 * @patchbay/api: the HTTP API of Patchbay.
 *
 * @since 0.1.0
 */
export * as ApiError from "./ApiError.js"
export * as ApiModels from "./ApiModels.js"
export * as ApiRoutes from "./ApiRoutes.js"
export * as Authentication from "./Authentication.js"
export * as PatchbayApi from "./PatchbayApi.js"
export * as PatchbayClient from "./PatchbayClient.js"
export * as Permissions from "./Permissions.js"
