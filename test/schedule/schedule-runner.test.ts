/**
 * Scheduler's schedules on a manual clock (scheduler-cdc-consoles.md §1.2–1.3): cron in a time
 * zone across DST nights (the spring-forward time skipped, the fall-back time once), at() once
 * and never early, rate() from StartDate to before EndDate and "immediately" without StartDate,
 * a flexible window never early, DISABLED firing nothing, ActionAfterCompletion DELETE, and a
 * restart over the same store that neither repeats a tick nor loses one within the grace period.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ManualClock } from '../../src/clock.js'
import { createMetrics } from '../../src/observe/metrics.js'
import { ScheduleRunner } from '../../src/schedule/schedule-runner.js'
import { scheduleArn, Schedules, type Schedule } from '../../src/schedule/schedules.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import type { Store } from '../../src/store/ports.js'

const MIN = 60_000
const HOUR = 60 * MIN
const silent = { error() {}, warn() {} }
const scope = { account: '111111111111', region: 'us-east-1' }
const iso = (ms: number) => new Date(ms).toISOString()

async function setUp(start: number, options: { store?: Store; clock?: ManualClock } = {}) {
  const store = options.store ?? createMemoryStore()
  const clock = options.clock ?? new ManualClock(start)
  const schedules = new Schedules(store.config, () => clock.now())
  schedules.load(await store.config.load())
  const fires: { name: string; tick: number; at: number }[] = []
  const runner = new ScheduleRunner({
    schedules,
    store: store.events,
    clock,
    metrics: createMetrics(),
    log: silent,
    graceMs: 5 * MIN,
    purgeCompleted: () => schedules.purgeCompleted(),
    async fire(schedule, tick) {
      await store.events.append([], [], { ticks: [{ ruleArn: schedule.arn, tick }] })
      fires.push({ name: schedule.name, tick, at: clock.now() })
    },
  })
  await runner.start()
  const put = (name: string, expression: string, extra: Partial<Schedule> = {}) =>
    schedules.put({
      name,
      group: 'default',
      arn: scheduleArn(scope, 'default', name),
      ...scope,
      expression,
      timeZone: 'UTC',
      state: 'ENABLED',
      flexibleWindow: { mode: 'OFF' },
      actionAfterCompletion: 'NONE',
      target: { Arn: 'arn:aws:sqs:us-east-1:111111111111:q', RoleArn: 'r' },
      createdAt: clock.now(),
      modifiedAt: clock.now(),
      since: clock.now(),
      ...extra,
    })
  const advance = (ms: number) =>
    clock.advanceStepwise(ms, async () => {
      await runner.settled()
      await new Promise((r) => setImmediate(r))
    })
  return { store, clock, schedules, runner, fires, put, advance }
}

describe('Scheduler schedules', () => {
  test('cron in America/New_York: the nonexistent 02:30 of spring forward is skipped', async () => {
    // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT.
    const s = await setUp(Date.UTC(2026, 2, 7, 12))
    await s.put('spring', 'cron(30 2 * * ? *)', { timeZone: 'America/New_York' })
    await s.advance(3 * 24 * HOUR)
    assert.deepEqual(
      s.fires.map((f) => iso(f.tick)),
      ['2026-03-09T06:30:00.000Z', '2026-03-10T06:30:00.000Z'],
    )
    s.runner.stop()
  })

  test('cron in America/New_York: the repeated 01:30 of fall back fires once', async () => {
    // 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST; 01:30 happens twice.
    const s = await setUp(Date.UTC(2026, 9, 31, 12))
    await s.put('fall', 'cron(30 1 * * ? *)', { timeZone: 'America/New_York' })
    await s.advance(2 * 24 * HOUR)
    assert.deepEqual(
      s.fires.map((f) => iso(f.tick)),
      ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    )
    for (const f of s.fires) assert.equal(f.at, f.tick, 'fired at its time')
    s.runner.stop()
  })

  test('at() fires once, at its time and not a second before', async () => {
    const t0 = Date.UTC(2026, 5, 1, 12)
    const s = await setUp(t0)
    await s.put('once', 'at(2026-06-01T12:10:00)')
    await s.advance(10 * MIN - 1000)
    assert.equal(s.fires.length, 0)
    await s.advance(1000)
    assert.deepEqual(s.fires, [{ name: 'once', tick: t0 + 10 * MIN, at: t0 + 10 * MIN }])
    await s.advance(24 * HOUR)
    assert.equal(s.fires.length, 1)
    // Not deleted without ActionAfterCompletion DELETE.
    assert.ok(s.schedules.get(scope, 'default', 'once'))
    s.runner.stop()
  })

  test('at() read in its time zone', async () => {
    const s = await setUp(Date.UTC(2026, 5, 1, 12))
    await s.put('tz', 'at(2026-06-01T09:00:00)', { timeZone: 'America/New_York' })
    await s.advance(2 * HOUR)
    assert.deepEqual(
      s.fires.map((f) => iso(f.tick)),
      ['2026-06-01T13:00:00.000Z'],
    )
    s.runner.stop()
  })

  test('at() already past when created does not fire', async () => {
    const s = await setUp(Date.UTC(2026, 5, 1, 12))
    await s.put('past', 'at(2026-06-01T11:59:00)')
    await s.advance(HOUR)
    assert.equal(s.fires.length, 0)
    s.runner.stop()
  })

  test('rate() from StartDate, only before EndDate', async () => {
    const t0 = Date.UTC(2026, 5, 1, 12)
    const s = await setUp(t0)
    await s.put('r', 'rate(10 minutes)', { startDate: t0 + 5 * MIN, endDate: t0 + 35 * MIN })
    await s.advance(2 * HOUR)
    assert.deepEqual(
      s.fires.map((f) => (f.tick - t0) / MIN),
      [5, 15, 25],
    )
    s.runner.stop()
  })

  test('rate() with a past StartDate keeps its rhythm from creation on, firing nothing older', async () => {
    const t0 = Date.UTC(2026, 5, 1, 12)
    const s = await setUp(t0)
    await s.put('r', 'rate(10 minutes)', { startDate: t0 - 2 * MIN - 24 * HOUR })
    await s.advance(30 * MIN)
    assert.deepEqual(
      s.fires.map((f) => (f.tick - t0) / MIN),
      [8, 18, 28],
    )
    s.runner.stop()
  })

  test('rate() without StartDate runs immediately, then every period', async () => {
    const t0 = Date.UTC(2026, 5, 1, 12, 0, 30)
    const s = await setUp(t0)
    await s.put('r', 'rate(1 hour)')
    await s.advance(2 * HOUR + MIN)
    assert.deepEqual(
      s.fires.map((f) => (f.tick - t0) / MIN),
      [0, 60, 120],
    )
    s.runner.stop()
  })

  test('a flexible window delays the invocation within the window, never before the tick', async () => {
    const t0 = Date.UTC(2026, 5, 1, 12)
    const s = await setUp(t0)
    await s.put('flex', 'cron(0 * * * ? *)', {
      flexibleWindow: { mode: 'FLEXIBLE', maximumWindowInMinutes: 15 },
    })
    // Ticks 13:00 … 17:00; the last one's invocation comes up to 15 minutes later.
    await s.advance(5 * HOUR + 15 * MIN)
    assert.equal(s.fires.length, 5)
    for (const f of s.fires) {
      assert.ok(f.at >= f.tick, `${iso(f.at)} is not before ${iso(f.tick)}`)
      assert.ok(f.at < f.tick + 15 * MIN, `${iso(f.at)} is within 15 minutes of ${iso(f.tick)}`)
    }
    // Spread, not all at the same offset.
    assert.ok(new Set(s.fires.map((f) => f.at - f.tick)).size > 1)
    s.runner.stop()
  })

  test('DISABLED fires nothing; enabling does not catch up', async () => {
    const t0 = Date.UTC(2026, 5, 1, 12)
    const s = await setUp(t0)
    await s.put('d', 'rate(5 minutes)', { state: 'DISABLED', startDate: t0 + MIN })
    await s.advance(HOUR)
    assert.equal(s.fires.length, 0)
    await s.put('d', 'cron(0/5 * * * ? *)', { since: s.clock.now() })
    await s.advance(5 * MIN)
    assert.deepEqual(
      s.fires.map((f) => (f.tick - t0) / MIN),
      [65],
    )
    s.runner.stop()
  })

  test('ActionAfterCompletion DELETE: a one-time schedule is deleted after its invocation', async () => {
    const s = await setUp(Date.UTC(2026, 5, 1, 12))
    await s.put('gone', 'at(2026-06-01T12:01:00)', { actionAfterCompletion: 'DELETE' })
    await s.advance(30 * 1000)
    assert.ok(s.schedules.get(scope, 'default', 'gone'))
    await s.advance(60 * 1000)
    assert.equal(s.fires.length, 1)
    assert.equal(s.schedules.get(scope, 'default', 'gone'), undefined)
    // Kept for deliveries still owed, out of sight of the API.
    assert.ok(s.schedules.byArn(scheduleArn(scope, 'default', 'gone'))?.completedAt)
    assert.equal(s.schedules.list(scope).length, 0)
    // Dropped once its invocation can no longer be retried (default event age: 24 hours).
    await s.advance(23 * HOUR)
    assert.ok(s.schedules.byArn(scheduleArn(scope, 'default', 'gone')))
    await s.advance(2 * HOUR)
    assert.equal(s.schedules.byArn(scheduleArn(scope, 'default', 'gone')), undefined)
    s.runner.stop()
  })

  test('ActionAfterCompletion DELETE: a recurring schedule goes after its last tick before EndDate', async () => {
    const t0 = Date.UTC(2026, 5, 1, 12)
    const s = await setUp(t0)
    await s.put('ends', 'rate(10 minutes)', {
      actionAfterCompletion: 'DELETE',
      startDate: t0 + 10 * MIN,
      endDate: t0 + 30 * MIN,
    })
    await s.put('endless', 'rate(10 minutes)', {
      actionAfterCompletion: 'DELETE',
      startDate: t0 + 10 * MIN,
    })
    await s.advance(15 * MIN)
    assert.ok(s.schedules.get(scope, 'default', 'ends'))
    await s.advance(10 * MIN)
    assert.equal(s.schedules.get(scope, 'default', 'ends'), undefined)
    assert.deepEqual(
      s.fires.filter((f) => f.name === 'ends').map((f) => (f.tick - t0) / MIN),
      [10, 20],
    )
    await s.advance(HOUR)
    assert.ok(s.schedules.get(scope, 'default', 'endless'), 'no EndDate: never deleted')
    s.runner.stop()
  })

  test('a restart neither repeats a fired tick nor loses one missed within the grace period', async () => {
    const t0 = Date.UTC(2026, 5, 1, 12)
    const store = createMemoryStore()
    const clock = new ManualClock(t0)
    const first = await setUp(t0, { store, clock })
    await first.put('r', 'cron(0/10 * * * ? *)')
    await first.advance(20 * MIN)
    first.runner.stop()
    assert.deepEqual(
      first.fires.map((f) => (f.tick - t0) / MIN),
      [10, 20],
    )
    // Down from 12:20 to 12:32: the 12:30 tick is 2 minutes late, within the grace period.
    clock.advance(12 * MIN)
    const second = await setUp(t0, { store, clock })
    await second.advance(0)
    await second.advance(10 * MIN)
    assert.deepEqual(
      second.fires.map((f) => (f.tick - t0) / MIN),
      [30, 40],
    )
    second.runner.stop()
  })
})
