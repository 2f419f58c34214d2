/**
 * End to end with the AWS SDK for JavaScript v3: `@aws-sdk/client-sqs` (AWS JSON 1.0 with
 * `x-amzn-query-mode`) and `@aws-sdk/client-eventbridge`, both in process, against one
 * `junction serve` process on SQLite. Queues are Junction's built-in SQS, on the bus's port.
 *
 * AWS behaviour asserted here (sources as tagged in the SQS wire notes: LS-SNAP = LocalStack
 * snapshots recorded against AWS, JM = the SQS/EventBridge JSON models' documentation):
 * - QueueUrls on the endpoint's origin, `/<account>/<name>`; ARNs `arn:aws:sqs:<region>:<account>:<name>`;
 * - a rule's SQS target gets the event envelope as the message body, in AWS key order; FIFO
 *   targets need `SqsParameters` and take its MessageGroupId; the deduplication id is
 *   content-based (SHA-256 of the body), EventBridge sends none (JM Target.SqsParameters);
 * - long polling returns as soon as a message is there, an empty wait answers `{}` (LS-SNAP);
 * - a target's DLQ gets the original event with RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
 *   RETRY_ATTEMPTS (retries made) and EXHAUSTED_RETRY_CONDITION (EventBridge user guide);
 *   FIFO DLQs are refused;
 * - MD5OfMessageAttributes: names sorted by bytes, each field length-prefixed (AWS's vectors);
 * - error codes: `error.name` is the modelled shape whose query code came in
 *   `x-amzn-query-error`, `error.Code` the query code itself, with SQS's HTTP statuses.
 */
import {
  CreateApiDestinationCommand,
  CreateConnectionCommand,
  EventBridgeClient,
  EventBridgeServiceException,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge'
import {
  BatchEntryIdsNotDistinct,
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  InvalidAttributeName,
  ListQueuesCommand,
  PurgeQueueCommand,
  PurgeQueueInProgress,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  SQSServiceException,
  TooManyEntriesInBatchRequest,
  type Message,
  type MessageAttributeValue,
  type ReceiveMessageCommandInput,
} from '@aws-sdk/client-sqs'
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import * as s from './scenario.js'
import {
  CONTENT_BASED_FIFO,
  COUNT_NAMES,
  FIFO_SYSTEM_ATTRIBUTES,
  SEQUENCE_NUMBER,
  SQS_ERRORS,
  UUID,
  assertEnvelope,
  assertMd5OfAttributesVectors,
  assertPutEvents,
  counts,
  md5,
  md5OfAttributes,
  purgeInProgress,
  queueArn,
  ruleArn,
  serverAndSink,
  sha256,
  str,
} from './sqs-scenario.js'

// The SDK warns once that its 2027 releases will need Node 22; not this pinned version's concern.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

let sqs: SQSClient
let eb: EventBridgeClient

const e2e = serverAndSink({
  onStart: (h) => {
    const config = {
      endpoint: h.server.url,
      region: s.REGION,
      credentials: { accessKeyId: s.ACCOUNT, secretAccessKey: 'anything' },
      maxAttempts: 1,
    }
    sqs = new SQSClient(config)
    eb = new EventBridgeClient(config)
  },
  beforeStop: () => {
    sqs.destroy()
    eb.destroy()
  },
})

// ── helpers ──────────────────────────────────────────────────────────────────

const ROLE_ARN = `arn:aws:iam::${s.ACCOUNT}:role/junction-e2e`

/** The output without `$metadata`, as plain data. */
function data(output: object): unknown {
  return Object.fromEntries(Object.entries(output).filter(([k]) => k !== '$metadata'))
}

/** Awaits an SQS call that must fail; checks the SDK's error fields and returns the error. */
async function sqsError(
  call: Promise<unknown>,
  expected: { name: string; code: string; status?: number; message?: string },
): Promise<SQSServiceException> {
  try {
    await call
  } catch (e) {
    assert.ok(e instanceof SQSServiceException, String(e))
    assert.equal(e.name, expected.name)
    assert.equal((e as SQSServiceException & { Code?: unknown }).Code, expected.code)
    assert.equal((e as SQSServiceException & { Type?: unknown }).Type, 'Sender')
    assert.equal(e.$fault, 'client')
    assert.equal(e.$metadata.httpStatusCode, expected.status ?? 400)
    if (expected.message !== undefined) assert.equal(e.message, expected.message)
    return e
  }
  assert.fail(`expected ${expected.name}`)
}

/** Awaits an EventBridge call that must fail with a 400 ValidationException. */
async function validationError(call: Promise<unknown>, message: string): Promise<void> {
  try {
    await call
  } catch (e) {
    assert.ok(e instanceof EventBridgeServiceException, String(e))
    assert.equal(e.name, 'ValidationException')
    assert.equal(e.$fault, 'client')
    assert.equal(e.$metadata.httpStatusCode, 400)
    assert.equal(e.message, message)
    return
  }
  assert.fail('expected ValidationException')
}

async function createQueue(QueueName: string, Attributes?: Record<string, string>) {
  const out = await sqs.send(
    new CreateQueueCommand(Attributes ? { QueueName, Attributes } : { QueueName }),
  )
  assert.equal(out.QueueUrl, e2e.queueUrl(QueueName))
  return out.QueueUrl
}

async function getQueueArn(QueueUrl: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  )
  return out.Attributes?.QueueArn ?? ''
}

