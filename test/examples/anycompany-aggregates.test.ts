/**
 * Service B's aggregates: delivery is at least once, so the same event counted twice must not
 * change the numbers; per-warehouse and per-widget tallies add up to the totals.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Aggregates } from '../../examples/anycompany/service-b/aggregates.js'

const event = (id: string, widget_id: string, warehouse: string, weight: number) => ({
  id,
  detail: { widget_id, warehouse, weight, time: '2026-03-02T08:00:00Z' },
})

test('an event delivered twice is counted once', () => {
  const a = new Aggregates()
  assert.equal(a.add(event('e1', 'wd-1', 'TYO-1', 2.5)), true)
  assert.equal(a.add(event('e1', 'wd-1', 'TYO-1', 2.5)), false)
  const s = a.snapshot()
  assert.equal(s.events, 1)
  assert.deepEqual(s.warehouses, { 'TYO-1': { count: 1, totalWeight: 2.5 } })
})

test('per warehouse and per widget, with weights to the hundredth', () => {
  const a = new Aggregates()
  a.add(event('e1', 'wd-1', 'TYO-1', 0.1))
  a.add(event('e2', 'wd-1', 'TYO-1', 0.2))
  a.add(event('e3', 'wd-2', 'OSA-2', 10))
  const s = a.snapshot()
  assert.equal(s.events, 3)
  assert.equal(s.totalWeight, 10.3)
  assert.deepEqual(Object.keys(s.warehouses), ['OSA-2', 'TYO-1'])
  assert.deepEqual(s.warehouses['TYO-1'], { count: 2, totalWeight: 0.3 })
  assert.equal(s.widgets['wd-1']?.count, 2)
  assert.equal(s.widgets['wd-2']?.warehouse, 'OSA-2')
})
