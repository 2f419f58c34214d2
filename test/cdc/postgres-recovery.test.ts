/**
 * What a PostgreSQL source must survive without losing a change: kill -9 of the Junction server
 * mid-stream, a transaction whose commit record starts exactly at the previous transaction's end
 * (the acknowledgement must be exact), changes made while Junction is down, and a database
 * restart under a live source. A real PostgreSQL and real `junction serve` processes.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { postgresBin, startPostgres, type PostgresServer } from '../helpers/postgres.js'
import {
  addSource,
  captureQueue,
  drain,
  receiveUntil,
  servers,
  sourceStatus,
  waitForStatus,
  type CdcEvent,
} from './harness.js'

let pg: PostgresServer
const procs = servers()

before(async () => {
  pg = await startPostgres()
  pg.sql(`CREATE EXTENSION dblink`)
})

after(async () => {
  await procs.cleanup()
  await pg.destroy()
})

/** SQL run by psql without blocking the test. */
const sqlAsync = (text: string) =>
  promisify(execFile)(postgresBin('psql'), [
    '-h',
    '127.0.0.1',
    '-p',
    String(pg.port),
    '-U',
    'postgres',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    text,
  ])

const rowId = (e: CdcEvent) => (e.detail.after as { id: number }).id

/** Every row id in 1..n delivered, and every duplicate carrying the first one's event id. */
function assertOnceById(events: CdcEvent[], n: number): void {
  const idOf = new Map<number, string>()
  for (const e of events) {
    const row = rowId(e)
    const seen = idOf.get(row)
    if (seen !== undefined) assert.equal(e.id, seen, `row ${String(row)} came twice with two ids`)
    idOf.set(row, e.id)
  }
  const missing = []
  for (let i = 1; i <= n; i++) if (!idOf.has(i)) missing.push(i)
  assert.deepEqual(missing, [], 'rows missing')
}

test('kill -9 of the server mid-stream: after a restart nothing is missing, duplicates share their id', async () => {
  pg.sql(
    `CREATE TABLE load (id int PRIMARY KEY, v text); CREATE PUBLICATION pub_load FOR TABLE load`,
  )
  const dir = procs.dir()
  let server = await procs.start(dir)
  const queue = await captureQueue(server.url)
  await addSource(server.url, { name: 'load', url: pg.url, publication: 'pub_load' })
  await waitForStatus(server.url, 'load', (s) => s.state === 'streaming')
  // 3,000 single-row transactions, committed one by one, while the source reads them.
  const load = sqlAsync(
    `DO $$ BEGIN FOR i IN 1..3000 LOOP INSERT INTO load VALUES (i, 'x'); COMMIT; END LOOP; END $$`,
  )
  const atKill = await waitForStatus(
    server.url,
    'load',
    (s) => s.changesCaptured >= 200,
    120_000,
    20,
  )
  await server.kill()
  assert.ok(atKill.changesCaptured < 3000, 'the kill came after everything was captured')
  await load
  const events: CdcEvent[] = []
  server = await procs.start(dir)
  await receiveUntil(server.url, queue, (e) => new Set(e.map(rowId)).size >= 3000, 180_000, events)
  events.push(...(await drain(server.url, queue)))
  assertOnceById(events, 3000)
})

