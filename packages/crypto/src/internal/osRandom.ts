import { randomFillSync } from "node:crypto"
import { openSync, readSync } from "node:fs"

/**
 * @internal The kernel's generator, read afresh on every call. Nothing is pooled in this process:
 * a VM or process snapshot that is resumed twice does not hand out the same key or nonce twice
 * (Linux reseeds `/dev/urandom` on a VM generation change; libuv opens it close-on-exec). Where `/dev/urandom` does not exist
 * (Windows), node's `randomFillSync` is the fallback.
 */
let urandom: number | null | undefined

const device = (): number | null => {
  if (urandom === undefined) {
    try {
      urandom = openSync("/dev/urandom", "r")
    } catch {
      urandom = null
    }
  }
  return urandom
}

/** @internal `n` fresh random bytes from the operating system, in a buffer of their own. */
export const randomBytes = (n: number): Buffer => {
  const out = Buffer.alloc(n)
  const fd = device()
  if (fd === null) return randomFillSync(out)
  let filled = 0
  while (filled < n) {
    const read = readSync(fd, out, filled, n - filled, null)
    if (read <= 0) throw new Error("/dev/urandom returned no bytes")
    filled += read
  }
  return out
}
