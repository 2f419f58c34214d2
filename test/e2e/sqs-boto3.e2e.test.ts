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
import { dirname, join } from 'node:path'
import { before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runBoto3 } from '../helpers/boto3.js'
import * as q from './sqs-scenario.js'
import { ACCOUNT, REGION } from './scenario.js'

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

const e2e = q.serverAndSink({ clientEnv: true })

/** Runs one phase of sqs_boto3_flow.py with `input` on stdin; its `result`. */
function boto3<T>(phase: string, input: unknown): Promise<T> {
  return runBoto3<T>(SCRIPT, phase, e2e.server.url, e2e.env, input)
}

function response<R>(o: Outcome<R> | undefined): R {
  assert.ok(o, 'the call was made')
  assert.equal(o.error, undefined, JSON.stringify(o.error))
  return (o as { response: R }).response
}

/**
 * A ClientError with this code, status, message and fault type; `botocoreClass` is the exception
 * botocore 1.29's SQS model maps the code to (ClientError when the model has no shape for it).
 */
function assertServiceError(
  o: Outcome | undefined,
  expected: { code: string; status: number; message: string },
  botocoreClass: string,
): void {
  assert.ok(o?.error, `expected ${expected.code}, got ${JSON.stringify(o).slice(0, 300)}`)
  assert.deepEqual(
    { Code: o.error.Code, HTTPStatusCode: o.error.HTTPStatusCode, Message: o.error.Message },
    { Code: expected.code, HTTPStatusCode: expected.status, Message: expected.message },
  )
  assert.equal(o.error.Type, 'Sender')
  assert.equal(o.error.Class, botocoreClass)
}

const queueUrl = (name: string) => e2e.queueUrl(name)

/** The messages a ReceiveMessage returned ([] for none; boto3 then has no Messages key). */
function received(o: Outcome<q.Received> | undefined): q.Message[] {
  const r = response(o)
  if (r.Messages === undefined) {
    assert.deepEqual(r, {})
    return []
  }
  return r.Messages
}

/** The custom bus of the rule delivering into queues. */
const BUS = 'sqs-e2e-bus'

// ── tests ────────────────────────────────────────────────────────────────────

/** Subtests inherit a suite's concurrency: the checks of each phase run in order. */
const SEQUENTIAL = { concurrency: 1 }

