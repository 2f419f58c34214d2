/**
 * MySQL/MariaDB sinks end to end: a throwaway MariaDB server, a Junction server, sinks created
 * with `junction sinks add --mysql` and `/junction/sinks`, rules and targets through the
 * EventBridge API, and change events put with PutEvents. The binlog shows the sink's writes
 * under `skip_replication`.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import type { RunningServer } from '../../src/bus.js'
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb.js'
import {
  ACCOUNT,
  change,
  deadLetter,
  junction,
  metric,
  poll,
  putEvents,
  queue,
  REGION,
  ruleTo,
  shuffled,
  sinksApi,
  startJunction,
  version,
  type Row,
} from './helpers.js'

let db: MariaDbServer
let server: RunningServer

const TABLE = `(id INT PRIMARY KEY, customer VARCHAR(50), amount DECIMAL(10,2), status VARCHAR(20),
  body TEXT, placed_at DATETIME(6), _junction_version VARCHAR(40), _junction_deleted BOOLEAN NOT NULL DEFAULT FALSE)`

const sinkArn = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:junction-sink/${name}`

/** The table's rows as `id customer amount status version deleted` lines. */
const rows = (table: string) =>
  db.sql(
    `SELECT id, customer, amount, status, _junction_version, _junction_deleted FROM ${table} ORDER BY id`,
  )

async function sink(name: string, def: Record<string, unknown>): Promise<void> {
  const r = await sinksApi(server.url, 'PUT', name, { kind: 'mysql', url: db.url, ...def })
  assert.equal(r.status, 200, JSON.stringify(r.body))
}

before(async () => {
  db = await startMariaDb()
  db.sql(`CREATE TABLE orders ${TABLE}`)
  db.sql(`CREATE TABLE orders_shuffled ${TABLE}`)
  db.sql(`CREATE TABLE orders_expected ${TABLE}`)
  db.sql(`CREATE TABLE orders_strict (id INT PRIMARY KEY, customer VARCHAR(50) NOT NULL,
    status VARCHAR(20), _junction_version VARCHAR(40), _junction_deleted BOOLEAN NOT NULL DEFAULT FALSE)`)
  server = await startJunction()
})

after(async () => {
  await server.close()
  await db.destroy()
})

