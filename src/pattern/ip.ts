/**
 * IP address text as EventBridge reads it: an IPv4 address is four dot-separated decimal
 * numbers (leading zeros allowed, each at most 255); an IPv6 address is hex digits and colons
 * with at most one `::`. IPv4-mapped IPv6 addresses written in hex (`::ffff:102:304`) are IPv4.
 * Addresses become fixed-width hex so that ranges compare as strings.
 */
import type { IpRange } from './ast.js'

export type IpAddress = { readonly version: 4 | 6; readonly hex: string }

const IPV4_SHAPE = /^\d+\.\d+\.\d+\.\d+$/
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/

/** Whether `text` has the shape of an IP address (it may still be out of range). */
export function looksLikeIp(text: string): boolean {
  return IPV4_SHAPE.test(text) || IPV6_SHAPE.test(text)
}

/** Parses an address of the shapes above; `null` when it is not a valid address. */
export function parseIp(text: string): IpAddress | null {
  if (IPV4_SHAPE.test(text)) {
    let hex = ''
    for (const part of text.split('.')) {
      const n = Number(part)
      if (n > 255) return null
      hex += n.toString(16).padStart(2, '0')
    }
    return { version: 4, hex }
  }
  if (IPV6_SHAPE.test(text)) return parseIpv6(text)
  return null
}

function parseIpv6(text: string): IpAddress | null {
  const halves = text.split('::')
  if (halves.length > 2) return null
  const groups = (part: string): string[] | null => {
    if (part === '') return []
    const out: string[] = []
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null
      out.push(g.toLowerCase().padStart(4, '0'))
    }
    return out
  }
  const head = groups(halves[0]!)
  const tail = halves.length === 2 ? groups(halves[1]!) : []
  if (head === null || tail === null) return null
  const count = head.length + tail.length
  let all: string[]
  if (halves.length === 1) {
    if (count !== 8) return null
    all = head
  } else {
    if (count > 7) return null
    all = [...head, ...Array<string>(8 - count).fill('0000'), ...tail]
  }
  const hex = all.join('')
  if (hex.startsWith('00000000000000000000ffff')) return { version: 4, hex: hex.slice(24) }
  return { version: 6, hex }
}

/** The addresses of `address/bits`. */
export function rangeOf(address: IpAddress, bits: number): IpRange {
  let low = ''
  let high = ''
  for (let nibble = 0; nibble < address.hex.length; nibble++) {
    const value = parseInt(address.hex[nibble]!, 16)
    const keep = Math.max(0, Math.min(4, bits - nibble * 4))
    const mask = (0xf << (4 - keep)) & 0xf
    low += (value & mask).toString(16)
    high += (value | (~mask & 0xf)).toString(16)
  }
  return { version: address.version, low, high }
}

export function inRange(range: IpRange, address: IpAddress): boolean {
  return address.version === range.version && address.hex >= range.low && address.hex <= range.high
}
