/**
 * What the SQS end-to-end tests share. sqs-aws-cli.e2e.test.ts and sqs-boto3.e2e.test.ts (the
 * query protocol) run the same scenarios and check the same answers: the resources and events
 * they send and what SQS and EventBridge answer for them are here, so that both files hold the
 * same expectations. sqs-js-sdk.e2e.test.ts (AWS JSON) shares the MD5s, the event envelope, the
 * system attributes and the error table. Values are AWS wire shapes (PascalCase members); the
 * account, region and client environment are scenario.ts's.
 *
 * AWS behaviour asserted here (sources as in the SQS wire notes: LocalStack snapshots and
 * validated tests recorded against AWS, the botocore 1.29 query model, the AWS docs):
 * - MD5OfBody is the hex MD5 of the UTF-8 body; MD5OfMessageAttributes per the SQS algorithm
 *   (names sorted by their UTF-8 bytes, each field length-prefixed), which reproduces the values
 *   AWS recorded;
 * - `All` system attributes on a standard queue are exactly SenderId, SentTimestamp,
 *   ApproximateReceiveCount and ApproximateFirstReceiveTimestamp (epoch milliseconds), FIFO adds
 *   MessageGroupId, MessageDeduplicationId (SHA-256 of the body when content-based) and
 *   SequenceNumber (20 digits, increasing within a group);
 * - a rule's SQS target gets the event envelope byte for byte (AWS key order, `time` to the
 *   second) or the transformer's output as the body;
 * - a target's dead letter carries the event as its body and the String message attributes
 *   RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS (EXHAUSTED_RETRY_CONDITION
 *   only when a retry limit ended delivery);
 * - RedrivePolicy is echoed as compact JSON with a numeric maxReceiveCount; a message received
 *   maxReceiveCount times moves to the DLQ on the next receive, keeping its id, send time and
 *   receive count, and gains DeadLetterQueueSourceArn;
 * - the error codes, HTTP statuses and messages of the SQS error table.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before } from 'node:test'
import { startHttpSink, type HttpSink } from '../helpers/http-sink.js'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { ACCOUNT, REGION, TEMPLATE, byId, clientEnv } from './scenario.js'

// ── the server under test ────────────────────────────────────────────────────

/** A `junction serve` process on SQLite and an HTTP sink, set once the file's tests run. */
export class Harness {
  server!: ServerProcess
  sink!: HttpSink
  /** The CLI's and boto3's environment (scenario.ts's clientEnv), when asked for. */
  env: NodeJS.ProcessEnv = {}

  /** A queue's URL: on the endpoint's origin, `/<account>/<name>`. */
  queueUrl(name: string): string {
    return `${this.server.url}/${ACCOUNT}/${name}`
  }
}

/**
 * Starts the server and the sink before the file's tests (with `clientEnv`, also makes the
 * clients' environment), then runs `onStart` (to make the file's clients: Node 20 runs top-level
 * `before` hooks at once, not one after another); after the tests, runs `beforeStop` (to close
 * them) and stops both: the server must exit 0.
 */
export function serverAndSink(
  options: { clientEnv?: boolean; onStart?: (h: Harness) => void; beforeStop?: () => void } = {},
): Harness {
  const h = new Harness()
  before(async () => {
    ;[h.server, h.sink] = await Promise.all([startServerProcess(), startHttpSink()])
    if (options.clientEnv) h.env = clientEnv()
    options.onStart?.(h)
  })
  after(async () => {
    try {
      options.beforeStop?.()
    } finally {
      try {
        assert.equal(await h.server.stop(), 0, h.server.output())
      } finally {
        await h.sink.close()
      }
    }
  })
  return h
}

// ── values and hashes ────────────────────────────────────────────────────────

export const json = (v: unknown) => JSON.stringify(v)
export const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex')
export const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')

/** Message and event ids: random (version 4) UUIDs. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
export const EPOCH_MS = /^\d{13}$/
export const SEQUENCE_NUMBER = /^\d{20}$/
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

export const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`
/** A rule's ARN: on the default bus without the bus name, on another with it. */
export const ruleArn = (name: string, bus?: string) =>
  `arn:aws:events:${REGION}:${ACCOUNT}:rule/${bus === undefined ? '' : `${bus}/`}${name}`

