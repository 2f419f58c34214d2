/**
 * The queue engine on a manual clock: visibility, delays, long polling, FIFO order and
 * deduplication, redrive, retention, purge, and what survives a restart on SQLite; then all of
 * it again with a window of a few messages, so most messages are paged in from the store.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { pino } from 'pino'
import { ManualClock } from '../../src/clock.js'
import type { DeliveryJob, StoredEvent } from '../../src/model.js'
import { QueueError } from '../../src/queue/errors.js'
import type { QueueWrite } from '../../src/queue/model.js'
import { Queues, type SendResult } from '../../src/queue/queues.js'
import { createMemoryStore } from '../../src/store/memory/index.js'
import type { LocalStore as Store } from '../../src/store/ports.js'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { tempDir } from '../helpers/server.js'

const SCOPE = { account: '111111111111', region: 'us-east-1' }
const log = pino({ level: 'silent' })

async function setup(
  store: Store = createMemoryStore(),
  clock = new ManualClock(),
  window?: number,
) {
  const queues = await Queues.load({
    store: store.queues,
    events: store.events,
    clock,
    log,
    ...(window !== undefined ? { window } : {}),
  })
  return { queues, clock, store }
}

function sent(r: SendResult | QueueError | undefined): SendResult {
  if (!r || r instanceof QueueError) throw new Error(`send failed: ${String(r?.message)}`)
  return r
}

/** Lets store writes and promise callbacks run (the memory store resolves at once). */
const settle = () => new Promise((r) => setImmediate(r))

