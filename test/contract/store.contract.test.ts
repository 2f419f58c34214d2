/**
 * The store contract: every adapter (memory, SQLite) passes the same tests. The SQLite adapter
 * also keeps everything across a close and reopen, and records its schema version.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { describe, test } from 'node:test'
import Database from 'better-sqlite3'
import type { DeliveryJob, StoredEvent } from '../../src/model.js'
import type { QueueRecord, StoredMessage } from '../../src/queue/model.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js'
import { queryArchive } from '../../src/archive/query.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import type { EventStore, LocalStore as Store } from '../../src/store/ports.js'
import { tempDir } from '../helpers/server.js'

const BUS = 'arn:aws:events:us-east-1:111111111111:event-bus/default'
const OTHER_BUS = 'arn:aws:events:us-east-1:111111111111:event-bus/other'

const event = (id: string, busArn = BUS): StoredEvent => ({
  id,
  busArn,
  text: `{"version":"0","id":"${id}","detail":{"n":1e400}}`,
  ingestedAt: 1_700_000_000_123,
  hops: 0,
})
const job = (id: number, e: StoredEvent, targetId = 't'): DeliveryJob => ({
  id,
  eventId: e.id,
  busArn: e.busArn,
  ruleArn: 'arn:aws:events:us-east-1:111111111111:rule/r',
  targetId,
  attempts: 0,
  dueAt: e.ingestedAt,
})

/** Every pending job, in key order. */
const pending = (events: EventStore) => events.due(undefined, Number.MAX_SAFE_INTEGER)

const queue = (id: string, name = id): QueueRecord => ({
  id,
  name,
  account: '111111111111',
  region: 'us-east-1',
  attributes: { VisibilityTimeout: '30' },
  tags: { team: 'widgets' },
  createdAt: 1_700_000_000_000,
  modifiedAt: 1_700_000_000_000,
})
const message = (
  seq: number,
  queueId: string,
  extra: Partial<StoredMessage> = {},
): StoredMessage => ({
  seq,
  queueId,
  id: `m-${String(seq)}`,
  // Characters a careless encoding would damage: a CR, non-BMP, quotes.
  body: `body ${String(seq)} \r\n "q" \u{1F600}`,
  senderId: '111111111111',
  sentAt: 1_700_000_000_000 + seq,
  visibleAt: 1_700_000_000_000 + seq,
  receiveCount: 0,
  ...extra,
})

/** Every stored message of the queues, by seq, read a page at a time. */
function messagesOf(s: Store, queueIds: string[]): StoredMessage[] {
  const out: StoredMessage[] = []
  for (const id of queueIds) {
    let after = { visibleAt: 0, seq: 0 }
    for (;;) {
      const page = s.queues.page(id, 'seq', after, 2)
      out.push(...page)
      if (page.length < 2) break
      after = { visibleAt: 0, seq: page[page.length - 1]!.seq }
    }
  }
  return out.sort((a, b) => a.seq - b.seq)
}

const adapters: [string, () => { store: Store; reopen?: () => Store }][] = [
  ['memory', () => ({ store: createMemoryStore() })],
  [
    'sqlite',
    () => {
      const dataDir = tempDir('junction-contract-')
      return { store: createSqliteStore({ dataDir }), reopen: () => createSqliteStore({ dataDir }) }
    },
  ],
]

