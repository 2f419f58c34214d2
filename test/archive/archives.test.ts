/**
 * Archives and replays in one process (memory and SQLite stores, manual clock), driven through
 * the operations as the HTTP layer calls them. Routing of replayed events is observed on the
 * bus's tail (the rules each event matched); delivery end to end is in test/e2e.
 */
import Database from 'better-sqlite3'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { afterEach, describe, test } from 'node:test'
import { queryArchive } from '../../src/archive/query.js'
import { BusError } from '../../src/errors.js'
import { ManualClock } from '../../src/clock.js'
import { createTestBus, TEST_SCOPE, type TestBus } from '../helpers/in-process.js'
import { tempDir } from '../helpers/server.js'

const ACCOUNT = TEST_SCOPE.account
const BUS = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/shop`
const ARCHIVE = `arn:aws:events:us-east-1:${ACCOUNT}:archive/orders`
const RULE_A = `arn:aws:events:us-east-1:${ACCOUNT}:rule/shop/a`
const T0 = Date.UTC(2026, 0, 1)

let buses: TestBus[] = []
afterEach(async () => {
  for (const b of buses) await b.close()
  buses = []
})

async function setUp(options: Parameters<typeof createTestBus>[0] = {}) {
  const clock = new ManualClock(T0)
  const bus = await createTestBus({ clock, ...options })
  buses.push(bus)
  await bus.call('CreateEventBus', { Name: 'shop' })
  return { bus, clock }
}

async function rejects(p: Promise<unknown>, code: string, message?: string) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof BusError, String(e))
    assert.equal(e.code, code)
    if (message !== undefined) assert.equal(e.message, message)
    return true
  })
}

/** Puts one event on the shop bus at `time` (ms); returns its id. */
async function put(bus: TestBus, detailType: string, n: number, time: number): Promise<string> {
  const out = (await bus.call('PutEvents', {
    Entries: [
      {
        EventBusName: 'shop',
        Source: 'shop',
        DetailType: detailType,
        Detail: `{"n":${String(n)}}`,
        Time: time / 1000,
      },
    ],
  })) as { Entries: { EventId: string }[] }
  return out.Entries[0]!.EventId
}

/** Records what the tail shows for the shop bus: the envelope and the rules it matched. */
function tail(bus: TestBus) {
  const seen: { event: Record<string, unknown>; rules: string[] }[] = []
  bus.tail.subscribe(BUS, undefined, (line) => {
    seen.push(JSON.parse(line) as (typeof seen)[number])
  })
  return seen
}

async function settle(bus: TestBus, replay: string) {
  await bus.services.replays.settled(`arn:aws:events:us-east-1:${ACCOUNT}:replay/${replay}`)
  return bus.call('DescribeReplay', { ReplayName: replay })
}

describe('archives', () => {
  test('CreateArchive adds a managed rule on the source bus that only the archive may change', async () => {
    const { bus } = await setUp()
    const created = await bus.call('CreateArchive', {
      ArchiveName: 'orders',
      EventSourceArn: BUS,
      EventPattern: '{"detail-type":["order"]}',
    })
    assert.equal(created.ArchiveArn, ARCHIVE)
    assert.equal(created.State, 'ENABLED')
    const rules = (await bus.call('ListRules', { EventBusName: 'shop' })) as {
      Rules: { Name: string; ManagedBy?: string; EventPattern: string }[]
    }
    assert.equal(rules.Rules.length, 1)
    const rule = rules.Rules[0]!
    assert.equal(rule.Name, 'Events-Archive-orders')
    assert.ok(rule.ManagedBy)
    assert.deepEqual(JSON.parse(rule.EventPattern), {
      'detail-type': ['order'],
      'replay-name': [{ exists: false }],
    })
    const named = { Name: 'Events-Archive-orders', EventBusName: 'shop' }
    await rejects(bus.call('DeleteRule', named), 'ManagedRuleException')
    await rejects(bus.call('DisableRule', named), 'ManagedRuleException')
    await rejects(
      bus.call('PutRule', { ...named, EventPattern: '{"source":["x"]}' }),
      'ManagedRuleException',
    )
    await rejects(
      bus.call('PutTargets', {
        Rule: named.Name,
        EventBusName: 'shop',
        Targets: [{ Id: 't', Arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:q` }],
      }),
      'ManagedRuleException',
    )
    await rejects(
      bus.call('TagResource', {
        ResourceARN: `arn:aws:events:us-east-1:${ACCOUNT}:rule/shop/Events-Archive-orders`,
        Tags: [{ Key: 'k', Value: 'v' }],
      }),
      'ManagedRuleException',
    )
    // UpdateArchive's new pattern reaches the rule; DeleteArchive removes rule and archive.
    await bus.call('UpdateArchive', { ArchiveName: 'orders', EventPattern: '{"source":["x"]}' })
    const after = (await bus.call('DescribeRule', named)) as { EventPattern: string }
    assert.deepEqual(JSON.parse(after.EventPattern), {
      source: ['x'],
      'replay-name': [{ exists: false }],
    })
    await bus.call('DeleteArchive', { ArchiveName: 'orders' })
    await rejects(bus.call('DescribeRule', named), 'ResourceNotFoundException')
    await rejects(
      bus.call('DescribeArchive', { ArchiveName: 'orders' }),
      'ResourceNotFoundException',
      'Archive orders does not exist.',
    )
  })

  test('errors and validation', async () => {
    const { bus } = await setUp()
    await bus.call('CreateArchive', { ArchiveName: 'orders', EventSourceArn: BUS })
    await rejects(
      bus.call('CreateArchive', { ArchiveName: 'orders', EventSourceArn: BUS }),
      'ResourceAlreadyExistsException',
      'Archive orders already exists.',
    )
    await rejects(
      bus.call('CreateArchive', {
        ArchiveName: 'other',
        EventSourceArn: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/nope`,
      }),
      'ResourceNotFoundException',
      'Event bus nope does not exist.',
    )
    await rejects(
      bus.call('CreateArchive', { ArchiveName: 'x'.repeat(49), EventSourceArn: BUS }),
      'ValidationException',
      `1 validation error detected: Value '${'x'.repeat(49)}' at 'archiveName' failed to satisfy constraint: Member must have length less than or equal to 48`,
    )
    await rejects(
      bus.call('CreateArchive', { ArchiveName: 'bad', EventSourceArn: BUS, EventPattern: '[1]' }),
      'InvalidEventPatternException',
    )
    await rejects(
      bus.call('CreateArchive', { ArchiveName: 'neg', EventSourceArn: BUS, RetentionDays: -1 }),
      'ValidationException',
    )
    // Checked before the archive's existence.
    await rejects(
      bus.call('UpdateArchive', { ArchiveName: 'missing' }),
      'ValidationException',
      'At least one of EventPattern, RetentionDays or Description must be provided.',
    )
    await rejects(
      bus.call('UpdateArchive', { ArchiveName: 'missing', Description: 'd' }),
      'ResourceNotFoundException',
      'Archive missing does not exist.',
    )
    await rejects(
      bus.call('ListArchives', {
        EventSourceArn: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/nope`,
      }),
      'ResourceNotFoundException',
      'Event bus nope does not exist.',
    )
    await rejects(
      bus.call('ListArchives', { NamePrefix: 'o', State: 'ENABLED' }),
      'ValidationException',
    )
  })

  test('keeps the matching events, counts them and their bytes', async () => {
    const { bus } = await setUp()
    await bus.call('CreateArchive', {
      ArchiveName: 'orders',
      EventSourceArn: BUS,
      EventPattern: '{"detail-type":["order"]}',
    })
    const id1 = await put(bus, 'order', 1, T0)
    await put(bus, 'refund', 2, T0)
    const id3 = await put(bus, 'order', 3, T0 + 1000)
    // The envelopes as EventBridge writes them; the archive's size is their UTF-8 length.
    const envelope = (id: string, n: number, time: string) =>
      `{"version":"0","id":"${id}","detail-type":"order","source":"shop","account":"${ACCOUNT}","time":"${time}","region":"us-east-1","resources":[],"detail":{"n":${String(n)}}}`
    const size =
      Buffer.byteLength(envelope(id1, 1, '2026-01-01T00:00:00Z')) +
      Buffer.byteLength(envelope(id3, 3, '2026-01-01T00:00:01Z'))
    const d = await bus.call('DescribeArchive', { ArchiveName: 'orders' })
    assert.equal(d.EventCount, 2)
    assert.equal(d.SizeBytes, size)
    assert.equal(d.RetentionDays, 0)
    const list = (await bus.call('ListArchives', { EventSourceArn: BUS })) as {
      Archives: { ArchiveName: string; EventCount: number }[]
    }
    assert.deepEqual(
      list.Archives.map((a) => [a.ArchiveName, a.EventCount]),
      [['orders', 2]],
    )
  })

  test('SQLite keeps where each archived event’s time and detail sit, and queries slice them out', async () => {
    const dataDir = tempDir()
    const { bus } = await setUp({ store: 'sqlite', dataDir })
    await bus.call('CreateArchive', { ArchiveName: 'orders', EventSourceArn: BUS })
    await put(bus, 'order', 1, T0)
    await put(bus, 'Bestellung für 🚚', 2, T0 + 86_400_000)
    await put(bus, 'order', 3, T0 + 2 * 86_400_000)
    const file = join(dataDir, 'junction.db')
    const db = new Database(file)
    const positions = db
      .prepare<[], { time_at: number | null; detail_at: number | null }>(
        'SELECT time_at, detail_at FROM archive_events ORDER BY time',
      )
      .all()
    // As a row archived before the positions existed (store migration 8) looks.
    db.prepare('UPDATE archive_events SET time_at = NULL, detail_at = NULL WHERE time = ?').run(
      T0 + 2 * 86_400_000,
    )
    db.close()
    for (const p of positions.slice(0, 2)) assert.ok(p.time_at! > 0 && p.detail_at! > p.time_at!)
    const key = bus.services.archives.get(TEST_SCOPE, 'orders')!.key
    const answer = await queryArchive(
      file,
      key,
      "SELECT detail_type, time, detail, detail ->> '$.n' AS n FROM events",
    )
    assert.deepEqual(answer.rows, [
      ['order', '2026-01-01T00:00:00Z', '{"n":1}', 1],
      ['Bestellung für 🚚', '2026-01-02T00:00:00Z', '{"n":2}', 2],
      ['order', '2026-01-03T00:00:00Z', '{"n":3}', 3],
    ])
  })

  test('retention purges events archived longer ago than RetentionDays, on the clock', async () => {
    const { bus, clock } = await setUp()
    await bus.call('CreateArchive', {
      ArchiveName: 'orders',
      EventSourceArn: BUS,
      RetentionDays: 1,
    })
    await put(bus, 'order', 1, T0)
    clock.advance(12 * 3_600_000)
    await put(bus, 'order', 2, T0)
    clock.advance(11 * 3_600_000) // 23 h after the first: both kept
    await new Promise((r) => setImmediate(r))
    assert.equal((await bus.call('DescribeArchive', { ArchiveName: 'orders' })).EventCount, 2)
    clock.advance(2 * 3_600_000) // 25 h: the hourly purge forgets the first
    await new Promise((r) => setImmediate(r))
    assert.equal((await bus.call('DescribeArchive', { ArchiveName: 'orders' })).EventCount, 1)
    clock.advance(12 * 3_600_000)
    await new Promise((r) => setImmediate(r))
    assert.equal((await bus.call('DescribeArchive', { ArchiveName: 'orders' })).EventCount, 0)
  })
})

