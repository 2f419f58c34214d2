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
import { before, describe, test } from 'node:test'
import * as q from './sqs-scenario.js'

const AWS = '/usr/bin/aws'

type Run = { code: number | string; stdout: string; stderr: string }

const e2e = q.serverAndSink({ clientEnv: true })

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
        ['--endpoint-url', e2e.server.url, '--output', 'json', ...args],
        { env: e2e.env, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
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
function assertServiceError(
  r: Run,
  operation: string,
  expected: { code: string; message: string },
): void {
  assert.equal(r.code, 254, r.stderr.slice(0, 500))
  assert.equal(
    r.stderr.trim(),
    `An error occurred (${expected.code}) when calling the ${operation} operation: ${expected.message}`,
  )
}

const queueUrl = (name: string) => e2e.queueUrl(name)

/** get-queue-attributes of a queue, by name. */
const getAttributes = <T = Record<string, unknown>>(name: string, ...names: string[]) =>
  sqs<T>('get-queue-attributes', '--queue-url', queueUrl(name), '--attribute-names', ...names)

// ── tests ────────────────────────────────────────────────────────────────────

/** Subtests inherit a suite's concurrency: the steps of each group run in order. */
const SEQUENTIAL = { concurrency: 1 }

describe('AWS CLI v2 and SQS', { concurrency: true }, () => {
  describe('a rule delivers into queues: whole event and InputTransformer', SEQUENTIAL, () => {
    let eventId = ''
    let sentAfter = 0
    let sentBefore = 0

    test('create-queue, get-queue-attributes QueueArn', async () => {
      const created = await Promise.all([
        sqs('create-queue', '--queue-name', q.QUEUES.whole),
        sqs('create-queue', '--queue-name', q.QUEUES.transformed),
      ])
      assert.deepEqual(created, [
        { QueueUrl: queueUrl(q.QUEUES.whole) },
        { QueueUrl: queueUrl(q.QUEUES.transformed) },
      ])
      assert.deepEqual(await getAttributes(q.QUEUES.whole, 'QueueArn'), {
        Attributes: { QueueArn: q.queueArn(q.QUEUES.whole) },
      })
    })

    test('put-rule on the default bus, put-targets with the two queue ARNs', async () => {
      assert.deepEqual(await events('put-rule', '--name', q.RULE, '--event-pattern', q.PATTERN), {
        RuleArn: q.ruleArn(q.RULE),
      })
      const targets = q.QUEUE_TARGETS.map((t) => ({ ...t, Arn: q.queueArn(q.QUEUES[t.Id]) }))
      assert.deepEqual(
        await events('put-targets', '--rule', q.RULE, '--targets', q.json(targets)),
        {
          FailedEntryCount: 0,
          FailedEntries: [],
        },
      )
    })

    test('put-events: one matching, one not', async () => {
      sentAfter = Date.now()
      const out = await events<q.PutEvents>(
        'put-events',
        '--entries',
        q.json([q.MATCHING, q.NOT_MATCHING]),
      )
      sentBefore = Date.now()
      eventId = q.assertPutEvents(out, 2)[0]!
    })

    test('receive-message (long poll): the envelope, its MD5 and system attributes', async () => {
      const [w, t] = await Promise.all(
        [q.QUEUES.whole, q.QUEUES.transformed].map((name) =>
          sqs<q.Received>(
            'receive-message',
            '--queue-url',
            queueUrl(name),
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
      const m = q.assertQueueDeliveries(w?.Messages ?? [], t?.Messages ?? [], {
        eventId,
        sentAfter,
        sentBefore,
        receivedBefore,
      })

      // delete-message; then nothing is left, visible or in flight
      assert.deepEqual(
        await sqs(
          'delete-message',
          '--queue-url',
          queueUrl(q.QUEUES.whole),
          '--receipt-handle',
          m.ReceiptHandle,
        ),
        {},
      )
      assert.deepEqual(await getAttributes(q.QUEUES.whole, ...q.COUNT_NAMES), {
        Attributes: q.counts(0, 0),
      })
    })

    test('the non-matching event never arrives', async () => {
      assert.deepEqual(
        await sqs(
          'receive-message',
          '--queue-url',
          queueUrl(q.QUEUES.whole),
          '--wait-time-seconds',
          '1',
        ),
        {},
      )
    })
  })

  describe('a target dead-letters into a queue', SEQUENTIAL, () => {
    test('an API destination answering 400: the event and its error in the DLQ', async () => {
      e2e.sink.respond(() => 400)
      const { queue, rule, connection } = q.DEAD_LETTER
      const [, conn] = await Promise.all([
        sqs('create-queue', '--queue-name', queue),
        events<{ ConnectionArn: string }>(
          'create-connection',
          '--name',
          connection.Name,
          '--authorization-type',
          connection.AuthorizationType,
          '--auth-parameters',
          q.json(connection.AuthParameters),
        ),
        events('put-rule', '--name', rule, '--event-pattern', q.DEAD_LETTER.pattern),
      ])
      const hook = q.deadLetterDestination(e2e.sink.url)
      const destination = await events<{ ApiDestinationArn: string }>(
        'create-api-destination',
        '--name',
        hook.Name,
        '--connection-arn',
        conn.ConnectionArn,
        '--invocation-endpoint',
        hook.InvocationEndpoint,
        '--http-method',
        hook.HttpMethod,
      )
      const destinationArn = destination.ApiDestinationArn
      const put = await events(
        'put-targets',
        '--rule',
        rule,
        '--targets',
        q.json([
          {
            Id: 'hook',
            Arn: destinationArn,
            DeadLetterConfig: { Arn: q.queueArn(queue) },
            RetryPolicy: { MaximumRetryAttempts: 0 },
          },
        ]),
      )
      assert.deepEqual(put, { FailedEntryCount: 0, FailedEntries: [] })

      const sentAfter = Date.now()
      const out = await events<q.PutEvents>(
        'put-events',
        '--entries',
        q.json([q.DEAD_LETTER.entry]),
      )
      const sentBefore = Date.now()
      const [eventId] = q.assertPutEvents(out, 1)
      const got = await sqs<q.Received>(
        'receive-message',
        '--queue-url',
        queueUrl(queue),
        '--attribute-names',
        'All',
        '--message-attribute-names',
        'All',
        '--wait-time-seconds',
        '10',
      )
      const receivedBefore = Date.now()
      assert.equal(got.Messages?.length, 1, q.json(got))
      q.assertDeadLetter(
        got.Messages[0]!,
        { eventId: eventId!, sentAfter, sentBefore, receivedBefore },
        destinationArn,
        e2e.sink,
      )
    })
  })

  describe('FIFO queue with content-based deduplication', SEQUENTIAL, () => {
    const url = () => queueUrl(q.FIFO_QUEUE)
    let sent: q.FifoSent = new Map()
    let sentAfter = 0

    test('create-queue FifoQueue=true ContentBasedDeduplication=true', async () => {
      const created = await sqs(
        'create-queue',
        '--queue-name',
        q.FIFO_QUEUE,
        '--attributes',
        q.json(q.CONTENT_BASED_FIFO),
      )
      assert.deepEqual(created, { QueueUrl: url() })
    })

    test('send-message-batch in two groups; a duplicate body is deduplicated', async () => {
      const entries = Object.entries(q.FIFO_GROUPS).flatMap(([group, bodies]) =>
        bodies.map((body) => ({ Id: body, MessageBody: body, MessageGroupId: group })),
      )
      sentAfter = Date.now()
      const out = await sqs<{ Successful: (q.SendResult & { Id: string })[]; Failed?: unknown[] }>(
        'send-message-batch',
        '--queue-url',
        url(),
        '--entries',
        q.json(entries),
      )
      assert.deepEqual(out.Failed ?? [], [])
      assert.deepEqual(out.Successful.map((r) => r.Id).sort(), ['a1', 'a2', 'b1'])
      sent = q.assertFifoSends(
        out.Successful.map((r): [string, q.SendResult] => [r.Id, r]),
        ['Id', 'MD5OfMessageBody', 'MessageId', 'SequenceNumber'],
      )
      const dup = await sqs<q.SendResult>(
        'send-message',
        '--queue-url',
        url(),
        '--message-body',
        'a1',
        '--message-group-id',
        'A',
      )
      q.assertFifoDuplicate(dup, sent)
    })

    test('receive-message keeps group order and holds back a group in flight', async () => {
      // A long visibility timeout: the steps below must see the messages in flight (and a FIFO
      // receipt handle only deletes while its message is), however slowly the CLI starts.
      const receive = async (max = '10'): Promise<q.FifoReceive> => {
        const r = await sqs<q.Received>(
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
        return { messages: r.Messages ?? [], receivedBefore: Date.now() }
      }
      // One message: the head of its group; then the other group; then nothing.
      const first = await receive('1')
      const second = await receive()
      const third = await receive()
      assert.equal(first.messages.length, 1)
      // Deleting the head releases the rest of its group.
      const head = first.messages[0]!
      await sqs('delete-message', '--queue-url', url(), '--receipt-handle', head.ReceiptHandle)
      const fourth = await receive()
      q.assertFifoReceives({ first, second, third, fourth }, sent, sentAfter)
      // The two others are in flight and nothing is left: the duplicate was never queued.
      const { Attributes: left } = await getAttributes<{ Attributes: Record<string, string> }>(
        q.FIFO_QUEUE,
        ...q.COUNT_NAMES,
      )
      assert.deepEqual(left, q.counts(0, 2))
    })
  })

  describe('visibility timeout', SEQUENTIAL, () => {
    const name = 'sqs-visibility'

    test('hidden while received; change-message-visibility 0 shows it; a 1 s timeout runs out', async () => {
      await sqs('create-queue', '--queue-name', name)
      const url = queueUrl(name)
      const sentAfter = Date.now()
      const s = await sqs<q.SendResult>(
        'send-message',
        '--queue-url',
        url,
        '--message-body',
        'peekaboo',
      )
      const receive = (...extra: string[]) =>
        sqs<q.Received>('receive-message', '--queue-url', url, '--attribute-names', 'All', ...extra)

      const r1 = await receive('--visibility-timeout', '600')
      assert.equal(r1.Messages?.length, 1)
      const m1 = r1.Messages[0]!
      assert.equal(m1.MessageId, s.MessageId)
      q.assertSystemAttributes(m1, { sentAfter, receivedBefore: Date.now() }, '1')
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
    const { dlq, source } = q.REDRIVE

    test('RedrivePolicy echoed; maxReceiveCount 1 moves the message on the next receive', async () => {
      await sqs('create-queue', '--queue-name', dlq)
      await sqs(
        'create-queue',
        '--queue-name',
        source,
        '--attributes',
        q.json({ RedrivePolicy: q.redrivePolicy(q.queueArn(dlq)) }),
      )
      const echoed = await getAttributes(source, 'RedrivePolicy')
      assert.deepEqual(echoed, q.ECHOED_REDRIVE_POLICY)

      const sentAfter = Date.now()
      const s = await sqs<q.SendResult>(
        'send-message',
        '--queue-url',
        queueUrl(source),
        '--message-body',
        q.REDRIVE.body,
      )
      const r1 = await sqs<q.Received>(
        'receive-message',
        '--queue-url',
        queueUrl(source),
        '--attribute-names',
        'All',
        '--visibility-timeout',
        '0',
      )
      assert.equal(r1.Messages?.length, 1)
      const original = q.assertSystemAttributes(
        r1.Messages[0]!,
        { sentAfter, receivedBefore: Date.now() },
        '1',
      )
      assert.deepEqual(
        await sqs('receive-message', '--queue-url', queueUrl(source)),
        {},
        'the second receive moves it instead',
      )
      const moved = await sqs<q.Received>(
        'receive-message',
        '--queue-url',
        queueUrl(dlq),
        '--attribute-names',
        'All',
        '--wait-time-seconds',
        '5',
      )
      assert.equal(moved.Messages?.length, 1, q.json(moved))
      q.assertRedriven(moved.Messages[0]!, s.MessageId, original)

      assert.deepEqual(await sqs('list-dead-letter-source-queues', '--queue-url', queueUrl(dlq)), {
        queueUrls: [queueUrl(source)],
      })
    })
  })

  describe('batches', { concurrency: true }, () => {
    test('send-message-batch: Successful and Failed entries; delete-message-batch', async () => {
      const url = queueUrl(q.BATCH.queue)
      await sqs('create-queue', '--queue-name', q.BATCH.queue)
      const out = await sqs<q.BatchResult<q.SendResult & { Id: string }>>(
        'send-message-batch',
        '--queue-url',
        url,
        '--entries',
        q.json(q.BATCH.entries),
      )
      const successful = q.assertBatchSent(out)

      const messages: q.Message[] = []
      for (let i = 0; i < 5 && messages.length < 2; i++) {
        const r = await sqs<q.Received>(
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
      const deleted = await sqs<q.BatchResult<{ Id: string }>>(
        'delete-message-batch',
        '--queue-url',
        url,
        '--entries',
        q.json(messages.map((m, i) => ({ Id: `d${String(i)}`, ReceiptHandle: m.ReceiptHandle }))),
      )
      q.assertBatchReceivedAndDeleted(messages, successful, deleted)
    })

    test('send-message-batch over MaximumMessageSize fails that entry only (as AWS recorded)', async () => {
      await sqs(
        'create-queue',
        '--queue-name',
        q.SMALL_BATCH.queue,
        '--attributes',
        q.json(q.SMALL_BATCH.attributes),
      )
      const r = await aws(
        'sqs',
        'send-message-batch',
        '--queue-url',
        queueUrl(q.SMALL_BATCH.queue),
        '--entries',
        q.json(q.SMALL_BATCH.entries),
      )
      assert.equal(r.code, 0, r.stderr)
      q.assertSmallBatch(JSON.parse(r.stdout) as q.BatchResult<q.SendResult & { Id: string }>)
    })
  })

  describe('errors', { concurrency: true }, () => {
    const name = 'sqs-errors'
    /** CreateQueue with attributes, which may fail. */
    const createQueue = (queue: string, attributes: Record<string, string>) =>
      aws('sqs', 'create-queue', '--queue-name', queue, '--attributes', q.json(attributes))
    /** An SQS command on this group's queue, which may fail. */
    const onQueue = (command: string, ...args: string[]) =>
      aws('sqs', command, '--queue-url', queueUrl(name), ...args)
    before(async () => {
      await sqs(
        'create-queue',
        '--queue-name',
        name,
        '--attributes',
        q.json({ VisibilityTimeout: '30' }),
      )
    })

    test('get-queue-url of a missing queue: NonExistentQueue', async () => {
      assertServiceError(
        await aws('sqs', 'get-queue-url', '--queue-name', 'sqs-missing'),
        'GetQueueUrl',
        q.SQS_ERRORS.nonExistentQueue,
      )
    })

    test('receive-message with 11 messages: InvalidParameterValue', async () => {
      assertServiceError(
        await onQueue('receive-message', '--max-number-of-messages', '11'),
        'ReceiveMessage',
        q.SQS_ERRORS.elevenMessages,
      )
    })

    test('create-queue with another VisibilityTimeout: QueueAlreadyExists', async () => {
      assertServiceError(
        await createQueue(name, { VisibilityTimeout: '45' }),
        'CreateQueue',
        q.SQS_ERRORS.queueAlreadyExists,
      )
    })

    test('create-queue with an unknown attribute: InvalidAttributeName', async () => {
      assertServiceError(
        await createQueue('sqs-foo', { Foo: 'bar' }),
        'CreateQueue',
        q.SQS_ERRORS.unknownAttributeFoo,
      )
    })

    test('delete-message with a garbage receipt handle: ReceiptHandleIsInvalid', async () => {
      assertServiceError(
        await onQueue('delete-message', '--receipt-handle', 'garbage'),
        'DeleteMessage',
        q.SQS_ERRORS.garbageReceiptHandle,
      )
    })

    test('purge-queue twice: PurgeQueueInProgress', async () => {
      const url = queueUrl(name)
      assert.deepEqual(await sqs('purge-queue', '--queue-url', url), {})
      assertServiceError(await onQueue('purge-queue'), 'PurgeQueue', q.purgeInProgress(name))
    })
  })

  describe('tags and listing', SEQUENTIAL, () => {
    test('tag-queue, list-queue-tags, untag-queue; list-queues with a prefix', async () => {
      // The other groups' queues (sqs-target-dlq, sqs-orders-…) do not have the prefix.
      const a = 'sqs-tags-a'
      await sqs('create-queue', '--queue-name', a, '--tags', q.json({ env: 'e2e' }))
      const url = queueUrl(a)
      assert.deepEqual(
        await sqs('tag-queue', '--queue-url', url, '--tags', q.json({ team: 'core', tier: '1' })),
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