// ── SQS wire values (the query protocol, as the CLI prints and boto3 returns them) ──

export type WireAttribute = { DataType: string; StringValue?: string; BinaryValue?: string }

export type Message = {
  MessageId: string
  ReceiptHandle: string
  MD5OfBody: string
  Body: string
  Attributes?: Record<string, string>
  MD5OfMessageAttributes?: string
  MessageAttributes?: Record<string, WireAttribute>
}

export type Received = { Messages?: Message[] }
export type SendResult = { MessageId: string; MD5OfMessageBody: string; SequenceNumber?: string }
export type BatchFailure = { Id: string; SenderFault: boolean; Code: string; Message: string }
export type BatchResult<S> = { Successful?: S[]; Failed?: BatchFailure[] }
export type PutEvents = { FailedEntryCount: number; Entries: { EventId: string }[] }

export const str = (StringValue: string) => ({ DataType: 'String', StringValue })

export const COUNT_NAMES: (
  'ApproximateNumberOfMessages' | 'ApproximateNumberOfMessagesNotVisible'
)[] = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible']

/** GetQueueAttributes of COUNT_NAMES: messages visible and in flight. */
export const counts = (visible: number, inFlight: number) => ({
  ApproximateNumberOfMessages: String(visible),
  ApproximateNumberOfMessagesNotVisible: String(inFlight),
})

// ── MD5OfMessageAttributes ───────────────────────────────────────────────────

/** A message attribute: BinaryValue base64 on the query protocol, bytes in the JS SDK. */
export type AttributeValue = {
  DataType?: string | undefined
  StringValue?: string | undefined
  BinaryValue?: string | Uint8Array | undefined
}

/**
 * SQS's MD5 of message attributes, written from its specification: names sorted by their UTF-8
 * bytes; for each, the 4-byte big-endian length and bytes of the name, then of the DataType, then
 * a transport byte (1 for String and Number, 2 for Binary) and the length-prefixed value.
 */
export function md5OfAttributes(attributes: Record<string, AttributeValue>): string {
  const parts: Buffer[] = []
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(bytes.length)
    parts.push(length, bytes)
  }
  const names = Object.keys(attributes).sort((a, b) =>
    Buffer.compare(Buffer.from(a), Buffer.from(b)),
  )
  for (const name of names) {
    const a = attributes[name]!
    const type = a.DataType ?? ''
    field(Buffer.from(name, 'utf8'))
    field(Buffer.from(type, 'utf8'))
    if (type.startsWith('Binary')) {
      parts.push(Buffer.from([2]))
      const value = a.BinaryValue ?? new Uint8Array()
      field(typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.from(value))
    } else {
      parts.push(Buffer.from([1]))
      field(Buffer.from(a.StringValue ?? '', 'utf8'))
    }
  }
  return createHash('md5').update(Buffer.concat(parts)).digest('hex')
}

/** md5OfAttributes reproduces the values AWS recorded for these attributes. */
export function assertMd5OfAttributesVectors(): void {
  assert.equal(md5OfAttributes({ Foo: str('Bar') }), 'ae7155c6026991b6d54b11589678bf9c')
  assert.equal(
    md5OfAttributes({ General: str('Kenobi'), Hello: str('There'), 'Help.Me': str('Me') }),
    '4c360f3fdafd970e05fae2f149d997f5',
  )
  assert.equal(
    md5OfAttributes({
      attr1: {
        DataType: 'Binary',
        BinaryValue: Buffer.from(
          'traceparent\x1e00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01',
          'latin1',
        ),
      },
    }),
    '8cbe4db156db8a94db8b801b7addb984',
  )
}

// ── system attributes ────────────────────────────────────────────────────────

export const STANDARD_SYSTEM_ATTRIBUTES = [
  'ApproximateFirstReceiveTimestamp',
  'ApproximateReceiveCount',
  'SenderId',
  'SentTimestamp',
]
export const FIFO_SYSTEM_ATTRIBUTES = [
  ...STANDARD_SYSTEM_ATTRIBUTES,
  'MessageDeduplicationId',
  'MessageGroupId',
  'SequenceNumber',
].sort()