/** Long-polls until at least `n` messages arrived (or `timeoutMs` passed); returns them all. */
async function receiveAtLeast(
  input: ReceiveMessageCommandInput,
  n = 1,
  timeoutMs = 15_000,
): Promise<Message[]> {
  const got: Message[] = []
  const deadline = Date.now() + timeoutMs
  while (got.length < n && Date.now() < deadline) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ MaxNumberOfMessages: 10, WaitTimeSeconds: 2, ...input }),
    )
    got.push(...(out.Messages ?? []))
  }
  assert.ok(got.length >= n, `expected ${n} message(s), got ${got.length}`)
  return got
}

async function putEvents(entries: PutEventsRequestEntry[]) {
  const sentAfter = Date.now()
  const out = await eb.send(new PutEventsCommand({ Entries: entries }))
  const sentBefore = Date.now()
  return { ids: assertPutEvents(out, entries.length), sentAfter, sentBefore }
}

/** Sends one event and long-polls until its message arrives, alone: the envelope; the message. */
async function deliveredAlone(
  entry: PutEventsRequestEntry,
  input: ReceiveMessageCommandInput,
): Promise<Message> {
  const sent = await putEvents([entry])
  const [m, ...rest] = await receiveAtLeast(input)
  assert.equal(rest.length, 0)
  assertEnvelope(m!.Body!, entry, { eventId: sent.ids[0]!, ...sent })
  return m!
}

// ── 0. the test's own MD5 against AWS's recorded vectors ─────────────────────

test('MD5OfMessageAttributes as computed here reproduces AWS-recorded values', () => {
  assertMd5OfAttributesVectors()
})

// ── 1. rule → queue ──────────────────────────────────────────────────────────

