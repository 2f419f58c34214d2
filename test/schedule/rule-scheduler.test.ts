/**
 * The rule scheduler on a manual clock: ticks fire at their second (never early, never twice),
 * rate() counts from the rule's creation, changes and disabling take effect, and a restart over
 * the same store fires the ticks missed within the grace period once and counts older ones.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ManualClock } from '../../src/clock.js'
import { Registry } from '../../src/engine/registry.js'
import type { Rule } from '../../src/model.js'
import { createMetrics } from '../../src/observe/metrics.js'
import { RuleScheduler } from '../../src/schedule/rule-scheduler.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import type { Store } from '../../src/store/ports.js'

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0) // a Monday, 12:00:00 UTC
const MIN = 60_000
const silent = { error() {}, warn() {}, info() {} }

type Fire = { rule: string; tick: number; at: number }

async function setUp(
  options: { store?: Store; clock?: ManualClock; graceMs?: number; failFires?: number } = {},
) {
  const store = options.store ?? createMemoryStore()
  const clock = options.clock ?? new ManualClock(T0)
  const registry = await Registry.load(store.config, () => clock.now())
  const metrics = createMetrics()
  const fires: Fire[] = []
  let failures = options.failFires ?? 0
  const scheduler = new RuleScheduler({
    registry,
    store: store.events,
    clock,
    metrics,
    log: silent,
    graceMs: options.graceMs ?? 5 * MIN,
    async fire(rule, tick) {
      if (failures > 0) {
        failures--
        throw new Error('store unavailable')
      }
      // As Ingest.fireSchedule does: the tick is stored with its event.
      await store.events.append([], [], { ticks: [{ ruleArn: rule.arn, tick }] })
      fires.push({ rule: rule.name, tick, at: clock.now() })
    },
  })
  await scheduler.start()
  const bus = registry.bus({ account: '111111111111', region: 'us-east-1' }, 'default')!
  const put = (name: string, expression: string, extra: Partial<Rule> = {}) =>
    registry.putRule(
      {
        name,
        arn: `arn:aws:events:us-east-1:111111111111:rule/${name}`,
        busName: 'default',
        account: '111111111111',
        region: 'us-east-1',
        scheduleExpression: expression,
        scheduleSince: clock.now(),
        state: 'ENABLED',
        createdBy: '111111111111',
        ...extra,
      },
      bus,
    )
  /** Advances as the server does: each timer's work settles before time moves on. */
  const advance = (ms: number) =>
    clock.advanceStepwise(ms, async () => {
      await scheduler.settled()
      await new Promise((r) => setImmediate(r))
    })
  const missed = async () =>
    (await metrics.registry.getSingleMetric('JunctionScheduleMissedTicks')!.get()).values.reduce(
      (n, v) => n + v.value,
      0,
    )
  return { store, clock, registry, scheduler, fires, put, advance, missed }
}