describe('boto3 and SQS', { concurrency: true }, () => {
  describe(
    'a rule on a custom bus delivers into queues: whole event and InputTransformer',
    SEQUENTIAL,
    () => {
      type Flow = {
        create_queue: Record<'whole' | 'transformed', Outcome>
        get_queue_attributes: Record<'whole' | 'transformed', Outcome>
        create_event_bus: Outcome
        put_rule: Outcome
        put_targets: Outcome
        put_events: Outcome<q.PutEvents>
        receive: Record<'whole' | 'transformed', Outcome<q.Received>>
        delete: Record<'whole' | 'transformed', Outcome>
        counts: Outcome
        again: Outcome<q.Received>
        sent_after: number
        sent_before: number
        received_before: number
      }
      let out: Flow

      before(async () => {
        out = await boto3<Flow>('flow', {
          queues: q.QUEUES,
          bus: BUS,
          rule: q.RULE,
          pattern: q.PATTERN,
          targets: q.QUEUE_TARGETS,
          entries: [q.MATCHING, q.NOT_MATCHING].map((e) => ({ ...e, EventBusName: BUS })),
        })
      })

      test('create_queue, get_queue_attributes QueueArn', () => {
        for (const key of ['whole', 'transformed'] as const) {
          assert.deepEqual(response(out.create_queue[key]), { QueueUrl: queueUrl(q.QUEUES[key]) })
          assert.deepEqual(response(out.get_queue_attributes[key]), {
            Attributes: { QueueArn: q.queueArn(q.QUEUES[key]) },
          })
        }
      })

      test('create_event_bus, put_rule, put_targets with the queue ARNs', () => {
        assert.deepEqual(response(out.create_event_bus), {
          EventBusArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${BUS}`,
        })
        assert.deepEqual(response(out.put_rule), { RuleArn: q.ruleArn(q.RULE, BUS) })
        assert.deepEqual(response(out.put_targets), { FailedEntryCount: 0, FailedEntries: [] })
      })

      test('receive_message (long poll): the envelope, its MD5 and system attributes', () => {
        const [eventId] = q.assertPutEvents(response(out.put_events), 2)
        q.assertQueueDeliveries(received(out.receive.whole), received(out.receive.transformed), {
          eventId: eventId!,
          sentAfter: out.sent_after,
          sentBefore: out.sent_before,
          receivedBefore: out.received_before,
        })
      })

      test('delete_message; then nothing is left, and the non-matching event never arrives', () => {
        assert.deepEqual(response(out.delete.whole), {})
        assert.deepEqual(response(out.delete.transformed), {})
        assert.deepEqual(response(out.counts), { Attributes: q.counts(0, 0) })
        assert.deepEqual(received(out.again), [])
      })
    },
  )

  describe('a target dead-letters into a queue', SEQUENTIAL, () => {
    type Dlq = {
      create_queue: Outcome
      get_queue_attributes: Outcome
      create_connection: Outcome
      create_api_destination: Outcome<{ ApiDestinationArn: string }>
      put_rule: Outcome
      put_targets: Outcome
      put_events: Outcome<q.PutEvents>
      receive: Outcome<q.Received>
      sent_after: number
      sent_before: number
      received_before: number
    }
    let out: Dlq

    before(async () => {
      e2e.sink.respond(() => 400)
      out = await boto3<Dlq>('dlq', {
        queue: q.DEAD_LETTER.queue,
        connection: q.DEAD_LETTER.connection,
        destination: q.deadLetterDestination(e2e.sink.url),
        rule: q.DEAD_LETTER.rule,
        pattern: q.DEAD_LETTER.pattern,
        entry: q.DEAD_LETTER.entry,
      })
    })

    test('put_targets with DeadLetterConfig and MaximumRetryAttempts 0', () => {
      assert.deepEqual(response(out.put_targets), { FailedEntryCount: 0, FailedEntries: [] })
    })

    test('an API destination answering 400: the event and its error in the DLQ', () => {
      const [eventId] = q.assertPutEvents(response(out.put_events), 1)
      const messages = received(out.receive)
      assert.equal(messages.length, 1, q.json(out.receive))
      q.assertDeadLetter(
        messages[0]!,
        {
          eventId: eventId!,
          sentAfter: out.sent_after,
          sentBefore: out.sent_before,
          receivedBefore: out.received_before,
        },
        response(out.create_api_destination).ApiDestinationArn,
        e2e.sink,
      )
    })
  })

  describe('FIFO queue with content-based deduplication', SEQUENTIAL, () => {
    const name = q.FIFO_QUEUE
    type Fifo = {
      create_queue: Outcome
      attributes: Outcome<{ Attributes: Record<string, string> }>
      send: Outcome<q.SendResult>[]
      first: Outcome<q.Received>
      second: Outcome<q.Received>
      third: Outcome<q.Received>
      delete: Outcome
      fourth: Outcome<q.Received>
      delete_batch?: Outcome<q.BatchResult<{ Id: string }>>
      counts: Outcome
      started_at: number
      received_before: number
    }
    let out: Fifo
    let sent: q.FifoSent = new Map()

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
        QueueArn: q.queueArn(name),
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
      sent = q.assertFifoSends(
        ['a1', 'a2', 'b1'].map((body, i): [string, q.SendResult] => [body, results[i]!]),
        ['MD5OfMessageBody', 'MessageId', 'SequenceNumber'],
      )
      q.assertFifoDuplicate(results[3]!, sent)
    })

    test('receive_message keeps group order and holds back a group in flight', () => {
      const at = (o: Outcome<q.Received>) => ({
        messages: received(o),
        receivedBefore: out.received_before,
      })
      // Deleting the head (the first receive's message) released the rest of its group.
      assert.deepEqual(response(out.delete), {})
      const r = {
        first: at(out.first),
        second: at(out.second),
        third: at(out.third),
        fourth: at(out.fourth),
      }
      q.assertFifoReceives(r, sent, out.started_at)
      const deleted = response(out.delete_batch)
      assert.equal(deleted.Successful?.length, r.second.messages.length + r.fourth.messages.length)
      assert.deepEqual(deleted.Failed ?? [], [])
      // Each body was received once: the duplicate was never queued.
      assert.deepEqual(response(out.counts), { Attributes: q.counts(0, 0) })
    })
  })

  describe('visibility timeout', SEQUENTIAL, () => {
    type Visibility = {
      create_queue: Outcome
      send: Outcome<q.SendResult>
      first: Outcome<q.Received>
      hidden: Outcome<q.Received>
      hidden_counts: Outcome
      back: Outcome<q.Received>
      change: Outcome
      shown: Outcome<q.Received>
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
      q.assertSystemAttributes(
        first[0]!,
        { sentAfter: out.sent_after, receivedBefore: out.first_done_at },
        '1',
      )
      assert.ok(out.hidden_done_at - out.first_at < 1000, 'the checks ran within the timeout')
      assert.deepEqual(received(out.hidden), [], 'hidden while its visibility timeout runs')
      assert.deepEqual(response(out.hidden_counts), { Attributes: q.counts(0, 1) })
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
    const { dlq, source } = q.REDRIVE
    type Redrive = {
      create_dlq: Outcome
      create_source: Outcome
      redrive_policy: Outcome
      send: Outcome<q.SendResult>
      first: Outcome<q.Received>
      second: Outcome<q.Received>
      moved: Outcome<q.Received>
      sources: Outcome
      sent_after: number
      received_before: number
    }
    let out: Redrive

    before(async () => {
      out = await boto3<Redrive>('redrive', {
        dlq,
        source,
        // The script puts the dead-letter queue's ARN in place of DLQ_ARN.
        policy: q.redrivePolicy('DLQ_ARN'),
        body: q.REDRIVE.body,
      })
    })

    test('get_queue_attributes echoes the RedrivePolicy as compact JSON with a number', () => {
      assert.deepEqual(response(out.create_source), { QueueUrl: queueUrl(source) })
      assert.deepEqual(response(out.redrive_policy), q.ECHOED_REDRIVE_POLICY)
    })

    test('maxReceiveCount 1: the next receive moves the message to the DLQ', () => {
      const id = response(out.send).MessageId
      const first = received(out.first)
      assert.equal(first.length, 1)
      assert.equal(first[0]!.MessageId, id)
      const original = q.assertSystemAttributes(
        first[0]!,
        { sentAfter: out.sent_after, receivedBefore: out.received_before },
        '1',
      )
      assert.deepEqual(received(out.second), [], 'the second receive moves it instead')
      const moved = received(out.moved)
      assert.equal(moved.length, 1)
      q.assertRedriven(moved[0]!, id, original)
    })

    test('list_dead_letter_source_queues lists the source', () => {
      assert.deepEqual(response(out.sources), { queueUrls: [queueUrl(source)] })
    })
  })

  describe('batches', SEQUENTIAL, () => {
    type Batches = {
      send_batch: Outcome<q.BatchResult<q.SendResult & { Id: string }>>
      received: q.Message[]
      delete_batch: Outcome<q.BatchResult<{ Id: string }>>
      counts: Outcome
      send_batch_small: Outcome<q.BatchResult<q.SendResult & { Id: string }>>
    }
    let out: Batches

    before(async () => {
      out = await boto3<Batches>('batches', {
        queue: q.BATCH.queue,
        entries: q.BATCH.entries,
        expect: 2,
        small: q.SMALL_BATCH.queue,
        small_entries: q.SMALL_BATCH.entries,
      })
    })

    test('send_message_batch: Successful and Failed entries; delete_message_batch', () => {
      const successful = q.assertBatchSent(response(out.send_batch))
      q.assertBatchReceivedAndDeleted(out.received, successful, response(out.delete_batch))
      assert.deepEqual(response(out.counts), { Attributes: q.counts(0, 0) })
    })

    test('send_message_batch over MaximumMessageSize fails that entry only (as AWS recorded)', () => {
      q.assertSmallBatch(response(out.send_batch_small))
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
      assertServiceError(out.missing, q.SQS_ERRORS.nonExistentQueue, 'QueueDoesNotExist')
    })

    test('receive_message with MaxNumberOfMessages 11: InvalidParameterValue', () => {
      assertServiceError(out.eleven, q.SQS_ERRORS.elevenMessages, 'ClientError')
    })

    test('create_queue again: same attributes give the queue, another value QueueAlreadyExists', () => {
      assert.deepEqual(response(out.same), { QueueUrl: queueUrl(name) })
      assertServiceError(out.exists, q.SQS_ERRORS.queueAlreadyExists, 'QueueNameExists')
    })

    test('create_queue with an unknown attribute: InvalidAttributeName', () => {
      assertServiceError(
        out.unknown_attribute,
        q.SQS_ERRORS.unknownAttributeFoo,
        'InvalidAttributeName',
      )
    })

    test('delete_message with a garbage receipt handle: ReceiptHandleIsInvalid', () => {
      assertServiceError(
        out.garbage_handle,
        q.SQS_ERRORS.garbageReceiptHandle,
        'ReceiptHandleIsInvalid',
      )
    })

    test('purge_queue twice: PurgeQueueInProgress', () => {
      assert.deepEqual(response(out.purge), {})
      assertServiceError(out.purge_again, q.purgeInProgress(name), 'PurgeQueueInProgress')
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