describe('SQS target: the classic rule-to-queue flow', () => {
  const QUEUE = 'sqs-e2e-events'
  const RULE = 'sqs-e2e-to-queue'
  const order = (orderId: string, kind: string): PutEventsRequestEntry => ({
    Source: 'e2e.sqs',
    DetailType: 'OrderPlaced',
    Detail: JSON.stringify({ orderId, kind, note: 'café' }),
    Resources: ['arn:aws:s3:::sqs-e2e-bucket'],
  })
  const MATCH = order('q-1', 'match')
  const OTHER = order('q-2', 'other')
  const SENTINEL = order('q-3', 'match')
  let url = ''

  test('CreateQueue, QueueArn, PutRule, PutTargets with the queue ARN', async () => {
    url = await createQueue(QUEUE)
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    )
    const arn = queueArn(QUEUE)
    assert.deepEqual(data(attrs), { Attributes: { QueueArn: arn } })
    const rule = await eb.send(
      new PutRuleCommand({
        Name: RULE,
        EventPattern: JSON.stringify({ source: ['e2e.sqs'], detail: { kind: ['match'] } }),
      }),
    )
    assert.equal(rule.RuleArn, ruleArn(RULE))
    const targets = await eb.send(
      new PutTargetsCommand({ Rule: RULE, Targets: [{ Id: 'queue', Arn: arn }] }),
    )
    assert.deepEqual(data(targets), { FailedEntryCount: 0, FailedEntries: [] })
  })

  test('PutEvents: the matching event arrives as the body, the other never', async () => {
    const sent = await putEvents([MATCH, OTHER])
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 10, MaxNumberOfMessages: 10 }),
    )
    assert.equal(out.Messages?.length, 1, 'exactly one message: the matching event')
    const m = out.Messages[0]!
    const event = assertEnvelope(m.Body!, MATCH, { eventId: sent.ids[0]!, ...sent })
    assert.equal(event.id, sent.ids[0])
    assert.equal(m.MD5OfBody, md5(m.Body!))
    assert.match(m.MessageId!, UUID)
    assert.deepEqual(
      data(
        await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle })),
      ),
      {},
    )

    // A later matching event arrives alone: the non-matching one was passed over, not delayed.
    const next = await deliveredAlone(SENTINEL, { QueueUrl: url })
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: next.ReceiptHandle }))
    const left = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: COUNT_NAMES }),
    )
    assert.deepEqual(left.Attributes, counts(0, 0))
  })
})

// ── 2. long polling ──────────────────────────────────────────────────────────

describe('long polling', () => {
  let url = ''
  before(async () => {
    url = await createQueue('sqs-e2e-poll')
  })

  test('a waiting ReceiveMessage returns as soon as a message is sent', async () => {
    let settled = false
    const receiving = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 10 }))
    void receiving.finally(() => (settled = true)).catch(() => undefined)
    await sleep(200)
    assert.equal(settled, false, 'the receive is still waiting when the message is sent')
    const sendAt = Date.now()
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'wake up' }))
    const out = await receiving
    const gotAt = Date.now()
    assert.equal(out.Messages?.length, 1)
    assert.equal(out.Messages[0]!.Body, 'wake up')
    assert.equal(out.Messages[0]!.MessageId, sent.MessageId)
    assert.ok(gotAt - sendAt < 2000, `answered ${gotAt - sendAt} ms after the send`)
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: out.Messages[0]!.ReceiptHandle }),
    )
  })

  test('WaitTimeSeconds 1 on an empty queue: no Messages after about a second', async () => {
    const started = Date.now()
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }))
    const took = Date.now() - started
    assert.deepEqual(data(out), {})
    assert.ok(took >= 900 && took < 2500, `took ${took} ms`)
  })
})

// ── 3. rule → FIFO queue ─────────────────────────────────────────────────────

