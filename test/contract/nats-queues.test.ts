/**
 * SQS standard queues on NATS JetStream (src/store/nats/queues.ts), against a nats-server of our
 * own. Each "node" is a connection of its own with its own NatsQueues, as separate processes
 * would have; one server is shared by the tests of this file, each test using queues of its own.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node'
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { ManualClock, systemClock } from '../../src/clock.js'
import { QueueError } from '../../src/queue/errors.js'
import type { ReceivedMessage, SendResult } from '../../src/queue/queues.js'
import { openNatsJobStore, type NatsJobStore } from '../../src/store/nats/jobs.js'
import { NatsQueues, type NatsQueue } from '../../src/store/nats/queues.js'
import type { DeadLetter } from '../../src/store/ports.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'

const SCOPE = { account: '111111111111', region: 'us-east-1' }
const silent = { warn: () => undefined, error: () => undefined }

let server: NatsServer
const connections: NatsConnection[] = []
const opened: NatsQueues[] = []
const jobStores: NatsJobStore[] = []

let nodeA: NatsQueues
let nodeB: NatsQueues
before(async () => {
  server = await startNatsServer()
  nodeA = (await node()).queues
  nodeB = (await node()).queues
})

after(async () => {
  for (const q of opened) q.close()
  for (const j of jobStores) j.close()
  for (const nc of connections) await nc.close().catch(() => undefined)
  await server.stop()
})

/** A node: its own connection, job store (for dead letters kept) and queues. */
async function node(): Promise<{ queues: NatsQueues; jobs: NatsJobStore }> {
  const nc = await connect({ servers: server.url })
  connections.push(nc)
  const jobs = await openNatsJobStore(nc)
  jobStores.push(jobs)
  const queues = await NatsQueues.open(nc, { events: jobs, clock: systemClock, log: silent })
  opened.push(queues)
  return { queues, jobs }
}

let named = 0
const fresh = (prefix: string) => `${prefix}-${String(++named)}`

