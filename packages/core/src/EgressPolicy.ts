/**
 * Which network addresses Patchbay may connect to. Hosts come from tenant configuration, so the
 * check runs on the resolved address (a name that resolves to a metadata address is denied) and
 * the connection goes to the address the check approved, never to the name again: `pin` and
 * `lookup` give HTTP libraries and drivers a `lookup` function that answers only that address, so
 * there is no DNS-rebinding window between check and connect.
 *
 * Denied by default: loopback (unless `allowLoopback`), the private ranges 10/8, 172.16/12,
 * 192.168/16, 100.64/10, fc00::/7 and the local-use NAT64 prefix 64:ff9b:1::/48 (unless
 * `allowPrivate` or an `allow` entry), link-local, cloud metadata addresses, the unspecified
 * address, multicast, and reserved, documentation and benchmarking ranges. IPv4 carried in IPv6
 * (IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64, 6to4, Teredo) is checked as IPv4. Every
 * spelling of a literal address (`0x7f.1`, `2130706433`, `[::ffff:7f00:1]`, `fe80::1%eth0`) is
 * normalised before the check.
 *
 * @since 0.1.0
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns"
import type { LookupFunction } from "node:net"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { EgressDenied } from "./DomainError.js"
import { Unreachable } from "./DriverError.js"
import * as Ip from "./internal/ip.js"

/**
 * @since 0.1.0
 */
export interface EgressOptions {
  /** Allow 127.0.0.0/8 and ::1 (tests, the quickstart, a sidecar). Default false. */
  readonly allowLoopback?: boolean | undefined
  /** Allow the private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, 64:ff9b:1::/48). Default false. */
  readonly allowPrivate?: boolean | undefined
  /**
   * CIDRs allowed even where a default rule denies them (`10.20.0.0/16`, `fd00:1::/32`). A cloud
   * metadata address stays denied unless an entry names exactly that address (`/32`, `/128`).
   */
  readonly allow?: ReadonlyArray<string> | undefined
  /** CIDRs denied in addition to the defaults; a deny entry wins over every allow. */
  readonly deny?: ReadonlyArray<string> | undefined
  /**
   * Resolves a name to its addresses. Default: the system resolver (`getaddrinfo`, every address).
   * The policy resolves each name once per check; tests use this to play a rebinding resolver.
   */
  readonly resolve?: ((host: string) => Effect.Effect<ReadonlyArray<string>, Unreachable>) | undefined
}

/**
 * @since 0.1.0
 */
export interface EgressPolicyShape {
  /**
   * Resolves `host` once and returns the address to connect to (IPv6 without brackets), or why it
   * may not be used. Every address the name resolves to must be allowed.
   */
  readonly check: (host: string) => Effect.Effect<string, EgressDenied | Unreachable>
}

/**
 * @since 0.1.0
 */
export class EgressPolicy extends Context.Tag("@patchbay/core/EgressPolicy")<EgressPolicy, EgressPolicyShape>() {}

type Kind = "loopback" | "private" | "metadata" | "always"

interface Rule {
  readonly cidr: Ip.Cidr
  readonly kind: Kind
  readonly why: string
}

const rule = (cidr: string, kind: Kind, why: string): Rule => ({ cidr: Ip.parseCidr(cidr)!, kind, why })

const metadata = "cloud metadata addresses are denied"
const privateRange = "private addresses are denied"
const reserved = "reserved addresses are denied"

