/**
 * @module
 * PostgreSQL log sequence numbers (`X/X`, two 32-bit halves in hex) as bigints, normalised
 * (the library mixes `0/153A880` and `00000000/0153A918`).
 */

export function lsnToBig(lsn: string): bigint {
  const [hi = '0', lo = '0'] = lsn.split('/')
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`)
}

export function bigToLsn(n: bigint): string {
  return `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`
}

/**
 * `0/153A880` whatever form it came in. Text work only: it runs for every row read, and the
 * round trip through a bigint was a visible share of a source's time.
 */
export function normLsn(lsn: string): string {
  const slash = lsn.indexOf('/')
  if (slash < 0) return bigToLsn(lsnToBig(lsn))
  return `${trimHex(lsn.slice(0, slash))}/${trimHex(lsn.slice(slash + 1))}`
}

const trimHex = (half: string) => {
  let i = 0
  while (i < half.length - 1 && half[i] === '0') i++
  return (i === 0 ? half : half.slice(i)).toUpperCase()
}

/** 16 hex digits: LSNs that compare as text as they compare as numbers (versions). */
export const lsnHex16 = (n: bigint) => n.toString(16).toUpperCase().padStart(16, '0')

export const compareLsn = (a: string, b: string) => {
  const x = lsnToBig(a)
  const y = lsnToBig(b)
  return x < y ? -1 : x > y ? 1 : 0
}
