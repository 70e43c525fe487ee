import * as http from "node:http"
import * as net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc } from "effect"
import { Unreachable } from "../src/DriverError.js"
import * as EgressPolicy from "../src/EgressPolicy.js"
import * as Ip from "../src/internal/ip.js"

const check = (options: EgressPolicy.EgressOptions, host: string) => EgressPolicy.make(options).check(host)

/** A resolver that must not be asked: literal addresses are judged as written. */
const noResolver = (host: string) => Effect.dieMessage(`resolver asked for ${host}`)

/** The test's own list of what the defaults deny, kept apart from the implementation's. */
const deniedV4: ReadonlyArray<readonly [string, number]> = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4]
]
const oracle = new net.BlockList()
for (const [network, bits] of deniedV4) oracle.addSubnet(network, bits, "ipv4")

const toNumber = (b: ReadonlyArray<number>) => ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0
const dotted = (b: ReadonlyArray<number>) => b.join(".")
const hex4 = (n: number) => n.toString(16).padStart(4, "0")
const groups = (b: ReadonlyArray<number>) =>
  `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`

/** An IPv4 address (as bytes) inside one of the default-denied ranges. */
const deniedIPv4 = fc
  .tuple(fc.constantFrom(...deniedV4), fc.integer({ min: 0, max: 0xffffffff }))
  .map(([[network, bits], host]) => {
    const base = toNumber(network.split(".").map(Number))
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
    const n = ((base & mask) | (host & ~mask)) >>> 0
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]
  })

/** A number in a radix a resolver accepts: decimal, octal with leading zeros, or hex in either case. */
const radix = (n: number, choice: number) =>
  choice === 0
    ? String(n)
    : choice === 1
      ? `0${n.toString(8)}`
      : choice === 2
        ? `0x${n.toString(16)}`
        : `0X${n.toString(16).toUpperCase().padStart(4, "0")}`