/** When a message was sent and received: epoch milliseconds before and after. */
export type Window = { sentAfter: number; receivedBefore: number }

/** The `All` system attributes of a message first received in [sentAfter, receivedBefore]. */
export function assertSystemAttributes(
  m: Message,
  window: Window,
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

/** A PutEvents entry, as the query-protocol files send it and the JS SDK types it. */
export type Entry = {
  Source?: string | undefined
  DetailType?: string | undefined
  Detail?: string | undefined
  Resources?: string[] | undefined
  EventBusName?: string | undefined
}

/** An event PutEvents accepted, and when: epoch milliseconds before and after the call. */
export type Sent = { eventId: string; sentAfter: number; sentBefore: number }

/** A PutEvents answer: no failed entry, one UUID per entry sent; the event ids. */
export function assertPutEvents(
  out: {
    FailedEntryCount?: number | undefined
    Entries?: { EventId?: string | undefined }[] | undefined
  },
  count: number,
): string[] {
  assert.equal(out.FailedEntryCount, 0)
  assert.equal(out.Entries?.length, count)
  const ids = (out.Entries ?? []).map((e) => e.EventId ?? '')
  for (const id of ids) assert.match(id, UUID)
  return ids
}

/**
 * Asserts a message body is the event envelope exactly as EventBridge sends it for `entry`
 * (keys in AWS's order: version, id, detail-type, source, account, time, region, resources,
 * detail; `time` to the second, within the PutEvents call), and returns the parsed event.
 */
export function assertEnvelope(body: string, entry: Entry, sent: Sent): Record<string, unknown> {
  const event = JSON.parse(body) as Record<string, unknown>
  const time = String(event.time)
  const expected =
    `{"version":"0","id":"${sent.eventId}","detail-type":"${entry.DetailType!}",` +
    `"source":"${entry.Source!}","account":"${ACCOUNT}","time":"${time}",` +
    `"region":"${REGION}","resources":${json(entry.Resources ?? [])},"detail":${entry.Detail!}}`
  assert.deepEqual(Object.keys(event), Object.keys(JSON.parse(expected) as object), 'key order')
  assert.match(time, TIME)
  const t = Date.parse(time)
  assert.ok(
    t >= Math.floor(sent.sentAfter / 1000) * 1000 - 1000 && t <= sent.sentBefore + 1000,
    `time ${time} outside the PutEvents call`,
  )
  assert.equal(body, expected)
  return event
}

// ── a rule delivering into two queues (CLI and boto3) ────────────────────────

export const SOURCE = 'e2e.sqs'
export const DETAIL_TYPE = 'OrderPlaced'
export const RULE = 'sqs-orders'
export const PATTERN = json({
  source: [SOURCE],
  'detail-type': [DETAIL_TYPE],
  detail: { amount: [{ numeric: ['>', 100] }] },
})
/** Quotes, `<`, `&` and non-ASCII text: they must survive the XML of the query protocol. */
export const MATCHING = {
  Source: SOURCE,
  DetailType: DETAIL_TYPE,
  Detail: json({ orderId: 'o-17', amount: 250, note: 'café "✓" <a&b>' }),
  Resources: ['arn:aws:s3:::sqs-e2e-bucket'],
}
export const NOT_MATCHING = { ...MATCHING, Detail: json({ orderId: 'o-18', amount: 50 }) }

export const QUEUES = { whole: 'sqs-orders-whole', transformed: 'sqs-orders-transformed' }
/** The PutTargets entries without their ARNs: QUEUES by Id. */
export const QUEUE_TARGETS = [
  { Id: 'whole' as const },
  {
    Id: 'transformed' as const,
    InputTransformer: {
      InputPathsMap: { order: '$.detail.orderId', amount: '$.detail.amount', src: '$.source' },
      InputTemplate: TEMPLATE,
    },
  },
]
/** scenario.ts's TEMPLATE rendered for MATCHING: bare strings quoted, strings inside quotes raw. */
export const RENDERED = '{"order": "o-17", "total": 250, "from": "e2e.sqs", "rule": "sqs-orders"}'

/**
 * What QUEUES received for MATCHING: one message each, two different ones; the envelope without
 * message attributes in `whole`, RENDERED in `transformed`, each received once. The envelope.
 */
export function assertQueueDeliveries(
  whole: Message[],
  transformed: Message[],
  sent: Sent & Window,
): Message {
  assert.equal(whole.length, 1, json(whole))
  assert.equal(transformed.length, 1, json(transformed))
  const m = whole[0]!
  assertEnvelope(m.Body, MATCHING, sent)
  assertSystemAttributes(m, sent, '1')
  assert.equal(m.MessageAttributes, undefined)
  const n = transformed[0]!
  assert.equal(n.Body, RENDERED)
  assertSystemAttributes(n, sent, '1')
  assert.notEqual(n.MessageId, m.MessageId)
  return m
}

// ── a target dead-lettering into a queue (CLI and boto3) ─────────────────────

/** A rule whose only target, an API destination, fails without retries into `queue`. */
export const DEAD_LETTER = {
  queue: 'sqs-target-dlq',
  rule: 'sqs-failing',
  connection: {
    Name: 'sqs-dlq-conn',
    AuthorizationType: 'API_KEY',
    AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'k' } },
  },
  pattern: json({ source: ['e2e.sqs.dlq'] }),
  entry: { Source: 'e2e.sqs.dlq', DetailType: 'Doomed', Detail: json({ doomed: true, n: 1 }) },
}

