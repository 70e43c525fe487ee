/**
 * @internal IP address parsing for the egress policy: every spelling a resolver or a socket
 * accepts, reduced to bytes, and CIDR matching on those bytes.
 */

/** @internal An address as bytes: 4 for IPv4, 16 for IPv6. */
export interface Address {
  readonly family: 4 | 6
  readonly bytes: Uint8Array
}

/** @internal A network: an address and a prefix length. */
export interface Cidr extends Address {
  readonly bits: number
}

const decimal = /^(?:0|[1-9][0-9]*)$/
const octal = /^0[0-7]+$/
const hex = /^0[xX][0-9a-fA-F]*$/

/** One part of an inet_aton address: decimal, octal (leading 0) or hexadecimal (0x). */
const part = (text: string): number | undefined => {
  if (text.length === 0 || text.length > 34) return undefined
  let value: number
  if (hex.test(text)) value = text.length === 2 ? 0 : Number.parseInt(text.slice(2), 16)
  else if (octal.test(text)) value = Number.parseInt(text.slice(1), 8)
  else if (decimal.test(text)) value = Number(text)
  else return undefined
  return Number.isSafeInteger(value) ? value : undefined
}

/**
 * @internal IPv4 in every form `inet_aton` (and so `getaddrinfo`) accepts: 1 to 4 parts, each
 * decimal, octal or hexadecimal, the last filling the remaining bytes (`127.1`, `0x7f000001`,
 * `2130706433`, `0177.0.0.01`). A trailing dot is accepted as the WHATWG URL parser does.
 */
export const parseIPv4 = (input: string): Address | undefined => {
  const text = input.endsWith(".") ? input.slice(0, -1) : input
  const parts = text.split(".")
  if (parts.length < 1 || parts.length > 4) return undefined
  const values: Array<number> = []
  for (const p of parts) {
    const value = part(p)
    if (value === undefined) return undefined
    values.push(value)
  }
  const last = values[values.length - 1]!
  const head = values.slice(0, -1)
  if (head.some((v) => v > 255)) return undefined
  const room = 2 ** (8 * (4 - head.length))
  if (last >= room) return undefined
  const bytes = new Uint8Array(4)
  head.forEach((v, i) => {
    bytes[i] = v
  })
  let rest = last
  for (let i = 3; i >= head.length; i--) {
    bytes[i] = rest % 256
    rest = Math.floor(rest / 256)
  }
  return { family: 4, bytes }
}

/** Strict dotted quad (four decimal parts), as the tail of an IPv6 address spells it. */
const dottedQuad = (text: string): Uint8Array | undefined => {
  const parts = text.split(".")
  if (parts.length !== 4) return undefined
  const bytes = new Uint8Array(4)
  for (const [i, p] of parts.entries()) {
    if (!/^[0-9]{1,3}$/.test(p)) return undefined
    const value = Number(p)
    if (value > 255) return undefined
    bytes[i] = value
  }
  return bytes
}

/** @internal IPv6 text (with `::`, an embedded dotted quad, any case) without zone or brackets. */
export const parseIPv6 = (text: string): Address | undefined => {
  if (text.length < 2 || text.length > 45) return undefined
  const halves = text.split("::")
  if (halves.length > 2) return undefined
  /** The groups of one side of `::`; only the address's last piece may be a dotted quad. */
  const groups = (half: string, last: boolean): Array<number> | undefined => {
    if (half === "") return []
    const out: Array<number> = []
    const pieces = half.split(":")
    for (const [i, piece] of pieces.entries()) {
      if (last && i === pieces.length - 1 && piece.includes(".")) {
        const quad = dottedQuad(piece)
        if (quad === undefined) return undefined
        out.push((quad[0]! << 8) | quad[1]!, (quad[2]! << 8) | quad[3]!)
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined
        out.push(Number.parseInt(piece, 16))
      }
    }
    return out
  }
  const head = groups(halves[0]!, halves.length === 1)
  const tail = halves.length === 2 ? groups(halves[1]!, true) : []
  if (head === undefined || tail === undefined) return undefined
  if (halves.length === 1 && head.length !== 8) return undefined
  if (halves.length === 2 && head.length + tail.length > 7) return undefined
  const all = [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail]
  const bytes = new Uint8Array(16)
  all.forEach((group, i) => {
    bytes[2 * i] = group >> 8
    bytes[2 * i + 1] = group & 0xff
  })
  return { family: 6, bytes }
}

