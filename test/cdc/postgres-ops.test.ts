/**
 * A PostgreSQL source in operation: the initial snapshot (and a kill -9 in the middle of it), a
 * 100,000-row transaction with the server's memory bounded, and a slot PostgreSQL lost
 * (`max_slot_wal_keep_size`) failing loudly with the fix. A real PostgreSQL and real
 * `junction serve` processes.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { startPostgres, type PostgresServer } from '../helpers/postgres.js'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  addSource,
  call,
  captureQueue,
  drain,
  receiveUntil,
  servers,
  waitForStatus,
  type CdcEvent,
} from './harness.js'

let pg: PostgresServer
const procs = servers()

before(async () => {
  pg = await startPostgres({ conf: ['max_slot_wal_keep_size = 1MB'] })
})

after(async () => {
  await procs.cleanup()
  await pg.destroy()
})

const rowId = (e: CdcEvent) => (e.detail.after as { id: number }).id

test('--snapshot: the rows already there as op r, then the stream, with versions in order', async () => {
  pg.sql(`CREATE TABLE snap (id int PRIMARY KEY, v text);
    INSERT INTO snap SELECT i, 'old' FROM generate_series(1, 20000) i;
    CREATE PUBLICATION pub_snap FOR TABLE snap`)
  const dir = procs.dir()
  let server = await procs.start(dir)
  const queue = await captureQueue(server.url)
  await addSource(server.url, {
    name: 'snap',
    url: pg.url,
    publication: 'pub_snap',
    snapshot: true,
  })
  // Killed while it reads the table: the snapshot starts again from scratch.
  const atKill = await waitForStatus(
    server.url,
    'snap',
    (s) => s.state === 'snapshotting' && s.changesCaptured > 0,
    60_000,
    20,
  )
  await server.kill()
  assert.ok(atKill.changesCaptured < 20000)
  pg.sql(`UPDATE snap SET v = 'new' WHERE id = 1; INSERT INTO snap VALUES (20001, 'new')`)
  server = await procs.start(dir)
  await waitForStatus(server.url, 'snap', (s) => s.state === 'streaming', 120_000)
  pg.sql(`INSERT INTO snap VALUES (20002, 'streamed')`)
  const events = await receiveUntil(server.url, queue, (e) => e.some((x) => rowId(x) === 20002))
  events.push(...(await drain(server.url, queue)))
  const reads = events.filter((e) => e.detail.op === 'r')
  const streamed = events.filter((e) => e.detail.op !== 'r')
  // The snapshot taken after the restart has every row, the changes made before it included.
  const lastSnapshot = new Map<number, CdcEvent>()
  for (const r of reads) {
    const had = lastSnapshot.get(rowId(r))
    if (!had || had.detail.source.version < r.detail.source.version) lastSnapshot.set(rowId(r), r)
  }
  assert.equal(lastSnapshot.size, 20001)
  assert.equal((lastSnapshot.get(1)!.detail.after as { v: string }).v, 'new')
  assert.ok(reads.every((r) => r.detail.source.snapshot === true))
  assert.deepEqual(
    streamed.map((e) => [e.detail.op, rowId(e)]),
    [['c', 20002]],
  )
  const maxRead = reads
    .map((r) => r.detail.source.version)
    .sort()
    .at(-1)!
  assert.ok(maxRead < streamed[0]!.detail.source.version, 'a snapshot row sorts after a change')
})

/** Peak resident memory of a process, bytes. */
const peakRss = (pid: number) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))![1]) * 1024

test('a 100,000-row transaction is captured whole, stored in parts, with memory bounded', async () => {
  pg.sql(`CREATE TABLE big (id int PRIMARY KEY, v text); CREATE PUBLICATION pub_big FOR TABLE big`)
  // The heap capped far below what the whole transaction's changes and events would take
  // (several hundred MB, measured): held whole, it would end the server (out of memory).
  const server = await procs.start(procs.dir(), [], ['--max-old-space-size=128'])
  const queue = await captureQueue(server.url)
  await addSource(server.url, { name: 'big', url: pg.url, publication: 'pub_big' })
  await waitForStatus(server.url, 'big', (s) => s.state === 'streaming')
  const before = peakRss(server.child.pid!)
  pg.sql(`INSERT INTO big SELECT i, repeat('x', 100) FROM generate_series(1, 100000) i`)
  await waitForStatus(server.url, 'big', (s) => s.changesCaptured >= 100_000, 300_000)
  const grown = peakRss(server.child.pid!) - before
  assert.equal(server.child.exitCode, null)
  assert.ok(grown < 250 * 1024 * 1024, `peak RSS grew by ${String(grown >> 20)} MB`)
  // Every change reached the queue (counted there, not received one by one).
  const deadline = Date.now() + 300_000
  let count = 0
  while (count < 100_000 && Date.now() < deadline) {
    const { Attributes } = await call<{ Attributes: Record<string, string> }>(
      server.url,
      'AmazonSQS.GetQueueAttributes',
      { QueueUrl: queue, AttributeNames: ['ApproximateNumberOfMessages'] },
    )
    count = Number(Attributes.ApproximateNumberOfMessages)
    if (count < 100_000) await sleep(500)
  }
  assert.equal(count, 100_000)
  // One transaction: one commit LSN, its changes in order.
  const { Messages = [] } = await call<{ Messages?: { Body: string }[] }>(
    server.url,
    'AmazonSQS.ReceiveMessage',
    { QueueUrl: queue, MaxNumberOfMessages: 10 },
  )
  const some = Messages.map((m) => JSON.parse(m.Body) as CdcEvent)
  assert.ok(some.length > 0)
  assert.equal(new Set(some.map((e) => e.detail.source.commitLsn)).size, 1)
  assert.ok(some.every((e) => e.detail.transaction.order === rowId(e) - 1))
})

test('a slot PostgreSQL lost (max_slot_wal_keep_size) fails the source with the fix', async () => {
  pg.sql(
    `CREATE TABLE lost (id int PRIMARY KEY, v text); CREATE PUBLICATION pub_lost FOR TABLE lost`,
  )
  const dir = procs.dir()
  let server = await procs.start(dir)
  await addSource(server.url, { name: 'lost', url: pg.url, publication: 'pub_lost' })
  await waitForStatus(server.url, 'lost', (s) => s.state === 'streaming')
  await server.stop()
  // While the source is down, far more WAL than the slot may keep.
  for (let i = 0; i < 4; i++) {
    pg.sql(
      `INSERT INTO lost SELECT g, repeat(md5(g::text), 20) FROM generate_series(${String(i * 20000 + 1)}, ${String((i + 1) * 20000)}) g`,
    )
    pg.sql(`SELECT pg_switch_wal(); CHECKPOINT`)
  }
  assert.equal(
    pg.sql(`SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'junction_lost'`),
    'lost',
  )
  server = await procs.start(dir)
  const status = await waitForStatus(server.url, 'lost', (s) => s.state === 'failed')
  assert.match(String(status.error), /junction_lost was lost/)
  assert.match(String(status.error), /--snapshot/)
})
