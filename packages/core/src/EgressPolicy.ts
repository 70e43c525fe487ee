/**
 * Which network addresses drivers may connect to. Hosts come from user-supplied configuration, so
 * the check runs on the resolved address (a name that resolves to a metadata address is denied)
 * and drivers connect to the address it returns, not to the name again.
 *
 * @since 0.1.0
 */

import { lookup } from "node:dns/promises"
import { BlockList, isIP } from "node:net"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { EgressDenied } from "./DomainError.js"
import { Unreachable } from "./DriverError.js"

/**
 * @since 0.1.0
 */
export interface EgressOptions {
  /** Allow 127.0.0.0/8 and ::1 (tests, the quickstart, a sidecar). Default false. */
  readonly allowLoopback?: boolean | undefined
  /** CIDRs allowed even where a default rule denies them (`10.0.0.0/8`, `fd00::/8`). */
  readonly allow?: ReadonlyArray<string> | undefined
  /** CIDRs denied in addition to the defaults. */
  readonly deny?: ReadonlyArray<string> | undefined
}

/**
 * @since 0.1.0
 */
export interface EgressPolicyShape {
  /** Resolves `host` and returns the address to connect to, or why it may not be used. */
  readonly check: (host: string) => Effect.Effect<string, EgressDenied | Unreachable>
}

/**
 * @since 0.1.0
 */
export class EgressPolicy extends Context.Tag("@patchbay/core/EgressPolicy")<EgressPolicy, EgressPolicyShape>() {}

const defaultDenied: ReadonlyArray<readonly [string, string]> = [
  ["169.254.0.0/16", "link-local and cloud metadata addresses are denied"],
  ["100.100.100.200/32", "cloud metadata addresses are denied"],
  ["0.0.0.0/8", "the unspecified network is denied"],
  ["fe80::/10", "link-local addresses are denied"],
  ["fd00:ec2::254/128", "cloud metadata addresses are denied"],
  ["::/128", "the unspecified address is denied"]
]
const loopback: ReadonlyArray<string> = ["127.0.0.0/8", "::1/128"]

const addCidr = (list: BlockList, cidr: string) => {
  const [network, bits] = cidr.split("/")
  const type = isIP(network ?? "") === 6 ? "ipv6" : "ipv4"
  list.addSubnet(network!, Number(bits ?? (type === "ipv6" ? 128 : 32)), type)
}

const makeBlockList = (cidrs: Iterable<string>) => {
  const list = new BlockList()
  for (const cidr of cidrs) addCidr(list, cidr)
  return list
}

/**
 * A policy from options. An invalid CIDR throws here, at start, never on a connection.
 *
 * @since 0.1.0
 */
export const make = (options: EgressOptions = {}): EgressPolicyShape => {
  const allowed = makeBlockList(options.allow ?? [])
  const rules: Array<readonly [BlockList, string]> = defaultDenied.map(([cidr, why]) => [makeBlockList([cidr]), why])
  if (!options.allowLoopback) rules.push([makeBlockList(loopback), "loopback addresses are denied"])
  if (options.deny && options.deny.length > 0) rules.push([makeBlockList(options.deny), "denied by the egress policy"])

  const verdict = (address: string): string | undefined => {
    const type = isIP(address) === 6 ? "ipv6" : "ipv4"
    if (allowed.check(address, type)) return undefined
    // IPv4-mapped IPv6 (::ffff:169.254.169.254) is checked as the IPv4 address it carries.
    const mapped = type === "ipv6" && /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1]
    if (mapped) return verdict(mapped)
    return rules.find(([list]) => list.check(address, type))?.[1]
  }

  return {
    check: (host) =>
      Effect.gen(function* () {
        const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host
        const addresses =
          isIP(bare) !== 0
            ? [bare]
            : yield* Effect.tryPromise({
                try: () => lookup(bare, { all: true, verbatim: true }).then((all) => all.map((a) => a.address)),
                catch: (cause) => new Unreachable({ target: host, detail: `cannot resolve host: ${String(cause)}` })
              })
        // Every address a name resolves to must be allowed: a resolver may return them in any order.
        for (const address of addresses) {
          const denied = verdict(address)
          if (denied !== undefined) return yield* new EgressDenied({ host, address, rule: denied })
        }
        if (addresses.length === 0) return yield* new Unreachable({ target: host, detail: "host has no address" })
        return addresses[0]!
      })
  }
}

/**
 * A policy from options.
 *
 * @since 0.1.0
 */
export const layer = (options: EgressOptions = {}): Layer.Layer<EgressPolicy> =>
  Layer.sync(EgressPolicy, () => make(options))

/**
 * A policy from configuration: `PATCHBAY_EGRESS_ALLOW_LOOPBACK` (boolean), `PATCHBAY_EGRESS_ALLOW`
 * and `PATCHBAY_EGRESS_DENY` (comma-separated CIDRs).
 *
 * @since 0.1.0
 */
export const layerConfig: Layer.Layer<EgressPolicy, ConfigError.ConfigError> = Layer.effect(
  EgressPolicy,
  Effect.gen(function* () {
    const allowLoopback = yield* Config.boolean("PATCHBAY_EGRESS_ALLOW_LOOPBACK").pipe(Config.withDefault(false))
    const allow = yield* Config.array(Config.string(), "PATCHBAY_EGRESS_ALLOW").pipe(Config.withDefault([]))
    const deny = yield* Config.array(Config.string(), "PATCHBAY_EGRESS_DENY").pipe(Config.withDefault([]))
    return yield* Effect.try({
      try: () => make({ allowLoopback, allow, deny }),
      catch: (cause) => ConfigError.InvalidData(["PATCHBAY_EGRESS_ALLOW"], `invalid CIDR: ${String(cause)}`)
    })
  })
)
