/**
 * @patchbay/workflow: Patchbay's activities as @effect/workflow Activities.
 *
 * @since 0.1.0
 */
export * as PatchbayActivity from "./PatchbayActivity.js"