describe('MySQL/MariaDB sinks', { timeout: 300_000 }, () => {
  test('junction sinks add --mysql; the password never shows', async () => {
    const withPassword = db.url.replace('root@', 'root:s3cret@')
    // The server lets root in without a password; the URL's is only to be masked.
    await sink('masked', { url: withPassword, table: 'orders', key: ['id'] })
    const added = await junction([
      'sinks',
      'add',
      'orders',
      '--mysql',
      db.url,
      '--table',
      'orders',
      '--key',
      'id',
      '--batch-size',
      '50',
      '--endpoint-url',
      server.url,
    ])
    assert.equal(added.code, 0, added.stderr)
    const shown = JSON.parse(added.stdout) as Record<string, unknown>
    assert.equal(shown.kind, 'mysql')
    assert.equal(shown.table, 'orders')
    assert.equal(shown.batchSize, 50)
    assert.equal(shown.arn, sinkArn('orders'))
    const listed = await sinksApi(server.url, 'GET')
    const masked = (listed.body.sinks as Row[]).find((s) => s.name === 'masked')!
    assert.match(String(masked.url), /^mysql:\/\/root:\*\*\*\*@127\.0\.0\.1:/)
    assert.ok(!JSON.stringify(listed.body).includes('s3cret'))
  })

  test('insert, update and delete; late events change nothing', async () => {
    await ruleTo(
      server.url,
      'to-orders',
      { Id: 'orders', Arn: sinkArn('orders') },
      { source: ['junction.cdc.legacy'], 'detail-type': ['public.orders'] },
    )
    const a = {
      id: 1,
      customer: 'ann',
      amount: '10.50',
      status: 'new',
      body: 'b',
      placed_at: '2026-11-29T09:04:04.963767Z',
    }
    const b = { id: 2, customer: 'bob', amount: '7.00', status: 'new', body: null }
    await putEvents(server.url, [
      change('c', version(0x100), { key: { id: 1 }, after: a }),
      change('c', version(0x200), { key: { id: 2 }, after: b }),
    ])
    await poll(() => (rows('orders').split('\n').length === 2 ? true : undefined), 'inserts')
    await putEvents(server.url, [
      change('u', version(0x300), { key: { id: 1 }, after: { ...a, status: 'shipped' } }),
      change('d', version(0x400), { key: { id: 2 }, before: { id: 2 } }),
    ])
    const want = [
      `1\tann\t10.50\tshipped\t${version(0x300)}\t0`,
      `2\tbob\t7.00\tnew\t${version(0x400)}\t1`,
    ].join('\n')
    await poll(() => (rows('orders') === want ? true : undefined), 'the update and the tombstone')
    // A change event's ISO 8601 time, in a DATETIME column.
    assert.equal(db.sql('SELECT placed_at FROM orders WHERE id = 1'), '2026-11-29 09:04:04.963767')
    await putEvents(server.url, [
      change('u', version(0x150), { key: { id: 2 }, after: { ...b, status: 'stale' } }),
      change('u', version(0x250), { key: { id: 1 }, after: { ...a, status: 'stale' } }),
      change('c', version(0x100), { key: { id: 1 }, after: a }),
    ])
    await poll(
      async () =>
        (await metric(server.url, 'SuccessfulInvocationAttempts', 'to-orders')) >= 7 || undefined,
      'the late events delivered',
    )
    assert.equal(rows('orders'), want)
    // The column the update left out (unchanged) kept its value.
    await putEvents(server.url, [
      change('u', version(0x500), {
        key: { id: 1 },
        after: { id: 1, customer: 'ann', amount: '11.00', status: 'paid' },
        unchanged: ['body'],
      }),
    ])
    await poll(
      () =>
        db.sql('SELECT status, body FROM orders WHERE id = 1') === 'paid\tb' ? true : undefined,
      'the partial update',
    )
  })

  test('a table with other NOT NULL columns: deletes tombstone the rows it has, skip the rest', async () => {
    await sink('strict', { table: 'orders_strict', key: ['id'] })
    await ruleTo(
      server.url,
      'to-strict',
      { Id: 'strict', Arn: sinkArn('strict') },
      { source: ['junction.cdc.legacy'], 'detail-type': ['public.strict'] },
    )
    const strict = (op: 'c' | 'u' | 'd', v: string, id: number, status?: string) =>
      change(
        op,
        v,
        op === 'd'
          ? { key: { id }, before: { id } }
          : { key: { id }, after: { id, customer: `c${String(id)}`, status } },
        'public.strict',
      )
    const strictRows = () =>
      db.sql(
        'SELECT id, customer, status, _junction_version, _junction_deleted FROM orders_strict ORDER BY id',
      )
    await putEvents(server.url, [strict('c', version(0x100), 1, 'new')])
    await poll(() => (strictRows() !== '' ? true : undefined), 'the insert')
    // The row exists: its delete must not trip over `customer` (an upsert of the key alone did:
    // MySQL checks the NOT NULL columns before it finds the duplicate key). The key 2 was never
    // inserted, and the table cannot hold a bare tombstone for it: that delete changes nothing.
    await putEvents(server.url, [strict('d', version(0x200), 1), strict('d', version(0x200), 2)])
    const want = `1\tc1\tnew\t${version(0x200)}\t1`
    await poll(() => (strictRows() === want ? true : undefined), 'the tombstone')
    // An older update delivered late leaves the tombstone as it is.
    await putEvents(server.url, [strict('u', version(0x150), 1, 'stale')])
    await poll(
      async () =>
        (await metric(server.url, 'SuccessfulInvocationAttempts', 'to-strict')) >= 4 || undefined,
      'the late update delivered',
    )
    assert.equal(strictRows(), want)
    assert.equal(await metric(server.url, 'FailedInvocations', 'to-strict'), 0)
  })

  test('the same events shuffled and duplicated leave the table as applying them in order does', async () => {
    await sink('shuffled', { table: 'orders_shuffled', key: ['id'], batchSize: 7 })
    await ruleTo(
      server.url,
      'to-shuffled',
      { Id: 'shuffled', Arn: sinkArn('shuffled') },
      { source: ['junction.cdc.legacy'], 'detail-type': ['public.shuffle'] },
    )
    const history: { op: 'c' | 'u' | 'd'; id: number; v: string; after?: Row }[] = []
    const alive = new Map<number, Row>()
    let commit = 0x10000
    for (let step = 0; step < 100; step++) {
      const id = 1 + ((step * 3) % 7)
      const v = version(commit++, step % 4)
      const current = alive.get(id)
      if (!current) {
        const after = {
          id,
          customer: `c${String(step)}`,
          amount: `${String(step)}.00`,
          status: 'new',
        }
        history.push({ op: 'c', id, v, after })
        alive.set(id, after)
      } else if (step % 6 === 2) {
        history.push({ op: 'd', id, v })
        alive.delete(id)
      } else {
        const after = { ...current, status: `s${String(step)}`, amount: `${String(step)}.50` }
        history.push({ op: 'u', id, v, after })
        alive.set(id, after)
      }
    }
    // The oracle: the same history applied in order with plain statements.
    const statements = history.map((h) =>
      h.op === 'd'
        ? `UPDATE orders_expected SET _junction_deleted = TRUE, _junction_version = '${h.v}' WHERE id = ${String(h.id)};`
        : `INSERT INTO orders_expected (id, customer, amount, status, _junction_version, _junction_deleted)
           VALUES (${String(h.id)}, '${String(h.after!.customer)}', ${String(h.after!.amount)}, '${String(h.after!.status)}', '${h.v}', FALSE)
           ON DUPLICATE KEY UPDATE customer = VALUES(customer), amount = VALUES(amount), status = VALUES(status),
             _junction_version = VALUES(_junction_version), _junction_deleted = FALSE;`,
    )
    db.sql(statements.join('\n'))
    const events = history.map((h) =>
      change(
        h.op,
        h.v,
        h.op === 'd'
          ? { key: { id: h.id }, before: { id: h.id } }
          : { key: { id: h.id }, after: h.after! },
        'public.shuffle',
      ),
    )
    await putEvents(server.url, shuffled([...events, ...events, ...shuffled(events, 3)], 11))
    // A tombstone's other columns hold whatever the row had when the delete arrived.
    const compare = (text: string) =>
      text
        .split('\n')
        .map((line) => {
          const [id, , , , v, deleted] = line.split('\t')
          return deleted === '1' ? `${id!} ${v!} deleted` : line
        })
        .join('\n')
    const expected = compare(rows('orders_expected'))
    assert.equal(expected.split('\n').length, 7)
    assert.match(expected, /deleted/)
    await poll(
      async () =>
        (await metric(server.url, 'SuccessfulInvocationAttempts', 'to-shuffled')) >=
          events.length * 3 || undefined,
      'every shuffled event delivered',
    )
    assert.equal(compare(rows('orders_shuffled')), expected)
  })

  test('a missing table goes to the dead-letter queue with a message naming it', async () => {
    const dlq = await queue(server.url, 'mysql-dlq')
    await sink('no-table', { table: 'missing', key: ['id'] })
    await ruleTo(
      server.url,
      'to-no-table',
      { Id: 't', Arn: sinkArn('no-table'), DeadLetterConfig: { Arn: dlq.arn } },
      { source: ['junction.cdc.legacy'], 'detail-type': ['public.missing'] },
    )
    await putEvents(server.url, [
      change('c', version(1), { key: { id: 1 }, after: { id: 1 } }, 'public.missing'),
    ])
    const letter = await deadLetter(server.url, dlq.url)
    assert.equal(letter.ERROR_CODE, 'NO_RESOURCE')
    assert.match(letter.ERROR_MESSAGE!, /sink no-table \(missing on mysql:/)
    assert.match(letter.ERROR_MESSAGE!, /Table 'test\.missing' doesn't exist/)
    assert.equal(letter.RETRY_ATTEMPTS, '0')
  })

  test('the database down, then up: the event is delivered after retries', async () => {
    const retriesBefore = await metric(server.url, 'RetryInvocationAttempts', 'to-orders')
    await db.kill()
    const row = { id: 50, customer: 'dee', amount: '5.00', status: 'new' }
    await putEvents(server.url, [change('c', version(0x5000), { key: { id: 50 }, after: row })])
    await poll(
      async () =>
        (await metric(server.url, 'RetryInvocationAttempts', 'to-orders')) > retriesBefore ||
        undefined,
      'a failed attempt to be retried',
    )
    await db.start()
    await poll(
      () => (db.sql('SELECT customer FROM orders WHERE id = 50') === 'dee' ? true : undefined),
      'row 50 after the restart',
      120_000,
    )
  })

  test("the sink's writes are binlogged with skip_replication; an application's are not", () => {
    db.sql("INSERT INTO orders (id, customer) VALUES (999, 'app')")
    const logs = db
      .sql('SHOW BINARY LOGS')
      .split('\n')
      .map((l) => l.split('\t')[0]!)
    const flagged = new Map<string, boolean>()
    for (const file of logs) {
      const text = execFileSync(
        'mariadb-binlog',
        [
          '--read-from-remote-server',
          '-h',
          '127.0.0.1',
          '-P',
          String(db.port),
          '-u',
          'root',
          '--base64-output=decode-rows',
          '-vv',
          file,
        ],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      )
      // The tool prints `SET skip_replication=1` (or 0) where the flag changes between events.
      let skip = false
      let table: string | undefined
      for (const line of text.split('\n')) {
        const set = /SET skip_replication=(\d)/.exec(line)
        if (set) skip = set[1] === '1'
        const row = /^### (?:INSERT INTO|UPDATE|DELETE FROM) `test`\.`(\w+)`/.exec(line)
        if (row) table = row[1]
        const id = /^###\s+@1=(\d+)/.exec(line)
        if (id && table !== undefined) {
          flagged.set(`${table}/${id[1]!}`, skip)
          table = undefined
        }
      }
    }
    assert.equal(flagged.get('orders/1'), true)
    assert.equal(flagged.get('orders/2'), true)
    assert.equal(flagged.get('orders/50'), true)
    assert.equal(flagged.get('orders_shuffled/1'), true)
    assert.equal(flagged.get('orders/999'), false)
    assert.equal(flagged.get('orders_expected/1'), false)
  })
})
