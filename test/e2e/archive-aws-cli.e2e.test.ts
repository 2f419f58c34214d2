/**
 * Archives, replays and archive queries end to end: the real AWS CLI v2 (`/usr/bin/aws`)
 * against a `junction serve` process on SQLite, replayed events received from a queue target,
 * `junction query` and `junction replay` run as commands, and a server killed in the middle of
 * a replay.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { after, before, describe, test } from 'node:test'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'
import { ACCOUNT, clientEnv, REGION } from './scenario.js'

const AWS = '/usr/bin/aws'
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/shop`
const ARCHIVE = `arn:aws:events:${REGION}:${ACCOUNT}:archive/orders`
const RULE_ALL = `arn:aws:events:${REGION}:${ACCOUNT}:rule/shop/all`

type Run = { code: number | string; stdout: string; stderr: string }

let server: ServerProcess
let env: NodeJS.ProcessEnv

before(async () => {
  server = await startServerProcess()
  env = clientEnv()
})

after(async () => {
  assert.equal(await server.stop(), 0, server.output())
})

function run(file: string, args: string[], url = server.url): Promise<Run> {
  return new Promise((done) => {
    // This CLI version predates AWS_ENDPOINT_URL: it gets --endpoint-url; `junction` reads the
    // variable.
    execFile(
      file,
      file === AWS ? ['--endpoint-url', url, ...args] : args,
      { env: { ...env, AWS_ENDPOINT_URL: url }, cwd: repoRoot, timeout: 60_000 },
      (err, stdout, stderr) => {
        done({ code: err ? (err.code ?? 'killed') : 0, stdout, stderr })
      },
    )
  })
}

const aws = (...args: string[]) => run(AWS, ['--output', 'json', 'events', ...args])
const junction = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args])

async function ok<T>(r: Promise<Run>): Promise<T> {
  const out = await r
  assert.equal(out.code, 0, out.stderr)
  return (out.stdout.trim() === '' ? {} : JSON.parse(out.stdout)) as T
}

/** Exit code 254 and `An error occurred (code) when calling the operation: message`. */
async function fails(r: Promise<Run>, operation: string, code: string, message?: string) {
  const out = await r
  assert.equal(out.code, 254, out.stderr)
  const prefix = `An error occurred (${code}) when calling the ${operation} operation: `
  assert.ok(out.stderr.trim().startsWith(prefix), out.stderr)
  if (message !== undefined) assert.equal(out.stderr.trim().slice(prefix.length), message)
}

const queueUrl = (url: string, name: string) => `${url}/${ACCOUNT}/${name}`

/** Receives from the queue until `n` messages came or nothing more arrives; their bodies. */
async function receive(url: string, queue: string, n: number): Promise<Record<string, unknown>[]> {
  const bodies: Record<string, unknown>[] = []
  for (let empty = 0; bodies.length < n && empty < 3;) {
    const out = await ok<{ Messages?: { Body: string; ReceiptHandle: string }[] }>(
      run(
        AWS,
        [
          '--output',
          'json',
          'sqs',
          'receive-message',
          '--queue-url',
          queueUrl(url, queue),
          '--max-number-of-messages',
          '10',
          '--wait-time-seconds',
          '1',
        ],
        url,
      ),
    )
    if (!out.Messages) {
      empty++
      continue
    }
    for (const m of out.Messages) {
      bodies.push(JSON.parse(m.Body) as Record<string, unknown>)
      await ok(
        run(
          AWS,
          [
            'sqs',
            'delete-message',
            '--queue-url',
            queueUrl(url, queue),
            '--receipt-handle',
            m.ReceiptHandle,
          ],
          url,
        ),
      )
    }
  }
  return bodies
}