describe('rule scheduler', () => {
  test('rate(1 minute) fires at creation + k minutes, at the second, once each', async () => {
    const s = await setUp()
    await s.clock.advanceStepwise(17_000, () => Promise.resolve()) // created at 12:00:17
    await s.put('r', 'rate(1 minute)')
    await s.advance(59_999)
    assert.equal(s.fires.length, 0, 'nothing before the first minute has passed')
    await s.advance(1)
    await s.advance(3 * MIN)
    assert.deepEqual(
      s.fires.map((f) => f.tick - T0),
      [77_000, 137_000, 197_000, 257_000],
    )
    for (const f of s.fires) assert.equal(f.at, f.tick, 'fired at its tick exactly, not later')
  })

  test('rate(N hours) and rate(N days) tick N periods apart', async () => {
    const s = await setUp()
    await s.put('h', 'rate(2 hours)')
    await s.put('d', 'rate(1 day)')
    await s.advance(2 * 86_400_000)
    const ticks = (name: string) => s.fires.filter((f) => f.rule === name).map((f) => f.tick - T0)
    assert.deepEqual(
      ticks('h'),
      Array.from({ length: 24 }, (_, i) => (i + 1) * 2 * 3_600_000),
    )
    assert.deepEqual(ticks('d'), [86_400_000, 2 * 86_400_000])
  })

  test('cron fires on the minute it names, in UTC', async () => {
    const s = await setUp()
    await s.put('c', 'cron(0/15 12 * * ? *)') // every 15 minutes during 12:xx
    await s.advance(2 * 3_600_000)
    assert.deepEqual(
      s.fires.map((f) => new Date(f.tick).toISOString()),
      ['2026-06-01T12:15:00.000Z', '2026-06-01T12:30:00.000Z', '2026-06-01T12:45:00.000Z'],
      '12:00 itself is the creation instant, not after it',
    )
  })

  test('a disabled rule does not fire, and when enabled again does not catch up', async () => {
    const s = await setUp()
    await s.put('r', 'rate(1 minute)')
    await s.advance(MIN)
    assert.equal(s.fires.length, 1)
    const rule = s.registry.rule('arn:aws:events:us-east-1:111111111111:rule/r')!
    await s.registry.putRule(
      { ...rule, state: 'DISABLED' },
      s.registry.busByArn('arn:aws:events:us-east-1:111111111111:event-bus/default')!,
    )
    await s.advance(10 * MIN)
    assert.equal(s.fires.length, 1, 'no tick while disabled')
    // Enabling sets scheduleSince to now (as EnableRule does): the next tick is a minute on.
    await s.registry.putRule(
      { ...rule, state: 'ENABLED', scheduleSince: s.clock.now() },
      s.registry.busByArn('arn:aws:events:us-east-1:111111111111:event-bus/default')!,
    )
    await s.advance(MIN)
    assert.deepEqual(
      s.fires.map((f) => f.tick - T0),
      [MIN, 12 * MIN],
    )
  })

  test('a deleted rule stops; a changed expression takes effect', async () => {
    const s = await setUp()
    await s.put('a', 'rate(1 minute)')
    await s.put('b', 'rate(1 minute)')
    await s.advance(MIN)
    await s.registry.deleteRule(s.registry.rule('arn:aws:events:us-east-1:111111111111:rule/a')!)
    await s.put('b', 'rate(5 minutes)') // a new schedule counts from now (12:01)
    await s.advance(10 * MIN)
    assert.deepEqual(
      s.fires.map((f) => `${f.rule}@${String((f.tick - T0) / MIN)}`),
      ['a@1', 'b@1', 'b@6', 'b@11'],
    )
  })

  test('a restart over the same store fires nothing twice', async () => {
    const store = createMemoryStore()
    const clock = new ManualClock(T0)
    const first = await setUp({ store, clock })
    await first.put('r', 'rate(1 minute)')
    await first.advance(3 * MIN)
    first.scheduler.stop()
    const second = await setUp({ store, clock })
    await second.advance(2 * MIN)
    assert.deepEqual(
      [...first.fires, ...second.fires].map((f) => (f.tick - T0) / MIN),
      [1, 2, 3, 4, 5],
    )
  })

  test('ticks missed while down: those within the grace period fire once at start, older ones are counted', async () => {
    const store = createMemoryStore()
    const clock = new ManualClock(T0)
    const first = await setUp({ store, clock })
    await first.put('r', 'rate(1 minute)')
    await first.advance(MIN)
    first.scheduler.stop()
    // Down for 10 minutes and 30 seconds: ticks 2..10 were due; 12:10:30 - 5 min = 12:05:30.
    clock.advance(9 * MIN + 30_000)
    const second = await setUp({ store, clock, graceMs: 5 * MIN })
    await second.scheduler.settled()
    assert.deepEqual(
      second.fires.map((f) => (f.tick - T0) / MIN),
      [6, 7, 8, 9, 10],
      'the five within the grace period, in order, once each',
    )
    for (const f of second.fires) assert.equal(f.at, T0 + 10 * MIN + 30_000, 'fired at start')
    assert.equal(await second.missed(), 4, 'ticks 2 to 5 were missed')
    await second.advance(MIN)
    assert.deepEqual(
      second.fires.map((f) => (f.tick - T0) / MIN),
      [6, 7, 8, 9, 10, 11],
    )
  })

  test('a tick that could not be stored is tried again, not skipped', async () => {
    const s = await setUp({ failFires: 2 })
    await s.put('r', 'rate(1 minute)')
    await s.advance(MIN + 5_000)
    assert.deepEqual(
      s.fires.map((f) => [(f.tick - T0) / MIN, f.at - T0]),
      [[1, MIN + 2_000]],
      'fired once its store write succeeded (two retries a second apart)',
    )
  })

  test('ten thousand rules due at the same second fire together', async () => {
    const s = await setUp()
    for (let i = 0; i < 10_000; i++) await s.put(`r${String(i)}`, 'cron(* * * * ? *)')
    await s.advance(2 * MIN)
    assert.equal(s.fires.length, 20_000)
    assert.equal(new Set(s.fires.map((f) => `${f.rule} ${String(f.tick)}`)).size, 20_000)
    assert.ok(s.fires.every((f) => f.at === f.tick))
  })
})