/** The inet_aton spellings of an IPv4 address (what getaddrinfo and the WHATWG URL parser accept). */
const ipv4Spelling = (b: ReadonlyArray<number>) =>
  fc
    .tuple(
      fc.integer({ min: 0, max: 3 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
      fc.boolean()
    )
    .map(([parts, radices, trailingDot]) => {
      const r = (n: number, i: number) => radix(n, radices[i]!)
      const text =
        parts === 0
          ? r(toNumber(b), 0)
          : parts === 1
            ? `${r(b[0]!, 0)}.${r(((b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0, 1)}`
            : parts === 2
              ? `${r(b[0]!, 0)}.${r(b[1]!, 1)}.${r((b[2]! << 8) | b[3]!, 2)}`
              : b.map((x, i) => r(x, i)).join(".")
      return trailingDot ? `${text}.` : text
    })

/** IPv6 spellings that carry an IPv4 address a router or host would reach. */
const ipv6Carrier = (b: ReadonlyArray<number>) =>
  fc
    .tuple(
      fc.integer({ min: 0, max: 8 }),
      fc.boolean(),
      fc.constantFrom("", "%eth0", "%25lo", "%1"),
      fc.boolean(),
      fc.integer({ min: 0, max: 0xffff })
    )
    .map(([shape, upper, zone, bracket, noise]) => {
      const inverted = b.map((x) => x ^ 0xff)
      const texts = [
        `::ffff:${dotted(b)}`,
        `::ffff:${groups(b)}`,
        `0:0:0:0:0:ffff:${groups(b)}`,
        `0000:0000:0000:0000:0000:FFFF:${hex4((b[0]! << 8) | b[1]!)}:${hex4((b[2]! << 8) | b[3]!)}`,
        `::ffff:0:${dotted(b)}`,
        `64:ff9b::${dotted(b)}`,
        `64:ff9b::${groups(b)}`,
        `2002:${groups(b)}:${noise.toString(16)}::1`,
        `2001:0:808:808:${noise.toString(16)}:0:${groups(inverted)}`
      ]
      const text = upper ? texts[shape]!.toUpperCase() : texts[shape]!
      const zoned = `${text}${zone}`
      return bracket ? `[${zoned}]` : zoned
    })

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
      assert.strictEqual(yield* check({ allowLoopback: true }, "[::1]"), "::1")
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

  it.effect("denies the private ranges by default and opens them only by configuration", () =>
    Effect.gen(function* () {
      for (const host of [
        "10.1.2.3",
        "172.20.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "fd12::1",
        "fc00::1",
        "64:ff9b:1::a"
      ]) {
        const error = yield* Effect.flip(check({}, host))
        assert.strictEqual(error._tag, "EgressDenied", host)
        assert.match(error.message, /private|shared|local/, host)
        assert.isString(yield* check({ allowPrivate: true }, host))
      }
      assert.strictEqual(yield* check({ allow: ["10.1.0.0/16"] }, "10.1.2.3"), "10.1.2.3")
      assert.strictEqual((yield* Effect.flip(check({ allow: ["10.1.0.0/16"] }, "10.2.0.1")))._tag, "EgressDenied")
      assert.strictEqual(yield* check({ allow: ["169.254.10.0/24"] }, "169.254.10.7"), "169.254.10.7")
    })
  )

  it.effect("a deny entry wins over allow lists and allowPrivate", () =>
    Effect.gen(function* () {
      const options = { allowPrivate: true, allow: ["10.0.0.0/8"], deny: ["10.9.0.0/16"] }
      assert.strictEqual(yield* check(options, "10.1.2.3"), "10.1.2.3")
      assert.strictEqual((yield* Effect.flip(check(options, "10.9.1.1")))._tag, "EgressDenied")
      assert.strictEqual((yield* Effect.flip(check(options, "::ffff:10.9.1.1")))._tag, "EgressDenied")
      assert.strictEqual((yield* Effect.flip(check({ deny: ["8.8.8.0/24"] }, "8.8.8.8")))._tag, "EgressDenied")
    })
  )

  it.effect("metadata addresses stay denied under allowPrivate and wide allow entries; an exact entry opens one", () =>
    Effect.gen(function* () {
      for (const [host, options] of [
        ["fd00:ec2::254", { allowPrivate: true }],
        ["fd00:ec2::254", { allow: ["fd00::/8"] }],
        ["100.100.100.200", { allowPrivate: true }],
        ["169.254.169.254", { allow: ["169.254.0.0/16"] }]
      ] as const) {
        const error = yield* Effect.flip(check(options, host))
        assert.strictEqual(error._tag, "EgressDenied", host)
        assert.include(error.message, "metadata")
      }
      assert.strictEqual(yield* check({ allow: ["169.254.169.254/32"] }, "169.254.169.254"), "169.254.169.254")
    })
  )

  it.effect("refuses malformed host names without resolving them", () =>
    Effect.gen(function* () {
      const policy = EgressPolicy.make({ resolve: noResolver })
      for (const host of [
        "",
        "127.0.0.1\u0000.example.com",
        "a b",
        "user@host",
        "host/path",
        "host#x",
        "-",
        "..",
        "a..b",
        "x".repeat(300)
      ]) {
        const error = yield* Effect.flip(policy.check(host))
        assert.strictEqual(error._tag, "EgressDenied", JSON.stringify(host))
      }
    })
  )

  it.effect("an unknown host is unreachable, not denied", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(check({}, "no-such-host.invalid"))
      assert.strictEqual(error._tag, "Unreachable")
    })
  )

  it.effect("every address a name resolves to must be allowed", () =>
    Effect.gen(function* () {
      const policy = EgressPolicy.make({ resolve: () => Effect.succeed(["93.184.215.14", "::ffff:a9fe:a9fe"]) })
      const error = yield* Effect.flip(policy.check("mixed.example"))
      assert.strictEqual(error._tag, "EgressDenied")
      assert.include(error.message, "metadata")
      const garbage = EgressPolicy.make({ resolve: () => Effect.succeed(["not-an-address"]) })
      assert.strictEqual((yield* Effect.flip(garbage.check("odd.example")))._tag, "EgressDenied")
    })
  )

  it("rejects an invalid CIDR at construction", () => {
    assert.throws(() => EgressPolicy.make({ deny: ["10.0.0.0/99"] }))
    assert.throws(() => EgressPolicy.make({ allow: ["not-a-cidr"] }))
  })

  describe("every spelling of an address", () => {
    const policy = EgressPolicy.make({ resolve: noResolver })
    const loopbackPolicy = EgressPolicy.make({ resolve: noResolver, allowLoopback: true })

    it.prop(
      "a denied IPv4 address is denied in every inet_aton spelling",
      [deniedIPv4.chain((b) => fc.tuple(fc.constant(b), ipv4Spelling(b)))],
      ([[bytes, spelling]]) => {
        const result = Effect.runSync(Effect.either(policy.check(spelling)))
        assert.isTrue(Either.isLeft(result), `${spelling} (${dotted(bytes)}) was allowed`)
        if (Either.isLeft(result)) assert.strictEqual(result.left._tag, "EgressDenied")
      },
      { fastCheck: { numRuns: 1500 } }
    )

    it.prop(
      "a denied IPv4 address carried in IPv6 is denied (mapped, translated, NAT64, 6to4, Teredo; zones, brackets, case)",
      [deniedIPv4.chain((b) => fc.tuple(fc.constant(b), ipv6Carrier(b)))],
      ([[bytes, spelling]]) => {
        const result = Effect.runSync(Effect.either(policy.check(spelling)))
        assert.isTrue(Either.isLeft(result), `${spelling} (${dotted(bytes)}) was allowed`)
        if (Either.isLeft(result)) assert.strictEqual(result.left._tag, "EgressDenied")
      },
      { fastCheck: { numRuns: 1500 } }
    )

    it.prop(
      "a public IPv4 address is allowed in every spelling and answered in canonical form",
      [
        fc
          .array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 })
          .filter((b) => !oracle.check(dotted(b), "ipv4"))
          .chain((b) => fc.tuple(fc.constant(b), ipv4Spelling(b)))
      ],
      ([[bytes, spelling]]) => {
        assert.strictEqual(Effect.runSync(policy.check(spelling)), dotted(bytes))
      },
      { fastCheck: { numRuns: 1000 } }
    )

    it.prop(
      "an IPv6 address in fc00::/7, fe80::/10 or ff00::/8 is denied in every spelling",
      [
        fc.tuple(
          fc.constantFrom(0xfc00, 0xfd00, 0xfe80, 0xfebf, 0xff02),
          fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 7, maxLength: 7 }),
          fc.integer({ min: 0, max: 3 }),
          fc.boolean(),
          fc.constantFrom("", "%eth0", "%25eth0")
        )
      ],
      ([[first, rest, shape, bracket, zone]]) => {
        const all = [first | (rest[0]! & 0xff), ...rest.slice(1), 0]
        const texts = [
          all.map((g) => g.toString(16)).join(":"),
          all.map(hex4).join(":").toUpperCase(),
          `${all
            .slice(0, 6)
            .map((g) => g.toString(16))
            .join(":")}::`,
          `${all[0]!.toString(16)}::${all[7]!.toString(16)}`
        ]
        const text = `${texts[shape]!}${zone}`
        const spelling = bracket ? `[${text}]` : text
        const error = Effect.runSync(Effect.flip(policy.check(spelling)))
        assert.strictEqual(error._tag, "EgressDenied", spelling)
      },
      { fastCheck: { numRuns: 800 } }
    )

    it.prop(
      "literal spellings parse as the WHATWG URL parser reads them",
      [
        fc.oneof(
          fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }).chain(ipv4Spelling),
          fc
            .array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 })
            .chain((b) => ipv6Carrier(b).map((s) => s.replace(/%[^\]]*/, ""))),
          fc.ipV6(),
          fc.ipV4Extended()
        )
      ],
      ([spelling]) => {
        const bare = spelling.replace(/^\[|\]$/g, "")
        const host = new URL(`http://${bare.includes(":") ? `[${bare}]` : bare}/`).hostname.replace(/^\[|\]$/g, "")
        const parsed = Ip.parseAddress(spelling)
        assert.isDefined(parsed, spelling)
        assert.strictEqual(Ip.format(parsed!), host, spelling)
      },
      { fastCheck: { numRuns: 2000 } }
    )

    it.effect("loopback spellings follow allowLoopback", () =>
      Effect.gen(function* () {
        for (const host of [
          "127.1",
          "0x7f.1",
          "2130706433",
          "017700000001",
          "[::1]",
          "::ffff:127.0.0.1",
          "0:0:0:0:0:0:0:1"
        ]) {
          assert.strictEqual((yield* Effect.flip(policy.check(host)))._tag, "EgressDenied", host)
          assert.isString(yield* loopbackPolicy.check(host), host)
        }
        assert.strictEqual(yield* loopbackPolicy.check("0x7f.1"), "127.0.0.1")
      })
    )
  })

  describe("pinned connections", () => {
    interface Server {
      readonly port: number
      readonly requests: Array<string>
      readonly connections: { count: number }
      readonly close: () => Promise<void>
    }

    const listen = (address: string, port = 0): Promise<Server> =>
      new Promise((resolve, reject) => {
        const requests: Array<string> = []
        const connections = { count: 0 }
        const server = http.createServer((request, response) => {
          requests.push(`${request.headers.host} ${request.url}`)
          response.end(address)
        })
        server.on("connection", () => connections.count++)
        server.once("error", reject)
        server.listen(port, address, () => {
          const bound = (server.address() as net.AddressInfo).port
          resolve({
            port: bound,
            requests,
            connections,
            close: () => new Promise((done) => server.close(() => done()))
          })
        })
      })

    /** Answers 127.0.0.1 the first time and 127.0.0.2 every time after: a rebinding name server. */
    const rebinding = () => {
      const calls: Array<string> = []
      const resolve = (host: string) =>
        Effect.sync(() => {
          calls.push(host)
          return calls.length === 1 ? ["127.0.0.1"] : ["127.0.0.2"]
        })
      return { calls, resolve }
    }

    const get = (options: http.RequestOptions): Promise<string> =>
      new Promise((resolve, reject) => {
        const request = http.get({ ...options, agent: false }, (response) => {
          let body = ""
          response.setEncoding("utf8")
          response.on("data", (chunk) => {
            body += chunk
          })
          response.on("end", () => resolve(body))
        })
        request.on("error", reject)
      })

    const servers = Effect.acquireRelease(
      Effect.promise(async () => {
        const approved = await listen("127.0.0.1")
        const internal = await listen("127.0.0.2", approved.port)
        return { approved, internal }
      }),
      ({ approved, internal }) => Effect.promise(() => Promise.all([approved.close(), internal.close()]))
    )

    it.scoped("a pinned request goes to the approved address although the name rebinds", () =>
      Effect.gen(function* () {
        const { approved, internal } = yield* servers
        const resolver = rebinding()
        const policy = EgressPolicy.make({ allowLoopback: true, deny: ["127.0.0.2/32"], resolve: resolver.resolve })

        const pinned = yield* EgressPolicy.pin(policy, "rebind.example")
        assert.strictEqual(pinned.address, "127.0.0.1")
        const body = yield* Effect.promise(() =>
          get({ host: "rebind.example", port: approved.port, path: "/token", lookup: pinned.lookup })
        )
        assert.strictEqual(body, "127.0.0.1")
        // A second request on the same pin does not resolve again either.
        yield* Effect.promise(() =>
          get({ host: "rebind.example", port: approved.port, path: "/again", lookup: pinned.lookup })
        )
        assert.deepStrictEqual(approved.requests, [
          `rebind.example:${approved.port} /token`,
          `rebind.example:${approved.port} /again`
        ])
        assert.strictEqual(internal.connections.count, 0)
        assert.deepStrictEqual(resolver.calls, ["rebind.example"])
      })
    )

    it.scoped("control: checking and then connecting by name reaches the rebound address", () =>
      Effect.gen(function* () {
        const { approved, internal } = yield* servers
        const resolver = rebinding()
        const policy = EgressPolicy.make({ allowLoopback: true, deny: ["127.0.0.2/32"], resolve: resolver.resolve })
        assert.strictEqual(yield* policy.check("rebind.example"), "127.0.0.1")
        const naive = ((hostname: string, options: { all?: boolean }, callback: (...args: Array<unknown>) => void) => {
          Effect.runPromise(resolver.resolve(hostname)).then((addresses) =>
            options.all ? callback(null, [{ address: addresses[0]!, family: 4 }]) : callback(null, addresses[0]!, 4)
          )
        }) as net.LookupFunction
        const body = yield* Effect.promise(() => get({ host: "rebind.example", port: approved.port, lookup: naive }))
        assert.strictEqual(body, "127.0.0.2")
        assert.strictEqual(internal.connections.count, 1)
      })
    )

    it.scoped("the pinned lookup answers nothing for another name, and all-address lookups get the pin", () =>
      Effect.gen(function* () {
        const { approved } = yield* servers
        const policy = EgressPolicy.make({ allowLoopback: true, resolve: () => Effect.succeed(["127.0.0.1"]) })
        const pinned = yield* EgressPolicy.pin(policy, "api.example")
        const error = yield* Effect.flip(
          Effect.tryPromise(() => get({ host: "other.example", port: approved.port, lookup: pinned.lookup }))
        )
        assert.include(String((error.cause as NodeJS.ErrnoException).code), "EGRESS_NOT_PINNED")
        const address = yield* Effect.async<string, Error>((resume) => {
          const socket = net.connect({
            host: "API.example.",
            port: approved.port,
            lookup: pinned.lookup,
            autoSelectFamily: true
          })
          socket.once("connect", () => {
            resume(Effect.succeed(socket.remoteAddress ?? ""))
            socket.destroy()
          })
          socket.once("error", (e) => resume(Effect.fail(e)))
        })
        assert.strictEqual(address, "127.0.0.1")
      })
    )

    it.scoped("lookup(policy) resolves once per connection and refuses a denied answer", () =>
      Effect.gen(function* () {
        const { approved, internal } = yield* servers
        const resolver = rebinding()
        const lookup = EgressPolicy.lookup(
          EgressPolicy.make({ allowLoopback: true, deny: ["127.0.0.2/32"], resolve: resolver.resolve })
        )
        assert.strictEqual(
          yield* Effect.promise(() => get({ host: "rebind.example", port: approved.port, lookup })),
          "127.0.0.1"
        )
        const error = yield* Effect.flip(
          Effect.tryPromise(() => get({ host: "rebind.example", port: approved.port, lookup }))
        )
        assert.strictEqual((error.cause as NodeJS.ErrnoException).code, "EGRESS_DENIED")
        assert.strictEqual(internal.connections.count, 0)
        assert.strictEqual(resolver.calls.length, 2)
        const unresolvable = EgressPolicy.lookup(
          EgressPolicy.make({ resolve: (host) => Effect.fail(new Unreachable({ target: host, detail: "NXDOMAIN" })) })
        )
        const missing = yield* Effect.flip(
          Effect.tryPromise(() => get({ host: "gone.example", port: approved.port, lookup: unresolvable }))
        )
        assert.strictEqual((missing.cause as NodeJS.ErrnoException).code, "ENOTFOUND")
      })
    )
  })
})
