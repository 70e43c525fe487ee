import { createHash } from "node:crypto"

/** SHA-256 of a state parameter, hex: what pending authorizations are stored under. */
export const stateHash = (state: string): string => createHash("sha256").update(state, "utf8").digest("hex")
