/**
 * @module
 * Durations as people write them on a command line: `90m`, `2h`, `1h30m`, `45s`, `250ms`, `1d`.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Milliseconds in `text`; throws an Error that says what is accepted. */
export function parseDuration(text: string): number {
  const t = text.trim()
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y
  let total = 0
  let at = 0
  while (at < t.length) {
    part.lastIndex = at
    const m = part.exec(t)
    if (!m) break
    total += Number(m[1]) * UNITS[m[2]!]!
    at = part.lastIndex
  }
  if (t === '' || at !== t.length || !Number.isFinite(total))
    throw new Error(`invalid duration: ${text} (for example 90m, 2h, 1h30m, 45s, 250ms, 1d)`)
  return Math.round(total)
}