describe('SQS target: a FIFO queue', () => {
  const QUEUE = 'sqs-e2e-orders.fifo'
  const RULE = 'sqs-e2e-to-fifo'
  const GROUP = 'orders-group-1'
  const ENTRY: PutEventsRequestEntry = {
    Source: 'e2e.sqs.fifo',
    DetailType: 'OrderPlaced',
    Detail: JSON.stringify({ orderId: 'f-1' }),
  }
  let url = ''
  let arn = ''

  test('PutTargets to a .fifo queue needs SqsParameters', async () => {
    url = await createQueue(QUEUE, CONTENT_BASED_FIFO)
    arn = await getQueueArn(url)
    assert.equal(arn, queueArn(QUEUE))
    await eb.send(
      new PutRuleCommand({
        Name: RULE,
        EventPattern: JSON.stringify({ source: ['e2e.sqs.fifo'] }),
      }),
    )
    await validationError(
      eb.send(new PutTargetsCommand({ Rule: RULE, Targets: [{ Id: 'fifo', Arn: arn }] })),
      'Parameter(s) SqsParameters must be specified for target: fifo.',
    )
    const ok = await eb.send(
      new PutTargetsCommand({
        Rule: RULE,
        Targets: [{ Id: 'fifo', Arn: arn, SqsParameters: { MessageGroupId: GROUP } }],
      }),
    )
    assert.deepEqual(data(ok), { FailedEntryCount: 0, FailedEntries: [] })
  })

  test('PutEvents delivers into the configured message group', async () => {
    const m = await deliveredAlone(ENTRY, { QueueUrl: url, MessageSystemAttributeNames: ['All'] })
    const a = m.Attributes ?? {}
    assert.deepEqual(Object.keys(a).sort(), FIFO_SYSTEM_ATTRIBUTES)
    assert.equal(a.MessageGroupId, GROUP)
    assert.equal(a.ApproximateReceiveCount, '1')
    assert.match(a.SequenceNumber ?? '', SEQUENCE_NUMBER)
    // EventBridge sends no deduplication id: the queue's content-based one is the body's SHA-256.
    assert.equal(a.MessageDeduplicationId, sha256(m.Body!))
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }))
  })
})

// ── 4. API destination failing → DLQ ─────────────────────────────────────────

