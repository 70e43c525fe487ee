/**
 * @patchbay/api: the HTTP API of Patchbay.
 *
 * @since 0.1.0
 */
export * as Authentication from "./Authentication.js"
export * as Permissions from "./Permissions.js"
