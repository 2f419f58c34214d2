/**
 * Junction's queues end to end with the real boto3 (Debian's 1.26 under `/usr/bin/python3`, not
 * the `python3` on PATH; its SQS client speaks the query protocol): `sqs_boto3_flow.py` makes the
 * calls, one phase per process (the phases run at once, each on its own queues), and prints what
 * botocore returned; this file starts the server and the sink and asserts. Service errors are
 * botocore `ClientError`s: `Error.Code` and `Error.Message` from the query protocol's
 * `<ErrorResponse>`.
 *
 * AWS behaviour asserted here (sources as in the SQS wire notes: LocalStack snapshots and
 * validated tests recorded against AWS, the botocore 1.29 query model, the AWS docs):
 * - a rule's SQS target gets the event envelope (AWS key order) or the transformer's output as
 *   the body; MD5OfBody is the hex MD5 of the UTF-8 body; `All` system attributes on a standard
 *   queue are exactly SenderId, SentTimestamp, ApproximateReceiveCount and
 *   ApproximateFirstReceiveTimestamp (epoch milliseconds), FIFO adds MessageGroupId,
 *   MessageDeduplicationId (SHA-256 of the body when content-based) and SequenceNumber;
 * - GetQueueAttributes `All` of a FIFO queue: the 12 standard attributes and the 4 FIFO ones;
 * - a target's dead letter carries the event as its body and the String message attributes
 *   RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS (EXHAUSTED_RETRY_CONDITION
 *   only when a retry limit ended delivery); MD5OfMessageAttributes per the SQS algorithm;
 * - RedrivePolicy is echoed as compact JSON with a numeric maxReceiveCount; a message received
 *   maxReceiveCount times moves to the DLQ on the next receive, keeping its id, send time and
 *   receive count, and gains DeadLetterQueueSourceArn;
 * - the error codes, HTTP statuses and messages of the SQS error table.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startHttpSink, type HttpSink } from '../helpers/http-sink.js'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { ACCOUNT, REGION, clientEnv } from './scenario.js'

const PYTHON = '/usr/bin/python3'
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'sqs_boto3_flow.py')

type ServiceError = {
  Code: string
  Message: string
  Type: string | null
  HTTPStatusCode: number
  Class: string
}
type Outcome<R = Record<string, unknown>> =
  { response: R; error?: undefined } | { error: ServiceError }

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

/** Runs one phase of sqs_boto3_flow.py with `input` on stdin; its `result`. */
function boto3<T>(phase: string, input: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, phase, server.url], { env })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`sqs_boto3_flow.py ${phase} exited with ${String(code)}:\n${err}`))
        return
      }
      const parsed = JSON.parse(out) as { boto3: string; result: T }
      assert.match(parsed.boto3, /^1\.26\./, 'Debian boto3 1.26')
      resolve(parsed.result)
    })
    child.stdin.end(JSON.stringify(input))
  })
}

function response<R>(o: Outcome<R> | undefined): R {
  assert.ok(o, 'the call was made')
  assert.equal(o.error, undefined, JSON.stringify(o.error))
  return (o as { response: R }).response
}

/**
 * A ClientError with this code, status, message and fault type; `class` is the exception botocore
 * 1.29's SQS model maps the code to (ClientError when the model has no shape for it).
 */
