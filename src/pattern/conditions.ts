/**
 * How one condition judges one leaf value. The compiled matcher indexes the conditions it can
 * (exact values, prefixes, suffixes) and falls back to these predicates for the rest.
 */
import type { Condition, ExclusionCondition, IpRange, NumericBounds } from './ast.js'
import { fold } from './case-fold.js'
import { inRange, parseIp } from './ip.js'
import { LeafKind, type Leaf } from './flatten.js'
import { wildcardMatches } from './wildcard.js'

export function inBounds(b: NumericBounds, n: number): boolean {
  const aboveLow = b.lowInclusive ? n >= b.low : n > b.low
  const belowHigh = b.highInclusive ? n <= b.high : n < b.high
  return aboveLow && belowHigh
}

/** Is the leaf's string an address in `range`? The parse is kept on the leaf for other rules. */
export function ipInRange(range: IpRange, leaf: Leaf): boolean {
  if (leaf.ip === undefined) leaf.ip = parseIp(leaf.text)
  return leaf.ip !== null && inRange(range, leaf.ip)
}

/** Does `leaf` satisfy `cond`? `exists` is decided by the caller (it concerns all leaves). */
export function conditionMatches(cond: Condition, leaf: Leaf): boolean {
  switch (cond.kind) {
    case 'exists':
      return cond.value
    case 'anything-but':
      return !cond.excluded.some((e) => exclusionMatches(e, leaf))
    case 'numeric':
      return leaf.kind === LeafKind.Number && inBounds(cond.bounds, leaf.num)
    case 'literal':
      return (
        (cond.value === true && leaf.kind === LeafKind.True) ||
        (cond.value === false && leaf.kind === LeafKind.False) ||
        (cond.value === null && leaf.kind === LeafKind.Null)
      )
    case 'cidr':
      return leaf.kind === LeafKind.String && ipInRange(cond.range, leaf)
    default:
      return exclusionMatches(cond, leaf)
  }
}

function exclusionMatches(cond: ExclusionCondition, leaf: Leaf): boolean {
  if (cond.kind === 'number') {
    if (leaf.kind !== LeafKind.Number) return false
    // numbers that do not survive conversion to a double compare by their text
    return Number.isNaN(cond.value) ? leaf.text === cond.text : leaf.num === cond.value
  }
  if (leaf.kind !== LeafKind.String) return false
  const text = leaf.text
  switch (cond.kind) {
    case 'string':
      return text === cond.value
    case 'ip':
      return text === cond.value || ipInRange(cond.range, leaf)
    case 'prefix':
      return cond.ignoreCase ? fold(text).startsWith(cond.value) : text.startsWith(cond.value)
    case 'suffix':
      return cond.ignoreCase ? fold(text).endsWith(cond.value) : text.endsWith(cond.value)
    case 'equals-ignore-case':
      return fold(text) === cond.value
    case 'wildcard':
      return wildcardMatches(cond.parts, text)
  }
}