describe('standard queues', () => {
  test('a received message is hidden for its visibility timeout, then comes back counted', async () => {
    const { queues, clock } = await setup()
    const q = await queues.create(SCOPE, 'q', { VisibilityTimeout: '30' }, {})
    const id = sent((await queues.send(q, [{ body: 'hello' }], 'me'))[0]).messageId
    const [first] = await queues.receive(q, { max: 10 })
    assert.equal(first?.id, id)
    assert.equal(first.receiveCount, 1)
    assert.equal(first.md5OfBody, '5d41402abc4b2a76b9719d911017c592')
    assert.deepEqual(await queues.receive(q, { max: 10 }), [])
    assert.deepEqual(
      await queues.attributes(q, [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
      ]),
      { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' },
    )
    clock.advance(29_999)
    assert.deepEqual(await queues.receive(q, { max: 10 }), [])
    clock.advance(1)
    const [again] = await queues.receive(q, { max: 10 })
    assert.equal(again?.id, id)
    assert.equal(again.receiveCount, 2)
    assert.equal(again.firstReceivedAt, first.firstReceivedAt)
    assert.notEqual(again.receiptHandle, first.receiptHandle)
  })

  test('delete removes for good; a stale handle still deletes on a standard queue', async () => {
    const { queues, clock } = await setup()
    const q = await queues.create(SCOPE, 'q', {}, {})
    await queues.send(q, [{ body: 'a' }], 'me')
    const [first] = await queues.receive(q, { max: 1, visibilityTimeout: 1 })
    clock.advance(1000)
    const [second] = await queues.receive(q, { max: 1 })
    assert.equal(second?.receiveCount, 2)
    assert.deepEqual(await queues.deleteMessages(q, [first!.receiptHandle]), [undefined])
    clock.advance(60_000)
    assert.deepEqual(await queues.receive(q, { max: 1 }), [])
    // Deleting again is not an error.
    assert.deepEqual(await queues.deleteMessages(q, [second.receiptHandle]), [undefined])
    const [bad] = await queues.deleteMessages(q, ['not-a-handle'])
    assert.equal(bad?.code, 'ReceiptHandleIsInvalid')
  })

  test('ChangeMessageVisibility: 0 shows at once, longer hides; never-received is refused', async () => {
    const { queues, clock } = await setup()
    const q = await queues.create(SCOPE, 'q', {}, {})
    await queues.send(q, [{ body: 'a' }], 'me')
    const [m] = await queues.receive(q, { max: 1 })
    assert.deepEqual(await queues.changeVisibility(q, [{ handle: m!.receiptHandle, timeout: 0 }]), [
      undefined,
    ])
    const [back] = await queues.receive(q, { max: 1, visibilityTimeout: 10 })
    assert.equal(back?.id, m!.id)
    await queues.changeVisibility(q, [{ handle: back.receiptHandle, timeout: 100 }])
    clock.advance(99_000)
    assert.deepEqual(await queues.receive(q, { max: 1 }), [])
    clock.advance(1000)
    assert.equal((await queues.receive(q, { max: 1 })).length, 1)
    const [err] = await queues.changeVisibility(q, [
      { handle: back.receiptHandle, timeout: 43_201 },
    ])
    assert.equal(err?.code, 'InvalidParameterValue')
  })

  test('per-message and queue delays hold a message back and count it as delayed', async () => {
    const { queues, clock } = await setup()
    const q = await queues.create(SCOPE, 'q', { DelaySeconds: '5' }, {})
    await queues.send(q, [{ body: 'queue delay' }, { body: 'no delay', delaySeconds: 0 }], 'me')
    assert.equal((await queues.attributes(q, ['All'])).ApproximateNumberOfMessagesDelayed, '1')
    assert.deepEqual(
      (await queues.receive(q, { max: 10 })).map((m) => m.body),
      ['no delay'],
    )
    clock.advance(5000)
    assert.deepEqual(
      (await queues.receive(q, { max: 10 })).map((m) => m.body),
      ['queue delay'],
    )
  })

  test('messages past the retention period are dropped', async () => {
    const { queues, clock } = await setup()
    const q = await queues.create(SCOPE, 'q', { MessageRetentionPeriod: '60' }, {})
    await queues.send(q, [{ body: 'old' }], 'me')
    clock.advance(60_000)
    assert.deepEqual(await queues.receive(q, { max: 10 }), [])
    assert.equal((await queues.attributes(q, ['All'])).ApproximateNumberOfMessages, '0')
  })

  test('PurgeQueue empties the queue once per minute; later sends stay', async () => {
    const { queues, clock } = await setup()
    const q = await queues.create(SCOPE, 'q', {}, {})
    await queues.send(q, [{ body: '1' }, { body: '2' }], 'me')
    await queues.receive(q, { max: 1 })
    await queues.purge(q)
    assert.equal((await queues.attributes(q, ['All'])).ApproximateNumberOfMessagesNotVisible, '0')
    await queues.send(q, [{ body: '3' }], 'me')
    await assert.rejects(queues.purge(q), { code: 'AWS.SimpleQueueService.PurgeQueueInProgress' })
    clock.advance(60_000)
    assert.deepEqual(
      (await queues.receive(q, { max: 10 })).map((m) => m.body),
      ['3'],
    )
    await queues.purge(q)
  })
})

describe('long polling', () => {
  test('a waiting receive gets a message as soon as it is sent, and nothing when time runs out', async () => {
    const { queues, clock } = await setup()
    const q = await queues.create(SCOPE, 'q', {}, {})
    const waiting = queues.receive(q, { max: 10, waitSeconds: 20 })
    await queues.send(q, [{ body: 'now' }], 'me')
    assert.deepEqual(
      (await waiting).map((m) => m.body),
      ['now'],
    )
    const empty = queues.receive(q, { max: 10, waitSeconds: 20 })
    clock.advance(19_999)
    let done = false
    void empty.then(() => (done = true))
    await settle()
    assert.equal(done, false)
    clock.advance(1)
    assert.deepEqual(await empty, [])
  })

  test('a waiting receive wakes when a hidden message becomes visible again', async () => {
    const { queues, clock } = await setup()
    const q = await queues.create(SCOPE, 'q', {}, {})
    await queues.send(q, [{ body: 'a' }], 'me')
    await queues.receive(q, { max: 1, visibilityTimeout: 5 })
    const waiting = queues.receive(q, { max: 1, waitSeconds: 20 })
    clock.advance(5000)
    const [m] = await waiting
    assert.equal(m?.receiveCount, 2)
  })

  test('waiters are served oldest first, one message each when one was asked', async () => {
    const { queues } = await setup()
    const q = await queues.create(SCOPE, 'q', {}, {})
    const a = queues.receive(q, { max: 1, waitSeconds: 20 })
    const b = queues.receive(q, { max: 1, waitSeconds: 20 })
    await queues.send(q, [{ body: '1' }, { body: '2' }], 'me')
    assert.deepEqual(
      (await a).map((m) => m.body),
      ['1'],
    )
    assert.deepEqual(
      (await b).map((m) => m.body),
      ['2'],
    )
  })

  test('an aborted long poll ends at once; close ends every long poll', async () => {
    const { queues } = await setup()
    const q = await queues.create(SCOPE, 'q', {}, {})
    const abort = new AbortController()
    const waiting = queues.receive(q, { max: 1, waitSeconds: 20 }, () => abort.signal)
    abort.abort()
    assert.deepEqual(await waiting, [])
    const other = queues.receive(q, { max: 1, waitSeconds: 20 })
    queues.close()
    assert.deepEqual(await other, [])
  })
})

describe('FIFO queues', () => {
  const fifo = { FifoQueue: 'true', ContentBasedDeduplication: 'true' }

  test('keeps each group in order and holds a group back while one of its messages is in flight', async () => {
    const { queues } = await setup()
    const q = await queues.create(SCOPE, 'f.fifo', fifo, {})
    await queues.send(
      q,
      [
        { body: 'a1', groupId: 'a' },
        { body: 'b1', groupId: 'b' },
        { body: 'a2', groupId: 'a' },
        { body: 'b2', groupId: 'b' },
      ],
      'me',
    )
    const first = await queues.receive(q, { max: 2 })
    assert.deepEqual(
      first.map((m) => m.body),
      ['a1', 'a2'],
    )
    const second = await queues.receive(q, { max: 10 })
    assert.deepEqual(
      second.map((m) => m.body),
      ['b1', 'b2'],
    )
    assert.deepEqual(await queues.receive(q, { max: 10 }), [])
    // Releasing only the first of a group's messages keeps the group blocked.
    await queues.deleteMessages(q, [first[0]!.receiptHandle])
    assert.deepEqual(await queues.receive(q, { max: 10 }), [])
    await queues.deleteMessages(q, [first[1]!.receiptHandle])
    assert.deepEqual(await queues.receive(q, { max: 10 }), [])
    const seqs = [...first, ...second].map((m) => BigInt(m.sequenceNumber!))
    assert.ok(seqs[0]! < seqs[1]! && seqs[2]! < seqs[3]!)
  })

  test('deduplicates within five minutes, by content or by id, per queue or per group', async () => {
    const { queues, clock } = await setup()
    const q = await queues.create(SCOPE, 'f.fifo', fifo, {})
    const one = sent((await queues.send(q, [{ body: 'same', groupId: 'g' }], 'me'))[0])
    const dup = sent((await queues.send(q, [{ body: 'same', groupId: 'h' }], 'me'))[0])
    assert.equal(dup.messageId, one.messageId)
    assert.equal(dup.sequenceNumber, one.sequenceNumber)
    clock.advance(5 * 60_000)
    const later = sent((await queues.send(q, [{ body: 'same', groupId: 'g' }], 'me'))[0])
    assert.notEqual(later.messageId, one.messageId)
    // The duplicate sent to group h was never queued.
    assert.deepEqual(
      (await queues.receive(q, { max: 10 })).map((m) => m.id),
      [one.messageId, later.messageId],
    )

    const byGroup = await queues.create(
      SCOPE,
      'g.fifo',
      { FifoQueue: 'true', DeduplicationScope: 'messageGroup' },
      {},
    )
    const r = await queues.send(
      byGroup,
      [
        { body: 'x', groupId: 'a', dedupId: 'd' },
        { body: 'y', groupId: 'b', dedupId: 'd' },
        { body: 'z', groupId: 'a', dedupId: 'd' },
      ],
      'me',
    )
    const ids = r.map((x) => sent(x).messageId)
    assert.notEqual(ids[0], ids[1])
    assert.equal(ids[2], ids[0])
  })

  test('refuses what a FIFO queue cannot take', async () => {
    const { queues } = await setup()
    const q = await queues.create(SCOPE, 'f.fifo', { FifoQueue: 'true' }, {})
    const [noGroup, delay, noDedup] = await queues.send(
      q,
      [
        { body: 'x', dedupId: 'd1' },
        { body: 'x', groupId: 'g', dedupId: 'd2', delaySeconds: 3 },
        { body: 'x', groupId: 'g' },
      ],
      'me',
    )
    assert.equal((noGroup as QueueError).code, 'MissingParameter')
    assert.equal((delay as QueueError).code, 'InvalidParameterValue')
    assert.equal(
      (noDedup as QueueError).message,
      'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
    )
  })

  test('a message redriven from the head of a group does not let the next one be skipped', async () => {
    const { queues } = await setup()
    const dlq = await queues.create(SCOPE, 'd.fifo', { FifoQueue: 'true' }, {})
    const q = await queues.create(
      SCOPE,
      'r.fifo',
      {
        ...fifo,
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }),
      },
      {},
    )
    await queues.send(
      q,
      ['A', 'B', 'C'].map((body) => ({ body, groupId: 'g' })),
      'me',
    )
    const [a] = await queues.receive(q, { max: 1 })
    await queues.changeVisibility(q, [{ handle: a!.receiptHandle, timeout: 0 }])
    assert.deepEqual(
      (await queues.receive(q, { max: 1 })).map((m) => m.body),
      ['B'],
    )
    assert.deepEqual(
      (await queues.receive(dlq, { max: 10 })).map((m) => m.body),
      ['A'],
    )
  })

  test('deleting the in-flight message of a group wakes a receiver waiting for the next', async () => {
    const { queues } = await setup()
    const q = await queues.create(SCOPE, 'w.fifo', fifo, {})
    await queues.send(
      q,
      ['A', 'B'].map((body) => ({ body, groupId: 'g' })),
      'me',
    )
    const [a] = await queues.receive(q, { max: 1 })
    const waiting = queues.receive(q, { max: 1, waitSeconds: 20 })
    await queues.deleteMessages(q, [a!.receiptHandle])
    assert.deepEqual(
      (await waiting).map((m) => m.body),
      ['B'],
    )
  })

  test('a send whose commit fails releases its deduplication id, so the retry is queued', async () => {
    const store = createMemoryStore()
    const write = store.queues.write.bind(store.queues)
    let failNext = false
    store.queues.write = (writes) => {
      if (failNext) {
        failNext = false
        return Promise.reject(new Error('disk full'))
      }
      return write(writes)
    }
    const { queues } = await setup(store)
    const q = await queues.create(SCOPE, 'x.fifo', fifo, {})
    failNext = true
    await assert.rejects(queues.send(q, [{ body: 'once', groupId: 'g' }], 'me'), /disk full/)
    sent((await queues.send(q, [{ body: 'once', groupId: 'g' }], 'me'))[0])
    assert.deepEqual(
      (await queues.receive(q, { max: 10 })).map((m) => m.body),
      ['once'],
    )
  })

  test('a handle whose visibility ran out no longer deletes', async () => {
    const { queues, clock } = await setup()
    const q = await queues.create(SCOPE, 'f.fifo', fifo, {})
    await queues.send(q, [{ body: 'x', groupId: 'g' }], 'me')
    const [m] = await queues.receive(q, { max: 1, visibilityTimeout: 1 })
    clock.advance(1000)
    const [err] = await queues.deleteMessages(q, [m!.receiptHandle])
    assert.match(err?.message ?? '', /Reason: The receipt handle has expired\.$/)
  })
})