describe('dead letters from a failing API destination', () => {
  const RULE = 'sqs-e2e-failing'
  const RULE_ARN = ruleArn(RULE)
  const ENTRY: PutEventsRequestEntry = {
    Source: 'e2e.sqs.failing',
    DetailType: 'Doomed',
    Detail: JSON.stringify({ n: 1, text: 'ünïcode' }),
    Resources: ['arn:aws:s3:::doomed'],
  }
  /** The ERROR_CODE values EventBridge documents for dead letters. */
  const ERROR_CODES = [
    'CONNECTION_FAILURE',
    'CROSS_ACCOUNT_INGESTION_FAILED',
    'CROSS_REGION_INGESTION_FAILED',
    'ERROR_FROM_TARGET',
    'EVENTS_IN_BATCH_REQUEST_REJECTED',
    'FAILED_TO_ASSUME_ROLE',
    'INTERNAL_ERROR',
    'INVALID_JSON',
    'INVALID_PARAMETER',
    'NO_PERMISSIONS',
    'NO_RESOURCE',
    'RESOURCE_ALREADY_EXISTS',
    'RESOURCE_LIMIT_EXCEEDED',
    'RESOURCE_MODIFICATION_COLLISION',
    'SDK_CLIENT_ERROR',
    'THIRD_ACCOUNT_HOP_DETECTED',
    'THIRD_REGION_HOP_DETECTED',
    'THROTTLING',
    'TIMEOUT',
    'TRANSIENT_ASSUME_ROLE',
    'UNKNOWN',
  ]
  let dlqUrl = ''
  let dlqArn = ''
  let destinationArn = ''

  test('PutTargets: a FIFO DLQ is refused, a standard one accepted', async () => {
    e2e.sink.respond(() => 500)
    const conn = await eb.send(
      new CreateConnectionCommand({
        Name: 'sqs-e2e-conn',
        AuthorizationType: 'API_KEY',
        AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'k' } },
      }),
    )
    const dest = await eb.send(
      new CreateApiDestinationCommand({
        Name: 'sqs-e2e-always-500',
        ConnectionArn: conn.ConnectionArn,
        InvocationEndpoint: `${e2e.sink.url}/fail`,
        HttpMethod: 'POST',
      }),
    )
    destinationArn = dest.ApiDestinationArn!
    dlqUrl = await createQueue('sqs-e2e-dlq')
    dlqArn = await getQueueArn(dlqUrl)
    const fifoUrl = await createQueue('sqs-e2e-dlq.fifo', { FifoQueue: 'true' })
    const fifoArn = await getQueueArn(fifoUrl)
    await eb.send(
      new PutRuleCommand({
        Name: RULE,
        EventPattern: JSON.stringify({ source: ['e2e.sqs.failing'] }),
      }),
    )
    const target = {
      Id: 'hook',
      Arn: destinationArn,
      RoleArn: ROLE_ARN,
      RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
    }
    await validationError(
      eb.send(
        new PutTargetsCommand({
          Rule: RULE,
          Targets: [{ ...target, DeadLetterConfig: { Arn: fifoArn } }],
        }),
      ),
      'SQS FIFO is not supported by Dead Letter Queues.',
    )
    const ok = await eb.send(
      new PutTargetsCommand({
        Rule: RULE,
        Targets: [{ ...target, DeadLetterConfig: { Arn: dlqArn } }],
      }),
    )
    assert.deepEqual(data(ok), { FailedEntryCount: 0, FailedEntries: [] })
  })

  test('after one failed attempt (no retries allowed) the event is in the DLQ', async () => {
    const m = await deliveredAlone(ENTRY, { QueueUrl: dlqUrl, MessageAttributeNames: ['All'] })
    const attrs = m.MessageAttributes ?? {}
    assert.deepEqual(Object.keys(attrs).sort(), [
      'ERROR_CODE',
      'ERROR_MESSAGE',
      'EXHAUSTED_RETRY_CONDITION',
      'RETRY_ATTEMPTS',
      'RULE_ARN',
      'TARGET_ARN',
    ])
    for (const [name, value] of Object.entries(attrs))
      assert.equal(value.DataType, 'String', `${name} is a String attribute`)
    assert.equal(attrs.RULE_ARN?.StringValue, RULE_ARN)
    assert.equal(attrs.TARGET_ARN?.StringValue, destinationArn)
    assert.ok(
      ERROR_CODES.includes(attrs.ERROR_CODE?.StringValue ?? ''),
      attrs.ERROR_CODE?.StringValue,
    )
    assert.ok((attrs.ERROR_MESSAGE?.StringValue ?? '').length > 0, 'ERROR_MESSAGE is not empty')
    // MaximumRetryAttempts 0: the first attempt failed and no retry was made.
    assert.equal(attrs.RETRY_ATTEMPTS?.StringValue, '0')
    assert.equal(attrs.EXHAUSTED_RETRY_CONDITION?.StringValue, 'MaximumRetryAttempts')
    assert.equal(m.MD5OfMessageAttributes, md5OfAttributes(attrs))
    // The endpoint was called exactly once.
    const calls = e2e.sink.received.filter((r) => r.url === '/fail')
    assert.equal(calls.length, 1)
    assert.equal(calls[0]!.body, m.Body)
  })
})

// ── 5. message attributes and MD5s ───────────────────────────────────────────