/** The default rules; metadata rules come first so that their reason is the one reported. */
const defaultRules: ReadonlyArray<Rule> = [
  rule("169.254.169.254/32", "metadata", metadata),
  rule("169.254.170.2/32", "metadata", metadata),
  rule("169.254.169.253/32", "metadata", metadata),
  rule("100.100.100.200/32", "metadata", metadata),
  rule("192.0.0.192/32", "metadata", metadata),
  rule("fd00:ec2::254/128", "metadata", metadata),
  rule("fd00:ec2::253/128", "metadata", metadata),
  rule("127.0.0.0/8", "loopback", "loopback addresses are denied"),
  rule("::1/128", "loopback", "loopback addresses are denied"),
  rule("10.0.0.0/8", "private", privateRange),
  rule("172.16.0.0/12", "private", privateRange),
  rule("192.168.0.0/16", "private", privateRange),
  rule("100.64.0.0/10", "private", "shared (carrier-grade NAT) addresses are denied"),
  rule("fc00::/7", "private", "unique local (private) addresses are denied"),
  rule("64:ff9b:1::/48", "private", "local-use NAT64 addresses are denied"),
  rule("0.0.0.0/8", "always", "the unspecified network is denied"),
  rule("::/128", "always", "the unspecified address is denied"),
  rule("169.254.0.0/16", "always", "link-local addresses are denied"),
  rule("fe80::/10", "always", "link-local addresses are denied"),
  rule("fec0::/10", "always", "site-local addresses are denied"),
  rule("224.0.0.0/4", "always", "multicast addresses are denied"),
  rule("ff00::/8", "always", "multicast addresses are denied"),
  rule("240.0.0.0/4", "always", reserved),
  rule("192.0.0.0/24", "always", reserved),
  rule("192.0.2.0/24", "always", reserved),
  rule("198.51.100.0/24", "always", reserved),
  rule("203.0.113.0/24", "always", reserved),
  rule("198.18.0.0/15", "always", reserved),
  rule("192.88.99.0/24", "always", reserved),
  rule("2001:db8::/32", "always", reserved),
  rule("3fff::/20", "always", reserved),
  rule("100::/64", "always", reserved)
]

const parseCidrs = (cidrs: ReadonlyArray<string>): ReadonlyArray<Ip.Cidr> =>
  cidrs.map((text) => {
    const cidr = Ip.parseCidr(text.trim())
    if (cidr === undefined) throw new Error(`invalid CIDR ${JSON.stringify(text.slice(0, 64))}`)
    return cidr
  })

/** Host names: letters, digits, `-`, `_` and dots, at most 253 characters. */
const hostName = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_.])?$/

const systemResolve = (host: string): Effect.Effect<ReadonlyArray<string>, Unreachable> =>
  Effect.async<ReadonlyArray<string>, Unreachable>((resume) => {
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => {
      resume(
        error
          ? Effect.fail(
              new Unreachable({ target: host, detail: `cannot resolve host: ${error.code ?? error.message}` })
            )
          : Effect.succeed(addresses.map((a) => a.address))
      )
    })
  })

/**
 * An address the policy approved for a host: connect to `address`, never to `host` again.
 *
 * @since 0.1.0
 */
export interface Approved {
  readonly host: string
  readonly address: string
  readonly family: 4 | 6
}

/**
 * The verdict on one literal address or address text: the canonical address, or the reason it is
 * denied. Exposed for configuration checks that judge an address without connecting.
 *
 * @since 0.1.0
 */
export type Verdict =
  | { readonly _tag: "Allowed"; readonly address: string; readonly family: 4 | 6 }
  | { readonly _tag: "Denied"; readonly address: string; readonly rule: string }

/**
 * A policy from options. An invalid CIDR throws here, at start, never on a connection.
 *
 * @since 0.1.0
 */
export const make = (options: EgressOptions = {}): EgressPolicyShape => judge(options).policy

/**
 * The verdict function of a policy from options, for tests and configuration checks.
 *
 * @since 0.1.0
 */
export const verdictOf = (options: EgressOptions = {}): ((address: string) => Verdict) => judge(options).verdict

