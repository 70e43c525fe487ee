/**
 * @patchbay/store-pglite: the embedded default store, PGlite in process.
 *
 * @since 0.1.0
 */
export * as PgliteClient from "./PgliteClient.js"
export * as PgliteStore from "./PgliteStore.js"
export * as PrebuiltDataDir from "./PrebuiltDataDir.js"