describe('message attributes', () => {
  const BODY = 'attributes: ✓'
  const PAYLOAD = new Uint8Array([0, 1, 2, 0xfe, 0xff])
  const TRACE = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'
  const ATTRIBUTES: Record<string, MessageAttributeValue> = {
    General: str('Kenobi'),
    Hello: str('There'),
    'Help.Me': str('Me'),
    Count: { DataType: 'Number', StringValue: '42.5' },
    Payload: { DataType: 'Binary', BinaryValue: PAYLOAD },
  }
  let url = ''

  test('SendMessage answers the MD5s of body, attributes and system attributes', async () => {
    url = await createQueue('sqs-e2e-attributes')
    const out = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: BODY,
        MessageAttributes: ATTRIBUTES,
        MessageSystemAttributes: { AWSTraceHeader: str(TRACE) },
      }),
    )
    assert.match(out.MessageId!, UUID)
    assert.deepEqual(data(out), {
      MessageId: out.MessageId,
      MD5OfMessageBody: md5(BODY),
      MD5OfMessageAttributes: md5OfAttributes(ATTRIBUTES),
      MD5OfMessageSystemAttributes: md5OfAttributes({ AWSTraceHeader: str(TRACE) }),
    })
  })

  /** Receives the message and makes it visible again at once. */
  async function peek(input: Partial<ReceiveMessageCommandInput>): Promise<Message> {
    const [m, ...rest] = await receiveAtLeast({ QueueUrl: url, VisibilityTimeout: 0, ...input })
    assert.equal(rest.length, 0)
    assert.equal(m!.Body, BODY)
    assert.equal(m!.MD5OfBody, md5(BODY))
    return m!
  }

  test('ReceiveMessage with All: every attribute, Binary as bytes, and AWSTraceHeader', async () => {
    const m = await peek({
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['AWSTraceHeader'],
    })
    const got = m.MessageAttributes ?? {}
    assert.deepEqual(Object.keys(got).sort(), ['Count', 'General', 'Hello', 'Help.Me', 'Payload'])
    assert.deepEqual(got.General, str('Kenobi'))
    assert.deepEqual(got.Hello, str('There'))
    assert.deepEqual(got['Help.Me'], str('Me'))
    assert.deepEqual(got.Count, { DataType: 'Number', StringValue: '42.5' })
    assert.equal(got.Payload?.DataType, 'Binary')
    assert.equal(got.Payload.StringValue, undefined)
    assert.ok(got.Payload.BinaryValue instanceof Uint8Array)
    assert.deepEqual([...got.Payload.BinaryValue], [...PAYLOAD])
    assert.equal(m.MD5OfMessageAttributes, md5OfAttributes(ATTRIBUTES))
    assert.deepEqual(m.Attributes, { AWSTraceHeader: TRACE })
  })

  test('ReceiveMessage with a prefix: only the matching attributes, MD5 of those', async () => {
    const m = await peek({ MessageAttributeNames: ['Hel.*'] })
    assert.deepEqual(m.MessageAttributes, { Hello: str('There'), 'Help.Me': str('Me') })
    // AWS's recorded answer for exactly this filter on these three string attributes.
    assert.equal(m.MD5OfMessageAttributes, '83fee93c1bcd8b9a5a923ffacdc636c7')
  })

  test('ReceiveMessage with the wildcards .* and *: every attribute', async () => {
    for (const wildcard of ['.*', '*']) {
      const m = await peek({ MessageAttributeNames: [wildcard] })
      assert.deepEqual(
        Object.keys(m.MessageAttributes ?? {}).sort(),
        ['Count', 'General', 'Hello', 'Help.Me', 'Payload'],
        wildcard,
      )
      assert.equal(m.MD5OfMessageAttributes, md5OfAttributes(ATTRIBUTES), wildcard)
    }
  })

  test('ReceiveMessage with exact names and without names', async () => {
    const named = await peek({ MessageAttributeNames: ['Payload', 'Missing'] })
    assert.deepEqual(Object.keys(named.MessageAttributes ?? {}), ['Payload'])
    assert.equal(named.MD5OfMessageAttributes, md5OfAttributes({ Payload: ATTRIBUTES.Payload! }))
    const bare = await peek({})
    assert.equal(bare.MessageAttributes, undefined)
    assert.equal(bare.MD5OfMessageAttributes, undefined)
    assert.equal(bare.Attributes, undefined)
  })
})

// ── 6. errors ────────────────────────────────────────────────────────────────