const judge = (options: EgressOptions) => {
  const allowed = parseCidrs(options.allow ?? [])
  const denied = parseCidrs(options.deny ?? [])
  const resolve = options.resolve ?? systemResolve

  const reason = (address: Ip.Address, depth: number): string | undefined => {
    if (denied.some((cidr) => Ip.contains(cidr, address))) return "denied by the egress policy"
    if (depth === 0) {
      for (const inner of Ip.embeddedIPv4(address)) {
        const why = reason(inner, 1)
        if (why !== undefined) return `${why} (IPv4 ${Ip.format(inner)} carried in IPv6)`
      }
    }
    const exact = allowed.some((cidr) => cidr.bits === cidr.bytes.length * 8 && Ip.contains(cidr, address))
    const listed = allowed.some((cidr) => Ip.contains(cidr, address))
    for (const r of defaultRules) {
      if (!Ip.contains(r.cidr, address)) continue
      if (r.kind === "metadata" ? exact : listed) continue
      if (r.kind === "loopback" && options.allowLoopback) continue
      if (r.kind === "private" && options.allowPrivate) continue
      return r.why
    }
    return undefined
  }

  const verdict = (text: string): Verdict => {
    const address = Ip.parseAddress(text)
    if (address === undefined) return { _tag: "Denied", address: text.slice(0, 64), rule: "not an IP address" }
    const canonical = Ip.format(address)
    const why = reason(address, 0)
    return why === undefined
      ? { _tag: "Allowed", address: canonical, family: address.family }
      : { _tag: "Denied", address: canonical, rule: why }
  }

  const approve = (host: string): Effect.Effect<Approved, EgressDenied | Unreachable> =>
    Effect.gen(function* () {
      const shown = host.slice(0, 255)
      const literal = Ip.parseAddress(host)
      if (literal === undefined) {
        const name = host.endsWith(".") ? host.slice(0, -1) : host
        if (!hostName.test(name) || name.includes("..")) {
          return yield* new EgressDenied({ host: shown, address: "", rule: "the host name is malformed" })
        }
      }
      const addresses = literal !== undefined ? [Ip.format(literal)] : yield* resolve(host)
      if (addresses.length === 0) return yield* new Unreachable({ target: shown, detail: "host has no address" })
      // Every address a name resolves to must be allowed: a resolver may return them in any order.
      let first: Approved | undefined
      for (const address of addresses) {
        const v = verdict(address)
        if (v._tag === "Denied") return yield* new EgressDenied({ host: shown, address: v.address, rule: v.rule })
        first ??= { host, address: v.address, family: v.family }
      }
      return first!
    })

  const policy: EgressPolicyShape = { check: (host) => Effect.map(approve(host), (a) => a.address) }
  return { policy, verdict, approve }
}

/**
 * The address `policy` approves for `host`, with its family.
 *
 * @since 0.1.0
 */
export const approve = (policy: EgressPolicyShape, host: string): Effect.Effect<Approved, EgressDenied | Unreachable> =>
  Effect.map(policy.check(host), (address) => {
    const parsed = Ip.parseAddress(address)
    return { host, address, family: parsed?.family ?? 4 }
  })

/** Host names as a lookup function compares them: case-insensitive, without a trailing dot or brackets. */
const sameHost = (a: string, b: string) => {
  const clean = (h: string) => {
    const bare = h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h
    return (bare.endsWith(".") ? bare.slice(0, -1) : bare).toLowerCase()
  }
  return clean(a) === clean(b)
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | ReadonlyArray<LookupAddress>,
  family?: number
) => void

const answer = (options: LookupOptions | number | undefined, callback: LookupCallback, approved: Approved) => {
  if (typeof options === "object" && options !== null && options.all) {
    callback(null, [{ address: approved.address, family: approved.family }])
  } else {
    callback(null, approved.address, approved.family)
  }
}

const lookupError = (code: string, message: string): NodeJS.ErrnoException =>
  Object.assign(new Error(message), { code })

/**
 * A host pinned to the address the policy approved, with a `lookup` function for node's
 * `net.connect`, `http.request`, `https.request`, `tls.connect` and undici's `connect` options
 * that answers that address and nothing else: no second resolution, so no rebinding window.
 * Looking up any other name fails with `EGRESS_NOT_PINNED` (a redirect to another host needs a
 * new `pin`).
 *
 * @since 0.1.0
 */
