/**
 * @module
 * The croner object behind a CronSchedule, built for UTC wall-clock matching (time zones are
 * handled by the caller) and made small enough to keep one per schedule.
 *
 * croner 11 gives every pattern a year table of 10,000 entries, about 80 KiB on Node 20: some
 * 800 MiB for 10,000 rules if each keeps its own, and when many are kept the collector
 * promotes them and every further build slows from ~50 µs to ~300 µs. AWS years end in 2199,
 * so the table is replaced by a 2,200-byte one with the same entries; croner bounds its year
 * search by the table's length, so matching is unchanged, and an object then costs ~2.7 KiB.
 * This reaches into croner's internal state (croner is pinned for that reason); if the state is
 * not shaped as expected the table is left alone, which only costs memory.
 */

import { Cron } from 'croner'

const OPTIONS = {
  mode: '7-part',
  alternativeWeekdays: true,
  sloppyRanges: true,
  domAndDow: false,
  timezone: 'UTC',
} as const

/** One past the last year a pattern can name. */
const YEAR_END = 2200

type Internals = { _states?: { pattern?: { year?: unknown } } }

/** A croner object for a 7-part pattern, matched in UTC; `trimmed` says the year table shrank. */
export function buildEngine(pattern: string): { engine: Cron; trimmed: boolean } {
  const engine = new Cron(pattern, OPTIONS)
  const state = (engine as unknown as Internals)._states?.pattern
  const years = state?.year
  if (!state || !Array.isArray(years) || years.length <= YEAR_END) return { engine, trimmed: false }
  const table = new Uint8Array(YEAR_END)
  for (let y = 0; y < YEAR_END; y++) table[y] = years[y] === 1 ? 1 : 0
  state.year = table
  return { engine, trimmed: true }
}