describe('SQS errors as the SDK reports them', { concurrency: true }, () => {
  let url = ''
  let fifoUrl = ''
  before(async () => {
    ;[url, fifoUrl] = await Promise.all([
      createQueue('sqs-e2e-errors'),
      createQueue('sqs-e2e-errors.fifo', CONTENT_BASED_FIFO),
    ])
  })

  test('GetQueueUrl for a missing queue: QueueDoesNotExist', async () => {
    const e = await sqsError(sqs.send(new GetQueueUrlCommand({ QueueName: 'sqs-e2e-nope' })), {
      name: 'QueueDoesNotExist',
      code: SQS_ERRORS.nonExistentQueue.code,
      message: 'The specified queue does not exist.',
    })
    assert.ok(e instanceof QueueDoesNotExist)
  })

  test('ReceiveMessage with MaxNumberOfMessages 11: InvalidParameterValue', async () => {
    await sqsError(
      sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 })),
      { name: 'InvalidParameterValue', ...SQS_ERRORS.elevenMessages },
    )
  })

  test('SendMessageBatch with 11 entries: TooManyEntriesInBatchRequest', async () => {
    const Entries = Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: `b${i}` }))
    const e = await sqsError(sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries })), {
      name: 'TooManyEntriesInBatchRequest',
      code: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
      message: 'Maximum number of entries per request are 10. You have sent 11.',
    })
    assert.ok(e instanceof TooManyEntriesInBatchRequest)
  })

  test('SendMessageBatch with repeated Ids: BatchEntryIdsNotDistinct', async () => {
    const Entries = [
      { Id: 'same', MessageBody: 'one' },
      { Id: 'same', MessageBody: 'two' },
    ]
    const e = await sqsError(sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries })), {
      name: 'BatchEntryIdsNotDistinct',
      code: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
    })
    assert.ok(e instanceof BatchEntryIdsNotDistinct)
  })

  test('DeleteMessage with a garbage handle: ReceiptHandleIsInvalid, 404', async () => {
    const e = await sqsError(
      sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'garbage' })),
      { name: 'ReceiptHandleIsInvalid', ...SQS_ERRORS.garbageReceiptHandle },
    )
    assert.ok(e instanceof ReceiptHandleIsInvalid)
  })

  test('PurgeQueue twice within 60 s: PurgeQueueInProgress, 403', async () => {
    const purgeUrl = await createQueue('sqs-e2e-purge')
    await sqs.send(new SendMessageCommand({ QueueUrl: purgeUrl, MessageBody: 'to purge' }))
    assert.deepEqual(data(await sqs.send(new PurgeQueueCommand({ QueueUrl: purgeUrl }))), {})
    const e = await sqsError(sqs.send(new PurgeQueueCommand({ QueueUrl: purgeUrl })), {
      name: 'PurgeQueueInProgress',
      ...purgeInProgress('sqs-e2e-purge'),
    })
    assert.ok(e instanceof PurgeQueueInProgress)
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: purgeUrl }))
    assert.equal(out.Messages, undefined, 'the purge removed the message')
  })

  test('FIFO SendMessage without MessageGroupId: MissingParameter', async () => {
    await sqsError(sqs.send(new SendMessageCommand({ QueueUrl: fifoUrl, MessageBody: 'x' })), {
      name: 'MissingParameter',
      code: 'MissingParameter',
      message: 'The request must contain the parameter MessageGroupId.',
    })
  })

  test('SetQueueAttributes FifoQueue on a standard queue: InvalidAttributeName', async () => {
    const e = await sqsError(
      sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { FifoQueue: 'true' } })),
      {
        name: 'InvalidAttributeName',
        code: 'InvalidAttributeName',
        message: 'Unknown Attribute FifoQueue.',
      },
    )
    assert.ok(e instanceof InvalidAttributeName)
  })
})

// ── 7. batches with a bad entry ──────────────────────────────────────────────

