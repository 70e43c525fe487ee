import { randomFillSync } from "node:crypto"

/**
 * @internal A pool of cryptographically secure random bytes, refilled from the OS CSPRNG in one
 * call per 8 KiB (the same technique node uses for `randomUUID`). Each byte is handed out once and
 * zeroed in the pool as it is taken, so key material does not linger there.
 */
const size = 8192
const pool = Buffer.allocUnsafeSlow(size)
let offset = size

/** @internal `n` (≤ 8192) fresh random bytes in a buffer of their own. */
export const randomBytes = (n: number): Buffer => {
  if (offset + n > size) {
    randomFillSync(pool)
    offset = 0
  }
  const out = Buffer.allocUnsafe(n)
  pool.copy(out, 0, offset, offset + n)
  pool.fill(0, offset, offset + n)
  offset += n
  return out
}