/** A raw EventBridge call (for Junction's JunctionSpeed member, which the CLI cannot send). */
async function call(url: string, operation: string, input: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSEvents.${operation}`,
      authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20260101/${REGION}/events/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(input),
  })
  const out = (await res.json()) as Record<string, unknown>
  assert.equal(res.status, 200, JSON.stringify(out))
  return out
}

const entry = (n: number, type: string, time: string) => ({
  EventBusName: 'shop',
  Source: 'shop',
  DetailType: type,
  Detail: JSON.stringify({ widget_id: `w${String(n)}` }),
  Time: time,
})

async function setUpShop(url: string, queue: string) {
  await ok(run(AWS, ['events', 'create-event-bus', '--name', 'shop'], url))
  await ok(run(AWS, ['sqs', 'create-queue', '--queue-name', queue], url))
  await ok(
    run(
      AWS,
      [
        'events',
        'put-rule',
        '--name',
        'all',
        '--event-bus-name',
        'shop',
        '--event-pattern',
        '{"source":["shop"]}',
      ],
      url,
    ),
  )
  await ok(
    run(
      AWS,
      [
        'events',
        'put-targets',
        '--rule',
        'all',
        '--event-bus-name',
        'shop',
        '--targets',
        JSON.stringify([{ Id: 'q', Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue}` }]),
      ],
      url,
    ),
  )
}