test('adjacent commits: the transaction whose commit starts at the acknowledged end is not skipped', async () => {
  pg.sql(
    `CREATE TABLE adj (id int PRIMARY KEY, run text, pad text); CREATE PUBLICATION pub_adj FOR TABLE adj`,
  )
  const dir = procs.dir()
  // B's row is over this event size limit and the policy is fail: the source stores and
  // acknowledges A, then stops at B without storing it, deterministically.
  let server = await procs.start(dir, ['--max-request-size', '8192'])
  const queue = await captureQueue(server.url)
  await addSource(server.url, {
    name: 'adj',
    url: pg.url,
    publication: 'pub_adj',
    oversize: 'fail',
  })
  await waitForStatus(server.url, 'adj', (s) => s.state === 'streaming')
  pg.sql(`DO $$ BEGIN
    PERFORM dblink_connect('b', 'host=127.0.0.1 port=${String(pg.port)} user=postgres dbname=postgres');
    PERFORM dblink_exec('b', 'BEGIN');
    PERFORM dblink_exec('b', 'INSERT INTO adj SELECT 2, ''B'', string_agg(md5(random()::text), '''') FROM generate_series(1, 500)');
    INSERT INTO adj VALUES (1, 'A', '');
    COMMIT;
    PERFORM dblink_exec('b', 'COMMIT');
    PERFORM dblink_disconnect('b');
  END $$`)
  const failed = await waitForStatus(server.url, 'adj', (s) => s.state === 'failed')
  assert.match(String(failed.error), /larger than the event size limit/)
  const first = await receiveUntil(server.url, queue, (e) => e.length >= 1)
  assert.deepEqual(first.map(rowId), [1])
  const checkpoint = failed.checkpoint!
  // The slot's position is exactly A's commit end (not one byte past it).
  assert.equal(
    pg.sql(`SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'junction_adj'`),
    checkpoint,
  )
  await server.stop()
  // A larger limit: the restarted source must deliver B, whose commit starts at A's end.
  server = await procs.start(dir)
  const events = await receiveUntil(server.url, queue, (e) => e.length >= 1)
  assert.deepEqual(events.map(rowId), [2])
  assert.equal(events[0]!.detail.source.commitLsn, checkpoint, 'B did not start at A’s end')
})

test('changes made while the server is down are delivered once after it starts', async () => {
  pg.sql(`CREATE TABLE down (id int PRIMARY KEY); CREATE PUBLICATION pub_down FOR TABLE down`)
  const dir = procs.dir()
  let server = await procs.start(dir)
  const queue = await captureQueue(server.url)
  await addSource(server.url, { name: 'down', url: pg.url, publication: 'pub_down' })
  await waitForStatus(server.url, 'down', (s) => s.state === 'streaming')
  pg.sql(`INSERT INTO down VALUES (1)`)
  await receiveUntil(server.url, queue, (e) => e.length >= 1)
  assert.equal(await server.stop(), 0)
  for (let i = 2; i <= 7; i++) pg.sql(`INSERT INTO down VALUES (${String(i)})`)
  server = await procs.start(dir)
  const events = await receiveUntil(server.url, queue, (e) => e.length >= 6)
  events.push(...(await drain(server.url, queue)))
  assert.deepEqual(
    events.map(rowId).sort((a, b) => a - b),
    [2, 3, 4, 5, 6, 7],
  )
})

test('a database restart under a live, lagging source: the restart is not held up, nothing lost', async () => {
  pg.sql(`CREATE TABLE rs (id int PRIMARY KEY); CREATE PUBLICATION pub_rs FOR TABLE rs`)
  const server = await procs.start(procs.dir())
  const queue = await captureQueue(server.url)
  await addSource(server.url, { name: 'rs', url: pg.url, publication: 'pub_rs' })
  await waitForStatus(server.url, 'rs', (s) => s.state === 'streaming')
  // A backlog the source is still reading when the database goes down (pg_ctl gives up after
  // 60 s if a walsender holds the shutdown).
  pg.sql(`DO $$ BEGIN FOR i IN 1..5000 LOOP INSERT INTO rs VALUES (i); COMMIT; END LOOP; END $$`)
  await pg.restart()
  pg.sql(`INSERT INTO rs VALUES (5001)`)
  const events = await receiveUntil(
    server.url,
    queue,
    (e) => new Set(e.map(rowId)).size >= 5001,
    180_000,
  )
  events.push(...(await drain(server.url, queue)))
  assertOnceById(events, 5001)
  assert.equal((await sourceStatus(server.url, 'rs')).state, 'streaming')
})
