import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as EgressPolicy from "../src/EgressPolicy.js"

const check = (options: EgressPolicy.EgressOptions, host: string) => EgressPolicy.make(options).check(host)

describe("EgressPolicy", () => {
  it.effect("denies link-local and cloud metadata addresses by default", () =>
    Effect.gen(function* () {
      for (const host of [
        "169.254.169.254",
        "169.254.1.1",
        "[fe80::1]",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",
        "0.0.0.0"
      ]) {
        const error = yield* Effect.flip(check({ allowLoopback: true }, host))
        assert.strictEqual(error._tag, "EgressDenied", host)
      }
    })
  )

  it.effect("denies loopback unless configured", () =>
    Effect.gen(function* () {
      const denied = yield* Effect.flip(check({}, "127.0.0.1"))
      assert.strictEqual(denied._tag, "EgressDenied")
      assert.include(denied.message, "loopback")
      assert.strictEqual((yield* Effect.flip(check({}, "::1")))._tag, "EgressDenied")
      assert.strictEqual(yield* check({ allowLoopback: true }, "127.0.0.1"), "127.0.0.1")
    })
  )

  it.effect("checks the resolved address of a name", () =>
    Effect.gen(function* () {
      const denied = yield* Effect.flip(check({}, "localhost"))
      assert.strictEqual(denied._tag, "EgressDenied")
      const allowed = yield* check({ allowLoopback: true }, "localhost")
      assert.match(allowed, /^(127\.|::1)/)
    })
  )

  it.effect("honours allow and deny lists", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* check({}, "10.1.2.3"), "10.1.2.3")
      const denied = yield* Effect.flip(check({ deny: ["10.0.0.0/8"] }, "10.1.2.3"))
      assert.strictEqual(denied._tag, "EgressDenied")
      assert.strictEqual(yield* check({ allow: ["169.254.10.0/24"] }, "169.254.10.7"), "169.254.10.7")
    })
  )

  it.effect("an unknown host is unreachable, not denied", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(check({}, "no-such-host.invalid"))
      assert.strictEqual(error._tag, "Unreachable")
    })
  )

  it("rejects an invalid CIDR at construction", () => {
    assert.throws(() => EgressPolicy.make({ deny: ["10.0.0.0/99"] }))
  })
})
