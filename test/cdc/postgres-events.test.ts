/**
 * The events a PostgreSQL source puts on the bus: shape and values for insert, update, delete
 * and truncate under REPLICA IDENTITY DEFAULT and FULL, unchanged TOAST columns, the value
 * encoding, a column added mid-stream, and transactions of Junction's own write-back (origin
 * `junction`) left out. A real PostgreSQL and a real `junction serve` process.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startPostgres, type PostgresServer } from '../helpers/postgres.js'
import type { ServerProcess } from '../helpers/server.js'
import {
  addSource,
  captureQueue,
  receiveUntil,
  servers,
  waitForStatus,
  type CdcEvent,
} from './harness.js'

let pg: PostgresServer
let server: ServerProcess
let queue: string
const procs = servers()

before(async () => {
  pg = await startPostgres()
  pg.sql(`
    CREATE TABLE orders (id int PRIMARY KEY, customer text, amount numeric(10,2), big bigint,
      ok boolean, data jsonb, raw bytea, at timestamptz, local timestamp, ratio float8);
    CREATE TABLE customers (id int PRIMARY KEY, name text, email text);
    ALTER TABLE customers REPLICA IDENTITY FULL;
    CREATE TABLE docs (id int PRIMARY KEY, title text, body text);
    CREATE PUBLICATION pub FOR TABLE orders, customers, docs;
  `)
  server = await procs.start(procs.dir())
  queue = await captureQueue(server.url)
  await addSource(server.url, { name: 'legacy', url: pg.url, publication: 'pub' })
  await waitForStatus(server.url, 'legacy', (s) => s.state === 'streaming')
})

after(async () => {
  await procs.cleanup()
  await pg.destroy()
})

const byVersion = (a: CdcEvent, b: CdcEvent) =>
  a.detail.source.version < b.detail.source.version ? -1 : 1

test('insert, update and delete with REPLICA IDENTITY DEFAULT: images, key, encoding', async () => {
  pg.sql(`INSERT INTO orders VALUES (1, 'ann', 12.50, 9007199254740993, true, '{"a":[1,2]}',
    '\\x0102ff', '2026-11-29 09:04:04.963767+00', '2026-11-29 10:00:00.000001', 0.25)`)
  pg.sql(`UPDATE orders SET amount = 13.75 WHERE id = 1`)
  pg.sql(`DELETE FROM orders WHERE id = 1`)
  const events = (
    await receiveUntil(
      server.url,
      queue,
      (e) => e.filter((x) => x['detail-type'] === 'public.orders').length >= 3,
    )
  )
    .filter((x) => x['detail-type'] === 'public.orders')
    .sort(byVersion)
  assert.deepEqual(
    events.map((e) => e.detail.op),
    ['c', 'u', 'd'],
  )
  const [c, u, d] = events as [CdcEvent, CdcEvent, CdcEvent]
  assert.equal(c.source, 'junction.cdc.legacy')
  assert.equal(c.account, '111111111111')
  assert.deepEqual(c.detail.key, { id: 1 })
  assert.equal(c.detail.before, null)
  assert.deepEqual(c.detail.after, {
    id: 1,
    customer: 'ann',
    amount: '12.50',
    big: '9007199254740993',
    ok: true,
    data: { a: [1, 2] },
    raw: Buffer.from([1, 2, 255]).toString('base64'),
    at: '2026-11-29T09:04:04.963767Z',
    local: '2026-11-29T10:00:00.000001',
    ratio: 0.25,
  })
  assert.equal(c.detail.source.connector, 'postgresql')
  assert.equal(c.detail.source.db, 'postgres')
  assert.equal(c.detail.source.schema, 'public')
  assert.equal(c.detail.source.table, 'orders')
  assert.equal(c.detail.source.snapshot, false)
  assert.match(c.detail.source.version, /^[0-9A-F]{16}:0000000000$/)
  assert.match(String(c.detail.source.commitLsn), /^[0-9A-F]+\/[0-9A-F]+$/)
  // time is the commit time (second precision in the envelope, ms in tsMs)
  assert.equal(
    c.time,
    new Date(Math.floor(Number(c.detail.source.tsMs) / 1000) * 1000)
      .toISOString()
      .replace('.000Z', 'Z'),
  )
  assert.match(c.id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  // DEFAULT identity: an update has no before image; a delete has the key columns only
  assert.equal(u.detail.before, null)
  assert.equal((u.detail.after as { amount: string }).amount, '13.75')
  assert.deepEqual(u.detail.key, { id: 1 })
  assert.deepEqual(d.detail.before, { id: 1 })
  assert.equal(d.detail.after, null)
  assert.deepEqual(d.detail.key, { id: 1 })
  assert.equal(new Set(events.map((e) => e.id)).size, 3)
})

test('REPLICA IDENTITY FULL: whole before images; the key still comes from the primary key', async () => {
  pg.sql(`INSERT INTO customers VALUES (2, 'Bob', 'bob@x.test')`)
  pg.sql(`UPDATE customers SET email = 'bob@y.test' WHERE id = 2`)
  pg.sql(`DELETE FROM customers WHERE id = 2`)
  const events = (
    await receiveUntil(
      server.url,
      queue,
      (e) => e.filter((x) => x['detail-type'] === 'public.customers').length >= 3,
    )
  )
    .filter((x) => x['detail-type'] === 'public.customers')
    .sort(byVersion)
  const [, u, d] = events as [CdcEvent, CdcEvent, CdcEvent]
  assert.deepEqual(u.detail.before, { id: 2, name: 'Bob', email: 'bob@x.test' })
  assert.deepEqual(u.detail.after, { id: 2, name: 'Bob', email: 'bob@y.test' })
  assert.deepEqual(u.detail.key, { id: 2 })
  assert.deepEqual(d.detail.before, { id: 2, name: 'Bob', email: 'bob@y.test' })
  assert.deepEqual(d.detail.key, { id: 2 })
})

test('an unchanged TOAST column is listed in unchanged and absent from after', async () => {
  // Random text does not compress, so it is stored out of line (TOAST).
  pg.sql(
    `INSERT INTO docs SELECT 1, 't1', string_agg(md5(random()::text), '') FROM generate_series(1, 400)`,
  )
  pg.sql(`UPDATE docs SET title = 't2' WHERE id = 1`)
  const events = (
    await receiveUntil(
      server.url,
      queue,
      (e) => e.filter((x) => x['detail-type'] === 'public.docs').length >= 2,
    )
  )
    .filter((x) => x['detail-type'] === 'public.docs')
    .sort(byVersion)
  const [c, u] = events as [CdcEvent, CdcEvent]
  assert.equal((c.detail.after as { body: string }).body.length, 12_800)
  assert.deepEqual(c.detail.unchanged, [])
  assert.deepEqual(u.detail.unchanged, ['body'])
  assert.deepEqual(u.detail.after, { id: 1, title: 't2' })
})

test('TRUNCATE: one event per table, op t, no row', async () => {
  pg.sql(`INSERT INTO orders (id) VALUES (10), (11)`)
  pg.sql(`TRUNCATE orders, docs`)
  const events = await receiveUntil(
    server.url,
    queue,
    (e) => e.filter((x) => x.detail.op === 't').length >= 2,
  )
  const truncs = events.filter((x) => x.detail.op === 't').sort(byVersion)
  assert.deepEqual(truncs.map((t) => t['detail-type']).sort(), ['public.docs', 'public.orders'])
  for (const t of truncs) {
    assert.equal(t.detail.before, null)
    assert.equal(t.detail.after, null)
    assert.equal(t.detail.key, null)
  }
  // the inserts before it came first
  const inserts = events.filter((x) => x['detail-type'] === 'public.orders' && x.detail.op === 'c')
  assert.equal(inserts.length, 2)
  assert.ok(inserts.every((i) => i.detail.source.version < truncs[0]!.detail.source.version))
})

test('a column added mid-stream appears in the next changes', async () => {
  pg.sql(`INSERT INTO customers VALUES (3, 'Cy', 'cy@x.test')`)
  pg.sql(`ALTER TABLE customers ADD COLUMN tier int DEFAULT 1`)
  pg.sql(`INSERT INTO customers VALUES (4, 'Di', 'di@x.test', 7)`)
  const events = (
    await receiveUntil(
      server.url,
      queue,
      (e) => e.filter((x) => x['detail-type'] === 'public.customers').length >= 2,
    )
  )
    .filter((x) => x['detail-type'] === 'public.customers')
    .sort(byVersion)
  assert.deepEqual(events[0]!.detail.after, { id: 3, name: 'Cy', email: 'cy@x.test' })
  assert.deepEqual(events[1]!.detail.after, { id: 4, name: 'Di', email: 'di@x.test', tier: 7 })
})

test("transactions under the replication origin junction (Junction's write-back) are dropped", async () => {
  pg.sql(`SELECT pg_replication_origin_create('junction')`)
  pg.sql(
    `SELECT pg_replication_origin_session_setup('junction'); INSERT INTO customers VALUES (50, 'echo', 'e@x.test', 1);`,
  )
  pg.sql(`INSERT INTO customers VALUES (51, 'app', 'a@x.test', 1)`)
  const events = await receiveUntil(server.url, queue, (e) =>
    e.some((x) => (x.detail.after as { id?: number } | null)?.id === 51),
  )
  const ids = events.map((x) => (x.detail.after as { id?: number } | null)?.id)
  assert.ok(ids.includes(51))
  assert.ok(!ids.includes(50), 'the write-back transaction was captured')
})