describe('queues', () => {
  test('CreateQueue is idempotent with equal attributes and refuses different ones', async () => {
    const { queues } = await setup()
    const q = await queues.create(SCOPE, 'q', { VisibilityTimeout: '10' }, {})
    assert.equal(await queues.create(SCOPE, 'q', { VisibilityTimeout: '10' }, {}), q)
    assert.equal(await queues.create(SCOPE, 'q', {}, {}), q)
    await assert.rejects(queues.create(SCOPE, 'q', { VisibilityTimeout: '11' }, {}), {
      code: 'QueueAlreadyExists',
      message:
        'A queue already exists with the same name and a different value for attribute VisibilityTimeout',
    })
    await assert.rejects(queues.create(SCOPE, 's', { FifoQueue: 'false' }, {}), {
      code: 'InvalidAttributeName',
      message: 'Unknown Attribute FifoQueue.',
    })
    await assert.rejects(queues.create(SCOPE, 'x.fifo', {}, {}), { code: 'InvalidParameterValue' })
    await assert.rejects(queues.create(SCOPE, 'v', { VisibilityTimeout: '43201' }, {}), {
      code: 'InvalidAttributeValue',
      message: 'Invalid value for the parameter VisibilityTimeout.',
    })
  })

  test('redrive: a message received maxReceiveCount times moves to the dead-letter queue', async () => {
    const { queues } = await setup()
    const dlq = await queues.create(SCOPE, 'dlq', {}, {})
    const q = await queues.create(
      SCOPE,
      'src',
      { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: '2' }) },
      {},
    )
    assert.equal(
      (await queues.attributes(q, ['RedrivePolicy'])).RedrivePolicy,
      `{"deadLetterTargetArn":"${dlq.arn}","maxReceiveCount":2}`,
    )
    const id = sent((await queues.send(q, [{ body: 'poison' }], 'me'))[0]).messageId
    for (let i = 1; i <= 2; i++) {
      const [m] = await queues.receive(q, { max: 1, visibilityTimeout: 0 })
      assert.equal(m?.receiveCount, i)
    }
    assert.deepEqual(await queues.receive(q, { max: 1 }), [])
    const [moved] = await queues.receive(dlq, { max: 1 })
    assert.equal(moved?.id, id)
    assert.equal(moved.body, 'poison')
    assert.equal(moved.sourceArn, q.arn)
    assert.equal(moved.receiveCount, 3)
    assert.deepEqual(
      queues.sourcesOf(dlq).map((s) => s.record.name),
      ['src'],
    )
  })

  test('a redrive policy must name an existing queue of the same kind', async () => {
    const { queues } = await setup()
    const f = await queues.create(SCOPE, 'f.fifo', { FifoQueue: 'true' }, {})
    const policy = (arn: string, n: unknown) =>
      JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: n })
    await assert.rejects(
      queues.create(
        SCOPE,
        'a',
        { RedrivePolicy: policy('arn:aws:sqs:us-east-1:111111111111:none', 1) },
        {},
      ),
      { code: 'InvalidParameterValue' },
    )
    await assert.rejects(queues.create(SCOPE, 'b', { RedrivePolicy: policy(f.arn, 1) }, {}), {
      code: 'InvalidParameterValue',
    })
    await assert.rejects(queues.create(SCOPE, 'c', { RedrivePolicy: policy(f.arn, 0) }, {}), {
      code: 'InvalidParameterValue',
    })
  })

  test('dead letters recorded before their queue existed arrive when it is created', async () => {
    const store = createMemoryStore()
    const { queues } = await setup(store)
    const event: StoredEvent = {
      id: 'e1',
      busArn: 'arn:aws:events:us-east-1:111111111111:event-bus/default',
      text: '{"version":"0","id":"e1"}',
      ingestedAt: 1,
      hops: 0,
    }
    const job: DeliveryJob = {
      id: 3,
      eventId: 'e1',
      busArn: event.busArn,
      ruleArn: 'arn:aws:events:us-east-1:111111111111:rule/r',
      targetId: 't',
      attempts: 1,
      dueAt: 1,
    }
    const dlqArn = 'arn:aws:sqs:us-east-1:111111111111:later'
    await store.events.append([event], [job])
    const letter = {
      job,
      event,
      dlqArn,
      ruleArn: job.ruleArn,
      targetArn: 'arn:aws:sqs:us-east-1:111111111111:gone',
      errorCode: 'NO_RESOURCE',
      errorMessage: 'gone',
      retryAttempts: 0,
      at: 2,
    }
    assert.equal(await queues.deadLetter(letter), false)
    await store.events.deadLetter(letter)
    const q = await queues.create(SCOPE, 'later', {}, {})
    const [m] = await queues.receive(q, { max: 10 })
    assert.equal(m?.body, event.text)
    assert.deepEqual(m.attributes?.ERROR_CODE, { dataType: 'String', stringValue: 'NO_RESOURCE' })
    assert.deepEqual(await store.events.deadLetters(dlqArn), [])

    // A letter left behind for an existing queue (a crash between the queue's commit and the
    // move) arrives at the next start.
    const job2 = { ...job, id: 4 }
    await store.events.append([event], [job2])
    await store.events.deadLetter({ ...letter, job: job2 })
    queues.close()
    const restarted = await setup(store)
    const later = restarted.queues.find(SCOPE, 'later')!
    assert.equal((await restarted.queues.receive(later, { max: 10 })).length, 1)
    assert.deepEqual(await store.events.deadLetters(dlqArn), [])
  })
})