/** The API destination of DEAD_LETTER: the sink's `/fail`, which the test makes answer 400. */
export const deadLetterDestination = (sinkUrl: string) => ({
  Name: 'sqs-dlq-hook',
  InvocationEndpoint: `${sinkUrl}/fail`,
  HttpMethod: 'POST',
})

/**
 * The dead letter of DEAD_LETTER.entry: the envelope, received once, with the error as String
 * attributes and their MD5; the endpoint was called once, with the same event.
 */
export function assertDeadLetter(
  m: Message,
  sent: Sent & Window,
  destinationArn: string,
  sink: HttpSink,
): void {
  assertEnvelope(m.Body, DEAD_LETTER.entry, sent)
  assertSystemAttributes(m, sent, '1')
  // A 4xx other than 401/407/409/429 is not retried; the API-destination adapter reports it
  // as SDK_CLIENT_ERROR with the status (src/delivery/targets/api-destination.ts).
  const attributes: Record<string, WireAttribute> = {
    RULE_ARN: str(ruleArn(DEAD_LETTER.rule)),
    TARGET_ARN: str(destinationArn),
    ERROR_CODE: str('SDK_CLIENT_ERROR'),
    ERROR_MESSAGE: str(
      'Unable to invoke ApiDestination endpoint: The endpoint responded with status code 400.',
    ),
    RETRY_ATTEMPTS: str('0'),
  }
  assert.deepEqual(m.MessageAttributes, attributes)
  assertMd5OfAttributesVectors()
  assert.equal(m.MD5OfMessageAttributes, md5OfAttributes(attributes))
  assert.equal(sink.received.length, 1)
  assert.equal(sink.received[0]!.url, '/fail')
  assert.equal(sink.received[0]!.body, m.Body)
}

// ── FIFO with content-based deduplication (CLI and boto3) ────────────────────

export const CONTENT_BASED_FIFO = { FifoQueue: 'true', ContentBasedDeduplication: 'true' }
export const FIFO_QUEUE = 'sqs-orders.fifo'
/** The bodies sent, by message group, in order. */
export const FIFO_GROUPS: Record<string, string[]> = { A: ['a1', 'a2'], B: ['b1'] }

export type FifoSent = Map<string, SendResult & { group: string }>

/**
 * The answers to sending a1, a2 and b1 (`[body, answer]`): exactly `keys`, the body's MD5, a
 * UUID and a 20-digit SequenceNumber increasing within a group, three different ids. By body.
 */
export function assertFifoSends(sends: [string, SendResult][], keys: string[]): FifoSent {
  const sent: FifoSent = new Map()
  for (const [body, r] of sends) {
    assert.deepEqual(Object.keys(r).sort(), keys)
    assert.equal(r.MD5OfMessageBody, md5(body))
    assert.match(r.MessageId, UUID)
    assert.match(r.SequenceNumber ?? '', SEQUENCE_NUMBER)
    sent.set(body, { ...r, group: body.startsWith('a') ? 'A' : 'B' })
  }
  const a1 = sent.get('a1')!
  const a2 = sent.get('a2')!
  assert.ok(BigInt(a2.SequenceNumber!) > BigInt(a1.SequenceNumber!), 'increasing in a group')
  assert.equal(new Set([...sent.values()].map((r) => r.MessageId)).size, 3)
  return sent
}

