import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { EgressPolicy } from "@patchbay/core"
import { SshServer } from "@patchbay/testing"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as SshTunnels from "../src/SshTunnels.js"
import * as TunnelConfiguration from "../src/TunnelConfiguration.js"

const missing = !SshServer.available()
if (missing && process.env.CI === undefined) {
  console.warn("\n*** SKIPPING the SSH tunnel version tests: /usr/sbin/sshd is missing or we are not root ***\n")
}

let ssh: SshServer.SshServer

beforeAll(async () => {
  if (missing && process.env.CI === undefined) return
  ssh = await SshServer.start()
})

afterAll(async () => {
  if (missing && process.env.CI === undefined) return
  await ssh.dispose()
})

const egress = EgressPolicy.make({ allowLoopback: true })

const configuration = () =>
  Schema.decodeUnknownSync(TunnelConfiguration.TunnelConfiguration)({
    host: "127.0.0.1",
    port: ssh.port,
    username: ssh.username,
    host_key_fingerprint: ssh.hostKeyFingerprint
  })

const login = () => Schema.decodeUnknownSync(TunnelConfiguration.TunnelCredentials)({ private_key: ssh.privateKey })

/** Waits until sshd's log shows `count` logins ended (a latch on the peer's log). */
const disconnections = (count: number) =>
  Effect.suspend(() => (ssh.disconnected() >= count ? Effect.void : Effect.fail("not yet"))).pipe(
    Effect.retry(Schedule.spaced("20 millis"))
  )

describe.skipIf(missing && process.env.CI === undefined)("SSH tunnels per credential version", () => {
  it.live("the same version reuses the tunnel; a new version with the same login gets a new one", () =>
    Effect.gen(function* () {
      const tunnels = SshTunnels.unsafeMake(egress)
      const accepted = ssh.accepted()
      const ended = ssh.disconnected()
      const first = yield* tunnels.acquire("instance org", configuration(), login(), "version-1")
      const again = yield* tunnels.acquire("instance org", configuration(), login(), "version-1")
      assert.strictEqual(again, first)
      assert.strictEqual(ssh.accepted(), accepted + 1)

      const second = yield* tunnels.acquire("instance org", configuration(), login(), "version-2")
      assert.notStrictEqual(second, first)
      assert.strictEqual(ssh.accepted(), accepted + 2)
      assert.strictEqual(yield* tunnels.size, 1)
      // The replaced tunnel had no stream open: its SSH login ends.
      yield* disconnections(ended + 1)
      assert.strictEqual((yield* Effect.flip(first.forward("127.0.0.1", ssh.port)))._tag, "Unreachable")
      assert.strictEqual(yield* tunnels.acquire("instance org", configuration(), login(), "version-2"), second)

      // Another key (another credential scope of the instance) has a tunnel of its own.
      const other = yield* tunnels.acquire("instance user", configuration(), login(), "version-9")
      assert.notStrictEqual(other, second)
      assert.strictEqual(yield* tunnels.size, 2)

      // A released key's tunnel closes, and the key gets a new one next time.
      yield* tunnels.release("instance user")
      assert.strictEqual(yield* tunnels.size, 1)
      yield* disconnections(ended + 2)
      const fresh = yield* tunnels.acquire("instance user", configuration(), login(), "version-9")
      assert.notStrictEqual(fresh, other)
      yield* tunnels.closeAll
    })
  )
})