for (const [name, make] of adapters) {
  describe(`store contract: ${name}`, () => {
    test('config documents: put, replace, delete, all applied atomically', async () => {
      const { store } = make()
      await store.config.apply([
        { op: 'put', kind: 'bus', key: 'a', doc: { name: 'a' } },
        { op: 'put', kind: 'rule', key: 'r', doc: { name: 'r', pattern: '{"n":[1.50]}' } },
      ])
      await store.config.apply([
        { op: 'put', kind: 'bus', key: 'a', doc: { name: 'a2' } },
        { op: 'delete', kind: 'rule', key: 'r' },
      ])
      assert.deepEqual(await store.config.load(), [{ kind: 'bus', key: 'a', doc: { name: 'a2' } }])
      await store.close()
    })

    test('appended jobs are pending with their events, byte for byte, until finished', async () => {
      const { store } = make()
      const e1 = event('e1')
      const e2 = event('e1', OTHER_BUS) // the same id on another bus (after a bus-to-bus hop)
      await store.events.append([e1, e2], [job(1, e1, 'a'), job(2, e1, 'b'), job(3, e2)])
      let rows = await pending(store.events)
      assert.deepEqual(
        rows.map((p) => [p.job.id, p.event.busArn, p.event.text]),
        [
          [1, BUS, e1.text],
          [2, BUS, e1.text],
          [3, OTHER_BUS, e2.text],
        ],
      )
      assert.equal(await store.events.maxJobId(), 3)
      await store.events.finish([1, 3])
      rows = await pending(store.events)
      assert.deepEqual(
        rows.map((p) => p.job.id),
        [2],
      )
      await store.close()
    })

    test('a rescheduled job keeps its new attempt count and due time', async () => {
      const { store } = make()
      const e = event('e')
      await store.events.append([e], [job(7, e)])
      await store.events.reschedule({ ...job(7, e), attempts: 3, dueAt: 42 })
      const [p] = await pending(store.events)
      assert.equal(p!.job.attempts, 3)
      assert.equal(p!.job.dueAt, 42)
      await store.close()
    })

    test('due pages pending jobs in (due time, id) order after a key, with their events', async () => {
      const { store, reopen } = make()
      const e1 = event('e1')
      const e2 = event('e2', OTHER_BUS)
      // Ids and due times in different orders, and two jobs sharing a due time.
      const jobs = [
        { ...job(5, e1, 'a'), dueAt: 300 },
        { ...job(2, e1, 'b'), dueAt: 100 },
        { ...job(9, e2, 'c'), dueAt: 200 },
        { ...job(3, e2, 'd'), dueAt: 200 },
        { ...job(4, e1, 'e'), dueAt: -50 },
      ]
      await store.events.append([e1, e2], jobs)
      const keys = (ps: { job: DeliveryJob }[]) => ps.map((p) => [p.job.dueAt, p.job.id])
      const order = [
        [-50, 4],
        [100, 2],
        [200, 3],
        [200, 9],
        [300, 5],
      ]
      assert.deepEqual(keys(await store.events.due(undefined, 10)), order)
      assert.deepEqual(keys(await store.events.due(undefined, 2)), order.slice(0, 2))
      // After a key: strictly after it, ties on the due time broken by id.
      assert.deepEqual(keys(await store.events.due({ dueAt: 200, id: 3 }, 10)), order.slice(3))
      assert.deepEqual(keys(await store.events.due({ dueAt: 200, id: 2 }, 1)), [[200, 3]])
      assert.deepEqual(keys(await store.events.due({ dueAt: 100, id: 99 }, 10)), order.slice(2))
      assert.deepEqual(await store.events.due({ dueAt: 300, id: 5 }, 10), [])
      assert.equal(await store.events.pendingCount(), 5)
      // Each job comes with its own event, byte for byte, and every field of the job.
      const [first] = await store.events.due({ dueAt: 200, id: 3 }, 1)
      assert.deepEqual(first, { job: jobs[2], event: e2 })
      // A reschedule moves a job in the order; a finish takes it out.
      await store.events.reschedule({ ...jobs[4]!, attempts: 1, dueAt: 250 })
      await store.events.finish([3])
      const after = [
        [100, 2],
        [200, 9],
        [250, 4],
        [300, 5],
      ]
      assert.deepEqual(keys(await store.events.due(undefined, 10)), after)
      assert.equal(await store.events.pendingCount(), 4)
      await store.close()
      if (reopen) {
        const again = reopen()
        assert.deepEqual(keys(await again.events.due({ dueAt: 100, id: 2 }, 10)), after.slice(1))
        await again.close()
      }
    })

    test('paging through a backlog page by page visits every job once', async () => {
      const { store } = make()
      const e = event('many')
      // 250 jobs over 7 due times (pages start and end inside a due time), appended out of order.
      const jobs = Array.from({ length: 250 }, (_, i) => ({
        ...job(1000 - i * 3, e, `t${String(i)}`),
        dueAt: (i * 37) % 7,
      }))
      await store.events.append([e], jobs)
      const seen: number[] = []
      let after: { dueAt: number; id: number } | undefined
      for (;;) {
        const page = await store.events.due(after, 40)
        for (const p of page) seen.push(p.job.id)
        if (page.length < 40) break
        after = page[page.length - 1]!.job
      }
      assert.equal(seen.length, 250)
      assert.equal(new Set(seen).size, 250)
      const expected = [...jobs].sort((a, b) => a.dueAt - b.dueAt || a.id - b.id).map((j) => j.id)
      assert.deepEqual(seen, expected)
      await store.close()
    })

    test('a dead letter finishes its job and is listed per queue with its attributes', async () => {
      const { store } = make()
      const e = event('e')
      await store.events.append([e], [job(1, e), job(2, e, 'u')])
      await store.events.deadLetter({
        job: { ...job(1, e), attempts: 3 },
        event: e,
        dlqArn: 'arn:aws:sqs:us-east-1:111111111111:dlq',
        ruleArn: 'arn:aws:events:us-east-1:111111111111:rule/r',
        targetArn: 'arn:t',
        errorCode: 'SDK_CLIENT_ERROR',
        errorMessage: 'boom',
        exhaustedRetryCondition: 'MaximumRetryAttempts',
        retryAttempts: 2,
        at: 99,
      })
      assert.deepEqual(
        (await pending(store.events)).map((p) => p.job.id),
        [2],
      )
      const letters = await store.events.deadLetters('arn:aws:sqs:us-east-1:111111111111:dlq')
      assert.equal(letters.length, 1)
      assert.equal(letters[0]!.event.text, e.text)
      assert.equal(letters[0]!.exhaustedRetryCondition, 'MaximumRetryAttempts')
      assert.equal(letters[0]!.retryAttempts, 2)
      assert.equal(letters[0]!.errorCode, 'SDK_CLIENT_ERROR')
      assert.deepEqual(
        await store.events.deadLetters('arn:aws:sqs:us-east-1:111111111111:other'),
        [],
      )
      await store.close()
    })

    test('queues and messages: insert, update, remove, purge, drop, each write atomic', async () => {
      const { store, reopen } = make()
      const attrs = { a: { dataType: 'Binary', binaryValue: 'AAEC' } }
      await store.queues.write([
        { t: 'putQueue', queue: queue('q1') },
        { t: 'putQueue', queue: queue('q2') },
      ])
      await store.queues.write([
        {
          t: 'insert',
          messages: [
            message(1, 'q1', { attributes: attrs, traceHeader: 'Root=1' }),
            message(2, 'q1', { groupId: 'g', dedupId: 'd' }),
            message(3, 'q2'),
            message(4, 'q2'),
          ],
          dedup: [{ queueId: 'q1', key: 'd', messageId: 'm-2', seq: 2, at: 5 }],
        },
      ])
      await store.queues.write([
        {
          t: 'update',
          messages: [
            {
              seq: 1,
              queueId: 'q1',
              visibleAt: 99,
              receiveCount: 2,
              firstReceivedAt: 7,
              receipt: 'tok',
            },
          ],
        },
        { t: 'remove', seqs: [2] },
        { t: 'purge', queueId: 'q2', upToSeq: 3 },
      ])
      const check = async (s: Store) => {
        const snap = await s.queues.load()
        assert.deepEqual(snap.queues.map((q) => q.id).sort(), ['q1', 'q2'])
        assert.deepEqual(
          snap.queues.find((q) => q.id === 'q1'),
          queue('q1'),
        )
        assert.deepEqual(messagesOf(s, ['q1', 'q2']), [
          message(1, 'q1', {
            attributes: attrs,
            traceHeader: 'Root=1',
            visibleAt: 99,
            receiveCount: 2,
            firstReceivedAt: 7,
            receipt: 'tok',
          }),
          message(4, 'q2'),
        ])
        assert.deepEqual(snap.dedup, [{ queueId: 'q1', key: 'd', messageId: 'm-2', seq: 2, at: 5 }])
        // Seqs continue after the highest ever inserted, deleted or not.
        assert.equal(snap.maxSeq, 4)
      }
      await check(store)
      await store.queues.write([
        { t: 'dropQueue', queueId: 'q2' },
        { t: 'pruneDedup', before: 6 },
      ])
      const snap = await store.queues.load()
      assert.deepEqual(
        snap.queues.map((q) => q.id),
        ['q1'],
      )
      assert.deepEqual(
        messagesOf(store, ['q1', 'q2']).map((m) => m.seq),
        [1],
      )
      assert.deepEqual(snap.dedup, [])
      await store.close()
      if (reopen) {
        const again = reopen()
        const after = await again.queues.load()
        assert.deepEqual(
          messagesOf(again, ['q1', 'q2']).map((m) => m.seq),
          [1],
        )
        assert.equal(after.maxSeq, 4)
        await again.close()
      }
    })

    test('queue messages are counted, paged, found and expired without loading them all', async () => {
      const { store } = make()
      await store.queues.write([
        { t: 'putQueue', queue: queue('q') },
        { t: 'putQueue', queue: queue('other') },
      ])
      const T = 1_700_000_000_000
      await store.queues.write([
        {
          t: 'insert',
          messages: [
            // Visible at T; a tie on visibleAt is ordered by seq.
            message(1, 'q', { sentAt: T - 5000, visibleAt: T }),
            message(2, 'q', { sentAt: T - 4000, visibleAt: T - 10 }),
            message(3, 'q', { sentAt: T - 3000, visibleAt: T }),
            // In flight until T + 1500 (due at the end of that second), delayed until T + 2000.
            message(4, 'q', { sentAt: T - 2000, visibleAt: T + 1500, receiveCount: 1 }),
            message(5, 'q', { sentAt: T - 1000, visibleAt: T + 2000 }),
            message(6, 'q', { sentAt: T, visibleAt: T + 1001, receiveCount: 2 }),
            message(7, 'other', { sentAt: T - 9000, visibleAt: T }),
          ],
          dedup: [],
        },
      ])
      assert.deepEqual(store.queues.census('q', T), {
        visible: 3,
        hidden: [{ due: T + 2000, inflight: 2, delayed: 1 }],
        maxInflightSeq: 6,
      })
      assert.deepEqual(store.queues.census('none', T), {
        visible: 0,
        hidden: [],
        maxInflightSeq: 0,
      })
      const seqs = (ms: StoredMessage[]) => ms.map((m) => m.seq)
      const start = { visibleAt: Number.MIN_SAFE_INTEGER, seq: 0 }
      assert.deepEqual(seqs(store.queues.page('q', 'visibility', start, 10)), [2, 1, 3, 6, 4, 5])
      assert.deepEqual(
        seqs(store.queues.page('q', 'visibility', { visibleAt: T, seq: 1 }, 2)),
        [3, 6],
      )
      assert.deepEqual(seqs(store.queues.page('q', 'seq', { visibleAt: 0, seq: 2 }, 3)), [3, 4, 5])
      assert.deepEqual(store.queues.page('q', 'seq', { visibleAt: 0, seq: 0 }, 1), [
        message(1, 'q', { sentAt: T - 5000, visibleAt: T }),
      ])
      assert.equal(store.queues.message('q', 'm-4', 4)?.receiveCount, 1)
      assert.equal(store.queues.message('q', 'm-4')?.seq, 4)
      // The id, seq and queue must all match.
      assert.equal(store.queues.message('q', 'm-4', 5), undefined)
      assert.equal(store.queues.message('other', 'm-4', 4), undefined)
      assert.deepEqual(
        store.queues.expired('q', T - 2500, 0, 10).map((m) => [m.seq, m.sentAt]),
        [
          [1, T - 5000],
          [2, T - 4000],
          [3, T - 3000],
        ],
      )
      assert.deepEqual(store.queues.expired('q', T - 2500, 1, 1), [
        { seq: 2, id: 'm-2', sentAt: T - 4000, visibleAt: T - 10, receiveCount: 0 },
      ])
      await store.close()
    })

    test('a dead letter stored as a queue message finishes its job in the same write', async () => {
      const { store } = make()
      const e = event('dl')
      await store.events.append([e], [job(7, e)])
      await store.queues.write([{ t: 'putQueue', queue: queue('dlq') }])
      await store.queues.write([
        { t: 'insert', messages: [message(1, 'dlq', { body: e.text })], dedup: [] },
        { t: 'finishJob', jobId: 7 },
      ])
      assert.deepEqual(await pending(store.events), [])
      assert.deepEqual(
        messagesOf(store, ['dlq']).map((m) => m.body),
        [e.text],
      )
      await store.close()
    })

    test('job ids never go back, even after every job has finished', async () => {
      const { store, reopen } = make()
      const e = event('e')
      await store.events.append([e], [job(41, e)])
      await store.events.finish([41])
      assert.equal(await store.events.maxJobId(), 41)
      await store.close()
      if (reopen) {
        const again = reopen()
        assert.equal(await again.events.maxJobId(), 41)
        await again.close()
      }
    })

    test('schedule ticks are stored with their events; each rule keeps its latest', async () => {
      const { store, reopen } = make()
      const a = 'arn:aws:events:us-east-1:111111111111:rule/a'
      const b = 'arn:aws:events:us-east-1:111111111111:rule/b'
      assert.deepEqual(await store.events.scheduleTicks(), new Map())
      const e1 = event('tick-1')
      await store.events.append([e1], [job(1, e1)], { ticks: [{ ruleArn: a, tick: 60_000 }] })
      await store.events.append([], [], { ticks: [{ ruleArn: b, tick: 120_000 }] })
      await store.events.append([], [], { ticks: [{ ruleArn: a, tick: 180_000 }] })
      // A late write of an older tick never moves a rule's record back.
      await store.events.append([], [], { ticks: [{ ruleArn: a, tick: 120_000 }] })
      const expected = new Map([
        [a, 180_000],
        [b, 120_000],
      ])
      assert.deepEqual(await store.events.scheduleTicks(), expected)
      assert.deepEqual(
        (await pending(store.events)).map((p) => p.event.id),
        ['tick-1'],
      )
      await store.close()
      if (reopen) {
        const again = reopen()
        assert.deepEqual(await again.events.scheduleTicks(), expected)
        await again.close()
      }
    })

    test('archived events: written with their append, paged in time order, counted, purged, dropped', async () => {
      const { store, reopen } = make()
      const at = (id: string, ingestedAt: number): StoredEvent => ({ ...event(id), ingestedAt })
      const [a, b, c, d] = [at('a', 1000), at('b', 2000), at('c', 3000), at('d', 4000)]
      // Archive 7 keeps a, b, c (times out of arrival order); archive 8 keeps d; config rides along.
      await store.events.append([a, b], [job(1, a)], {
        archived: [
          { archive: 7, event: 0, time: 50_000 },
          { archive: 7, event: 1, time: 10_000 },
        ],
        config: [{ op: 'put', kind: 'replay', key: 'r', doc: { cursor: 1 } }],
      })
      await store.events.append([c, d], [], {
        archived: [
          { archive: 7, event: 0, time: 30_000 },
          { archive: 8, event: 1, time: 30_000 },
        ],
      })
      assert.deepEqual(await store.config.load(), [
        { kind: 'replay', key: 'r', doc: { cursor: 1 } },
      ])
      const ids = async (from: number, to: number, after?: { time: number; seq: number }) =>
        (await store.archives.page(7, from, to, after, 10)).map((x) => x.event.id)
      assert.deepEqual(await ids(0, 100_000), ['b', 'c', 'a'])
      assert.deepEqual(await ids(10_000, 30_000), ['b', 'c'])
      const first = (await store.archives.page(7, 0, 100_000, undefined, 1))[0]!
      assert.equal(first.event.text, b.text)
      assert.equal(first.archivedAt, 2000)
      assert.deepEqual(await ids(0, 100_000, { time: first.time, seq: first.seq }), ['c', 'a'])
      const bytes = Buffer.byteLength(a.text)
      assert.deepEqual(await store.archives.stats(7), { eventCount: 3, sizeBytes: 3 * bytes })
      await store.archives.purge(7, 2500) // a and b were archived before
      assert.deepEqual(await ids(0, 100_000), ['c'])
      await store.archives.drop(7)
      assert.deepEqual(await store.archives.stats(7), { eventCount: 0, sizeBytes: 0 })
      assert.deepEqual(await store.archives.stats(8), { eventCount: 1, sizeBytes: bytes })
      await store.close()
      if (reopen) {
        const again = reopen()
        assert.deepEqual(
          (await again.archives.page(8, 0, 100_000, undefined, 10)).map((x) => x.event.id),
          ['d'],
        )
        await again.close()
      }
    })
  })
}