describe('restart on SQLite', () => {
  test('sent, received and deleted messages are as they were; handles still work', async () => {
    const dataDir = tempDir('junction-queue-')
    const clock = new ManualClock()
    const first = await setup(createSqliteStore({ dataDir }), clock)
    const q = await first.queues.create(SCOPE, 'q', { VisibilityTimeout: '30' }, { a: 'b' })
    const f = await first.queues.create(SCOPE, 'f.fifo', { FifoQueue: 'true' }, {})
    await first.queues.send(q, [{ body: 'kept' }, { body: 'deleted' }, { body: 'held' }], 'me')
    const dedup = sent(
      (await first.queues.send(f, [{ body: 'x', groupId: 'g', dedupId: 'd' }], 'me'))[0],
    )
    const received = await first.queues.receive(q, { max: 3 })
    const byBody = new Map(received.map((m) => [m.body, m]))
    await first.queues.deleteMessages(q, [byBody.get('deleted')!.receiptHandle])
    await first.queues.changeVisibility(q, [
      { handle: byBody.get('kept')!.receiptHandle, timeout: 0 },
    ])
    first.queues.close()
    await first.store.close()

    const second = await setup(createSqliteStore({ dataDir }), clock)
    const q2 = second.queues.find(SCOPE, 'q')!
    assert.deepEqual(q2.record.tags, { a: 'b' })
    assert.deepEqual(
      (await second.queues.receive(q2, { max: 10 })).map((m) => [m.body, m.receiveCount]),
      [['kept', 2]],
    )
    // 'held' is still in flight from before the restart; its handle deletes it.
    assert.deepEqual(await second.queues.deleteMessages(q2, [byBody.get('held')!.receiptHandle]), [
      undefined,
    ])
    clock.advance(30_000)
    assert.deepEqual(
      (await second.queues.receive(q2, { max: 10 })).map((m) => m.body),
      ['kept'],
    )
    // The FIFO deduplication id is remembered across the restart.
    const f2 = second.queues.find(SCOPE, 'f.fifo')!
    const again = sent(
      (await second.queues.send(f2, [{ body: 'x', groupId: 'g', dedupId: 'd' }], 'me'))[0],
    )
    assert.equal(again.messageId, dedup.messageId)
    second.queues.close()
    await second.store.close()
  })
})