export interface Pinned extends Approved {
  readonly lookup: LookupFunction
}

/**
 * Resolves `host` once through the policy and pins it (see `Pinned`).
 *
 * @since 0.1.0
 */
export const pin = (policy: EgressPolicyShape, host: string): Effect.Effect<Pinned, EgressDenied | Unreachable> =>
  Effect.map(approve(policy, host), (approved) => {
    const lookup = (hostname: string, options: unknown, callback?: unknown) => {
      const cb = (typeof options === "function" ? options : callback) as LookupCallback
      const opts = (typeof options === "function" ? undefined : options) as LookupOptions | number | undefined
      if (!sameHost(hostname, host) && !sameHost(hostname, approved.address)) {
        return process.nextTick(() =>
          cb(lookupError("EGRESS_NOT_PINNED", `${hostname.slice(0, 255)} is not the pinned host`), "")
        )
      }
      process.nextTick(() => answer(opts, cb, approved))
    }
    return { ...approved, lookup: lookup as LookupFunction }
  })

/**
 * A `lookup` function for node's socket options that resolves every name through the policy once
 * and answers the approved address: for libraries that connect to hosts not known in advance. A
 * denied or unresolvable name fails the connection with `EGRESS_DENIED` or `ENOTFOUND`.
 *
 * @since 0.1.0
 */
export const lookup = (policy: EgressPolicyShape): LookupFunction =>
  ((hostname: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === "function" ? options : callback) as LookupCallback
    const opts = (typeof options === "function" ? undefined : options) as LookupOptions | number | undefined
    Effect.runCallback(approve(policy, hostname), {
      onExit: (exit) => {
        if (Exit.isSuccess(exit)) return answer(opts, cb, exit.value)
        const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        if (failure?._tag === "EgressDenied") return cb(lookupError("EGRESS_DENIED", failure.message), "")
        cb(lookupError("ENOTFOUND", failure?.message ?? `cannot resolve ${hostname.slice(0, 255)}`), "")
      }
    })
  }) as LookupFunction

/**
 * A policy from options.
 *
 * @since 0.1.0
 */
export const layer = (options: EgressOptions = {}): Layer.Layer<EgressPolicy> =>
  Layer.sync(EgressPolicy, () => make(options))

/**
 * A policy from configuration: `PATCHBAY_EGRESS_ALLOW_LOOPBACK` and `PATCHBAY_EGRESS_ALLOW_PRIVATE`
 * (booleans), `PATCHBAY_EGRESS_ALLOW` and `PATCHBAY_EGRESS_DENY` (comma-separated CIDRs).
 *
 * @since 0.1.0
 */
export const layerConfig: Layer.Layer<EgressPolicy, ConfigError.ConfigError> = Layer.effect(
  EgressPolicy,
  Effect.gen(function* () {
    const allowLoopback = yield* Config.boolean("PATCHBAY_EGRESS_ALLOW_LOOPBACK").pipe(Config.withDefault(false))
    const allowPrivate = yield* Config.boolean("PATCHBAY_EGRESS_ALLOW_PRIVATE").pipe(Config.withDefault(false))
    const allow = yield* Config.array(Config.string(), "PATCHBAY_EGRESS_ALLOW").pipe(Config.withDefault([]))
    const deny = yield* Config.array(Config.string(), "PATCHBAY_EGRESS_DENY").pipe(Config.withDefault([]))
    const invalid = [
      ...allow.filter((c) => Ip.parseCidr(c.trim()) === undefined).map(() => "PATCHBAY_EGRESS_ALLOW"),
      ...deny.filter((c) => Ip.parseCidr(c.trim()) === undefined).map(() => "PATCHBAY_EGRESS_DENY")
    ]
    if (invalid.length > 0) return yield* Effect.fail(ConfigError.InvalidData([invalid[0]!], "invalid CIDR"))
    return make({ allowLoopback, allowPrivate, allow, deny })
  })
)
