/**
 * @module
 * The widgets service A reports: a fixed batch (the same on every run, so the example's counts
 * and report can be checked), and a generator of further ones for the live part of the example.
 * Entries with `invalid` break one of the criteria of `schema/widget.json` on purpose; the text
 * says which, for people reading the example (the validator finds the reason itself).
 */

export type Widget = {
  widget_id?: string
  warehouse?: string
  location?: { aisle?: number; shelf?: string }
  weight?: number
  time?: string
}

export type BatchEntry = { detail: Widget; invalid?: string }

export const FIXED_BATCH: readonly BatchEntry[] = [
  { detail: w('wd-00a1b2c3', 'TYO-1', 3, 'A', 12.5, '2026-03-02T08:15:00Z') },
  { detail: w('wd-00a1b2c4', 'TYO-1', 3, 'B', 7.25, '2026-03-02T09:40:00Z') },
  { detail: w('wd-00a1b2c5', 'OSA-2', 11, 'C', 30, '2026-03-02T10:05:00Z') },
  { detail: w('wd-00a1b2c6', 'SEA-1', 1, 'F', 2.5, '2026-03-02T17:30:00Z') },
  {
    detail: w('wd-00a1b2c7', 'OSA-2', 12, 'A', -4, '2026-03-02T18:00:00Z'),
    invalid: 'a negative weight',
  },
  { detail: w('wd-00a1b2c8', 'TYO-1', 7, 'D', 101, '2026-03-03T06:20:00Z') },
  {
    detail: {
      widget_id: 'wd-00a1b2c9',
      location: { aisle: 4, shelf: 'B' },
      weight: 3,
      time: '2026-03-03T07:00:00Z',
    },
    invalid: 'no warehouse',
  },
  { detail: w('wd-00a1b2ca', 'OSA-2', 11, 'E', 44.75, '2026-03-03T11:45:00Z') },
  {
    detail: w('wd-00a1b2cb', 'SEA-1', 41, 'A', 9, '2026-03-03T12:00:00Z'),
    invalid: 'aisle 41 does not exist (1 to 40)',
  },
  { detail: w('wd-00a1b2cc', 'SEA-1', 2, 'A', 15, '2026-03-03T13:10:00Z') },
  {
    detail: w('WIDGET-13', 'TYO-1', 5, 'C', 1, '2026-03-03T14:00:00Z'),
    invalid: 'a widget id of the wrong form',
  },
  { detail: w('wd-00a1b2ce', 'TYO-1', 8, 'B', 0.5, '2026-03-03T15:55:00Z') },
]

function w(
  widget_id: string,
  warehouse: string,
  aisle: number,
  shelf: string,
  weight: number,
  time: string,
): Widget {
  return { widget_id, warehouse, location: { aisle, shelf }, weight, time }
}

const WAREHOUSES = ['TYO-1', 'OSA-2', 'SEA-1', 'FUK-3']

/**
 * Widget number `n` of the live part: valid, except every fifth (a negative weight). The time is
 * `at`, the example clock's now.
 */
export function liveWidget(n: number, at: Date): BatchEntry {
  const id = `wd-${(0x10000000 + n).toString(16)}`
  const warehouse = WAREHOUSES[n % WAREHOUSES.length]!
  const weight = n % 5 === 4 ? -1 : Math.round(((n * 37) % 200) + 5) / 4
  const detail = w(id, warehouse, 1 + (n % 40), 'ABCDEF'[n % 6]!, weight, at.toISOString())
  return weight < 0 ? { detail, invalid: 'a negative weight' } : { detail }
}