const bodies = (n: number, prefix = 'm') =>
  Array.from({ length: n }, (_, i) => ({ body: `${prefix}${String(i)}` }))
/** ApproximateNumberOfMessages, …NotVisible and …Delayed. */
const count = async (queues: Queues, q: ReturnType<Queues['find']> & object) => {
  const a = await queues.attributes(q, ['All'])
  return [
    Number(a.ApproximateNumberOfMessages),
    Number(a.ApproximateNumberOfMessagesNotVisible),
    Number(a.ApproximateNumberOfMessagesDelayed),
  ]
}

describe('paging: a window of a few messages in memory, the rest in the store', () => {
  test('messages redriven into a dead-letter queue stay within its window, and all arrive', async () => {
    const { queues, clock } = await setup(undefined, undefined, 5)
    const dlq = await queues.create(SCOPE, 'dlq', {}, {})
    const q = await queues.create(
      SCOPE,
      'src',
      { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }) },
      {},
    )
    for (let b = 0; b < 10; b++) await queues.send(q, bodies(10, `b${String(b)}-`), 'me')
    // Each message is received once (visible again at once), then redriven on its next receive.
    for (let i = 0; i < 40 && (await count(queues, q)).some((n) => n > 0); i++) {
      await queues.receive(q, { max: 10, visibilityTimeout: 0 })
      await settle()
      clock.advance(1)
      assert.ok(dlq.byId.size <= 15, `${String(dlq.byId.size)} messages in the DLQ's memory`)
    }
    // Messages only in the store count as visible from the end of the second they became so.
    clock.advance(1000)
    assert.deepEqual(await count(queues, dlq), [100, 0, 0])
    const got = new Set<string>()
    for (;;) {
      const r = await queues.receive(dlq, { max: 10 })
      if (r.length === 0) break
      for (const m of r) got.add(m.body)
      await queues.deleteMessages(
        dlq,
        r.map((m) => m.receiptHandle),
      )
      await settle()
    }
    assert.equal(got.size, 100)
  })

  for (const kind of ['memory', 'sqlite'] as const)
    test(`the 12-hour visibility limit counts from the receive for a message out of memory (${kind})`, async () => {
      const store =
        kind === 'memory' ? createMemoryStore() : createSqliteStore({ dataDir: tempDir() })
      try {
        const { queues, clock } = await setup(store, undefined, 5)
        const q = await queues.create(SCOPE, 'q', {}, {})
        await queues.send(q, bodies(10), 'me')
        const [m] = await queues.receive(q, { max: 1, visibilityTimeout: 7200 })
        // It leaves memory once its receive is committed (on SQLite, by the writer thread).
        for (let i = 0; i < 200 && q.byId.has(m!.id); i++)
          await new Promise((r) => setTimeout(r, 5))
        assert.equal(q.byId.has(m!.id), false, 'the message in flight left memory')
        clock.advance(3_600_000)
        const [tooLong] = await queues.changeVisibility(q, [
          { handle: m!.receiptHandle, timeout: 43_200 },
        ])
        assert.match(tooLong?.message ?? 'accepted', /beyond the limit \[43200 seconds\]/)
        const [fine] = await queues.changeVisibility(q, [
          { handle: m!.receiptHandle, timeout: 39_600 },
        ])
        assert.equal(fine, undefined)
      } finally {
        await store.close()
      }
    })

  test('a FIFO visibility change leaves no pin behind, so its messages can leave memory', async () => {
    const { queues } = await setup(undefined, undefined, 2)
    const f = await queues.create(SCOPE, 'f.fifo', { FifoQueue: 'true' }, {})
    await queues.send(
      f,
      Array.from({ length: 6 }, (_, i) => ({
        body: `a${String(i)}`,
        groupId: `g${String(i)}`,
        dedupId: `a${String(i)}`,
      })),
      'me',
    )
    const got = await queues.receive(f, { max: 10, visibilityTimeout: 30 })
    assert.ok(got.length > 0)
    await settle()
    const results = await queues.changeVisibility(
      f,
      got.map((m) => ({ handle: m.receiptHandle, timeout: 0 })),
    )
    assert.ok(results.every((r) => r === undefined))
    await settle()
    assert.deepEqual(
      [...f.byId.values()].map((m) => m.pins ?? 0),
      [...f.byId.values()].map(() => 0),
    )
  })

  test('more messages than the window are each received exactly once, oldest first', async () => {
    const { queues } = await setup(undefined, undefined, 5)
    const q = await queues.create(SCOPE, 'q', {}, {})
    for (let i = 0; i < 4; i++) await queues.send(q, bodies(10, `b${String(i)}-`), 'me')
    assert.ok(q.byId.size <= 5, `${String(q.byId.size)} messages in memory`)
    assert.deepEqual(await count(queues, q), [40, 0, 0])
    const got: string[] = []
    for (;;) {
      const r = await queues.receive(q, { max: 10 })
      if (r.length === 0) break
      got.push(...r.map((m) => m.body))
      await queues.deleteMessages(
        q,
        r.map((m) => m.receiptHandle),
      )
      await settle()
      assert.ok(q.byId.size <= 15, `${String(q.byId.size)} messages in memory`)
    }
    const sentOrder = [0, 1, 2, 3].flatMap((b) => bodies(10, `b${String(b)}-`).map((e) => e.body))
    assert.deepEqual(got, sentOrder)
    assert.deepEqual(await count(queues, q), [0, 0, 0])
  })

  test('in-flight messages leave memory; their timeouts, deletes and visibility changes still work', async () => {
    const { queues, clock } = await setup(undefined, undefined, 5)
    const q = await queues.create(SCOPE, 'q', {}, {})
    await queues.send(q, bodies(10), 'me')
    await queues.send(q, bodies(10, 'n'), 'me')
    const taken = await queues.receive(q, { max: 10, visibilityTimeout: 30 })
    assert.equal(taken.length, 10)
    await settle()
    // Committed, they are beyond the horizon and only in the store.
    for (const m of taken) assert.equal(q.byId.has(m.id), false)
    assert.deepEqual(await count(queues, q), [10, 10, 0])
    // Delete one and show another at once, by handle, while neither is in memory.
    assert.deepEqual(await queues.deleteMessages(q, [taken[0]!.receiptHandle]), [undefined])
    assert.deepEqual(
      await queues.changeVisibility(q, [{ handle: taken[1]!.receiptHandle, timeout: 0 }]),
      [undefined],
    )
    await settle()
    assert.deepEqual(await count(queues, q), [11, 8, 0])
    const rest: string[] = []
    for (let r = await queues.receive(q, { max: 10, visibilityTimeout: 600 }); r.length > 0;) {
      rest.push(...r.map((m) => m.body))
      r = await queues.receive(q, { max: 10, visibilityTimeout: 600 })
    }
    assert.equal(rest.length, 11)
    assert.ok(rest.includes(taken[1]!.body))
    // The other eight come back after their timeout, once each, counted twice.
    clock.advance(30_000)
    const back = await queues.receive(q, { max: 10 })
    assert.deepEqual(
      back.map((m) => [m.body, m.receiveCount]).sort(),
      taken
        .slice(2)
        .map((m) => [m.body, 2])
        .sort(),
    )
    // An evicted message's handle from the earlier receive still deletes it (standard queue).
    assert.deepEqual(await queues.deleteMessages(q, [taken[2]!.receiptHandle]), [undefined])
    assert.deepEqual(await queues.deleteMessages(q, [taken[0]!.receiptHandle]), [undefined])
    const [err] = await queues.changeVisibility(q, [
      { handle: taken[0]!.receiptHandle, timeout: 10 },
    ])
    assert.equal(err?.code, 'InvalidParameterValue')
  })

  test('a waiting receive is answered by a message only in the store, when it is sent or becomes visible', async () => {
    const { queues, clock } = await setup(undefined, undefined, 1)
    const q = await queues.create(SCOPE, 'q', {}, {})
    await queues.send(q, [{ body: 'A', delaySeconds: 5 }], 'me')
    await queues.send(q, [{ body: 'B', delaySeconds: 10 }], 'me')
    assert.equal(q.byId.size, 1)
    assert.deepEqual(await count(queues, q), [0, 0, 2])
    const first = queues.receive(q, { max: 10, waitSeconds: 20 })
    clock.advance(5000)
    assert.deepEqual(
      (await first).map((m) => m.body),
      ['A'],
    )
    const second = queues.receive(q, { max: 10, waitSeconds: 20 })
    let done = false
    void second.then(() => (done = true))
    clock.advance(4999)
    await settle()
    assert.equal(done, false)
    clock.advance(1)
    assert.deepEqual(
      (await second).map((m) => m.body),
      ['B'],
    )

    // A long delay fills the window; a message sent then stays in the store, and still answers.
    await queues.send(q, [{ body: 'later', delaySeconds: 900 }], 'me')
    const third = queues.receive(q, { max: 10, waitSeconds: 20 })
    await queues.send(q, [{ body: 'now' }], 'me')
    assert.deepEqual(
      (await third).map((m) => m.body),
      ['now'],
    )
  })

  test('FIFO: each group in order and held back while in flight, across page boundaries', async () => {
    const { queues } = await setup(undefined, undefined, 4)
    const q = await queues.create(
      SCOPE,
      'f.fifo',
      { FifoQueue: 'true', ContentBasedDeduplication: 'true' },
      {},
    )
    const entries = Array.from({ length: 10 }, (_, i) => [
      { body: `a${String(i)}`, groupId: 'a' },
      { body: `b${String(i)}`, groupId: 'b' },
    ]).flat()
    await queues.send(q, entries.slice(0, 10), 'me')
    await queues.send(q, entries.slice(10), 'me')
    assert.ok(q.byId.size <= 4)
    const first = await queues.receive(q, { max: 3, visibilityTimeout: 30 })
    assert.deepEqual(
      first.map((m) => m.body),
      ['a0', 'a1', 'b0'],
    )
    // Both groups have a message in flight: later pages must not let a3 or b1 out.
    assert.deepEqual(await queues.receive(q, { max: 10 }), [])
    await queues.deleteMessages(q, [first[0]!.receiptHandle])
    assert.deepEqual(await queues.receive(q, { max: 10 }), [])
    await queues.deleteMessages(
      q,
      first.slice(1).map((m) => m.receiptHandle),
    )
    const seen: string[] = first.map((m) => m.body)
    for (let r = await queues.receive(q, { max: 3 }); r.length > 0;) {
      seen.push(...r.map((m) => m.body))
      // Never two groups' worth of one group: every group's messages arrive in order.
      await queues.deleteMessages(
        q,
        r.map((m) => m.receiptHandle),
      )
      r = await queues.receive(q, { max: 3 })
    }
    assert.deepEqual(
      seen.filter((b) => b.startsWith('a')),
      entries.filter((e) => e.groupId === 'a').map((e) => e.body),
    )
    assert.deepEqual(
      seen.filter((b) => b.startsWith('b')),
      entries.filter((e) => e.groupId === 'b').map((e) => e.body),
    )
    assert.deepEqual(await count(queues, q), [0, 0, 0])
  })

  test('retention drops messages only in the store; purge empties them', async () => {
    const { queues, clock, store } = await setup(undefined, undefined, 3)
    const q = await queues.create(SCOPE, 'q', { MessageRetentionPeriod: '60' }, {})
    await queues.send(q, bodies(10), 'me')
    clock.advance(30_000)
    await queues.send(q, bodies(2, 'young'), 'me')
    clock.advance(30_000)
    await settle()
    const all = () => store.queues.page(q.record.id, 'seq', { visibleAt: 0, seq: 0 }, 100)
    assert.deepEqual(
      all().map((m) => m.body),
      ['young0', 'young1'],
    )
    assert.deepEqual(await count(queues, q), [2, 0, 0])

    const p = await queues.create(SCOPE, 'p', {}, {})
    await queues.send(p, bodies(10), 'me')
    await queues.receive(p, { max: 2 })
    await settle()
    await queues.purge(p)
    assert.deepEqual(await count(queues, p), [0, 0, 0])
    await queues.send(p, [{ body: 'after' }], 'me')
    assert.deepEqual(
      (await queues.receive(p, { max: 10 })).map((m) => m.body),
      ['after'],
    )
    assert.equal(store.queues.page(p.record.id, 'seq', { visibleAt: 0, seq: 0 }, 100).length, 1)
    await queues.delete(p)
    assert.equal(store.queues.page(p.record.id, 'seq', { visibleAt: 0, seq: 0 }, 100).length, 0)
  })

  test('redrive moves paged messages to the dead-letter queue once each', async () => {
    const { queues } = await setup(undefined, undefined, 3)
    const dlq = await queues.create(SCOPE, 'dlq', {}, {})
    const q = await queues.create(
      SCOPE,
      'src',
      { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }) },
      {},
    )
    await queues.send(q, bodies(10), 'me')
    assert.equal((await queues.receive(q, { max: 10, visibilityTimeout: 0 })).length, 10)
    await settle()
    assert.deepEqual(await queues.receive(q, { max: 10 }), [])
    await settle()
    assert.deepEqual(await count(queues, q), [0, 0, 0])
    assert.deepEqual(await count(queues, dlq), [10, 0, 0])
    const moved = await queues.receive(dlq, { max: 10 })
    assert.deepEqual(
      moved.map((m) => m.body).sort(),
      bodies(10)
        .map((e) => e.body)
        .sort(),
    )
    assert.ok(moved.every((m) => m.sourceArn === q.arn && m.receiveCount === 2))
  })
})