function assertServiceError(
  o: Outcome | undefined,
  expected: { code: string; status: number; message: string; class: string },
): void {
  assert.ok(o?.error, `expected ${expected.code}, got ${JSON.stringify(o).slice(0, 300)}`)
  assert.deepEqual(
    { Code: o.error.Code, HTTPStatusCode: o.error.HTTPStatusCode, Message: o.error.Message },
    { Code: expected.code, HTTPStatusCode: expected.status, Message: expected.message },
  )
  assert.equal(o.error.Type, 'Sender')
  assert.equal(o.error.Class, expected.class)
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
type BatchResult<S> = { Successful?: S[]; Failed?: BatchFailure[] }
type PutEvents = { FailedEntryCount: number; Entries: { EventId: string }[] }

const queueUrl = (name: string) => `${server.url}/${ACCOUNT}/${name}`
const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`

/** The messages a ReceiveMessage returned ([] for none; boto3 then has no Messages key). */
function received(o: Outcome<Received> | undefined): Message[] {
  const r = response(o)
  if (r.Messages === undefined) {
    assert.deepEqual(r, {})
    return []
  }
  return r.Messages
}

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

/** The `All` system attributes of a message first received in [sentAfter, receivedBefore]. */
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

const BUS = 'sqs-e2e-bus'
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
const MATCHING = {
  Source: SOURCE,
  DetailType: DETAIL_TYPE,
  Detail: DETAIL,
  Resources: RESOURCES,
  EventBusName: BUS,
}
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

const COUNTS_ZERO = {
  Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' },
}

// ── tests ────────────────────────────────────────────────────────────────────

/** Subtests inherit a suite's concurrency: the checks of each phase run in order. */
const SEQUENTIAL = { concurrency: 1 }

describe('boto3 and SQS', { concurrency: true }, () => {
  describe(
    'a rule on a custom bus delivers into queues: whole event and InputTransformer',
    SEQUENTIAL,
    () => {
      const queues = { whole: 'sqs-orders-whole', transformed: 'sqs-orders-transformed' }
      type Flow = {
        create_queue: Record<'whole' | 'transformed', Outcome>
        get_queue_attributes: Record<'whole' | 'transformed', Outcome>
        create_event_bus: Outcome
        put_rule: Outcome
        put_targets: Outcome
        put_events: Outcome<PutEvents>
        receive: Record<'whole' | 'transformed', Outcome<Received>>
        delete: Record<'whole' | 'transformed', Outcome>
        counts: Outcome
        again: Outcome<Received>
        sent_after: number
        sent_before: number
        received_before: number
      }
      let out: Flow

      before(async () => {
        out = await boto3<Flow>('flow', {
          queues,
          bus: BUS,
          rule: RULE,
          pattern: PATTERN,
          targets: [
            { Id: 'whole' },
            {
              Id: 'transformed',
              InputTransformer: {
                InputPathsMap: {
                  order: '$.detail.orderId',
                  amount: '$.detail.amount',
                  src: '$.source',
                },
                InputTemplate: TEMPLATE,
              },
            },
          ],
          entries: [MATCHING, NOT_MATCHING],
        })
      })

      test('create_queue, get_queue_attributes QueueArn', () => {
        for (const key of ['whole', 'transformed'] as const) {
          assert.deepEqual(response(out.create_queue[key]), { QueueUrl: queueUrl(queues[key]) })
          assert.deepEqual(response(out.get_queue_attributes[key]), {
            Attributes: { QueueArn: queueArn(queues[key]) },
          })
        }
      })

      test('create_event_bus, put_rule, put_targets with the queue ARNs', () => {
        assert.deepEqual(response(out.create_event_bus), {
          EventBusArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${BUS}`,
        })
        assert.deepEqual(response(out.put_rule), {
          RuleArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/${BUS}/${RULE}`,
        })
        assert.deepEqual(response(out.put_targets), { FailedEntryCount: 0, FailedEntries: [] })
      })

      test('receive_message (long poll): the envelope, its MD5 and system attributes', () => {
        const put = response(out.put_events)
        assert.equal(put.FailedEntryCount, 0)
        assert.equal(put.Entries.length, 2)
        const eventId = put.Entries[0]!.EventId
        assert.match(eventId, UUID)
        const window = { sentAfter: out.sent_after, receivedBefore: out.received_before }
        const whole = received(out.receive.whole)
        assert.equal(whole.length, 1, json(whole))
        assertEnvelope(whole[0]!.Body, {
          id: eventId,
          detailType: DETAIL_TYPE,
          source: SOURCE,
          resources: RESOURCES,
          detail: DETAIL,
          sentAfter: out.sent_after,
          sentBefore: out.sent_before,
        })
        assertSystemAttributes(whole[0]!, window, '1')
        assert.equal(whole[0]!.MessageAttributes, undefined)
        const transformed = received(out.receive.transformed)
        assert.equal(transformed.length, 1, json(transformed))
        assert.equal(transformed[0]!.Body, RENDERED)
        assertSystemAttributes(transformed[0]!, window, '1')
      })

      test('delete_message; then nothing is left, and the non-matching event never arrives', () => {
        assert.deepEqual(response(out.delete.whole), {})
        assert.deepEqual(response(out.delete.transformed), {})
        assert.deepEqual(response(out.counts), COUNTS_ZERO)
        assert.deepEqual(received(out.again), [])
      })
    },
  )

  describe('a target dead-letters into a queue', SEQUENTIAL, () => {
    const rule = 'sqs-failing'
    const source = 'e2e.sqs.dlq'
    const detail = json({ doomed: true, n: 1 })
    type Dlq = {
      create_queue: Outcome
      get_queue_attributes: Outcome
      create_connection: Outcome
      create_api_destination: Outcome<{ ApiDestinationArn: string }>
      put_rule: Outcome
      put_targets: Outcome
      put_events: Outcome<PutEvents>
      receive: Outcome<Received>
      sent_after: number
      sent_before: number
      received_before: number
    }
    let out: Dlq

    before(async () => {
      sink.respond(() => 400)
      out = await boto3<Dlq>('dlq', {
        queue: 'sqs-target-dlq',
        connection: {
          Name: 'sqs-dlq-conn',
          AuthorizationType: 'API_KEY',
          AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'k' } },
        },
        destination: {
          Name: 'sqs-dlq-hook',
          InvocationEndpoint: `${sink.url}/fail`,
          HttpMethod: 'POST',
        },
        rule,
        pattern: json({ source: [source] }),
        entry: { Source: source, DetailType: 'Doomed', Detail: detail },
      })
    })

    test('put_targets with DeadLetterConfig and MaximumRetryAttempts 0', () => {
      assert.deepEqual(response(out.put_targets), { FailedEntryCount: 0, FailedEntries: [] })
    })

    test('an API destination answering 400: the event and its error in the DLQ', () => {
      const put = response(out.put_events)
      assert.equal(put.FailedEntryCount, 0)
      const messages = received(out.receive)
      assert.equal(messages.length, 1, json(out.receive))
      const m = messages[0]!
      assertEnvelope(m.Body, {
        id: put.Entries[0]!.EventId,
        detailType: 'Doomed',
        source,
        resources: [],
        detail,
        sentAfter: out.sent_after,
        sentBefore: out.sent_before,
      })
      assertSystemAttributes(
        m,
        { sentAfter: out.sent_after, receivedBefore: out.received_before },
        '1',
      )
      // A 4xx other than 401/407/409/429 is not retried; the API-destination adapter reports it
      // as SDK_CLIENT_ERROR with the status (src/delivery/targets/api-destination.ts).
      const attributes: Record<string, WireAttribute> = {
        RULE_ARN: {
          DataType: 'String',
          StringValue: `arn:aws:events:${REGION}:${ACCOUNT}:rule/${rule}`,
        },
        TARGET_ARN: {
          DataType: 'String',
          StringValue: response(out.create_api_destination).ApiDestinationArn,
        },
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
    const groups: Record<string, string[]> = { A: ['a1', 'a2'], B: ['b1'] }
    type Fifo = {
      create_queue: Outcome
      attributes: Outcome<{ Attributes: Record<string, string> }>
      send: Outcome<SendResult>[]
      first: Outcome<Received>
      second: Outcome<Received>
      third: Outcome<Received>
      delete: Outcome
      fourth: Outcome<Received>
      delete_batch?: Outcome<BatchResult<{ Id: string }>>
      counts: Outcome
      started_at: number
      received_before: number
    }
    let out: Fifo
    const sent = new Map<string, SendResult & { group: string }>()

    before(async () => {
      out = await boto3<Fifo>('fifo', {
        queue: name,
        sends: [
          ['A', 'a1'],
          ['A', 'a2'],
          ['B', 'b1'],
          ['A', 'a1'],
        ],
      })
    })

    test('create_queue; get_queue_attributes All', () => {
      assert.deepEqual(response(out.create_queue), { QueueUrl: queueUrl(name) })
      const a = response(out.attributes).Attributes
      assert.match(a.CreatedTimestamp ?? '', /^\d{10}$/)
      assert.match(a.LastModifiedTimestamp ?? '', /^\d{10}$/)
      assert.deepEqual(a, {
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesDelayed: '0',
        ApproximateNumberOfMessagesNotVisible: '0',
        CreatedTimestamp: a.CreatedTimestamp,
        DelaySeconds: '0',
        LastModifiedTimestamp: a.LastModifiedTimestamp,
        MaximumMessageSize: '1048576',
        MessageRetentionPeriod: '345600',
        QueueArn: queueArn(name),
        ReceiveMessageWaitTimeSeconds: '0',
        SqsManagedSseEnabled: 'true',
        VisibilityTimeout: '30',
        ContentBasedDeduplication: 'true',
        DeduplicationScope: 'queue',
        FifoQueue: 'true',
        FifoThroughputLimit: 'perQueue',
      })
    })

    test('send_message in two groups; a duplicate body is deduplicated', () => {
      const results = out.send.map((o) => response(o))
      const bodies = ['a1', 'a2', 'b1']
      bodies.forEach((body, i) => {
        const r = results[i]!
        assert.deepEqual(Object.keys(r).sort(), ['MD5OfMessageBody', 'MessageId', 'SequenceNumber'])
        assert.equal(r.MD5OfMessageBody, md5(body))
        assert.match(r.MessageId, UUID)
        assert.match(r.SequenceNumber ?? '', /^\d{20}$/)
        sent.set(body, { ...r, group: body.startsWith('a') ? 'A' : 'B' })
      })
      const a1 = sent.get('a1')!
      const a2 = sent.get('a2')!
      assert.ok(BigInt(a2.SequenceNumber!) > BigInt(a1.SequenceNumber!), 'increasing in a group')
      assert.equal(new Set([...sent.values()].map((r) => r.MessageId)).size, 3)
      const dup = results[3]!
      assert.equal(dup.MessageId, a1.MessageId, 'a duplicate answers with the original id')
      assert.equal(dup.MD5OfMessageBody, md5('a1'))
    })

    test('receive_message keeps group order and holds back a group in flight', () => {
      const check = (m: Message) => {
        const s = sent.get(m.Body)
        assert.ok(s, `unexpected body ${m.Body}`)
        assert.equal(m.MessageId, s.MessageId)
        const a = assertSystemAttributes(
          m,
          { sentAfter: out.started_at, receivedBefore: out.received_before },
          '1',
          FIFO_SYSTEM_ATTRIBUTES,
        )
        assert.equal(a.MessageGroupId, s.group)
        assert.equal(a.MessageDeduplicationId, sha256(m.Body))
        assert.equal(a.SequenceNumber, s.SequenceNumber)
      }
      // One message: the head of its group.
      const first = received(out.first)
      assert.equal(first.length, 1)
      const m1 = first[0]!
      check(m1)
      const group = sent.get(m1.Body)!.group
      const other = group === 'A' ? 'B' : 'A'
      assert.equal(m1.Body, groups[group]![0])
      // Then only the other group, in order: m1's group is held back while m1 is in flight.
      const second = received(out.second)
      second.forEach(check)
      assert.deepEqual(
        second.map((m) => m.Body),
        groups[other],
      )
      assert.deepEqual(received(out.third), [], 'both groups have a message in flight')
      // Deleting m1 releases the rest of its group.
      assert.deepEqual(response(out.delete), {})
      const fourth = received(out.fourth)
      fourth.forEach(check)
      assert.deepEqual(
        fourth.map((m) => m.Body),
        groups[group]!.slice(1),
      )
      const deleted = response(out.delete_batch)
      assert.equal(deleted.Successful?.length, second.length + fourth.length)
      assert.deepEqual(deleted.Failed ?? [], [])
      // Each body was received once: the duplicate was never queued.
      assert.deepEqual(response(out.counts), COUNTS_ZERO)
    })
  })

  describe('visibility timeout', SEQUENTIAL, () => {
    type Visibility = {
      create_queue: Outcome
      send: Outcome<SendResult>
      first: Outcome<Received>
      hidden: Outcome<Received>
      hidden_counts: Outcome
      back: Outcome<Received>
      change: Outcome
      shown: Outcome<Received>
      sent_after: number
      first_at: number
      first_done_at: number
      hidden_done_at: number
      back_at: number
    }
    let out: Visibility

    before(async () => {
      out = await boto3<Visibility>('visibility', { queue: 'sqs-visibility', body: 'peekaboo' })
    })

    test('received with VisibilityTimeout 1: hidden, then back about a second later', () => {
      const id = response(out.send).MessageId
      const first = received(out.first)
      assert.equal(first.length, 1)
      assert.equal(first[0]!.MessageId, id)
      assertSystemAttributes(
        first[0]!,
        { sentAfter: out.sent_after, receivedBefore: out.first_done_at },
        '1',
      )
      assert.ok(out.hidden_done_at - out.first_at < 1000, 'the checks ran within the timeout')
      assert.deepEqual(received(out.hidden), [], 'hidden while its visibility timeout runs')
      assert.deepEqual(response(out.hidden_counts), {
        Attributes: {
          ApproximateNumberOfMessages: '0',
          ApproximateNumberOfMessagesNotVisible: '1',
        },
      })
      const back = received(out.back)
      assert.equal(back.length, 1, 'visible again within the long poll')
      assert.equal(back[0]!.MessageId, id)
      assert.equal(back[0]!.Attributes?.ApproximateReceiveCount, '2')
      assert.ok(
        out.back_at - out.first_at >= 1000,
        `back after ${String(out.back_at - out.first_at)} ms`,
      )
      assert.ok(
        out.back_at - out.first_done_at < 3000,
        `back late: ${String(out.back_at - out.first_done_at)} ms`,
      )
    })

    test('change_message_visibility 0 makes it visible at once', () => {
      assert.deepEqual(response(out.change), {})
      const shown = received(out.shown)
      assert.equal(shown.length, 1, 'visible at once (the receive before hid it for 60 s)')
      assert.equal(shown[0]!.MessageId, response(out.send).MessageId)
      assert.equal(shown[0]!.Attributes?.ApproximateReceiveCount, '3')
    })
  })

  describe('redrive to a dead-letter queue', SEQUENTIAL, () => {
    const dlq = 'sqs-redrive-dlq'
    const source = 'sqs-redrive-source'
    type Redrive = {
      create_dlq: Outcome
      create_source: Outcome
      redrive_policy: Outcome
      send: Outcome<SendResult>
      first: Outcome<Received>
      second: Outcome<Received>
      moved: Outcome<Received>
      sources: Outcome
      sent_after: number
      received_before: number
    }
    let out: Redrive

    before(async () => {
      out = await boto3<Redrive>('redrive', {
        dlq,
        source,
        // maxReceiveCount as a string, with spaces: SQS echoes it normalised.
        policy: '{"deadLetterTargetArn": "DLQ_ARN", "maxReceiveCount": "1"}',
        body: 'poison',
      })
    })

    test('get_queue_attributes echoes the RedrivePolicy as compact JSON with a number', () => {
      assert.deepEqual(response(out.create_source), { QueueUrl: queueUrl(source) })
      assert.deepEqual(response(out.redrive_policy), {
        Attributes: {
          RedrivePolicy: `{"deadLetterTargetArn":"${queueArn(dlq)}","maxReceiveCount":1}`,
        },
      })
    })

    test('maxReceiveCount 1: the next receive moves the message to the DLQ', () => {
      const id = response(out.send).MessageId
      const first = received(out.first)
      assert.equal(first.length, 1)
      assert.equal(first[0]!.MessageId, id)
      const original = assertSystemAttributes(
        first[0]!,
        { sentAfter: out.sent_after, receivedBefore: out.received_before },
        '1',
      )
      assert.deepEqual(received(out.second), [], 'the second receive moves it instead')
      const moved = received(out.moved)
      assert.equal(moved.length, 1)
      const m = moved[0]!
      assert.equal(m.MessageId, id)
      assert.equal(m.Body, 'poison')
      assert.equal(m.MD5OfBody, md5('poison'))
      assert.match(m.Attributes?.ApproximateFirstReceiveTimestamp ?? '', EPOCH_MS)
      assert.deepEqual(m.Attributes, {
        SenderId: original.SenderId,
        SentTimestamp: original.SentTimestamp,
        ApproximateReceiveCount: '2',
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp,
        DeadLetterQueueSourceArn: queueArn(source),
      })
    })

    test('list_dead_letter_source_queues lists the source', () => {
      assert.deepEqual(response(out.sources), { queueUrls: [queueUrl(source)] })
    })
  })

  describe('batches', SEQUENTIAL, () => {
    const fits = 'a'.repeat(1024)
    type Batches = {
      send_batch: Outcome<BatchResult<SendResult & { Id: string }>>
      received: Message[]
      delete_batch: Outcome<BatchResult<{ Id: string }>>
      counts: Outcome
      send_batch_small: Outcome<BatchResult<SendResult & { Id: string }>>
    }
    let out: Batches

    before(async () => {
      out = await boto3<Batches>('batches', {
        queue: 'sqs-batch',
        entries: [
          { Id: 'one', MessageBody: 'first' },
          { Id: 'bad', MessageBody: 'bad \u0001 char' },
          { Id: 'two', MessageBody: 'second' },
        ],
        expect: 2,
        small: 'sqs-batch-1k',
        small_entries: [
          { Id: 'fits', MessageBody: fits },
          { Id: 'too-long', MessageBody: 'a'.repeat(1025) },
        ],
      })
    })

    test('send_message_batch: Successful and Failed entries; delete_message_batch', () => {
      const sent = response(out.send_batch)
      const successful = [...(sent.Successful ?? [])].sort((a, b) => a.Id.localeCompare(b.Id))
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
      assert.equal(sent.Failed?.length, 1, json(sent))
      const failed = sent.Failed[0]!
      assert.deepEqual(Object.keys(failed).sort(), ['Code', 'Id', 'Message', 'SenderFault'])
      assert.equal(failed.Id, 'bad')
      assert.equal(failed.Code, 'InvalidMessageContents')
      assert.equal(failed.SenderFault, true)
      assert.match(failed.Message, /^Invalid characters found\./)

      assert.deepEqual(out.received.map((m) => m.Body).sort(), ['first', 'second'])
      assert.deepEqual(
        out.received.map((m) => m.MessageId).sort(),
        successful.map((e) => e.MessageId).sort(),
      )
      const deleted = response(out.delete_batch)
      assert.deepEqual(
        [...(deleted.Successful ?? [])].sort((a, b) => a.Id.localeCompare(b.Id)),
        [{ Id: 'd0' }, { Id: 'd1' }],
      )
      assert.deepEqual(deleted.Failed ?? [], [])
      assert.deepEqual(response(out.counts), COUNTS_ZERO)
    })

    test('send_message_batch over MaximumMessageSize fails that entry only (as AWS recorded)', () => {
      const sent = response(out.send_batch_small)
      assert.equal(sent.Successful?.length, 1, json(sent))
      assert.match(sent.Successful[0]!.MessageId, UUID)
      assert.deepEqual(sent, {
        Successful: [
          { Id: 'fits', MessageId: sent.Successful[0]!.MessageId, MD5OfMessageBody: md5(fits) },
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

  describe('errors', SEQUENTIAL, () => {
    const name = 'sqs-errors'
    type Errors = Record<
      | 'create_queue'
      | 'missing'
      | 'eleven'
      | 'same'
      | 'exists'
      | 'unknown_attribute'
      | 'garbage_handle'
      | 'purge'
      | 'purge_again',
      Outcome
    >
    let out: Errors

    before(async () => {
      out = await boto3<Errors>('errors', {
        queue: name,
        missing: 'sqs-missing',
        unknown: 'sqs-foo',
      })
    })

    test('get_queue_url of a missing queue: NonExistentQueue', () => {
      assertServiceError(out.missing, {
        code: 'AWS.SimpleQueueService.NonExistentQueue',
        class: 'QueueDoesNotExist',
        status: 400,
        message: 'The specified queue does not exist for this wsdl version.',
      })
    })

    test('receive_message with MaxNumberOfMessages 11: InvalidParameterValue', () => {
      assertServiceError(out.eleven, {
        code: 'InvalidParameterValue',
        class: 'ClientError',
        status: 400,
        message:
          'Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.',
      })
    })

    test('create_queue again: same attributes give the queue, another value QueueAlreadyExists', () => {
      assert.deepEqual(response(out.same), { QueueUrl: queueUrl(name) })
      assertServiceError(out.exists, {
        code: 'QueueAlreadyExists',
        class: 'QueueNameExists',
        status: 400,
        message:
          'A queue already exists with the same name and a different value for attribute VisibilityTimeout',
      })
    })

    test('create_queue with an unknown attribute: InvalidAttributeName', () => {
      assertServiceError(out.unknown_attribute, {
        code: 'InvalidAttributeName',
        class: 'InvalidAttributeName',
        status: 400,
        message: 'Unknown Attribute Foo.',
      })
    })

    test('delete_message with a garbage receipt handle: ReceiptHandleIsInvalid', () => {
      assertServiceError(out.garbage_handle, {
        code: 'ReceiptHandleIsInvalid',
        class: 'ReceiptHandleIsInvalid',
        status: 404,
        message: 'The input receipt handle "garbage" is not a valid receipt handle.',
      })
    })

    test('purge_queue twice: PurgeQueueInProgress', () => {
      assert.deepEqual(response(out.purge), {})
      assertServiceError(out.purge_again, {
        code: 'AWS.SimpleQueueService.PurgeQueueInProgress',
        class: 'PurgeQueueInProgress',
        status: 403,
        message: `Only one PurgeQueue operation on ${name} is allowed every 60 seconds.`,
      })
    })
  })

  describe('tags and listing', SEQUENTIAL, () => {
    type Tags = Record<
      'create_tagged' | 'tag' | 'listed' | 'untag' | 'listed_after' | 'list_queues',
      Outcome
    > & { create_other: Outcome[] }
    let out: Tags

    before(async () => {
      out = await boto3<Tags>('tags', {
        tagged: 'sqs-tags-a',
        create_tags: { env: 'e2e' },
        others: ['sqs-tags-b', 'sqs-tagsx'],
        add_tags: { team: 'core', tier: '1' },
        remove_keys: ['env', 'tier'],
        prefix: 'sqs-tags-',
      })
    })

    test('tag_queue, list_queue_tags, untag_queue', () => {
      assert.deepEqual(response(out.tag), {})
      assert.deepEqual(response(out.listed), { Tags: { env: 'e2e', team: 'core', tier: '1' } })
      assert.deepEqual(response(out.untag), {})
      assert.deepEqual(response(out.listed_after), { Tags: { team: 'core' } })
    })

    test('list_queues with a prefix', () => {
      const listed = response(out.list_queues) as { QueueUrls: string[] }
      assert.deepEqual(Object.keys(listed), ['QueueUrls'])
      assert.deepEqual([...listed.QueueUrls].sort(), [
        queueUrl('sqs-tags-a'),
        queueUrl('sqs-tags-b'),
      ])
    })
  })
})