describe('ChangeMessageVisibilityBatch and DeleteMessageBatch with a bad entry', () => {
  let url = ''
  const handles = new Map<string, string>()

  test('SendMessageBatch, then receive both', async () => {
    url = await createQueue('sqs-e2e-batch')
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'first' },
          { Id: 'b', MessageBody: 'second' },
        ],
      }),
    )
    assert.deepEqual(sent.Failed, [])
    const ok = [...(sent.Successful ?? [])].sort(s.byId)
    assert.deepEqual(
      ok.map((e) => [e.Id, e.MD5OfMessageBody]),
      [
        ['a', md5('first')],
        ['b', md5('second')],
      ],
    )
    for (const e of ok) assert.match(e.MessageId!, UUID)
    const got = await receiveAtLeast({ QueueUrl: url, VisibilityTimeout: 60 }, 2)
    assert.equal(got.length, 2)
    for (const m of got) handles.set(m.Body!, m.ReceiptHandle!)
    assert.deepEqual([...handles.keys()].sort(), ['first', 'second'])
  })

  test('ChangeMessageVisibilityBatch: the good entry succeeds, the bad one fails', async () => {
    const out = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'good', ReceiptHandle: handles.get('first'), VisibilityTimeout: 0 },
          { Id: 'bad', ReceiptHandle: 'garbage', VisibilityTimeout: 0 },
        ],
      }),
    )
    assert.deepEqual(out.Successful, [{ Id: 'good' }])
    assert.equal(out.Failed?.length, 1)
    const failed = out.Failed[0]!
    assert.equal(failed.Id, 'bad')
    assert.equal(failed.SenderFault, true)
    assert.equal(failed.Code, 'ReceiptHandleIsInvalid')
    assert.ok((failed.Message ?? '').length > 0)
    // Visible again at once: received a second time, with a new handle.
    const again = await receiveAtLeast({
      QueueUrl: url,
      VisibilityTimeout: 60,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    })
    assert.equal(again.length, 1)
    assert.equal(again[0]!.Body, 'first')
    assert.deepEqual(again[0]!.Attributes, { ApproximateReceiveCount: '2' })
    assert.notEqual(again[0]!.ReceiptHandle, handles.get('first'))
    handles.set('first', again[0]!.ReceiptHandle!)
  })

  test('DeleteMessageBatch: the good entries succeed, the bad one fails', async () => {
    const out = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'one', ReceiptHandle: handles.get('first') },
          { Id: 'bad', ReceiptHandle: 'garbage' },
          { Id: 'two', ReceiptHandle: handles.get('second') },
        ],
      }),
    )
    assert.deepEqual([...(out.Successful ?? [])].sort(s.byId), [{ Id: 'one' }, { Id: 'two' }])
    assert.equal(out.Failed?.length, 1)
    const failed = out.Failed[0]!
    assert.equal(failed.Id, 'bad')
    assert.equal(failed.SenderFault, true)
    assert.equal(failed.Code, 'ReceiptHandleIsInvalid')
    const left = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: COUNT_NAMES }),
    )
    assert.deepEqual(left.Attributes, counts(0, 0))
  })
})

// ── 8. ListQueues paging ─────────────────────────────────────────────────────

test('ListQueues with MaxResults 1 pages through every queue with the prefix', async () => {
  const names = ['sqs-e2e-list-a', 'sqs-e2e-list-b', 'sqs-e2e-list-c']
  const urls = await Promise.all([...names, 'sqs-e2e-lisz'].map((n) => createQueue(n)))
  const expected = urls.slice(0, 3).sort()
  const pages: string[][] = []
  let NextToken: string | undefined
  do {
    const out = await sqs.send(
      new ListQueuesCommand({
        QueueNamePrefix: 'sqs-e2e-list-',
        MaxResults: 1,
        ...(NextToken === undefined ? {} : { NextToken }),
      }),
    )
    pages.push(out.QueueUrls ?? [])
    NextToken = out.NextToken
  } while (NextToken !== undefined && pages.length < 10)
  assert.deepEqual(
    pages.map((p) => p.length),
    [1, 1, 1],
  )
  assert.deepEqual(pages.flat().sort(), expected)
  const all = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'sqs-e2e-list-' }))
  assert.deepEqual(data({ ...all, QueueUrls: [...(all.QueueUrls ?? [])].sort() }), {
    QueueUrls: expected,
  })
})