/**
 * A memory store whose writes commit only when released, as the SQLite writer's do some time
 * after they are posted: reads see only what has been released.
 */
function gatedStore(): { store: Store; release: () => Promise<void> } {
  const store = createMemoryStore()
  const write = store.queues.write.bind(store.queues)
  let held: { writes: QueueWrite[]; done: () => void }[] = []
  let gated = false
  store.queues.write = (writes) =>
    gated ? new Promise<void>((done) => held.push({ writes, done })) : write(writes)
  return {
    store,
    release: async () => {
      gated = true
      const now = held
      held = []
      for (const h of now) {
        await write(h.writes)
        h.done()
      }
      await settle()
    },
  }
}

describe('paging: writes not yet committed', () => {
  test('a page does not read back a message whose delete is being committed', async () => {
    const { store, release } = gatedStore()
    const { queues, clock } = await setup(store, undefined, 2)
    const q = await queues.create(SCOPE, 'q', {}, {})
    await queues.send(q, bodies(4), 'me')
    await release()
    const [m0] = await queues.receive(q, { max: 1, visibilityTimeout: 30 })
    await release()
    // Its receive committed, m0 is beyond the horizon: only in the store.
    assert.equal(q.byId.has(m0!.id), false)
    const deleting = queues.deleteMessages(q, [m0!.receiptHandle])
    // This receive pages past the horizon, where the store still holds m0 (in flight).
    const next = await queues.receive(q, { max: 10, visibilityTimeout: 30 })
    assert.deepEqual(
      next.map((m) => m.body),
      ['m1', 'm2', 'm3'],
    )
    assert.equal(q.byId.has(m0!.id), false)
    await release()
    assert.deepEqual(await deleting, [undefined])
    assert.deepEqual(await count(queues, q), [0, 3, 0])
    clock.advance(30_000)
    assert.deepEqual((await queues.receive(q, { max: 10 })).map((m) => m.body).sort(), [
      'm1',
      'm2',
      'm3',
    ])
  })

  test('an in-flight message stays in memory until its receive is committed', async () => {
    const { store, release } = gatedStore()
    const { queues, clock } = await setup(store, undefined, 2)
    const q = await queues.create(SCOPE, 'q', {}, {})
    await queues.send(q, bodies(4), 'me')
    await release()
    const [m0] = await queues.receive(q, { max: 1, visibilityTimeout: 30 })
    // The store still says m0 is visible; memory must keep it (hidden) until the write lands.
    assert.equal(q.byId.has(m0!.id), true)
    assert.deepEqual(
      (await queues.receive(q, { max: 10, visibilityTimeout: 30 })).map((m) => m.body),
      ['m1', 'm2', 'm3'],
    )
    await release()
    assert.deepEqual(await count(queues, q), [0, 4, 0])
    clock.advance(30_000)
    assert.deepEqual(
      (await queues.receive(q, { max: 10 })).map((m) => [m.body, m.receiveCount]).sort(),
      [
        ['m0', 2],
        ['m1', 2],
        ['m2', 2],
        ['m3', 2],
      ],
    )
  })
})

