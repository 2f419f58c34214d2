/**
 * PostgreSQL sinks end to end: a throwaway PostgreSQL server, a Junction server, sinks created
 * with `junction sinks add` and `/junction/sinks`, rules and targets through the EventBridge API,
 * and change events (shaped as a PostgreSQL source sends them) put with PutEvents.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import type { RunningServer } from '../../src/bus.js'
import { startPostgres, type PostgresServer } from '../helpers/postgres.js'
import {
  ACCOUNT,
  call,
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

let db: PostgresServer
let server: RunningServer
let client: pg.Client

const TABLE = `(id int PRIMARY KEY, customer text, amount numeric, status text, body text,
  _junction_version text, _junction_deleted boolean NOT NULL DEFAULT false)`

const sinkArn = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:junction-sink/${name}`

async function rows(table: string): Promise<Row[]> {
  const r = await client.query(
    `SELECT id, customer, amount, status, _junction_version AS v, _junction_deleted AS deleted
     FROM ${table} ORDER BY id`,
  )
  return r.rows as Row[]
}

async function connect(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db.url })
  // The server is stopped on purpose in one test; the broken connection is replaced after it.
  c.on('error', () => undefined)
  await c.connect()
  return c
}

/** Creates a sink through the API (the CLI is tested on its own below). */
async function sink(name: string, def: Record<string, unknown>): Promise<void> {
  const r = await sinksApi(server.url, 'PUT', name, { kind: 'postgres', url: db.url, ...def })
  assert.equal(r.status, 200, JSON.stringify(r.body))
}

before(async () => {
  db = await startPostgres()
  client = await connect()
  await client.query(`CREATE TABLE orders_replica ${TABLE}`)
  await client.query(`CREATE TABLE orders_shuffled ${TABLE}`)
  await client.query(`CREATE TABLE orders_expected ${TABLE}`)
  // Watches what the sink commits, with the origin of each transaction (see the origin test).
  await client.query("SELECT pg_create_logical_replication_slot('watch', 'test_decoding')")
  server = await startJunction()
})

after(async () => {
  await server.close()
  await client.end()
  await db.destroy()
})