describe('replays', () => {
  async function withEvents(options: Parameters<typeof createTestBus>[0] = {}) {
    const ctx = await setUp(options)
    const { bus } = ctx
    await bus.call('PutRule', {
      Name: 'a',
      EventBusName: 'shop',
      EventPattern: '{"source":["shop"]}',
    })
    await bus.call('PutRule', {
      Name: 'b',
      EventBusName: 'shop',
      EventPattern: '{"source":["shop"]}',
    })
    await bus.call('CreateArchive', { ArchiveName: 'orders', EventSourceArn: BUS })
    // Put out of time order: replays follow the events' times.
    const ids: string[] = []
    for (const n of [3, 1, 4, 2, 5]) ids[n] = await put(bus, 'order', n, T0 + n * 10_000)
    return { ...ctx, ids }
  }

  test('replays the window in time order, with replay-name, only to FilterArns; never re-archived', async () => {
    const { bus, ids } = await withEvents()
    const seen = tail(bus)
    const started = await bus.call('StartReplay', {
      ReplayName: 'r1',
      EventSourceArn: ARCHIVE,
      EventStartTime: (T0 + 20_000) / 1000,
      EventEndTime: (T0 + 40_000) / 1000,
      Destination: { Arn: BUS, FilterArns: [RULE_A] },
    })
    assert.equal(started.State, 'STARTING')
    const d = await settle(bus, 'r1')
    assert.equal(d.State, 'COMPLETED')
    assert.equal(d.EventLastReplayedTime, (T0 + 40_000) / 1000)
    assert.deepEqual(
      seen.map((s) => [s.event.id, s.event['replay-name'], s.rules]),
      [
        [ids[2], 'r1', ['a']],
        [ids[3], 'r1', ['a']],
        [ids[4], 'r1', ['a']],
      ],
    )
    // replay-name sits between region and resources, as on EventBridge.
    assert.deepEqual(Object.keys(seen[0]!.event).slice(6, 9), [
      'region',
      'replay-name',
      'resources',
    ])
    assert.equal((await bus.call('DescribeArchive', { ArchiveName: 'orders' })).EventCount, 5)
    await rejects(bus.call('CancelReplay', { ReplayName: 'r1' }), 'IllegalStatusException')
  })

  test('StartReplay errors, in the messages AWS uses', async () => {
    const { bus } = await withEvents()
    const base = {
      ReplayName: 'r',
      EventSourceArn: ARCHIVE,
      EventStartTime: T0 / 1000,
      EventEndTime: T0 / 1000 + 60,
      Destination: { Arn: BUS },
    }
    await rejects(
      bus.call('StartReplay', { ...base, EventEndTime: T0 / 1000 }),
      'ValidationException',
      'Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.',
    )
    await rejects(
      bus.call('StartReplay', {
        ...base,
        EventSourceArn: `arn:aws:events:us-east-1:${ACCOUNT}:archive/nope`,
      }),
      'ValidationException',
      'Parameter EventSourceArn is not valid. Reason: Archive nope does not exist.',
    )
    await rejects(
      bus.call('StartReplay', {
        ...base,
        Destination: { Arn: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default` },
      }),
      'ValidationException',
      'Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.',
    )
    await rejects(
      bus.call('StartReplay', {
        ...base,
        Destination: { Arn: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/gone` },
      }),
      'ResourceNotFoundException',
      'Event bus gone does not exist.',
    )
    await bus.call('StartReplay', base)
    await rejects(
      bus.call('StartReplay', base),
      'ResourceAlreadyExistsException',
      'Replay r already exists.',
    )
    await rejects(
      bus.call('DescribeReplay', { ReplayName: 'nope' }),
      'ResourceNotFoundException',
      'Replay nope does not exist.',
    )
    await settle(bus, 'r')
  })

  test('at most 10 active replays', async () => {
    const { bus } = await withEvents()
    const base = {
      EventSourceArn: ARCHIVE,
      EventStartTime: T0 / 1000,
      EventEndTime: T0 / 1000 + 60,
      Destination: { Arn: BUS },
      JunctionSpeed: 1, // paced on the manual clock: they stay RUNNING
    }
    for (let i = 0; i < 10; i++)
      await bus.call('StartReplay', { ...base, ReplayName: `r${String(i)}` })
    await rejects(
      bus.call('StartReplay', { ...base, ReplayName: 'r10' }),
      'LimitExceededException',
      'The requested resource exceeds the maximum number allowed.',
    )
    for (let i = 0; i < 10; i++) await bus.call('CancelReplay', { ReplayName: `r${String(i)}` })
  })

  test('a paced replay cancelled midway stops at the next event and ends CANCELLED', async () => {
    const { bus, clock, ids } = await withEvents()
    const seen = tail(bus)
    await bus.call('StartReplay', {
      ReplayName: 'slow',
      EventSourceArn: ARCHIVE,
      EventStartTime: T0 / 1000,
      EventEndTime: T0 / 1000 + 60,
      Destination: { Arn: BUS },
      JunctionSpeed: 2, // events 10 s apart → 5 s apart
    })
    const until = async (n: number) => {
      for (let i = 0; i < 100 && seen.length < n; i++) await new Promise((r) => setImmediate(r))
    }
    await until(1)
    assert.equal(seen.length, 1)
    clock.advance(4_999)
    await new Promise((r) => setImmediate(r))
    assert.equal(seen.length, 1, 'not before 5 s')
    clock.advance(1)
    await until(2)
    assert.equal(seen.length, 2)
    const running = await bus.call('DescribeReplay', { ReplayName: 'slow' })
    assert.equal(running.State, 'RUNNING')
    assert.equal(running.EventLastReplayedTime, (T0 + 20_000) / 1000)
    const cancelled = await bus.call('CancelReplay', { ReplayName: 'slow' })
    assert.equal(cancelled.State, 'CANCELLING')
    const d = await settle(bus, 'slow')
    assert.equal(d.State, 'CANCELLED')
    clock.advance(60_000)
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(
      seen.map((s) => s.event.id),
      [ids[1], ids[2]],
    )
  })

  test('a replay interrupted by a stop resumes after its last committed event (SQLite)', async () => {
    const dataDir = tempDir()
    const first = await withEvents({ store: 'sqlite', dataDir })
    const seen = tail(first.bus)
    await first.bus.call('StartReplay', {
      ReplayName: 'resumed',
      EventSourceArn: ARCHIVE,
      EventStartTime: T0 / 1000,
      EventEndTime: T0 / 1000 + 60,
      Destination: { Arn: BUS },
      JunctionSpeed: 1,
    })
    for (let i = 0; i < 200 && seen.length < 1; i++) await new Promise((r) => setTimeout(r, 5))
    first.clock.advance(10_000)
    for (let i = 0; i < 200 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 5))
    assert.equal(seen.length, 2)
    await first.bus.close()
    buses = buses.filter((b) => b !== first.bus)

    const clock = new ManualClock(T0 + 100_000)
    const second = await createTestBus({ clock, store: 'sqlite', dataDir })
    buses.push(second)
    const later = tail(second)
    assert.equal((await second.call('DescribeReplay', { ReplayName: 'resumed' })).State, 'RUNNING')
    for (let n = 1; n <= 3; n++) {
      for (let i = 0; i < 200 && later.length < n; i++) await new Promise((r) => setTimeout(r, 5))
      clock.advance(10_000)
    }
    const d = await settle(second, 'resumed')
    assert.equal(d.State, 'COMPLETED')
    assert.deepEqual(
      [...seen, ...later].map((s) => s.event.id),
      [first.ids[1], first.ids[2], first.ids[3], first.ids[4], first.ids[5]],
    )
  })
})
