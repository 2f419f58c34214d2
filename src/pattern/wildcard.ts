/**
 * Wildcard values: `*` stands for zero or more characters, `\*` for a literal star and `\\` for
 * a literal backslash. Matching is the greedy leftmost search over the literal parts, which is
 * exact for star-only globs and never backtracks exponentially.
 */

/** Splits a checked wildcard value into its literal parts (one more than the stars). */
export function wildcardParts(value: string): string[] {
  const parts: string[] = []
  let current = ''
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!
    if (c === '\\') {
      current += value[++i] ?? ''
    } else if (c === '*') {
      parts.push(current)
      current = ''
    } else {
      current += c
    }
  }
  parts.push(current)
  return parts
}

/** Does `text` match the wildcard whose literal parts are `parts`? */
export function wildcardMatches(parts: readonly string[], text: string): boolean {
  const first = parts[0]!
  if (parts.length === 1) return text === first
  const last = parts[parts.length - 1]!
  if (text.length < first.length + last.length) return false
  if (!text.startsWith(first) || !text.endsWith(last)) return false
  let from = first.length
  const end = text.length - last.length
  for (let k = 1; k < parts.length - 1; k++) {
    const part = parts[k]!
    const at = text.indexOf(part, from)
    if (at < 0 || at + part.length > end) return false
    from = at + part.length
  }
  return true
}

/**
 * Checks wildcard syntax; returns EventBridge's reason or `null`. Positions are UTF-8 byte
 * offsets into the value as written between its quotes, counting the opening quote.
 */
export function checkWildcard(value: string): string | null {
  // TextEncoder, not Buffer: the pattern engine also runs in the console, in browsers.
  const bytes = new TextEncoder().encode(value)
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    if (b === 0x2a /* * */ && bytes[i + 1] === 0x2a)
      return `Consecutive wildcard characters at pos ${i + 1}`
    if (b === 0x5c /* \ */) {
      const next = bytes[i + 1]
      if (next !== 0x2a && next !== 0x5c) return `Invalid escape character at pos ${i + 1}`
      i++
    }
  }
  return null
}

/**
 * How hard a wildcard value is to match: the number of its stars plus the largest number of
 * its positions that one input can keep waiting on the same character at once. `*:*:*:*:*`
 * scores 9 (after `::::` every star waits on another `:`), `*.png` scores 2. The scores of the
 * wildcard values on one field add up; EventBridge rejects a rule above its limit.
 */
export function wildcardComplexity(parts: readonly string[]): number {
  const stars = parts.length - 1
  const pattern: (string | null)[] = [] // characters, `null` for a star
  parts.forEach((part, k) => {
    if (k > 0) pattern.push(null)
    for (const ch of part) pattern.push(ch)
  })
  const end = pattern.length
  const closure = (set: Set<number>): Set<number> => {
    for (const i of set) if (i < end && pattern[i] === null) set.add(i + 1)
    return set
  }
  const alphabet = new Set(pattern.filter((c): c is string => c !== null))
  alphabet.add('\u0000other')
  const score = (set: Set<number>): number => {
    const waiting = new Map<string, number>()
    for (const i of set) {
      const c = i === end ? '\u0000end' : pattern[i]
      if (c === null || c === undefined) continue
      waiting.set(c, (waiting.get(c) ?? 0) + 1)
    }
    return stars + Math.max(0, ...waiting.values())
  }
  const start = closure(new Set([0]))
  let best = score(start)
  const seen = new Set([[...start].sort((a, b) => a - b).join(',')])
  const todo = [start]
  // the state sets are few for realistic values; the cap keeps a hostile one from running long
  while (todo.length > 0 && seen.size < 5000) {
    const set = todo.pop()!
    for (const ch of alphabet) {
      const next = new Set<number>()
      for (const i of set) {
        if (i >= end) continue
        const c = pattern[i]
        if (c === null) next.add(i)
        else if (c === ch) next.add(i + 1)
      }
      if (next.size === 0) continue
      closure(next)
      const key = [...next].sort((a, b) => a - b).join(',')
      if (seen.has(key)) continue
      seen.add(key)
      todo.push(next)
      best = Math.max(best, score(next))
    }
  }
  return seen.size >= 5000 ? Infinity : best
}