async function until<T>(
  get: () => T | Promise<T>,
  what: string,
  ms = 20_000,
): Promise<NonNullable<T>> {
  const end = Date.now() + ms
  for (;;) {
    const v = await get()
    if (v !== undefined && v !== null && v !== false) return v
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function sendBodies(queues: NatsQueues, q: NatsQueue, bodies: string[]): Promise<string[]> {
  const results = await queues.send(
    q,
    bodies.map((body) => ({ body })),
    SCOPE.account,
  )
  return results.map((r) => (r instanceof QueueError ? assert.fail(r.message) : r.messageId))
}

/**
 * Receives until a message arrives, polling without a wait: a long poll that expires in the
 * instant a message becomes visible again may get it without its count raised on
 * nats-server 2.9 (see docs/cluster.md), which the tests of receive counts must not hit.
 */
async function receiveOne(
  queues: NatsQueues,
  q: NatsQueue,
  visibilityTimeout?: number,
): Promise<ReceivedMessage> {
  const [m] = await until(async () => {
    const got = await queues.receive(q, {
      max: 1,
      waitSeconds: 0,
      ...(visibilityTimeout !== undefined ? { visibilityTimeout } : {}),
    })
    return got.length > 0 ? got : undefined
  }, 'a message')
  return m!
}

test('send, receive and delete, with the checksums and attributes SQS gives', async () => {
  const q = await nodeA.create(SCOPE, fresh('basic'), {}, {})
  const [result] = (await nodeA.send(
    q,
    [
      {
        body: 'hello',
        attributes: { colour: { dataType: 'String', stringValue: 'blue' } },
        traceHeader: 'Root=1-abc',
      },
    ],
    'AIDSENDER',
  )) as SendResult[]
  assert.equal(result!.md5OfBody, '5d41402abc4b2a76b9719d911017c592')
  assert.ok(result!.md5OfAttributes)
  const m = await receiveOne(nodeA, q)
  assert.equal(m.id, result!.messageId)
  assert.equal(m.body, 'hello')
  assert.equal(m.md5OfBody, '5d41402abc4b2a76b9719d911017c592')
  assert.deepEqual(m.attributes, { colour: { dataType: 'String', stringValue: 'blue' } })
  assert.equal(m.traceHeader, 'Root=1-abc')
  assert.equal(m.senderId, 'AIDSENDER')
  assert.equal(m.receiveCount, 1)
  // Hidden now: nothing more to receive.
  assert.deepEqual(await nodeA.receive(q, { max: 10, waitSeconds: 0 }), [])
  const counts = await nodeA.attributes(q, [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
  ])
  assert.deepEqual(counts, {
    ApproximateNumberOfMessages: '0',
    ApproximateNumberOfMessagesNotVisible: '1',
  })
  assert.deepEqual(await nodeA.deleteMessages(q, [m.receiptHandle]), [undefined])
  await until(
    async () =>
      (await nodeA.attributes(q, ['ApproximateNumberOfMessagesNotVisible']))
        .ApproximateNumberOfMessagesNotVisible === '0',
    'the delete counted',
  )
  // Deleting again succeeds, as on SQS; a made-up handle is refused.
  assert.deepEqual(await nodeA.deleteMessages(q, [m.receiptHandle]), [undefined])
  const [bad] = await nodeA.deleteMessages(q, ['bm90IGEgaGFuZGxl'])
  assert.equal(bad?.code, 'ReceiptHandleIsInvalid')
})

test('a message not deleted comes back after its visibility timeout, its receive count grown', async () => {
  const q = await nodeA.create(SCOPE, fresh('visibility'), { VisibilityTimeout: '1' }, {})
  const [id] = await sendBodies(nodeA, q, ['again'])
  const first = await receiveOne(nodeA, q)
  assert.equal(first.receiveCount, 1)
  const second = await receiveOne(nodeA, q)
  assert.equal(second.id, id)
  assert.equal(second.receiveCount, 2)
  // A handle of the first receive still deletes it (standard queues).
  assert.deepEqual(await nodeA.deleteMessages(q, [first.receiptHandle]), [undefined])
  assert.deepEqual(await nodeA.receive(q, { max: 1, waitSeconds: 2 }), [])
})

test('ChangeMessageVisibility: 0 makes a message visible at once; the 12-hour limit holds', async () => {
  const q = await nodeA.create(SCOPE, fresh('change'), {}, {})
  await sendBodies(nodeA, q, ['m'])
  const m = await receiveOne(nodeA, q, 600)
  assert.deepEqual(await nodeA.receive(q, { max: 1, waitSeconds: 0 }), [])
  const [tooLong] = await nodeA.changeVisibility(q, [{ handle: m.receiptHandle, timeout: 43_201 }])
  assert.equal(tooLong?.code, 'InvalidParameterValue')
  // Through the other node: the handle carries what any node needs.
  assert.deepEqual(await nodeB.changeVisibility(q, [{ handle: m.receiptHandle, timeout: 0 }]), [
    undefined,
  ])
  const again = await receiveOne(nodeA, q)
  assert.equal(again.id, m.id)
  assert.equal(again.receiveCount, 2)
})

test('DelaySeconds: a delayed message is counted as delayed and received only once due', async () => {
  const q = await nodeA.create(SCOPE, fresh('delay'), {}, {})
  const before = Date.now()
  const [result] = (await nodeA.send(
    q,
    [{ body: 'later', delaySeconds: 2 }],
    SCOPE.account,
  )) as SendResult[]
  assert.equal(
    (await nodeA.attributes(q, ['ApproximateNumberOfMessagesDelayed']))
      .ApproximateNumberOfMessagesDelayed,
    '1',
  )
  const m = await receiveOne(nodeB, q)
  assert.ok(Date.now() - before >= 2000, 'received before its delay ended')
  assert.equal(m.id, result!.messageId)
  // The wait for the delay is not a receive.
  assert.equal(m.receiveCount, 1)
})

test('redrive: past maxReceiveCount a message moves to the dead-letter queue', async () => {
  const dlq = await nodeA.create(SCOPE, fresh('dlq'), {}, {})
  const q = await nodeA.create(
    SCOPE,
    fresh('source'),
    {
      VisibilityTimeout: '0',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
    },
    {},
  )
  assert.deepEqual(
    nodeA.sourcesOf(dlq).map((s) => s.arn),
    [q.arn],
  )
  const [id] = await sendBodies(nodeA, q, ['poison'])
  assert.equal((await receiveOne(nodeA, q)).receiveCount, 1)
  assert.equal((await receiveOne(nodeB, q)).receiveCount, 2)
  // The third receive moves it instead of returning it.
  assert.deepEqual(await nodeA.receive(q, { max: 10, waitSeconds: 1 }), [])
  const moved = await receiveOne(nodeB, dlq)
  assert.equal(moved.id, id)
  assert.equal(moved.body, 'poison')
  assert.equal(moved.sourceArn, q.arn)
  // Two receives in the source, and this one.
  assert.equal(moved.receiveCount, 3)
})

test('PurgeQueue deletes every message, once a minute', async () => {
  const q = await nodeA.create(SCOPE, fresh('purge'), {}, {})
  await sendBodies(nodeA, q, ['a', 'b', 'c'])
  await receiveOne(nodeA, q)
  await nodeA.purge(q)
  assert.deepEqual(await nodeA.receive(q, { max: 10, waitSeconds: 1 }), [])
  // The other node knows of the purge too.
  await until(() => nodeB.findByArn(q.arn)?.lastPurgeAt !== undefined, 'the purge seen')
  await assert.rejects(nodeB.purge(nodeB.findByArn(q.arn)!), {
    code: 'AWS.SimpleQueueService.PurgeQueueInProgress',
  })
  const counts = await nodeA.attributes(q, ['All'])
  assert.equal(counts.ApproximateNumberOfMessages, '0')
  assert.equal(counts.ApproximateNumberOfMessagesNotVisible, '0')
  await sendBodies(nodeA, q, ['after'])
  assert.equal((await receiveOne(nodeA, q)).body, 'after')
})

test('a long poll answers as soon as a message is sent, through another node', async () => {
  const q = await nodeA.create(SCOPE, fresh('long-poll'), {}, {})
  await until(() => nodeB.findByArn(q.arn), 'the queue on node B')
  const waiting = nodeA.receive(q, { max: 10, waitSeconds: 20 })
  await new Promise((r) => setTimeout(r, 300))
  const [id] = await sendBodies(nodeB, nodeB.findByArn(q.arn)!, ['wake'])
  const got = await waiting
  assert.deepEqual(
    got.map((m) => m.id),
    [id],
  )
})

test('a long poll ends empty when its client goes away or the queues close', async () => {
  const q = await nodeA.create(SCOPE, fresh('abort'), {}, {})
  const controller = new AbortController()
  const waiting = nodeA.receive(q, { max: 1, waitSeconds: 20 }, () => controller.signal)
  setTimeout(() => controller.abort(), 200)
  assert.deepEqual(await waiting, [])
  // A message sent after the client left is not lost to the abandoned request.
  await sendBodies(nodeA, q, ['kept'])
  assert.equal((await receiveOne(nodeB, q)).body, 'kept')
})

test('two nodes: a queue created on one is usable on the other; no message goes to both', async () => {
  const name = fresh('shared')
  const qa = await nodeA.create(SCOPE, name, { VisibilityTimeout: '60' }, { team: 'a' })
  const qb = await until(() => nodeB.find(SCOPE, name), 'the queue on node B', 5000)
  assert.equal(qb.record.id, qa.record.id)
  assert.deepEqual(qb.record.tags, { team: 'a' })
  // CreateQueue on the other node with the same attributes answers the same queue.
  assert.equal((await nodeB.create(SCOPE, name, { VisibilityTimeout: '60' }, {})).arn, qa.arn)
  await assert.rejects(nodeB.create(SCOPE, name, { VisibilityTimeout: '5' }, {}), {
    code: 'QueueAlreadyExists',
  })
  const ids = await sendBodies(
    nodeA,
    qa,
    Array.from({ length: 60 }, (_, i) => `m${String(i)}`),
  )
  const seen = new Map<string, string>()
  const received: { by: NatsQueues; q: NatsQueue; m: ReceivedMessage }[] = []
  async function drain(by: NatsQueues, q: NatsQueue, who: string) {
    for (let empty = 0; empty < 2;) {
      const got = await by.receive(q, { max: 10, waitSeconds: 1 })
      if (got.length === 0) empty++
      for (const m of got) {
        assert.equal(seen.get(m.id), undefined, `${m.id} received by ${who} and ${seen.get(m.id)!}`)
        seen.set(m.id, who)
        received.push({ by, q, m })
      }
    }
  }
  await Promise.all([drain(nodeA, qa, 'A'), drain(nodeB, qb, 'B')])
  assert.deepEqual([...seen.keys()].sort(), [...ids].sort())
  // Each deleted through the node that did not receive it.
  for (const { by, m } of received) {
    const other = by === nodeA ? nodeB : nodeA
    const q = other === nodeA ? qa : qb
    assert.deepEqual(await other.deleteMessages(q, [m.receiptHandle]), [undefined])
  }
  await until(async () => {
    const a = await nodeB.attributes(qb, ['All'])
    return a.ApproximateNumberOfMessages === '0' && a.ApproximateNumberOfMessagesNotVisible === '0'
  }, 'every message deleted')
  // Attributes, tags and deletion travel too.
  await nodeB.setAttributes(qb, { DelaySeconds: '3' })
  await until(() => qa.settings.delaySeconds === 3, 'the new attribute on node A')
  await nodeA.tag(qa, { env: 'test' })
  await until(() => qb.record.tags.env === 'test', 'the tag on node B')
  await nodeA.delete(qa)
  await until(() => nodeB.find(SCOPE, name) === undefined, 'the delete on node B')
  // The name can be used again at once, for a new queue with no messages.
  const again = await nodeB.create(SCOPE, name, {}, {})
  assert.notEqual(again.record.id, qa.record.id)
  await until(() => nodeA.find(SCOPE, name)?.record.id === again.record.id, 'the new queue on A')
  assert.deepEqual(await nodeA.receive(again, { max: 10, waitSeconds: 0 }), [])
})

test('FIFO queues are refused with the reason', async () => {
  await assert.rejects(nodeA.create(SCOPE, 'orders.fifo', { FifoQueue: 'true' }, {}), (e) => {
    assert.ok(e instanceof QueueError)
    assert.equal(e.code, 'InvalidAttributeValue')
    assert.match(e.message, /FIFO queues are not available in distributed mode/)
    return true
  })
})

test('dead letters from EventBridge arrive with their attributes; kept ones when the queue is created', async () => {
  const { queues, jobs } = await node()
  const name = fresh('event-dlq')
  const arn = `arn:aws:sqs:${SCOPE.region}:${SCOPE.account}:${name}`
  const letter = (eventId: string): DeadLetter => ({
    job: {
      id: 1,
      eventId,
      busArn: 'arn:aws:events:us-east-1:111111111111:event-bus/default',
      ruleArn: 'arn:aws:events:us-east-1:111111111111:rule/r',
      targetId: 't',
      attempts: 3,
      dueAt: 0,
    },
    event: {
      id: eventId,
      busArn: 'arn:aws:events:us-east-1:111111111111:event-bus/default',
      text: `{"id":"${eventId}"}`,
      ingestedAt: 0,
      hops: 0,
    },
    dlqArn: arn,
    ruleArn: 'arn:aws:events:us-east-1:111111111111:rule/r',
    targetArn: 'arn:aws:lambda:us-east-1:111111111111:function:f',
    errorCode: 'SDK_CLIENT_ERROR',
    errorMessage: 'boom',
    exhaustedRetryCondition: 'MaximumRetryAttempts',
    retryAttempts: 3,
    at: 0,
  })
  // No queue yet: the caller keeps the letter in the store.
  assert.equal(await queues.deadLetter(letter('e1')), false)
  await jobs.deadLetter(letter('e1'))
  const q = await queues.create(SCOPE, name, {}, {})
  const kept = await receiveOne(queues, q)
  assert.equal(kept.body, '{"id":"e1"}')
  const text = (stringValue: string) => ({ dataType: 'String', stringValue })
  assert.deepEqual(kept.attributes, {
    RULE_ARN: text('arn:aws:events:us-east-1:111111111111:rule/r'),
    TARGET_ARN: text('arn:aws:lambda:us-east-1:111111111111:function:f'),
    ERROR_CODE: text('SDK_CLIENT_ERROR'),
    ERROR_MESSAGE: text('boom'),
    RETRY_ATTEMPTS: text('3'),
    EXHAUSTED_RETRY_CONDITION: text('MaximumRetryAttempts'),
  })
  assert.deepEqual(await jobs.deadLetters(arn), [])
  assert.equal(await queues.deadLetter(letter('e2')), true)
  assert.equal(
    (await receiveOne(nodeB, await until(() => nodeB.findByArn(arn), 'the queue on node B'))).body,
    '{"id":"e2"}',
  )
})

test('a message NATS cannot carry is refused as too long, not half stored', async () => {
  const q = await nodeA.create(SCOPE, fresh('big'), {}, {})
  const [result] = await nodeA.send(q, [{ body: 'x'.repeat(1_048_000) }], SCOPE.account)
  assert.ok(result instanceof QueueError)
  assert.equal(result.code, 'InvalidParameterValue')
  assert.match(result.message, /Message must be shorter than \d+ bytes/)
  assert.deepEqual(await nodeA.receive(q, { max: 1, waitSeconds: 0 }), [])
})

test('retention: a sweep purges every message past MessageRetentionPeriod, received or not', async () => {
  const nc = await connect({ servers: server.url })
  connections.push(nc)
  const jobs = await openNatsJobStore(nc)
  jobStores.push(jobs)
  const clock = new ManualClock(Date.now())
  const queues = await NatsQueues.open(nc, { events: jobs, clock, log: silent })
  opened.push(queues)
  const q = await queues.create(SCOPE, fresh('retention'), { MessageRetentionPeriod: '60' }, {})
  await sendBodies(queues, q, ['old1', 'old2', 'old3'])
  await receiveOne(queues, q)
  clock.advance(30_000)
  await sendBodies(queues, q, ['new1', 'new2'])
  const counts = async () => {
    const a = await queues.attributes(q, ['All'])
    return [Number(a.ApproximateNumberOfMessages), Number(a.ApproximateNumberOfMessagesNotVisible)]
  }
  assert.deepEqual(await counts(), [4, 1])
  clock.advance(31_000)
  await queues.sweep()
  assert.deepEqual(await counts(), [2, 0])
  const bodies: string[] = []
  while (bodies.length < 2) bodies.push((await receiveOne(queues, q)).body)
  assert.deepEqual(bodies.sort(), ['new1', 'new2'])
})