describe('paging: restart on SQLite', () => {
  test('a start reads no message; counts, receives and handles from before work', async () => {
    const dataDir = tempDir('junction-queue-')
    const clock = new ManualClock()
    const first = await setup(createSqliteStore({ dataDir }), clock, 100)
    const q = await first.queues.create(SCOPE, 'q', { VisibilityTimeout: '30' }, {})
    for (let i = 0; i < 5; i++) await first.queues.send(q, bodies(1000, `s${String(i)}-`), 'me')
    const held = await first.queues.receive(q, { max: 10 })
    await first.queues.send(q, [{ body: 'delayed', delaySeconds: 60 }], 'me')
    first.queues.close()
    await first.store.close()

    const store = createSqliteStore({ dataDir })
    let reads = 0
    for (const k of ['page', 'message', 'expired'] as const) {
      const read = store.queues[k].bind(store.queues) as (...a: unknown[]) => unknown
      ;(store.queues as Record<string, unknown>)[k] = (...a: unknown[]) => {
        reads++
        return read(...a)
      }
    }
    const second = await setup(store, clock, 100)
    const q2 = second.queues.find(SCOPE, 'q')!
    assert.equal(reads, 0)
    const inMemory = () => q2.byId.size
    assert.equal(inMemory(), 0)
    assert.deepEqual(await count(second.queues, q2), [4990, 10, 1])
    // A handle from before the restart deletes its message, which is only in the store.
    assert.deepEqual(await second.queues.deleteMessages(q2, [held[0]!.receiptHandle]), [undefined])
    const got = new Set<string>()
    for (let r = await second.queues.receive(q2, { max: 10 }); r.length > 0;) {
      for (const m of r) got.add(m.body)
      await second.queues.deleteMessages(
        q2,
        r.map((m) => m.receiptHandle),
      )
      assert.ok(inMemory() <= 110, `${String(inMemory())} messages in memory`)
      r = await second.queues.receive(q2, { max: 10 })
    }
    assert.equal(got.size, 4990)
    clock.advance(60_000)
    const late = await second.queues.receive(q2, { max: 10 })
    assert.deepEqual(
      late.map((m) => m.body).sort(),
      ['delayed', ...held.slice(1).map((m) => m.body)].sort(),
    )
    second.queues.close()
    await store.close()
  })

  test('FIFO: a group with a message in flight stays blocked after a restart with a small window', async () => {
    const dataDir = tempDir('junction-queue-')
    const clock = new ManualClock()
    const first = await setup(createSqliteStore({ dataDir }), clock)
    const f = await first.queues.create(SCOPE, 'f.fifo', { FifoQueue: 'true' }, {})
    await first.queues.send(
      f,
      ['a1', 'a2', 'a3', 'a4', 'a5'].map((body) => ({ body, groupId: 'a', dedupId: body })),
      'me',
    )
    const taken = await first.queues.receive(f, { max: 10, visibilityTimeout: 30 })
    assert.equal(taken.length, 5)
    // a1 and a2 visible again (a page's worth at a window of 1), a3..a5 still in flight.
    await first.queues.changeVisibility(
      f,
      taken.slice(0, 2).map((m) => ({ handle: m.receiptHandle, timeout: 0 })),
    )
    await first.queues.send(f, [{ body: 'b1', groupId: 'b', dedupId: 'b1' }], 'me')
    first.queues.close()
    await first.store.close()

    const second = await setup(createSqliteStore({ dataDir }), clock, 1)
    const f2 = second.queues.find(SCOPE, 'f.fifo')!
    assert.deepEqual(await count(second.queues, f2), [3, 3, 0])
    // Group a has messages in flight further on: only group b may be served.
    assert.deepEqual(
      (await second.queues.receive(f2, { max: 1 })).map((m) => m.body),
      ['b1'],
    )
    // The in-flight messages' handles still work.
    assert.deepEqual(
      await second.queues.deleteMessages(
        f2,
        taken.slice(2).map((m) => m.receiptHandle),
      ),
      [undefined, undefined, undefined],
    )
    assert.deepEqual(
      (await second.queues.receive(f2, { max: 10 })).map((m) => m.body),
      ['a1', 'a2'],
    )
    second.queues.close()
    await second.store.close()
  })
})
