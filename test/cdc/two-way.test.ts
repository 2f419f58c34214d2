/**
 * The write-back loop running both ways: two tables kept in sync through the bus, each one's
 * changes captured (a PostgreSQL source per table) and written into the other by a sink. The
 * sinks write under the replication origin `junction`, which the sources drop, so a change
 * crosses once and never comes back: the number of captured changes is exactly the number the
 * applications made, and at the end the two tables hold the same live rows.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import type { RunningServer } from '../../src/bus.js'
import { startPostgres, type PostgresServer } from '../helpers/postgres.js'
import { startJunction } from '../sink/helpers.js'
import { ACCOUNT, addSource, call, sourceStatus, waitForStatus } from './harness.js'

const REGION = 'us-east-1'
const AUTH = `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20261205/${REGION}/events/aws4_request, SignedHeaders=host, Signature=0`

let db: PostgresServer
let server: RunningServer
let client: pg.Client

const TABLE = `(id integer PRIMARY KEY, name text NOT NULL, qty integer NOT NULL,
  _junction_version text, _junction_deleted boolean NOT NULL DEFAULT false)`

before(async () => {
  db = await startPostgres()
  client = new pg.Client({ connectionString: db.url })
  await client.connect()
  await client.query(`CREATE TABLE east ${TABLE}`)
  await client.query(`CREATE TABLE west ${TABLE}`)
  await client.query('CREATE PUBLICATION east_pub FOR TABLE east')
  await client.query('CREATE PUBLICATION west_pub FOR TABLE west')
  server = await startJunction()
})

after(async () => {
  await client.end()
  await server.close()
  await db.destroy()
})

/** Rows that are there (not tombstones), without the sinks' bookkeeping columns. */
async function live(table: string): Promise<string[]> {
  const r = await client.query<{ id: number; name: string; qty: number }>(
    `SELECT id, name, qty FROM ${table} WHERE NOT _junction_deleted ORDER BY id`,
  )
  return r.rows.map((x) => `${String(x.id)}:${x.name}:${String(x.qty)}`)
}

test('two tables synced through the bus both ways: no echo, equal at the end', async () => {
  const url = server.url
  for (const [from, to] of [
    ['east', 'west'],
    ['west', 'east'],
  ] as const) {
    await addSource(url, { name: from, url: db.url, publication: `${from}_pub` })
    // Signed as the account the sources and rules are in (the server checks no signature here).
    const sink = await fetch(`${url}/junction/sinks/into-${to}`, {
      method: 'PUT',
      headers: { authorization: AUTH },
      body: JSON.stringify({ kind: 'postgres', url: db.url, table: `public.${to}`, key: ['id'] }),
    })
    assert.equal(sink.status, 200, await sink.text())
    await call(url, 'AWSEvents.PutRule', {
      Name: `${from}-to-${to}`,
      EventPattern: JSON.stringify({ source: [`junction.cdc.${from}`] }),
    })
    await call(url, 'AWSEvents.PutTargets', {
      Rule: `${from}-to-${to}`,
      Targets: [
        { Id: 'sink', Arn: `arn:aws:events:${REGION}:${ACCOUNT}:junction-sink/into-${to}` },
      ],
    })
    await waitForStatus(url, from, (s) => s.state === 'streaming')
  }

  // Each side's application owns its own rows: east 1–20, west 101–120; 40 made, 3 deleted.
  let made = 0
  for (let i = 1; i <= 20; i++) {
    await client.query('INSERT INTO east (id, name, qty) VALUES ($1, $2, $3)', [
      i,
      `e${String(i)}`,
      i,
    ])
    await client.query('INSERT INTO west (id, name, qty) VALUES ($1, $2, $3)', [
      100 + i,
      `w${String(i)}`,
      i,
    ])
    made += 2
  }
  await client.query('UPDATE east SET qty = qty * 10 WHERE id <= 5')
  made += 5
  await client.query("UPDATE west SET name = name || '!' WHERE id > 115")
  made += 5
  await client.query('DELETE FROM east WHERE id IN (19, 20)')
  made += 2
  await client.query('DELETE FROM west WHERE id = 101')
  made += 1

  const deadline = Date.now() + 60_000
  for (;;) {
    const [east, west] = [await live('east'), await live('west')]
    if (east.length === 37 && JSON.stringify(east) === JSON.stringify(west)) break
    assert.ok(Date.now() < deadline, `not in sync:\neast ${east.join(' ')}\nwest ${west.join(' ')}`)
    await sleep(200)
  }
  // Quiet for a while: an echo would keep changes coming.
  await sleep(3000)
  const captured =
    (await sourceStatus(url, 'east')).changesCaptured +
    (await sourceStatus(url, 'west')).changesCaptured
  assert.equal(captured, made, 'every application change captured once, no sink write captured')
  const [east, west] = [await live('east'), await live('west')]
  assert.deepEqual(east, west)
  assert.ok(east.includes('3:e3:30') && east.includes('116:w16!:16') && !east.includes('101:w1:1'))
})