describe('AWS CLI v2: archives', () => {
  test('create-archive, its managed rule, describe/list/update, errors', async () => {
    await setUpShop(server.url, 'shop-events')
    await ok(run(AWS, ['sqs', 'create-queue', '--queue-name', 'others']))
    await ok(
      aws(
        'put-rule',
        '--name',
        'other',
        '--event-bus-name',
        'shop',
        '--event-pattern',
        '{"source":["shop"]}',
      ),
    )
    await ok(
      aws(
        'put-targets',
        '--rule',
        'other',
        '--event-bus-name',
        'shop',
        '--targets',
        JSON.stringify([{ Id: 'q', Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:others` }]),
      ),
    )
    const created = await ok<{ ArchiveArn: string; State: string }>(
      aws(
        'create-archive',
        '--archive-name',
        'orders',
        '--event-source-arn',
        BUS,
        '--event-pattern',
        '{"detail-type":["NEW_WIDGET"]}',
        '--description',
        'widgets',
      ),
    )
    assert.equal(created.ArchiveArn, ARCHIVE)
    assert.equal(created.State, 'ENABLED')
    await fails(
      aws('create-archive', '--archive-name', 'orders', '--event-source-arn', BUS),
      'CreateArchive',
      'ResourceAlreadyExistsException',
      'Archive orders already exists.',
    )
    await fails(
      aws(
        'create-archive',
        '--archive-name',
        'x',
        '--event-source-arn',
        `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/nope`,
      ),
      'CreateArchive',
      'ResourceNotFoundException',
      'Event bus nope does not exist.',
    )
    await fails(
      aws('create-archive', '--archive-name', 'bad name', '--event-source-arn', BUS),
      'CreateArchive',
      'ValidationException',
      "1 validation error detected: Value 'bad name' at 'archiveName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
    )
    await fails(
      aws('describe-archive', '--archive-name', 'nope'),
      'DescribeArchive',
      'ResourceNotFoundException',
      'Archive nope does not exist.',
    )
    await fails(
      aws('update-archive', '--archive-name', 'nope'),
      'UpdateArchive',
      'ValidationException',
      'At least one of EventPattern, RetentionDays or Description must be provided.',
    )

    const rules = await ok<{ Rules: { Name: string; ManagedBy?: string; EventPattern: string }[] }>(
      aws('list-rules', '--event-bus-name', 'shop', '--name-prefix', 'Events-Archive-'),
    )
    assert.equal(rules.Rules.length, 1)
    assert.equal(rules.Rules[0]!.Name, 'Events-Archive-orders')
    assert.ok(rules.Rules[0]!.ManagedBy)
    assert.deepEqual(JSON.parse(rules.Rules[0]!.EventPattern), {
      'detail-type': ['NEW_WIDGET'],
      'replay-name': [{ exists: false }],
    })
    await fails(
      aws('delete-rule', '--name', 'Events-Archive-orders', '--event-bus-name', 'shop'),
      'DeleteRule',
      'ManagedRuleException',
    )
    await fails(
      aws('disable-rule', '--name', 'Events-Archive-orders', '--event-bus-name', 'shop'),
      'DisableRule',
      'ManagedRuleException',
    )
    await fails(
      aws(
        'put-targets',
        '--rule',
        'Events-Archive-orders',
        '--event-bus-name',
        'shop',
        '--targets',
        JSON.stringify([{ Id: 'q', Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:others` }]),
      ),
      'PutTargets',
      'ManagedRuleException',
    )

    const updated = await ok<{ ArchiveArn: string }>(
      aws('update-archive', '--archive-name', 'orders', '--retention-days', '30'),
    )
    assert.equal(updated.ArchiveArn, ARCHIVE)
    const d = await ok<Record<string, unknown>>(aws('describe-archive', '--archive-name', 'orders'))
    assert.equal(d.RetentionDays, 30)
    assert.equal(d.Description, 'widgets')
    assert.equal(d.EventSourceArn, BUS)
    assert.equal(d.EventCount, 0)
  })

  test('put-events: matching events are archived and counted', async () => {
    const entries = [
      entry(1, 'NEW_WIDGET', '2026-01-01T10:00:00Z'),
      entry(2, 'NEW_WIDGET', '2026-01-01T11:00:00Z'),
      entry(3, 'OLD_WIDGET', '2026-01-01T12:00:00Z'),
      entry(4, 'NEW_WIDGET', '2026-01-02T09:00:00Z'),
    ]
    const put = await ok<{ FailedEntryCount: number }>(
      aws('put-events', '--entries', JSON.stringify(entries)),
    )
    assert.equal(put.FailedEntryCount, 0)
    const d = await ok<{ EventCount: number; SizeBytes: number }>(
      aws('describe-archive', '--archive-name', 'orders'),
    )
    assert.equal(d.EventCount, 3)
    assert.ok(d.SizeBytes > 3 * 200, String(d.SizeBytes))
    const list = await ok<{ Archives: { ArchiveName: string; EventCount: number }[] }>(
      aws('list-archives', '--event-source-arn', BUS),
    )
    assert.deepEqual(
      list.Archives.map((a) => [a.ArchiveName, a.EventCount]),
      [['orders', 3]],
    )
    // Both rules delivered all four originals.
    assert.equal((await receive(server.url, 'shop-events', 4)).length, 4)
    assert.equal((await receive(server.url, 'others', 4)).length, 4)
  })

  test('start-replay: the window, FilterArns, replay-name, and errors', async () => {
    await fails(
      aws(
        'start-replay',
        '--replay-name',
        'bad',
        '--event-source-arn',
        ARCHIVE,
        '--event-start-time',
        '2026-01-02T00:00:00Z',
        '--event-end-time',
        '2026-01-01T00:00:00Z',
        '--destination',
        JSON.stringify({ Arn: BUS }),
      ),
      'StartReplay',
      'ValidationException',
      'Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.',
    )
    await fails(
      aws(
        'start-replay',
        '--replay-name',
        'bad',
        '--event-source-arn',
        ARCHIVE,
        '--event-start-time',
        '2026-01-01T00:00:00Z',
        '--event-end-time',
        '2026-01-03T00:00:00Z',
        '--destination',
        JSON.stringify({ Arn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default` }),
      ),
      'StartReplay',
      'ValidationException',
      'Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.',
    )
    await fails(
      aws(
        'start-replay',
        '--replay-name',
        'bad',
        '--event-source-arn',
        `arn:aws:events:${REGION}:${ACCOUNT}:archive/nope`,
        '--event-start-time',
        '2026-01-01T00:00:00Z',
        '--event-end-time',
        '2026-01-03T00:00:00Z',
        '--destination',
        JSON.stringify({ Arn: BUS }),
      ),
      'StartReplay',
      'ValidationException',
      'Parameter EventSourceArn is not valid. Reason: Archive nope does not exist.',
    )

    const started = await ok<{ State: string; ReplayArn: string }>(
      aws(
        'start-replay',
        '--replay-name',
        'day1',
        '--event-source-arn',
        ARCHIVE,
        '--event-start-time',
        '2026-01-01T00:00:00Z',
        '--event-end-time',
        '2026-01-01T23:59:59Z',
        '--destination',
        JSON.stringify({ Arn: BUS, FilterArns: [RULE_ALL] }),
      ),
    )
    assert.equal(started.State, 'STARTING')
    assert.equal(started.ReplayArn, `arn:aws:events:${REGION}:${ACCOUNT}:replay/day1`)
    let d: Record<string, unknown> = {}
    for (let i = 0; i < 50; i++) {
      d = await ok(aws('describe-replay', '--replay-name', 'day1'))
      if (d.State === 'COMPLETED') break
      await new Promise((r) => setTimeout(r, 200))
    }
    assert.equal(d.State, 'COMPLETED')
    // The CLI prints timestamps as ISO-8601 text.
    assert.equal(Date.parse(d.EventLastReplayedTime as string), Date.parse('2026-01-01T11:00:00Z'))
    assert.deepEqual(d.Destination, { Arn: BUS, FilterArns: [RULE_ALL] })
    const replayed = await receive(server.url, 'shop-events', 2)
    assert.deepEqual(
      replayed.map((e) => [
        e['replay-name'],
        (e.detail as { widget_id: string }).widget_id,
        e.time,
      ]),
      [
        ['day1', 'w1', '2026-01-01T10:00:00Z'],
        ['day1', 'w2', '2026-01-01T11:00:00Z'],
      ],
    )
    // The rule not in FilterArns got nothing; replayed events were not archived again.
    assert.equal((await receive(server.url, 'others', 1)).length, 0)
    const archive = await ok<{ EventCount: number }>(
      aws('describe-archive', '--archive-name', 'orders'),
    )
    assert.equal(archive.EventCount, 3)

    await fails(
      aws(
        'start-replay',
        '--replay-name',
        'day1',
        '--event-source-arn',
        ARCHIVE,
        '--event-start-time',
        '2026-01-01T00:00:00Z',
        '--event-end-time',
        '2026-01-01T23:59:59Z',
        '--destination',
        JSON.stringify({ Arn: BUS }),
      ),
      'StartReplay',
      'ResourceAlreadyExistsException',
      'Replay day1 already exists.',
    )
    await fails(
      aws('cancel-replay', '--replay-name', 'day1'),
      'CancelReplay',
      'IllegalStatusException',
    )
    await fails(
      aws('describe-replay', '--replay-name', 'nope'),
      'DescribeReplay',
      'ResourceNotFoundException',
      'Replay nope does not exist.',
    )
    const listed = await ok<{ Replays: { ReplayName: string; State: string }[] }>(
      aws('list-replays', '--event-source-arn', ARCHIVE),
    )
    assert.deepEqual(
      listed.Replays.map((r) => [r.ReplayName, r.State]),
      [['day1', 'COMPLETED']],
    )
  })

  test('cancel-replay midway: a paced replay stops, CANCELLED, the rest never sent', async () => {
    // 3 archived events 1 h and 22 h apart; at speed 3600 they come 1 s then 22 s apart.
    await call(server.url, 'StartReplay', {
      ReplayName: 'paced',
      EventSourceArn: ARCHIVE,
      EventStartTime: Date.parse('2026-01-01T00:00:00Z') / 1000,
      EventEndTime: Date.parse('2026-01-03T00:00:00Z') / 1000,
      Destination: { Arn: BUS, FilterArns: [RULE_ALL] },
      JunctionSpeed: 3600,
    })
    const first = await receive(server.url, 'shop-events', 2)
    assert.deepEqual(
      first.map((e) => [e['replay-name'], (e.detail as { widget_id: string }).widget_id]),
      [
        ['paced', 'w1'],
        ['paced', 'w2'],
      ],
    )
    const cancelled = await ok<{ State: string }>(aws('cancel-replay', '--replay-name', 'paced'))
    assert.equal(cancelled.State, 'CANCELLING')
    let d: Record<string, unknown> = {}
    for (let i = 0; i < 50; i++) {
      d = await ok(aws('describe-replay', '--replay-name', 'paced'))
      if (d.State === 'CANCELLED') break
      await new Promise((r) => setTimeout(r, 100))
    }
    assert.equal(d.State, 'CANCELLED')
    assert.ok(d.ReplayEndTime)
    assert.equal((await receive(server.url, 'shop-events', 1)).length, 0)
  })

  test('junction query: widgets per day as a table, JSON and CSV; writes and escapes refused', async () => {
    const sql = `SELECT substr(time, 1, 10) AS day, count(*) AS widgets,
                        group_concat(json_extract(detail, '$.widget_id')) AS ids
                   FROM events WHERE detail_type = 'NEW_WIDGET' GROUP BY day ORDER BY day`
    const csv = await junction('query', '--archive', 'orders', '--format', 'csv', sql)
    assert.equal(csv.code, 0, csv.stderr)
    assert.equal(csv.stdout, 'day,widgets,ids\r\n2026-01-01,2,"w1,w2"\r\n2026-01-02,1,w4\r\n')
    const table = await junction('query', '--archive', 'orders', sql)
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, /^day +\| widgets \| ids\n/)
    assert.match(table.stdout, /\(2 rows\)\n$/)
    const json = await junction(
      'query',
      '--archive',
      'orders',
      '--format',
      'json',
      "SELECT id, account, region, source, json_extract(event, '$.version') AS v FROM events LIMIT 1",
    )
    assert.equal(json.code, 0, json.stderr)
    const parsed = JSON.parse(json.stdout) as { columns: string[]; rows: unknown[][] }
    assert.deepEqual(parsed.columns, ['id', 'account', 'region', 'source', 'v'])
    assert.deepEqual(parsed.rows[0]!.slice(1), [ACCOUNT, REGION, 'shop', '0'])

    for (const bad of [
      "INSERT INTO events (id) VALUES ('x')",
      'DELETE FROM events',
      "WITH x AS (SELECT 1) INSERT INTO events (id) SELECT 'y' FROM x",
      `ATTACH DATABASE '${join(server.dataDir, 'junction.db')}' AS store`,
      'PRAGMA user_version',
      "SELECT load_extension('/tmp/nothing.so')",
      'SELECT * FROM config',
      'SELECT 1; DELETE FROM events',
    ]) {
      const r = await junction('query', '--archive', 'orders', bad)
      assert.equal(r.code, 2, `${bad}: ${r.stdout}`)
      assert.match(r.stderr, /^ValidationException: Query (refused|failed): /, bad)
    }
    // Nothing was changed by the attempts.
    const count = await junction(
      'query',
      '--archive',
      'orders',
      '--format',
      'json',
      'SELECT count(*) FROM events',
    )
    assert.deepEqual((JSON.parse(count.stdout) as { rows: unknown[][] }).rows, [[3]])

    const slow = await junction(
      'query',
      '--archive',
      'orders',
      '--timeout',
      '1500',
      'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c',
    )
    assert.equal(slow.code, 2)
    assert.match(slow.stderr, /^LimitExceededException: The query ran longer than 1500 ms/)

    const missing = await junction('query', '--archive', 'nope', 'SELECT 1')
    assert.match(missing.stderr, /^ResourceNotFoundException: Archive nope does not exist\./)
  })

  test('POST /junction/query answers CSV over HTTP', async () => {
    const res = await fetch(`${server.url}/junction/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        archive: 'orders',
        account: ACCOUNT,
        format: 'csv',
        sql: "SELECT json_extract(detail, '$.widget_id') AS w FROM events ORDER BY time_ms",
      }),
    })
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'w\r\nw1\r\nw2\r\nw4\r\n')
  })

  test('delete-archive removes the archive and its rule', async () => {
    await ok(aws('delete-archive', '--archive-name', 'orders'))
    await fails(
      aws('describe-archive', '--archive-name', 'orders'),
      'DescribeArchive',
      'ResourceNotFoundException',
      'Archive orders does not exist.',
    )
    await fails(
      aws('describe-rule', '--name', 'Events-Archive-orders', '--event-bus-name', 'shop'),
      'DescribeRule',
      'ResourceNotFoundException',
    )
  })
})

