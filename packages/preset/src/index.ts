/**
 * @patchbay/preset: Patchbay in one layer, from a store, connectors and keys.
 *
 * @since 0.1.0
 */
export * as Patchbay from "./Patchbay.js"