/**
 * @internal Any literal spelling of an address: IPv4 in inet_aton forms, IPv6 with or without
 * brackets and with a zone id (`fe80::1%eth0`, `%25` as URLs write it) dropped. Undefined for a
 * name.
 */
export const parseAddress = (input: string): Address | undefined => {
  let text = input.startsWith("[") && input.endsWith("]") ? input.slice(1, -1) : input
  const zone = text.indexOf("%")
  if (zone >= 0 && text.includes(":")) text = text.slice(0, zone)
  return text.includes(":") ? parseIPv6(text) : parseIPv4(text)
}

/** @internal The canonical text of an address: dotted quad, or RFC 5952 IPv6. */
export const format = (address: Address): string => {
  const b = address.bytes
  if (address.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`
  const groups = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!)
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const text = (gs: Array<number>) => gs.map((g) => g.toString(16)).join(":")
  if (bestStart < 0) return text(groups)
  return `${text(groups.slice(0, bestStart))}::${text(groups.slice(bestStart + bestLength))}`
}

/** @internal Parses `address/bits` (bits default to the full length). Undefined when invalid. */
export const parseCidr = (text: string): Cidr | undefined => {
  const slash = text.indexOf("/")
  const addressText = slash < 0 ? text : text.slice(0, slash)
  const address = addressText.includes(":") ? parseIPv6(addressText) : dottedQuad(addressText)
  if (address === undefined) return undefined
  const parsed: Address = address instanceof Uint8Array ? { family: 4, bytes: address } : address
  const max = parsed.family === 4 ? 32 : 128
  const bitsText = slash < 0 ? String(max) : text.slice(slash + 1)
  if (!/^[0-9]{1,3}$/.test(bitsText)) return undefined
  const bits = Number(bitsText)
  if (bits > max) return undefined
  return { ...parsed, bits }
}

/** @internal Whether `cidr` contains `address` (families must agree). */
export const contains = (cidr: Cidr, address: Address): boolean => {
  if (cidr.family !== address.family) return false
  const full = cidr.bits >> 3
  for (let i = 0; i < full; i++) if (cidr.bytes[i] !== address.bytes[i]) return false
  const rest = cidr.bits & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (cidr.bytes[full]! & mask) === (address.bytes[full]! & mask)
}

const v4 = (bytes: Uint8Array, offset: number, xor = 0): Address => ({
  family: 4,
  bytes: Uint8Array.from(bytes.subarray(offset, offset + 4), (b) => b ^ xor)
})

const startsWith = (bytes: Uint8Array, prefix: ReadonlyArray<number>) => prefix.every((b, i) => bytes[i] === b)
const zeros = (bytes: Uint8Array, from: number, to: number) => bytes.subarray(from, to).every((b) => b === 0)

/**
 * @internal The IPv4 addresses an IPv6 address carries and a router or a host would reach:
 * IPv4-mapped `::ffff:0:0/96`, IPv4-translated `::ffff:0:0:0/96`, IPv4-compatible `::/96`
 * (but `::` and `::1`), NAT64 `64:ff9b::/96`, 6to4 `2002::/16` and
 * Teredo `2001::/32` (the client address, stored inverted, and the server address).
 */
export const embeddedIPv4 = (address: Address): ReadonlyArray<Address> => {
  if (address.family !== 6) return []
  const b = address.bytes
  if (zeros(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return [v4(b, 12)]
  if (zeros(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && zeros(b, 10, 12)) return [v4(b, 12)]
  if (zeros(b, 0, 15) && b[15]! <= 1) return []
  if (zeros(b, 0, 12)) return [v4(b, 12)]
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b]) && zeros(b, 4, 12)) return [v4(b, 12)]
  if (startsWith(b, [0x20, 0x02])) return [v4(b, 2)]
  if (startsWith(b, [0x20, 0x01, 0x00, 0x00])) return [v4(b, 12, 0xff), v4(b, 4)]
  return []
}