describe('a server killed in the middle of a replay', () => {
  test('resumes after restart; each archived event is replayed once', async () => {
    const dataDir = tempDir()
    let s = await startServerProcess({ dataDir })
    try {
      await setUpShop(s.url, 'q')
      await ok(
        run(
          AWS,
          ['events', 'create-archive', '--archive-name', 'orders', '--event-source-arn', BUS],
          s.url,
        ),
      )
      const entries = [0, 1, 2, 3, 4, 5].map((n) =>
        entry(n, 'NEW_WIDGET', new Date(Date.UTC(2026, 0, 1, 0, 0, n * 2)).toISOString()),
      )
      await ok(run(AWS, ['events', 'put-events', '--entries', JSON.stringify(entries)], s.url))
      assert.equal((await receive(s.url, 'q', 6)).length, 6)
      // 2 s apart at speed 2: one a second, with `junction replay`.
      const started = await junction(
        'replay',
        '--endpoint-url',
        s.url,
        '--archive',
        'orders',
        '--name',
        'r',
        '--from',
        '2026-01-01T00:00:00Z',
        '--to',
        '2026-01-01T00:01:00Z',
        '--speed',
        '2',
      )
      assert.equal(started.code, 0, started.stderr)
      let d: Record<string, unknown> = {}
      for (let i = 0; i < 50; i++) {
        d = await call(s.url, 'DescribeReplay', { ReplayName: 'r' })
        if (
          d.EventLastReplayedTime !== undefined &&
          (d.EventLastReplayedTime as number) >= Date.UTC(2026, 0, 1, 0, 0, 2) / 1000
        )
          break
        await new Promise((r) => setTimeout(r, 100))
      }
      assert.equal(d.State, 'RUNNING')
      await s.kill()
      s = await startServerProcess({ dataDir })
      for (let i = 0; i < 100; i++) {
        d = await call(s.url, 'DescribeReplay', { ReplayName: 'r' })
        if (d.State === 'COMPLETED') break
        await new Promise((r) => setTimeout(r, 100))
      }
      assert.equal(d.State, 'COMPLETED')
      const got = await receive(s.url, 'q', 6)
      // Delivery is at least once (a kill may repeat one), every event arrives.
      assert.deepEqual(
        [...new Set(got.map((e) => (e.detail as { widget_id: string }).widget_id))].sort(),
        ['w0', 'w1', 'w2', 'w3', 'w4', 'w5'],
      )
      assert.ok(got.every((e) => e['replay-name'] === 'r'))
    } finally {
      await s.stop()
    }
    // The event log holds each replayed event exactly once.
    const db = new Database(join(dataDir, 'junction.db'), { readonly: true })
    try {
      const rows = db
        .prepare<[], { id: string; n: number }>(
          `SELECT id, count(*) AS n FROM events WHERE body LIKE '%"replay-name":"r"%' GROUP BY id`,
        )
        .all()
      assert.equal(rows.length, 6)
      assert.ok(
        rows.every((r) => r.n === 1),
        JSON.stringify(rows),
      )
    } finally {
      db.close()
    }
  })
})
