/**
 * Junction's queues end to end with the real AWS CLI v2 (`/usr/bin/aws` 2.9, which speaks the SQS
 * query protocol; the `aws` first on PATH is v1 and speaks JSON): a `junction serve` process on
 * SQLite, rules delivering into queues, dead letters, FIFO, visibility, redrive, batches, errors
 * and tags. Service errors: the CLI prints `An error occurred (Code) when calling the X operation:
 * message` on stderr and exits 254.
 *
 * AWS behaviour asserted here (sources as in the SQS wire notes: LocalStack snapshots and
 * validated tests recorded against AWS, the botocore 1.29 query model, the AWS docs):
 * - a rule's SQS target gets the event envelope (AWS key order) or the transformer's output as
 *   the body; MD5OfBody is the hex MD5 of the UTF-8 body; `All` system attributes on a standard
 *   queue are exactly SenderId, SentTimestamp, ApproximateReceiveCount and
 *   ApproximateFirstReceiveTimestamp (epoch milliseconds), FIFO adds MessageGroupId,
 *   MessageDeduplicationId (SHA-256 of the body when content-based) and SequenceNumber;
 * - a target's dead letter carries the event as its body and the String message attributes
 *   RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS (EXHAUSTED_RETRY_CONDITION
 *   only when a retry limit ended delivery); MD5OfMessageAttributes per the SQS algorithm;
 * - RedrivePolicy is echoed as compact JSON with a numeric maxReceiveCount; a message received
 *   maxReceiveCount times moves to the DLQ on the next receive, keeping its id, send time and
 *   receive count, and gains DeadLetterQueueSourceArn;
 * - the error codes, statuses and messages of the SQS error table.
 *
 * Every CLI call starts a Python process (about a second of CPU), so calls are few and the
 * groups run concurrently, a few processes at a time. For the same reason messages that must stay
 * in flight are received with a 10-minute visibility timeout (a 1 s one could run out before the
 * next call arrives), and the 1 s timeout is only checked to end within a long poll;
 * sqs-boto3.e2e.test.ts, one process per phase, checks that it hides the message for a second.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { startHttpSink, type HttpSink } from '../helpers/http-sink.js'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { ACCOUNT, REGION, clientEnv } from './scenario.js'

const AWS = '/usr/bin/aws'

type Run = { code: number | string; stdout: string; stderr: string }

let server: ServerProcess
let sink: HttpSink
let env: NodeJS.ProcessEnv

before(async () => {
  ;[server, sink] = await Promise.all([startServerProcess(), startHttpSink()])
  env = clientEnv()
})

after(async () => {
  try {
    assert.equal(await server.stop(), 0, server.output())
  } finally {
    await sink.close()
  }
})

/**
 * At most this many CLI processes at once: each is CPU-bound for about a second while it starts,
 * and more than a few at a time only slow each other down.
 */
const MAX_CLI = 3
let running = 0
const waiting: (() => void)[] = []

async function aws(...args: string[]): Promise<Run> {
  if (running < MAX_CLI) running++
  else await new Promise<void>((resolve) => waiting.push(resolve))
  try {
    return await new Promise((resolve) => {
      execFile(
        AWS,
        ['--endpoint-url', server.url, '--output', 'json', ...args],
        { env, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
        (err, stdout, stderr) => {
          resolve({ code: err ? (err.code ?? 'killed') : 0, stdout, stderr })
        },
      )
    })
  } finally {
    // The slot passes straight to the next waiter, if any.
    const next = waiting.shift()
    if (next) next()
    else running--
  }
}

/** Runs a command that must succeed; its JSON output (`{}` when the CLI printed nothing). */
async function ok<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  const r = await aws(...args)
  assert.equal(r.code, 0, `aws ${args.join(' ').slice(0, 300)}\n${r.stderr}`)
  return (r.stdout.trim() === '' ? {} : JSON.parse(r.stdout)) as T
}

const sqs = <T = Record<string, unknown>>(...args: string[]) => ok<T>('sqs', ...args)
const events = <T = Record<string, unknown>>(...args: string[]) => ok<T>('events', ...args)

/** Exit code 254 and exactly `An error occurred (code) when calling the operation: message`. */
function assertServiceError(r: Run, operation: string, code: string, message: string): void {
  assert.equal(r.code, 254, r.stderr.slice(0, 500))
  assert.equal(
    r.stderr.trim(),
    `An error occurred (${code}) when calling the ${operation} operation: ${message}`,
  )
}

const json = (v: unknown) => JSON.stringify(v)
const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex')
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')

// ── SQS wire values ──────────────────────────────────────────────────────────