describe('PostgreSQL sinks', { timeout: 300_000 }, () => {
  test('junction sinks add, list and remove; the password never shows', async () => {
    const withPassword = db.url.replace('postgres@', 'postgres:s3cret@')
    const added = await junction([
      'sinks',
      'add',
      'orders',
      '--postgres',
      withPassword,
      '--table',
      'orders_replica',
      '--key',
      'id',
      '--endpoint-url',
      server.url,
    ])
    assert.equal(added.code, 0, added.stderr)
    const shown = JSON.parse(added.stdout) as Record<string, unknown>
    assert.equal(shown.arn, sinkArn('orders'))
    assert.equal(shown.table, 'public.orders_replica')
    assert.deepEqual(shown.key, ['id'])
    assert.equal(shown.version, '$.detail.source.version')
    assert.equal(shown.echoSuppression, true)
    assert.ok(!added.stdout.includes('s3cret'))
    assert.match(String(shown.url), /postgres:\*\*\*\*@/)

    const listed = await junction(['sinks', 'list', '--endpoint-url', server.url])
    assert.equal(listed.code, 0, listed.stderr)
    assert.match(listed.stdout, /^NAME\s+KIND\s+TABLE/)
    assert.match(listed.stdout, /orders\s+postgres\s+public\.orders_replica\s+id/)
    assert.ok(!listed.stdout.includes('s3cret'))

    const custom = await junction([
      'sinks',
      'add',
      'custom',
      '--postgres',
      db.url,
      '--table',
      'other.t',
      '--key',
      'a,b',
      '--column',
      'a=$.detail.after.x',
      '--column',
      'b=$.detail.after.y',
      '--version',
      '$.detail.v',
      '--op',
      '$.detail.kind',
      '--version-column',
      'ver',
      '--deleted-column',
      'gone',
      '--batch-size',
      '5',
      '--no-echo-suppression',
      '--endpoint-url',
      server.url,
    ])
    assert.equal(custom.code, 0, custom.stderr)
    const stored = (await sinksApi(server.url, 'GET', 'custom')).body
    assert.deepEqual(
      {
        table: stored.table,
        key: stored.key,
        columns: stored.columns,
        version: stored.version,
        op: stored.op,
        versionColumn: stored.versionColumn,
        deletedColumn: stored.deletedColumn,
        batchSize: stored.batchSize,
        echoSuppression: stored.echoSuppression,
      },
      {
        table: 'other.t',
        key: ['a', 'b'],
        columns: { a: '$.detail.after.x', b: '$.detail.after.y' },
        version: '$.detail.v',
        op: '$.detail.kind',
        versionColumn: 'ver',
        deletedColumn: 'gone',
        batchSize: 5,
        echoSuppression: false,
      },
    )

    await sink('doomed', { table: 'orders_replica', key: ['id'] })
    const removed = await junction(['sinks', 'remove', 'doomed', '--endpoint-url', server.url])
    assert.equal(removed.code, 0, removed.stderr)
    assert.equal((await sinksApi(server.url, 'GET', 'doomed')).status, 404)
    const again = await junction(['sinks', 'remove', 'doomed', '--endpoint-url', server.url])
    assert.equal(again.code, 2)
    assert.match(again.stderr, /ResourceNotFoundException: Sink doomed does not exist/)
  })

  test('bad definitions are refused with a ValidationException', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ kind: 'oracle', url: db.url, table: 't', key: ['id'] }, /kind must be postgres or mysql/],
      [{ kind: 'postgres', url: 'mysql://x/y', table: 't', key: ['id'] }, /postgres:\/\//],
      [{ kind: 'postgres', url: db.url, table: 't', key: [] }, /key must be/],
      [{ kind: 'postgres', url: db.url, table: 'a.b.c', key: ['id'] }, /table a\.b\.c/],
      [
        { kind: 'postgres', url: db.url, table: 't', key: ['id'], columns: { x: '$.a[*]' } },
        /without wildcards/,
      ],
      [
        { kind: 'postgres', url: db.url, table: 't', key: ['id'], columns: { x: '$.a' } },
        /map the key column id/,
      ],
      [{ kind: 'postgres', url: db.url, table: 't', key: ['id'], batchSize: 0 }, /batchSize/],
      [{ kind: 'postgres', url: db.url, table: 't', key: ['id'], colour: 1 }, /Unknown field/],
    ]
    for (const [body, message] of cases) {
      const r = await sinksApi(server.url, 'PUT', 'bad', body)
      assert.equal(r.status, 400)
      assert.equal(r.body.__type, 'ValidationException')
      assert.match(String(r.body.message), message)
    }
    const badName = await sinksApi(server.url, 'PUT', 'no%20spaces', {})
    assert.equal(badName.body.__type, 'ValidationException')
    assert.equal((await sinksApi(server.url, 'GET', 'bad')).status, 404)
  })

  test('PutTargets refuses a sink that does not exist or belongs to another account', async () => {
    await call(server.url, 'AWSEvents.PutRule', {
      Name: 'nowhere',
      EventPattern: JSON.stringify({ source: ['x'] }),
    })
    await assert.rejects(
      call(server.url, 'AWSEvents.PutTargets', {
        Rule: 'nowhere',
        Targets: [{ Id: 't', Arn: sinkArn('nope') }],
      }),
      /^Error: ResourceNotFoundException: Sink nope does not exist/,
    )
    await assert.rejects(
      call(server.url, 'AWSEvents.PutTargets', {
        Rule: 'nowhere',
        Targets: [{ Id: 't', Arn: `arn:aws:events:${REGION}:999999999999:junction-sink/orders` }],
      }),
      /^Error: ValidationException: .*not in the rule's account and region/,
    )
    const targets = await call(server.url, 'AWSEvents.ListTargetsByRule', { Rule: 'nowhere' })
    assert.deepEqual(targets.Targets, [])
  })

  test('insert, update and delete: the delete leaves a tombstone with its version', async () => {
    await ruleTo(
      server.url,
      'to-orders',
      { Id: 'orders', Arn: sinkArn('orders') },
      { source: ['junction.cdc.legacy'], 'detail-type': ['public.orders'] },
    )
    const a = { id: 1, customer: 'ann', amount: '10.50', status: 'new', body: null }
    const b = { id: 2, customer: 'bob', amount: '7', status: 'new', body: null }
    await putEvents(server.url, [
      change('c', version(0x100), { key: { id: 1 }, after: a }),
      change('c', version(0x200), { key: { id: 2 }, after: b }),
    ])
    await poll(
      async () => ((await rows('orders_replica')).length === 2 ? true : undefined),
      'inserts',
    )
    await putEvents(server.url, [
      change('u', version(0x300), { key: { id: 1 }, after: { ...a, status: 'shipped' } }),
      change('d', version(0x400), { key: { id: 2 }, before: { id: 2 } }),
    ])
    const want = [
      {
        id: 1,
        customer: 'ann',
        amount: '10.50',
        status: 'shipped',
        v: version(0x300),
        deleted: false,
      },
      { id: 2, customer: 'bob', amount: '7', status: 'new', v: version(0x400), deleted: true },
    ]
    const got = await poll(async () => {
      const r = await rows('orders_replica')
      return JSON.stringify(r) === JSON.stringify(want) ? r : undefined
    }, 'the update and the tombstone')
    assert.deepEqual(got, want)
    // An older change delivered late (a redelivery) undoes nothing, not even the tombstone.
    await putEvents(server.url, [
      change('u', version(0x150), { key: { id: 2 }, after: { ...b, status: 'stale' } }),
      change('u', version(0x250), { key: { id: 1 }, after: { ...a, status: 'stale' } }),
    ])
    await poll(
      async () =>
        (await metric(server.url, 'SuccessfulInvocationAttempts', 'to-orders')) >= 6 || undefined,
      'the late events delivered',
    )
    assert.deepEqual(await rows('orders_replica'), want)
  })

  test('a column the database did not send (unchanged) keeps its value', async () => {
    const long = 'x'.repeat(5000)
    const row = { id: 10, customer: 'cy', amount: '1', status: 'new', body: long }
    await putEvents(server.url, [change('c', version(0x1000), { key: { id: 10 }, after: row })])
    await poll(async () => (await rows('orders_replica')).find((r) => r.id === 10), 'row 10')
    const rest: Row = { ...row }
    delete rest.body
    await putEvents(server.url, [
      change('u', version(0x1100), {
        key: { id: 10 },
        after: { ...rest, status: 'paid' },
        unchanged: ['body'],
      }),
    ])
    await poll(
      async () => (await rows('orders_replica')).find((r) => r.id === 10 && r.status === 'paid'),
      'the update of row 10',
    )
    const r = await client.query('SELECT body FROM orders_replica WHERE id = 10')
    assert.equal((r.rows[0] as Row).body, long)
  })

  test('the same events shuffled and duplicated leave the table as applying them in order does', async () => {
    await sink('shuffled', { table: 'orders_shuffled', key: ['id'], batchSize: 7 })
    await ruleTo(
      server.url,
      'to-shuffled',
      { Id: 'shuffled', Arn: sinkArn('shuffled') },
      { source: ['junction.cdc.legacy'], 'detail-type': ['public.shuffle'] },
    )
    // A history over 8 keys: inserts, updates, deletes, re-inserts after a delete.
    const history: { op: 'c' | 'u' | 'd'; id: number; v: string; after?: Row }[] = []
    const alive = new Map<number, Row>()
    let commit = 0x10000
    for (let step = 0; step < 120; step++) {
      const id = 1 + ((step * 5) % 8)
      const v = version(commit++, step % 3)
      const current = alive.get(id)
      if (!current) {
        const after = { id, customer: `c${String(step)}`, amount: String(step), status: 'new' }
        history.push({ op: 'c', id, v, after })
        alive.set(id, after)
      } else if (step % 7 === 3) {
        history.push({ op: 'd', id, v })
        alive.delete(id)
      } else {
        const after = { ...current, status: `s${String(step)}`, amount: `${String(step)}.5` }
        history.push({ op: 'u', id, v, after })
        alive.set(id, after)
      }
    }
    // The oracle: the same history applied in order with plain statements.
    for (const h of history) {
      if (h.op === 'd')
        await client.query(
          'UPDATE orders_expected SET _junction_deleted = true, _junction_version = $2 WHERE id = $1',
          [h.id, h.v],
        )
      else
        await client.query(
          `INSERT INTO orders_expected (id, customer, amount, status, _junction_version, _junction_deleted)
           VALUES ($1, $2, $3, $4, $5, false)
           ON CONFLICT (id) DO UPDATE SET customer = $2, amount = $3, status = $4,
             _junction_version = $5, _junction_deleted = false`,
          [h.id, h.after!.customer, h.after!.amount, h.after!.status, h.v],
        )
    }
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
    await putEvents(server.url, shuffled([...events, ...events, ...shuffled(events, 7)], 42))
    // A tombstone's other columns hold whatever the row had when the delete arrived.
    const compare = (r: Row[]) =>
      r.map((x) => (x.deleted ? { id: x.id, v: x.v, deleted: true } : x))
    const expected = compare(await rows('orders_expected'))
    assert.equal(expected.length, 8)
    assert.ok(expected.some((x) => x.deleted))
    const total = events.length * 3
    await poll(
      async () =>
        (await metric(server.url, 'SuccessfulInvocationAttempts', 'to-shuffled')) >= total ||
        undefined,
      'every shuffled event delivered',
    )
    assert.deepEqual(compare(await rows('orders_shuffled')), expected)
  })

  test('a missing table or column goes to the dead-letter queue with a message naming it', async () => {
    const dlq = await queue(server.url, 'sink-dlq')
    await sink('no-table', { table: 'public.missing_table', key: ['id'] })
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
    assert.match(letter.ERROR_MESSAGE!, /sink no-table \(public\.missing_table on /)
    assert.match(letter.ERROR_MESSAGE!, /relation "public\.missing_table" does not exist/)
    assert.equal(letter.RETRY_ATTEMPTS, '0')

    const dlq2 = await queue(server.url, 'sink-dlq-2')
    await sink('no-column', {
      table: 'orders_replica',
      key: ['id'],
      columns: { id: '$.detail.after.id', colour: '$.detail.after.colour' },
    })
    await ruleTo(
      server.url,
      'to-no-column',
      { Id: 't', Arn: sinkArn('no-column'), DeadLetterConfig: { Arn: dlq2.arn } },
      { source: ['junction.cdc.legacy'], 'detail-type': ['public.colours'] },
    )
    await putEvents(server.url, [
      change(
        'c',
        version(1),
        { key: { id: 77 }, after: { id: 77, colour: 'red' } },
        'public.colours',
      ),
    ])
    const letter2 = await deadLetter(server.url, dlq2.url)
    assert.equal(letter2.ERROR_CODE, 'SDK_CLIENT_ERROR')
    assert.match(letter2.ERROR_MESSAGE!, /public\.orders_replica/)
    assert.match(
      letter2.ERROR_MESSAGE!,
      /column "colour" of relation "orders_replica" does not exist/,
    )
  })

  test('the database down, then up: the event is delivered after retries', async () => {
    const retriesBefore = await metric(server.url, 'RetryInvocationAttempts', 'to-orders')
    await db.stop()
    const row = { id: 50, customer: 'dee', amount: '5', status: 'new', body: null }
    await putEvents(server.url, [change('c', version(0x5000), { key: { id: 50 }, after: row })])
    await poll(
      async () =>
        (await metric(server.url, 'RetryInvocationAttempts', 'to-orders')) > retriesBefore ||
        undefined,
      'a failed attempt to be retried',
    )
    await db.start()
    await client.end().catch(() => undefined)
    client = await connect()
    const got = await poll(
      async () => (await rows('orders_replica')).find((r) => r.id === 50),
      'row 50 after the restart',
      120_000,
    )
    assert.equal(got.customer, 'dee')
  })

  test('the writes carry the replication origin junction; an application write does not', async () => {
    await client.query("INSERT INTO orders_replica (id, customer) VALUES (999, 'app')")
    const origins = await client.query('SELECT roname FROM pg_replication_origin')
    assert.deepEqual(origins.rows, [{ roname: 'junction' }])
    const changes = async (onlyLocal: boolean) => {
      const r = await client.query(
        `SELECT data FROM pg_logical_slot_peek_changes('watch', NULL, NULL, 'only-local', $1)
         WHERE data LIKE 'table public.orders_replica:%' OR data LIKE 'table public.orders_shuffled:%'`,
        [onlyLocal ? '1' : '0'],
      )
      return (r.rows as { data: string }[]).map((x) => x.data).join('\n')
    }
    // The test server commits asynchronously: decoding sees a commit once the WAL is flushed.
    const localText = await poll(async () => {
      const text = await changes(true)
      return text.includes(':999 ') ? text : undefined
    }, 'the application write decoded')
    const allText = await changes(false)
    // test_decoding's only-local leaves out the transactions that carry a replication origin.
    assert.match(
      allText,
      /table public\.orders_replica: INSERT: id\[integer\]:1 customer\[text\]:'ann'/,
    )
    assert.match(allText, /table public\.orders_shuffled: INSERT/)
    assert.equal(
      localText,
      "table public.orders_replica: INSERT: id[integer]:999 customer[text]:'app' amount[numeric]:null status[text]:null body[text]:null _junction_version[text]:null _junction_deleted[boolean]:false",
    )
  })

  test('echo suppression needs a privileged role; without it the sink says so, and can be turned off', async () => {
    await client.query('CREATE ROLE plain LOGIN')
    await client.query('GRANT ALL ON orders_replica TO plain')
    const plainUrl = db.url.replace('postgres@', 'plain@')
    const dlq = await queue(server.url, 'sink-dlq-plain')
    await sink('plain', { url: plainUrl, table: 'orders_replica', key: ['id'] })
    await ruleTo(
      server.url,
      'to-plain',
      { Id: 't', Arn: sinkArn('plain'), DeadLetterConfig: { Arn: dlq.arn } },
      { source: ['junction.cdc.legacy'], 'detail-type': ['public.plain'] },
    )
    const row = { id: 60, customer: 'eve', amount: '1', status: 'new' }
    await putEvents(server.url, [
      change('c', version(0x6000), { key: { id: 60 }, after: row }, 'public.plain'),
    ])
    const letter = await deadLetter(server.url, dlq.url)
    assert.equal(letter.ERROR_CODE, 'NO_PERMISSIONS')
    assert.match(
      letter.ERROR_MESSAGE!,
      /cannot mark its writes with the replication origin junction/,
    )
    assert.match(letter.ERROR_MESSAGE!, /echoSuppression false/)
    assert.equal(
      (await rows('orders_replica')).find((r) => r.id === 60),
      undefined,
    )

    await sink('plain', {
      url: plainUrl,
      table: 'orders_replica',
      key: ['id'],
      echoSuppression: false,
    })
    await putEvents(server.url, [
      change('c', version(0x6001), { key: { id: 60 }, after: row }, 'public.plain'),
    ])
    const got = await poll(
      async () => (await rows('orders_replica')).find((r) => r.id === 60),
      'row 60 written without an origin',
    )
    assert.equal(got.customer, 'eve')
  })

  test('removing a sink closes its connection', async () => {
    const connections = async () =>
      Number(
        (
          (
            await client.query(
              "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'junction-sink-orders'",
            )
          ).rows[0] as Row
        ).n,
      )
    // The sink wrote row 50 after the server's restart, on a connection it keeps.
    await poll(async () => ((await connections()) === 1 ? true : undefined), 'the open connection')
    assert.equal((await sinksApi(server.url, 'DELETE', 'orders')).status, 200)
    await poll(
      async () => ((await connections()) === 0 ? true : undefined),
      'the connection closed',
    )
    assert.equal((await sinksApi(server.url, 'GET', 'orders')).status, 404)
  })
})
