import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildEngine } from './croner-engine.js'

// Fails when a croner upgrade changes the state the year-table trim relies on: schedules would
// still fire correctly, but each would keep an 80 KiB table again.
test('the year table is trimmed', () => {
  assert.equal(buildEngine('0 0 0 1 1 * 1970-2199').trimmed, true)
})

test('a trimmed engine finds the same years: first, last, none after 2199, a leap day', () => {
  const next = (pattern: string, after: string) =>
    buildEngine(pattern).engine.nextRun(new Date(after))?.toISOString()
  assert.equal(next('0 0 0 1 1 * 1970-2199', '1969-06-01T00:00:00Z'), '1970-01-01T00:00:00.000Z')
  assert.equal(next('0 0 0 1 1 * 1970-2199', '2198-06-01T00:00:00Z'), '2199-01-01T00:00:00.000Z')
  assert.equal(next('0 0 0 1 1 * 1970-2199', '2199-01-01T00:00:00Z'), undefined)
  assert.equal(next('0 0 0 29 2 * 2025-2030', '2025-01-01T00:00:00Z'), '2028-02-29T00:00:00.000Z')
  assert.equal(next('0 0 0 1 1 * 2002-2005', '2025-01-01T00:00:00Z'), undefined)
})