/** The answer to sending a1 again: the original's id (the duplicate is not queued). */
export function assertFifoDuplicate(dup: SendResult, sent: FifoSent): void {
  assert.equal(dup.MessageId, sent.get('a1')!.MessageId, 'a duplicate answers with the original id')
  assert.equal(dup.MD5OfMessageBody, md5('a1'))
}

/** The messages of one ReceiveMessage, and a time after it answered. */
export type FifoReceive = { messages: Message[]; receivedBefore: number }

/**
 * The receives after assertFifoSends, in order: `first` (one message at most) gets the head of
 * a group; `second` only the other group, in order (the head's group is held back while the head
 * is in flight); `third` nothing (both groups have a message in flight); `fourth`, once the head
 * is deleted, the rest of its group. Each message as sent, received once, with its group, the
 * body's SHA-256 as deduplication id and its sequence number.
 */
export function assertFifoReceives(
  r: Record<'first' | 'second' | 'third' | 'fourth', FifoReceive>,
  sent: FifoSent,
  sentAfter: number,
): void {
  const check = (receivedBefore: number) => (m: Message) => {
    const s = sent.get(m.Body)
    assert.ok(s, `unexpected body ${m.Body}`)
    assert.equal(m.MessageId, s.MessageId)
    const a = assertSystemAttributes(m, { sentAfter, receivedBefore }, '1', FIFO_SYSTEM_ATTRIBUTES)
    assert.equal(a.MessageGroupId, s.group)
    assert.equal(a.MessageDeduplicationId, sha256(m.Body))
    assert.equal(a.SequenceNumber, s.SequenceNumber)
  }
  // One message: the head of its group.
  assert.equal(r.first.messages.length, 1)
  const head = r.first.messages[0]!
  check(r.first.receivedBefore)(head)
  const group = sent.get(head.Body)!.group
  const other = group === 'A' ? 'B' : 'A'
  assert.equal(head.Body, FIFO_GROUPS[group]![0])
  // Then only the other group, in order: the head's group is held back while it is in flight.
  r.second.messages.forEach(check(r.second.receivedBefore))
  assert.deepEqual(
    r.second.messages.map((m) => m.Body),
    FIFO_GROUPS[other],
  )
  assert.deepEqual(r.third.messages, [], 'both groups have a message in flight')
  // Deleting the head released the rest of its group.
  r.fourth.messages.forEach(check(r.fourth.receivedBefore))
  assert.deepEqual(
    r.fourth.messages.map((m) => m.Body),
    FIFO_GROUPS[group]!.slice(1),
  )
}

// ── redrive (CLI and boto3) ──────────────────────────────────────────────────

export const REDRIVE = { dlq: 'sqs-redrive-dlq', source: 'sqs-redrive-source', body: 'poison' }

/** maxReceiveCount 1 as a string, with spaces: SQS echoes it normalised. */
export const redrivePolicy = (dlqArn: string) =>
  `{"deadLetterTargetArn": "${dlqArn}", "maxReceiveCount": "1"}`

/** GetQueueAttributes RedrivePolicy of the source: compact JSON, maxReceiveCount a number. */
export const ECHOED_REDRIVE_POLICY = {
  Attributes: {
    RedrivePolicy: `{"deadLetterTargetArn":"${queueArn(REDRIVE.dlq)}","maxReceiveCount":1}`,
  },
}

/**
 * The message moved to REDRIVE.dlq: its id, body, sender and send time as `original` had them,
 * received once more, and the source queue's ARN.
 */
