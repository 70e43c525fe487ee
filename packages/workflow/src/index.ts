/**
 * @patchbay/workflow: Patchbay's activities as @effect/workflow Activities, and the durable wait
 * for a reconnect.
 *
 * @since 0.1.0
 */
export * as PatchbayActivity from "./PatchbayActivity.js"
export * as ReconnectWaker from "./ReconnectWaker.js"
