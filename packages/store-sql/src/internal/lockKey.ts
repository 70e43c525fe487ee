import { createHash } from "node:crypto"

/**
 * The 64-bit advisory lock key of a refresh lock name, as a decimal string for a `bigint`
 * parameter. Namespaced so that a host's own advisory locks do not collide with Patchbay's.
 */
export const lockKey = (name: string): string =>
  createHash("sha256").update("patchbay/refresh-lock\u0000").update(name).digest().readBigInt64BE(0).toString()