describe('store: sqlite specifics', () => {
  test('everything committed is there after a reopen; the schema version is recorded', async () => {
    const dataDir = tempDir('junction-contract-')
    const store = createSqliteStore({ dataDir })
    const e = event('persisted')
    await store.config.apply([{ op: 'put', kind: 'bus', key: BUS, doc: { name: 'default' } }])
    await store.events.append([e], [job(1, e)])
    await store.close()
    const again = createSqliteStore({ dataDir })
    assert.deepEqual(await again.config.load(), [
      { kind: 'bus', key: BUS, doc: { name: 'default' } },
    ])
    assert.deepEqual(
      (await pending(again.events)).map((p) => p.event.text),
      [e.text],
    )
    await again.close()
    const db = new Database(`${dataDir}/junction.db`, { readonly: true })
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length)
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    db.close()
    rmSync(dataDir, { recursive: true })
  })

  test('a page of due jobs is a range scan of the deliveries_by_due index, not a sort', async () => {
    const dataDir = tempDir('junction-contract-')
    const store = createSqliteStore({ dataDir })
    await store.close()
    const db = new Database(`${dataDir}/junction.db`, { readonly: true })
    const plan = (sql: string) =>
      db
        .prepare<[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all()
        .map((r) => r.detail)
        .join('; ')
    const select = `SELECT d.id, e.body FROM deliveries d JOIN events e ON e.seq = d.event_seq`
    const same = plan(`${select} WHERE d.due_at = 1 AND d.id > 2 ORDER BY d.id LIMIT 9`)
    assert.match(same, /SEARCH d USING (COVERING )?INDEX deliveries_by_due \(due_at=\? AND id>\?\)/)
    const later = plan(`${select} WHERE d.due_at > 1 ORDER BY d.due_at, d.id LIMIT 9`)
    assert.match(later, /SEARCH d USING (COVERING )?INDEX deliveries_by_due \(due_at>\?\)/)
    for (const p of [same, later, plan(`${select} ORDER BY d.due_at, d.id LIMIT 9`)])
      assert.doesNotMatch(p, /TEMP B-TREE/)
    db.close()
    rmSync(dataDir, { recursive: true })
  })

  test('a store of schema 2 gains the index and keeps its jobs', async () => {
    const dataDir = tempDir('junction-contract-')
    const old = new Database(`${dataDir}/junction.db`)
    for (const m of MIGRATIONS.slice(0, 2)) old.exec(m)
    old.pragma('user_version = 2')
    old.exec(
      `INSERT INTO events (seq, bus_arn, id, ingested_at, hops, body) VALUES (1, '${BUS}', 'old', 5, 0, '{}');
       INSERT INTO deliveries VALUES (7, 1, 'arn:r', 't', 2, 40), (8, 1, 'arn:r', 'u', 0, 30);`,
    )
    old.close()
    const store = createSqliteStore({ dataDir })
    assert.deepEqual(
      (await store.events.due(undefined, 10)).map((p) => [p.job.id, p.job.dueAt, p.event.id]),
      [
        [8, 30, 'old'],
        [7, 40, 'old'],
      ],
    )
    await store.close()
    rmSync(dataDir, { recursive: true })
  })

  test('a store of schema 7 keeps its archived events, and queries read them from their JSON', async () => {
    const dataDir = tempDir('junction-contract-')
    const old = new Database(`${dataDir}/junction.db`)
    for (const m of MIGRATIONS.slice(0, 7)) old.exec(m)
    old.pragma('user_version = 7')
    const body = (n: number) =>
      JSON.stringify({
        id: `e${String(n)}`,
        time: `2026-01-0${String(n)}T00:00:00Z`,
        detail: { n },
      })
    old.exec(
      `INSERT INTO events (seq, bus_arn, id, ingested_at, hops, body) VALUES
         (1, '${BUS}', 'e1', 5, 0, '${body(1)}'), (2, '${BUS}', 'e2', 6, 0, '${body(2)}');
       INSERT INTO archive_events VALUES (3, 10, 1, 5, 40), (3, 20, 2, 6, 40);`,
    )
    old.close()
    await createSqliteStore({ dataDir }).close()
    const answer = await queryArchive(
      `${dataDir}/junction.db`,
      3,
      "SELECT id, time, detail, detail ->> '$.n' AS n FROM events",
    )
    assert.deepEqual(answer.rows, [
      ['e1', '2026-01-01T00:00:00Z', '{"n":1}', 1],
      ['e2', '2026-01-02T00:00:00Z', '{"n":2}', 2],
    ])
    rmSync(dataDir, { recursive: true })
  })

  test('a store written by a newer schema is refused, not damaged', () => {
    const dataDir = tempDir('junction-contract-')
    const db = new Database(`${dataDir}/junction.db`)
    db.pragma(`user_version = ${String(MIGRATIONS.length + 1)}`)
    db.close()
    assert.throws(() => createSqliteStore({ dataDir }), /newer Junction/)
  })

  test('fifty concurrent appends (grouped into shared commits) all resolve and are all stored', async () => {
    const store = createSqliteStore({ dataDir: tempDir('junction-contract-') })
    const writes = Array.from({ length: 50 }, (_, i) => {
      const e = event(`c${String(i)}`)
      return store.events.append([e], [job(i + 1, e)])
    })
    await Promise.all(writes)
    assert.equal((await pending(store.events)).length, 50)
    await store.close()
  })
})

test('sqlite: a write that fails does not fail the writes committed with it', async () => {
  const store = createSqliteStore({ dataDir: tempDir('junction-contract-') })
  const good = event('good')
  const orphan: DeliveryJob = { ...job(2, event('missing')) } // its event is not in the append
  const results = await Promise.allSettled([
    store.events.append([good], [job(1, good)]),
    store.events.append([], [orphan]),
  ])
  assert.equal(results[0].status, 'fulfilled')
  assert.equal(results[1].status, 'rejected')
  assert.deepEqual(
    (await pending(store.events)).map((p) => p.job.id),
    [1],
  )
  await store.close()
})
