import { randomFillSync } from "node:crypto"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))
// Random bytes are drawn in blocks: one system call per 512 ids instead of one per id.
const pool = new Uint8Array(16 * 512)
let offset = pool.length

// Monotonic within the process (RFC 9562 §6.2, method 1): ids made in the same millisecond, or
// while the clock stands still as under TestClock, carry an increasing 12-bit counter.
let lastMillis = -1
let counter = 0

/** @internal RFC 9562 UUIDv7 for a timestamp: 48-bit Unix milliseconds, a 12-bit counter, 62 random bits. */
export const uuidv7At = (millis: number): string => {
  if (offset === pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  const b = pool.subarray(offset, offset + 16)
  offset += 16
  if (millis > lastMillis) {
    lastMillis = millis
    counter = b[7]! & 0x7f
  } else if (++counter > 0xfff) {
    lastMillis++
    counter = 0
  }
  b[6] = counter >> 8
  b[7] = counter & 0xff
  let ms = lastMillis
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256
    ms = Math.floor(ms / 256)
  }
  b[6] = b[6]! | 0x70
  b[8] = (b[8]! & 0x3f) | 0x80
  let s = ""
  for (let i = 0; i < 16; i++) {
    s += hex[b[i]!]
    if (i === 3 || i === 5 || i === 7 || i === 9) s += "-"
  }
  return s
}

/** @internal A UUIDv7 with its timestamp from `Clock`. */
export const uuidv7: Effect.Effect<string> = Effect.map(Clock.currentTimeMillis, uuidv7At)
