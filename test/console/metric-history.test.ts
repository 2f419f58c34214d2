/**
 * The metrics view's history (console/src/metrics/history.ts): increases between reads of
 * `/metrics`, series that appear after the first read, a restart's drop, and the bound on what
 * is kept.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { MetricSample } from '../../console/src/aws/client.js'
import { MAX_POINTS, MetricHistory } from '../../console/src/metrics/history.js'

const sample = (name: string, rule: string, value: number): MetricSample => ({
  name,
  labels: { EventBusName: 'default', RuleName: rule },
  value,
})

test('increases between reads, per rule and counter', () => {
  const h = new MetricHistory()
  h.add(1000, [sample('TriggeredRules', 'a', 5), sample('Invocations', 'a', 2)])
  h.add(4000, [sample('TriggeredRules', 'a', 9), sample('Invocations', 'a', 2)])
  h.add(7000, [sample('TriggeredRules', 'a', 10), sample('Invocations', 'a', 5)])
  assert.deepEqual(h.increases('default', 'a', 'TriggeredRules'), [
    { from: 1000, time: 4000, value: 4 },
    { from: 4000, time: 7000, value: 1 },
  ])
  assert.deepEqual(
    h.increases('default', 'a', 'Invocations').map((p) => p.value),
    [0, 3],
  )
  assert.equal(h.total('default', 'a', 'TriggeredRules'), 10)
  assert.equal(h.total('default', 'b', 'TriggeredRules'), undefined)
})

test('a counter first exported after the first read counts from 0', () => {
  const h = new MetricHistory()
  h.add(1000, [])
  h.add(4000, [sample('FailedInvocations', 'a', 2)])
  assert.deepEqual(h.increases('default', 'a', 'FailedInvocations'), [
    { from: 1000, time: 4000, value: 2 },
  ])
  // but the totals found at the first read are history from before the page opened
  const g = new MetricHistory()
  g.add(1000, [sample('FailedInvocations', 'a', 2)])
  assert.deepEqual(g.increases('default', 'a', 'FailedInvocations'), [])
})

test('a server restart (a total going down) is no negative count; other names are ignored', () => {
  const h = new MetricHistory()
  h.add(1000, [sample('Invocations', 'a', 7), sample('MatchedEvents', 'a', 99)])
  h.add(4000, [sample('Invocations', 'a', 1)])
  h.add(7000, [sample('Invocations', 'a', 3)])
  assert.deepEqual(
    h.increases('default', 'a', 'Invocations').map((p) => p.value),
    [0, 2],
  )
})

test('only the last MAX_POINTS reads are kept', () => {
  const h = new MetricHistory()
  for (let k = 0; k < MAX_POINTS * 3; k++) h.add(k * 3000, [sample('Invocations', 'a', k)])
  assert.equal(h.length, MAX_POINTS)
  assert.equal(h.oldest, MAX_POINTS * 2 * 3000)
  assert.equal(h.increases('default', 'a', 'Invocations').length, MAX_POINTS - 1)
})