export function assertRedriven(m: Message, id: string, original: Record<string, string>): void {
  assert.equal(m.MessageId, id)
  assert.equal(m.Body, REDRIVE.body)
  assert.equal(m.MD5OfBody, md5(REDRIVE.body))
  assert.match(m.Attributes?.ApproximateFirstReceiveTimestamp ?? '', EPOCH_MS)
  assert.deepEqual(m.Attributes, {
    SenderId: original.SenderId,
    SentTimestamp: original.SentTimestamp,
    ApproximateReceiveCount: '2',
    ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp,
    DeadLetterQueueSourceArn: queueArn(REDRIVE.source),
  })
}

// ── batches (CLI and boto3) ──────────────────────────────────────────────────

/** A SendMessageBatch entry that was sent. */
type BatchSent = SendResult & { Id: string }

/** Two good entries and one with a character SQS refuses. */
export const BATCH = {
  queue: 'sqs-batch',
  entries: [
    { Id: 'one', MessageBody: 'first' },
    { Id: 'bad', MessageBody: 'bad \u0001 char' },
    { Id: 'two', MessageBody: 'second' },
  ],
}

/** SendMessageBatch of BATCH: one and two sent (Id, MD5, MessageId only), bad failed; by Id. */
export function assertBatchSent(out: BatchResult<BatchSent>): BatchSent[] {
  const successful = [...(out.Successful ?? [])].sort(byId)
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
  return successful
}

/**
 * The messages received from BATCH.queue are the two sent; deleting them as d0 and d1 (the
 * DeleteMessageBatch answer `deleted`) succeeded for both.
 */
export function assertBatchReceivedAndDeleted(
  messages: Message[],
  successful: BatchSent[],
  deleted: BatchResult<{ Id: string }>,
): void {
  assert.deepEqual(messages.map((m) => m.Body).sort(), ['first', 'second'])
  assert.deepEqual(
    messages.map((m) => m.MessageId).sort(),
    successful.map((e) => e.MessageId).sort(),
  )
  assert.deepEqual([...(deleted.Successful ?? [])].sort(byId), [{ Id: 'd0' }, { Id: 'd1' }])
  assert.deepEqual(deleted.Failed ?? [], [])
}

const FITS = 'a'.repeat(1024)

/** A queue with a 1 KiB MaximumMessageSize, and a batch with one entry a byte too long. */
export const SMALL_BATCH = {
  queue: 'sqs-batch-1k',
  attributes: { MaximumMessageSize: '1024' },
  entries: [
    { Id: 'fits', MessageBody: FITS },
    { Id: 'too-long', MessageBody: 'a'.repeat(1025) },
  ],
}

/** SendMessageBatch of SMALL_BATCH fails the long entry only (as AWS recorded). */
export function assertSmallBatch(out: BatchResult<BatchSent>): void {
  assert.equal(out.Successful?.length, 1, json(out))
  assert.match(out.Successful[0]!.MessageId, UUID)
  assert.deepEqual(out, {
    Successful: [
      { Id: 'fits', MessageId: out.Successful[0]!.MessageId, MD5OfMessageBody: md5(FITS) },
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
}

// ── errors ───────────────────────────────────────────────────────────────────

/**
 * SQS's errors: code, HTTP status and message. NonExistentQueue's is the query protocol's (AWS
 * JSON answers "The specified queue does not exist.").
 */
export const SQS_ERRORS = {
  nonExistentQueue: {
    code: 'AWS.SimpleQueueService.NonExistentQueue',
    status: 400,
    message: 'The specified queue does not exist for this wsdl version.',
  },
  elevenMessages: {
    code: 'InvalidParameterValue',
    status: 400,
    message:
      'Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.',
  },
  queueAlreadyExists: {
    code: 'QueueAlreadyExists',
    status: 400,
    message:
      'A queue already exists with the same name and a different value for attribute VisibilityTimeout',
  },
  unknownAttributeFoo: {
    code: 'InvalidAttributeName',
    status: 400,
    message: 'Unknown Attribute Foo.',
  },
  garbageReceiptHandle: {
    code: 'ReceiptHandleIsInvalid',
    status: 404,
    message: 'The input receipt handle "garbage" is not a valid receipt handle.',
  },
}

/** A second PurgeQueue of `queue` within 60 s. */
export const purgeInProgress = (queue: string) => ({
  code: 'AWS.SimpleQueueService.PurgeQueueInProgress',
  status: 403,
  message: `Only one PurgeQueue operation on ${queue} is allowed every 60 seconds.`,
})
