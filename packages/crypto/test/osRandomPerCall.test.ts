/**
 * Every data key and nonce is read from the kernel's generator at the moment it is needed: no
 * user-space pool (node's `randomBytes` pools small requests; OpenSSL's DRBG lives in the process)
 * that a resumed VM or process snapshot would hand out twice.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { vi } from "vitest"
import { aad, credentialId, envelopeOf, freshKey, utf8 } from "./fixtures.js"

/** Each `readSync` of the process: how many bytes were asked for and what came back. */
const reads = vi.hoisted(() => ({ log: [] as Array<{ readonly length: number; readonly bytes: string }> }))
/** Calls of node's user-space generators. */
const pooled = vi.hoisted(() => ({ calls: 0 }))

vi.mock("node:fs", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs")>()
  const readSync = ((fd: number, buffer: Uint8Array, offset: number, length: number, position: null) => {
    const read = actual.readSync(fd, buffer, offset, length, position)
    reads.log.push({ length, bytes: Buffer.from(buffer.subarray(offset, offset + read)).toString("hex") })
    return read
  }) as typeof actual.readSync
  return { ...actual, default: { ...actual, readSync }, readSync }
})

vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>()
  const counted =
    <F extends (...args: Array<never>) => unknown>(f: F) =>
    (...args: Parameters<F>) => {
      pooled.calls++
      return f(...args)
    }
  const overrides = {
    randomBytes: counted(actual.randomBytes as (...args: Array<never>) => unknown),
    randomFillSync: counted(actual.randomFillSync as (...args: Array<never>) => unknown),
    randomFill: counted(actual.randomFill as (...args: Array<never>) => unknown)
  }
  return { ...actual, ...overrides, default: { ...actual, ...overrides } }
})

describe("the OS generator, per call", () => {
  it.effect("each seal reads its data key and both nonces from the kernel, nothing pooled in the process", () =>
    Effect.gen(function* () {
      const envelope = envelopeOf({ k1: freshKey() }, "k1")
      const dataKeys = new Set<string>()
      const seals = 200
      pooled.calls = 0
      for (let i = 0; i < seals; i++) {
        reads.log.length = 0
        yield* envelope.seal(utf8("same plaintext"), aad(credentialId(1)))
        // Exactly the data key (32 bytes) and two 96-bit nonces, each read at its own size.
        assert.deepStrictEqual(
          reads.log.map((read) => read.length),
          [32, 12, 12]
        )
        dataKeys.add(reads.log[0]!.bytes)
      }
      assert.strictEqual(dataKeys.size, seals)
      assert.strictEqual(pooled.calls, 0)
    })
  )
})