type WireAttribute = { DataType: string; StringValue?: string; BinaryValue?: string }

type Message = {
  MessageId: string
  ReceiptHandle: string
  MD5OfBody: string
  Body: string
  Attributes?: Record<string, string>
  MD5OfMessageAttributes?: string
  MessageAttributes?: Record<string, WireAttribute>
}

type Received = { Messages?: Message[] }

type SendResult = { MessageId: string; MD5OfMessageBody: string; SequenceNumber?: string }

type BatchFailure = { Id: string; SenderFault: boolean; Code: string; Message: string }

const queueUrl = (name: string) => `${server.url}/${ACCOUNT}/${name}`
const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`

/**
 * MD5OfMessageAttributes as SQS computes it: names sorted by their UTF-8 bytes, each as
 * length-prefixed name, data type, then 1 and the string value (or 2 and the binary value).
 */
function md5OfAttributes(attributes: Record<string, WireAttribute>): string {
  const parts: Buffer[] = []
  const field = (b: Buffer) => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(b.length)
    parts.push(length, b)
  }
  const names = Object.keys(attributes).sort((a, b) =>
    Buffer.compare(Buffer.from(a), Buffer.from(b)),
  )
  for (const name of names) {
    const a = attributes[name]!
    field(Buffer.from(name, 'utf8'))
    field(Buffer.from(a.DataType, 'utf8'))
    if (a.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]))
      field(Buffer.from(a.BinaryValue, 'base64'))
    } else {
      parts.push(Buffer.from([1]))
      field(Buffer.from(a.StringValue ?? '', 'utf8'))
    }
  }
  return createHash('md5').update(Buffer.concat(parts)).digest('hex')
}

const STANDARD_SYSTEM_ATTRIBUTES = [
  'ApproximateFirstReceiveTimestamp',
  'ApproximateReceiveCount',
  'SenderId',
  'SentTimestamp',
]
const FIFO_SYSTEM_ATTRIBUTES = [
  ...STANDARD_SYSTEM_ATTRIBUTES,
  'MessageDeduplicationId',
  'MessageGroupId',
  'SequenceNumber',
].sort()
const EPOCH_MS = /^\d{13}$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The `All` system attributes of a message first received in [after, before]. */
function assertSystemAttributes(
  m: Message,
  window: { sentAfter: number; receivedBefore: number },
  receiveCount: string,
  names = STANDARD_SYSTEM_ATTRIBUTES,
): Record<string, string> {
  assert.equal(m.MD5OfBody, md5(m.Body), 'MD5OfBody is the MD5 of the body')
  assert.match(m.MessageId, UUID)
  assert.ok(m.ReceiptHandle.length > 0)
  const a = m.Attributes ?? {}
  assert.deepEqual(Object.keys(a).sort(), names)
  assert.ok(a.SenderId !== undefined && a.SenderId.length > 0, 'SenderId')
  assert.equal(a.ApproximateReceiveCount, receiveCount)
  assert.match(a.SentTimestamp ?? '', EPOCH_MS)
  assert.match(a.ApproximateFirstReceiveTimestamp ?? '', EPOCH_MS)
  const sent = Number(a.SentTimestamp)
  const first = Number(a.ApproximateFirstReceiveTimestamp)
  assert.ok(
    sent >= window.sentAfter - 5 && sent <= window.receivedBefore,
    `SentTimestamp ${String(sent)} not in [${String(window.sentAfter)}, ${String(window.receivedBefore)}]`,
  )
  assert.ok(first >= sent && first <= window.receivedBefore, `first receive ${String(first)}`)
  return a
}

// ── events ───────────────────────────────────────────────────────────────────

const SOURCE = 'e2e.sqs'
const DETAIL_TYPE = 'OrderPlaced'
const RESOURCES = ['arn:aws:s3:::sqs-e2e-bucket']
const PATTERN = json({
  source: [SOURCE],
  'detail-type': [DETAIL_TYPE],
  detail: { amount: [{ numeric: ['>', 100] }] },
})
/** Quotes, `<`, `&` and non-ASCII text: they must survive the XML of the query protocol. */
const DETAIL = json({ orderId: 'o-17', amount: 250, note: 'café "✓" <a&b>' })
const MATCHING = { Source: SOURCE, DetailType: DETAIL_TYPE, Detail: DETAIL, Resources: RESOURCES }
const NOT_MATCHING = { ...MATCHING, Detail: json({ orderId: 'o-18', amount: 50 }) }
const RULE = 'sqs-orders'
const TEMPLATE =
  '{"order": <order>, "total": <amount>, "from": "<src>", "rule": "<aws.events.rule-name>"}'
/** The template rendered for MATCHING: bare strings quoted, strings inside quotes raw. */
const RENDERED = '{"order": "o-17", "total": 250, "from": "e2e.sqs", "rule": "sqs-orders"}'

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

/** The event envelope EventBridge delivers, byte for byte; `time` checked against the window. */
function assertEnvelope(
  body: string,
  expected: {
    id: string
    detailType: string
    source: string
    resources: string[]
    detail: string
    sentAfter: number
    sentBefore: number
  },
): void {
  const event = JSON.parse(body) as Record<string, unknown>
  assert.deepEqual(Object.keys(event), [
    'version',
    'id',
    'detail-type',
    'source',
    'account',
    'time',
    'region',
    'resources',
    'detail',
  ])
  const time = String(event.time)
  assert.match(time, TIME)
  const t = Date.parse(time)
  assert.ok(
    t >= Math.floor(expected.sentAfter / 1000) * 1000 - 1000 && t <= expected.sentBefore + 1000,
    `time ${time}`,
  )
  assert.equal(
    body,
    `{"version":"0","id":"${expected.id}","detail-type":"${expected.detailType}",` +
      `"source":"${expected.source}","account":"${ACCOUNT}","time":"${time}",` +
      `"region":"${REGION}","resources":${json(expected.resources)},"detail":${expected.detail}}`,
  )
}

// ── tests ────────────────────────────────────────────────────────────────────

/** Subtests inherit a suite's concurrency: the steps of each group run in order. */
const SEQUENTIAL = { concurrency: 1 }

describe('AWS CLI v2 and SQS', { concurrency: true }, () => {
  describe('a rule delivers into queues: whole event and InputTransformer', SEQUENTIAL, () => {
    const whole = 'sqs-orders-whole'
    const transformed = 'sqs-orders-transformed'
    let eventId = ''
    let sentAfter = 0
    let sentBefore = 0

    test('create-queue, get-queue-attributes QueueArn', async () => {
      const created = await Promise.all([
        sqs('create-queue', '--queue-name', whole),
        sqs('create-queue', '--queue-name', transformed),
      ])
      assert.deepEqual(created, [
        { QueueUrl: queueUrl(whole) },
        { QueueUrl: queueUrl(transformed) },
      ])
      assert.deepEqual(
        await sqs(
          'get-queue-attributes',
          '--queue-url',
          queueUrl(whole),
          '--attribute-names',
          'QueueArn',
        ),
        { Attributes: { QueueArn: queueArn(whole) } },
      )
    })

    test('put-rule on the default bus, put-targets with the two queue ARNs', async () => {
      assert.deepEqual(await events('put-rule', '--name', RULE, '--event-pattern', PATTERN), {
        RuleArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/${RULE}`,
      })
      const targets = [
        { Id: 'whole', Arn: queueArn(whole) },
        {
          Id: 'transformed',
          Arn: queueArn(transformed),
          InputTransformer: {
            InputPathsMap: {
              order: '$.detail.orderId',
              amount: '$.detail.amount',
              src: '$.source',
            },
            InputTemplate: TEMPLATE,
          },
        },
      ]
      assert.deepEqual(await events('put-targets', '--rule', RULE, '--targets', json(targets)), {
        FailedEntryCount: 0,
        FailedEntries: [],
      })
    })

    test('put-events: one matching, one not', async () => {
      sentAfter = Date.now()
      const out = await events<{ FailedEntryCount: number; Entries: { EventId: string }[] }>(
        'put-events',
        '--entries',
        json([MATCHING, NOT_MATCHING]),
      )
      sentBefore = Date.now()
      assert.equal(out.FailedEntryCount, 0)
      assert.equal(out.Entries.length, 2)
      assert.match(out.Entries[0]!.EventId, UUID)
      eventId = out.Entries[0]!.EventId
    })

    test('receive-message (long poll): the envelope, its MD5 and system attributes', async () => {
      const [w, t] = await Promise.all(
        [whole, transformed].map((q) =>
          sqs<Received>(
            'receive-message',
            '--queue-url',
            queueUrl(q),
            '--attribute-names',
            'All',
            '--max-number-of-messages',
            '10',
            '--wait-time-seconds',
            '10',
          ),
        ),
      )
      const receivedBefore = Date.now()
      assert.equal(w?.Messages?.length, 1, json(w))
      assert.equal(t?.Messages?.length, 1, json(t))
      const m = w.Messages[0]!
      assertEnvelope(m.Body, {
        id: eventId,
        detailType: DETAIL_TYPE,
        source: SOURCE,
        resources: RESOURCES,
        detail: DETAIL,
        sentAfter,
        sentBefore,
      })
      assertSystemAttributes(m, { sentAfter, receivedBefore }, '1')
      assert.equal(m.MessageAttributes, undefined)
      const n = t.Messages[0]!
      assert.equal(n.Body, RENDERED)
      assertSystemAttributes(n, { sentAfter, receivedBefore }, '1')
      assert.notEqual(n.MessageId, m.MessageId)

      // delete-message; then nothing is left, visible or in flight
      assert.deepEqual(
        await sqs(
          'delete-message',
          '--queue-url',
          queueUrl(whole),
          '--receipt-handle',
          m.ReceiptHandle,
        ),
        {},
      )
      assert.deepEqual(
        await sqs(
          'get-queue-attributes',
          '--queue-url',
          queueUrl(whole),
          '--attribute-names',
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
        ),
        {
          Attributes: {
            ApproximateNumberOfMessages: '0',
            ApproximateNumberOfMessagesNotVisible: '0',
          },
        },
      )
    })

    test('the non-matching event never arrives', async () => {
      assert.deepEqual(
        await sqs('receive-message', '--queue-url', queueUrl(whole), '--wait-time-seconds', '1'),
        {},
      )
    })
  })

  describe('a target dead-letters into a queue', SEQUENTIAL, () => {
    const dlq = 'sqs-target-dlq'
    const rule = 'sqs-failing'

    test('an API destination answering 400: the event and its error in the DLQ', async () => {
      sink.respond(() => 400)
      const source = 'e2e.sqs.dlq'
      const [, connection] = await Promise.all([
        sqs('create-queue', '--queue-name', dlq),
        events<{ ConnectionArn: string }>(
          'create-connection',
          '--name',
          'sqs-dlq-conn',
          '--authorization-type',
          'API_KEY',
          '--auth-parameters',
          json({ ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'k' } }),
        ),
        events('put-rule', '--name', rule, '--event-pattern', json({ source: [source] })),
      ])
      const destination = await events<{ ApiDestinationArn: string }>(
        'create-api-destination',
        '--name',
        'sqs-dlq-hook',
        '--connection-arn',
        connection.ConnectionArn,
        '--invocation-endpoint',
        `${sink.url}/fail`,
        '--http-method',
        'POST',
      )
      const destinationArn = destination.ApiDestinationArn
      const put = await events(
        'put-targets',
        '--rule',
        rule,
        '--targets',
        json([
          {
            Id: 'hook',
            Arn: destinationArn,
            DeadLetterConfig: { Arn: queueArn(dlq) },
            RetryPolicy: { MaximumRetryAttempts: 0 },
          },
        ]),
      )
      assert.deepEqual(put, { FailedEntryCount: 0, FailedEntries: [] })

      const detail = json({ doomed: true, n: 1 })
      const sentAfter = Date.now()
      const out = await events<{ FailedEntryCount: number; Entries: { EventId: string }[] }>(
        'put-events',
        '--entries',
        json([{ Source: source, DetailType: 'Doomed', Detail: detail }]),
      )
      const sentBefore = Date.now()
      assert.equal(out.FailedEntryCount, 0)
      const got = await sqs<Received>(
        'receive-message',
        '--queue-url',
        queueUrl(dlq),
        '--attribute-names',
        'All',
        '--message-attribute-names',
        'All',
        '--wait-time-seconds',
        '10',
      )
      const receivedBefore = Date.now()
      assert.equal(got.Messages?.length, 1, json(got))
      const m = got.Messages[0]!
      const expected = {
        id: out.Entries[0]!.EventId,
        detailType: 'Doomed',
        source,
        resources: [],
        detail,
        sentAfter,
        sentBefore,
      }
      assertEnvelope(m.Body, expected)
      assertSystemAttributes(m, { sentAfter, receivedBefore }, '1')
      // A 4xx other than 401/407/409/429 is not retried; the API-destination adapter reports it
      // as SDK_CLIENT_ERROR with the status (src/delivery/targets/api-destination.ts).
      const attributes: Record<string, WireAttribute> = {
        RULE_ARN: {
          DataType: 'String',
          StringValue: `arn:aws:events:${REGION}:${ACCOUNT}:rule/${rule}`,
        },
        TARGET_ARN: { DataType: 'String', StringValue: destinationArn },
        ERROR_CODE: { DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' },
        ERROR_MESSAGE: {
          DataType: 'String',
          StringValue:
            'Unable to invoke ApiDestination endpoint: The endpoint responded with status code 400.',
        },
        RETRY_ATTEMPTS: { DataType: 'String', StringValue: '0' },
      }
      assert.deepEqual(m.MessageAttributes, attributes)
      // The algorithm reproduces AWS's recorded value for {Foo: String "Bar"}.
      assert.equal(
        md5OfAttributes({ Foo: { DataType: 'String', StringValue: 'Bar' } }),
        'ae7155c6026991b6d54b11589678bf9c',
      )
      assert.equal(m.MD5OfMessageAttributes, md5OfAttributes(attributes))
      // The endpoint was called once, with the same event.
      assert.equal(sink.received.length, 1)
      assert.equal(sink.received[0]!.url, '/fail')
      assert.equal(sink.received[0]!.body, m.Body)
    })
  })

  describe('FIFO queue with content-based deduplication', SEQUENTIAL, () => {
    const name = 'sqs-orders.fifo'
    const url = () => queueUrl(name)
    const sent = new Map<string, SendResult & { group: string }>()
    let sentAfter = 0
    const groups: Record<string, string[]> = { A: ['a1', 'a2'], B: ['b1'] }

    test('create-queue FifoQueue=true ContentBasedDeduplication=true', async () => {
      const created = await sqs(
        'create-queue',
        '--queue-name',
        name,
        '--attributes',
        json({ FifoQueue: 'true', ContentBasedDeduplication: 'true' }),
      )
      assert.deepEqual(created, { QueueUrl: url() })
    })

    test('send-message-batch in two groups; a duplicate body is deduplicated', async () => {
      const entries = Object.entries(groups).flatMap(([group, bodies]) =>
        bodies.map((body) => ({ Id: body, MessageBody: body, MessageGroupId: group })),
      )
      sentAfter = Date.now()
      const out = await sqs<{ Successful: (SendResult & { Id: string })[]; Failed?: unknown[] }>(
        'send-message-batch',
        '--queue-url',
        url(),
        '--entries',
        json(entries),
      )
      assert.deepEqual(out.Failed ?? [], [])
      assert.deepEqual(out.Successful.map((r) => r.Id).sort(), ['a1', 'a2', 'b1'])
      for (const r of out.Successful) {
        assert.deepEqual(Object.keys(r).sort(), [
          'Id',
          'MD5OfMessageBody',
          'MessageId',
          'SequenceNumber',
        ])
        assert.equal(r.MD5OfMessageBody, md5(r.Id))
        assert.match(r.MessageId, UUID)
        assert.match(r.SequenceNumber ?? '', /^\d{20}$/)
        sent.set(r.Id, { ...r, group: r.Id.startsWith('a') ? 'A' : 'B' })
      }
      const a1 = sent.get('a1')!
      const a2 = sent.get('a2')!
      assert.ok(BigInt(a2.SequenceNumber!) > BigInt(a1.SequenceNumber!), 'increasing in a group')
      assert.equal(new Set([...sent.values()].map((r) => r.MessageId)).size, 3)
      const dup = await sqs<SendResult>(
        'send-message',
        '--queue-url',
        url(),
        '--message-body',
        'a1',
        '--message-group-id',
        'A',
      )
      assert.equal(dup.MessageId, a1.MessageId, 'a duplicate answers with the original id')
      assert.equal(dup.MD5OfMessageBody, md5('a1'))
    })

    test('receive-message keeps group order and holds back a group in flight', async () => {
      // A long visibility timeout: the steps below must see the messages in flight (and a FIFO
      // receipt handle only deletes while its message is), however slowly the CLI starts.
      const receive = async (max = '10') => {
        const r = await sqs<Received>(
          'receive-message',
          '--queue-url',
          url(),
          '--attribute-names',
          'All',
          '--max-number-of-messages',
          max,
          '--visibility-timeout',
          '600',
        )
        return r.Messages ?? []
      }
      const check = (m: Message) => {
        const s = sent.get(m.Body)
        assert.ok(s, `unexpected body ${m.Body}`)
        assert.equal(m.MessageId, s.MessageId)
        const a = assertSystemAttributes(
          m,
          { sentAfter, receivedBefore: Date.now() },
          '1',
          FIFO_SYSTEM_ATTRIBUTES,
        )
        assert.equal(a.MessageGroupId, s.group)
        assert.equal(a.MessageDeduplicationId, sha256(m.Body))
        assert.equal(a.SequenceNumber, s.SequenceNumber)
      }
      // One message: the head of its group.
      const first = await receive('1')
      assert.equal(first.length, 1)
      const m1 = first[0]!
      check(m1)
      const group = sent.get(m1.Body)!.group
      const other = group === 'A' ? 'B' : 'A'
      assert.equal(m1.Body, groups[group]![0])
      // Then only the other group, in order: m1's group is held back while m1 is in flight.
      const second = await receive()
      second.forEach(check)
      assert.deepEqual(
        second.map((m) => m.Body),
        groups[other],
      )
      assert.deepEqual(await receive(), [], 'both groups have a message in flight')
      // Deleting m1 releases the rest of its group.
      await sqs('delete-message', '--queue-url', url(), '--receipt-handle', m1.ReceiptHandle)
      const third = await receive()
      third.forEach(check)
      assert.deepEqual(
        third.map((m) => m.Body),
        groups[group]!.slice(1),
      )
      // The two others are in flight and nothing is left: the duplicate was never queued.
      const { Attributes: counts } = await sqs<{ Attributes: Record<string, string> }>(
        'get-queue-attributes',
        '--queue-url',
        url(),
        '--attribute-names',
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
      )
      assert.deepEqual(counts, {
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '2',
      })
    })
  })

  describe('visibility timeout', SEQUENTIAL, () => {
    const name = 'sqs-visibility'

    test('hidden while received; change-message-visibility 0 shows it; a 1 s timeout runs out', async () => {
      await sqs('create-queue', '--queue-name', name)
      const url = queueUrl(name)
      const sentAfter = Date.now()
      const s = await sqs<SendResult>(
        'send-message',
        '--queue-url',
        url,
        '--message-body',
        'peekaboo',
      )
      const receive = (...extra: string[]) =>
        sqs<Received>('receive-message', '--queue-url', url, '--attribute-names', 'All', ...extra)

      const r1 = await receive('--visibility-timeout', '600')
      assert.equal(r1.Messages?.length, 1)
      const m1 = r1.Messages[0]!
      assert.equal(m1.MessageId, s.MessageId)
      assertSystemAttributes(m1, { sentAfter, receivedBefore: Date.now() }, '1')
      assert.deepEqual(await receive(), {}, 'hidden while its visibility timeout runs')

      assert.deepEqual(
        await sqs(
          'change-message-visibility',
          '--queue-url',
          url,
          '--receipt-handle',
          m1.ReceiptHandle,
          '--visibility-timeout',
          '0',
        ),
        {},
      )
      const r2 = await receive('--visibility-timeout', '1')
      assert.equal(r2.Messages?.length, 1, 'visible at once after change-message-visibility 0')
      assert.equal(r2.Messages[0]!.MessageId, s.MessageId)
      assert.equal(r2.Messages[0]!.Attributes?.ApproximateReceiveCount, '2')

      // Received with VisibilityTimeout 1: back within this 10 s long poll (the queue's 30 s
      // would outlast it).
      const r3 = await receive('--wait-time-seconds', '10')
      assert.equal(r3.Messages?.length, 1, 'visible again once the 1 s timeout ran out')
      const m3 = r3.Messages[0]!
      assert.equal(m3.MessageId, s.MessageId)
      assert.equal(m3.Attributes?.ApproximateReceiveCount, '3')
    })
  })

  describe('redrive to a dead-letter queue', SEQUENTIAL, () => {
    const dlq = 'sqs-redrive-dlq'
    const source = 'sqs-redrive-source'

    test('RedrivePolicy echoed; maxReceiveCount 1 moves the message on the next receive', async () => {
      await sqs('create-queue', '--queue-name', dlq)
      const policy = `{"deadLetterTargetArn": "${queueArn(dlq)}", "maxReceiveCount": "1"}`
      await sqs(
        'create-queue',
        '--queue-name',
        source,
        '--attributes',
        json({ RedrivePolicy: policy }),
      )
      const echoed = await sqs(
        'get-queue-attributes',
        '--queue-url',
        queueUrl(source),
        '--attribute-names',
        'RedrivePolicy',
      )
      assert.deepEqual(echoed, {
        Attributes: {
          RedrivePolicy: `{"deadLetterTargetArn":"${queueArn(dlq)}","maxReceiveCount":1}`,
        },
      })

      const sentAfter = Date.now()
      const s = await sqs<SendResult>(
        'send-message',
        '--queue-url',
        queueUrl(source),
        '--message-body',
        'poison',
      )
      const r1 = await sqs<Received>(
        'receive-message',
        '--queue-url',
        queueUrl(source),
        '--attribute-names',
        'All',
        '--visibility-timeout',
        '0',
      )
      assert.equal(r1.Messages?.length, 1)
      const original = assertSystemAttributes(
        r1.Messages[0]!,
        { sentAfter, receivedBefore: Date.now() },
        '1',
      )
      assert.deepEqual(
        await sqs('receive-message', '--queue-url', queueUrl(source)),
        {},
        'the second receive moves it instead',
      )
      const moved = await sqs<Received>(
        'receive-message',
        '--queue-url',
        queueUrl(dlq),
        '--attribute-names',
        'All',
        '--wait-time-seconds',
        '5',
      )
      assert.equal(moved.Messages?.length, 1, json(moved))
      const m = moved.Messages[0]!
      assert.equal(m.MessageId, s.MessageId)
      assert.equal(m.Body, 'poison')
      assert.equal(m.MD5OfBody, md5('poison'))
      assert.deepEqual(m.Attributes, {
        SenderId: original.SenderId,
        SentTimestamp: original.SentTimestamp,
        ApproximateReceiveCount: '2',
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp,
        DeadLetterQueueSourceArn: queueArn(source),
      })
      assert.match(m.Attributes.ApproximateFirstReceiveTimestamp ?? '', EPOCH_MS)

      assert.deepEqual(await sqs('list-dead-letter-source-queues', '--queue-url', queueUrl(dlq)), {
        queueUrls: [queueUrl(source)],
      })
    })
  })

  describe('batches', { concurrency: true }, () => {
    test('send-message-batch: Successful and Failed entries; delete-message-batch', async () => {
      const name = 'sqs-batch'
      const url = queueUrl(name)
      await sqs('create-queue', '--queue-name', name)
      const out = await sqs<{
        Successful: (SendResult & { Id: string })[]
        Failed?: BatchFailure[]
      }>(
        'send-message-batch',
        '--queue-url',
        url,
        '--entries',
        json([
          { Id: 'one', MessageBody: 'first' },
          { Id: 'bad', MessageBody: 'bad \u0001 char' },
          { Id: 'two', MessageBody: 'second' },
        ]),
      )
      const successful = [...out.Successful].sort((a, b) => a.Id.localeCompare(b.Id))
      assert.deepEqual(
        successful.map((e) => Object.keys(e).sort()),
        [
          ['Id', 'MD5OfMessageBody', 'MessageId'],
          ['Id', 'MD5OfMessageBody', 'MessageId'],
        ],
      )
      assert.deepEqual(
        successful.map((e) => [e.Id, e.MD5OfMessageBody]),
        [
          ['one', md5('first')],
          ['two', md5('second')],
        ],
      )
      assert.equal(out.Failed?.length, 1, json(out))
      const failed = out.Failed[0]!
      assert.deepEqual(Object.keys(failed).sort(), ['Code', 'Id', 'Message', 'SenderFault'])
      assert.equal(failed.Id, 'bad')
      assert.equal(failed.Code, 'InvalidMessageContents')
      assert.equal(failed.SenderFault, true)
      assert.match(failed.Message, /^Invalid characters found\./)

      const messages: Message[] = []
      for (let i = 0; i < 5 && messages.length < 2; i++) {
        const r = await sqs<Received>(
          'receive-message',
          '--queue-url',
          url,
          '--max-number-of-messages',
          '10',
          '--wait-time-seconds',
          '2',
        )
        messages.push(...(r.Messages ?? []))
      }
      assert.deepEqual(messages.map((m) => m.Body).sort(), ['first', 'second'])
      assert.deepEqual(
        messages.map((m) => m.MessageId).sort(),
        successful.map((e) => e.MessageId).sort(),
      )
      const deleted = await sqs<{ Successful: { Id: string }[]; Failed?: BatchFailure[] }>(
        'delete-message-batch',
        '--queue-url',
        url,
        '--entries',
        json(messages.map((m, i) => ({ Id: `d${String(i)}`, ReceiptHandle: m.ReceiptHandle }))),
      )
      assert.deepEqual(
        [...deleted.Successful].sort((a, b) => a.Id.localeCompare(b.Id)),
        [{ Id: 'd0' }, { Id: 'd1' }],
      )
      assert.deepEqual(deleted.Failed ?? [], [])
    })

    test('send-message-batch over MaximumMessageSize fails that entry only (as AWS recorded)', async () => {
      const name = 'sqs-batch-1k'
      await sqs(
        'create-queue',
        '--queue-name',
        name,
        '--attributes',
        json({ MaximumMessageSize: '1024' }),
      )
      const fits = 'a'.repeat(1024)
      const r = await aws(
        'sqs',
        'send-message-batch',
        '--queue-url',
        queueUrl(name),
        '--entries',
        json([
          { Id: 'fits', MessageBody: fits },
          { Id: 'too-long', MessageBody: 'a'.repeat(1025) },
        ]),
      )
      assert.equal(r.code, 0, r.stderr)
      const out = JSON.parse(r.stdout) as {
        Successful: (SendResult & { Id: string })[]
        Failed: BatchFailure[]
      }
      assert.equal(out.Successful.length, 1)
      assert.match(out.Successful[0]!.MessageId, UUID)
      assert.deepEqual(out, {
        Successful: [
          { Id: 'fits', MessageId: out.Successful[0]!.MessageId, MD5OfMessageBody: md5(fits) },
        ],
        Failed: [
          {
            Id: 'too-long',
            SenderFault: true,
            Code: 'InvalidParameterValue',
            Message:
              'One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes.',
          },
        ],
      })
    })
  })

  describe('errors', { concurrency: true }, () => {
    const name = 'sqs-errors'
    before(async () => {
      await sqs(
        'create-queue',
        '--queue-name',
        name,
        '--attributes',
        json({ VisibilityTimeout: '30' }),
      )
    })

    test('get-queue-url of a missing queue: NonExistentQueue', async () => {
      assertServiceError(
        await aws('sqs', 'get-queue-url', '--queue-name', 'sqs-missing'),
        'GetQueueUrl',
        'AWS.SimpleQueueService.NonExistentQueue',
        'The specified queue does not exist for this wsdl version.',
      )
    })

    test('receive-message with 11 messages: InvalidParameterValue', async () => {
      assertServiceError(
        await aws(
          'sqs',
          'receive-message',
          '--queue-url',
          queueUrl(name),
          '--max-number-of-messages',
          '11',
        ),
        'ReceiveMessage',
        'InvalidParameterValue',
        'Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.',
      )
    })

    test('create-queue with another VisibilityTimeout: QueueAlreadyExists', async () => {
      assertServiceError(
        await aws(
          'sqs',
          'create-queue',
          '--queue-name',
          name,
          '--attributes',
          json({ VisibilityTimeout: '45' }),
        ),
        'CreateQueue',
        'QueueAlreadyExists',
        'A queue already exists with the same name and a different value for attribute VisibilityTimeout',
      )
    })

    test('create-queue with an unknown attribute: InvalidAttributeName', async () => {
      assertServiceError(
        await aws(
          'sqs',
          'create-queue',
          '--queue-name',
          'sqs-foo',
          '--attributes',
          json({ Foo: 'bar' }),
        ),
        'CreateQueue',
        'InvalidAttributeName',
        'Unknown Attribute Foo.',
      )
    })

    test('delete-message with a garbage receipt handle: ReceiptHandleIsInvalid', async () => {
      assertServiceError(
        await aws(
          'sqs',
          'delete-message',
          '--queue-url',
          queueUrl(name),
          '--receipt-handle',
          'garbage',
        ),
        'DeleteMessage',
        'ReceiptHandleIsInvalid',
        'The input receipt handle "garbage" is not a valid receipt handle.',
      )
    })

    test('purge-queue twice: PurgeQueueInProgress', async () => {
      const url = queueUrl(name)
      assert.deepEqual(await sqs('purge-queue', '--queue-url', url), {})
      assertServiceError(
        await aws('sqs', 'purge-queue', '--queue-url', url),
        'PurgeQueue',
        'AWS.SimpleQueueService.PurgeQueueInProgress',
        `Only one PurgeQueue operation on ${name} is allowed every 60 seconds.`,
      )
    })
  })

  describe('tags and listing', SEQUENTIAL, () => {
    test('tag-queue, list-queue-tags, untag-queue; list-queues with a prefix', async () => {
      // The other groups' queues (sqs-target-dlq, sqs-orders-…) do not have the prefix.
      const a = 'sqs-tags-a'
      await sqs('create-queue', '--queue-name', a, '--tags', json({ env: 'e2e' }))
      const url = queueUrl(a)
      assert.deepEqual(
        await sqs('tag-queue', '--queue-url', url, '--tags', json({ team: 'core', tier: '1' })),
        {},
      )
      assert.deepEqual(await sqs('list-queue-tags', '--queue-url', url), {
        Tags: { env: 'e2e', team: 'core', tier: '1' },
      })
      assert.deepEqual(
        await sqs('untag-queue', '--queue-url', url, '--tag-keys', 'env', 'tier'),
        {},
      )
      assert.deepEqual(await sqs('list-queue-tags', '--queue-url', url), {
        Tags: { team: 'core' },
      })
      const listed = await sqs<{ QueueUrls: string[] }>(
        'list-queues',
        '--queue-name-prefix',
        'sqs-tags',
      )
      assert.deepEqual(Object.keys(listed), ['QueueUrls'])
      assert.deepEqual(listed.QueueUrls, [queueUrl(a)])
    })
  })
})
