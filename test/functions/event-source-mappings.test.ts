/**
 * SQS event source mappings from Junction's queues, on a real SQLite store and a manual clock,
 * with a scripted runner: Lambda's SQS event, batching window, partial batch failures, whole
 * failures returning the batch to the queue (and the redrive policy after maxReceiveCount),
 * throttles, and a disabled mapping that stops polling.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, test } from 'node:test'
import type { EventSourceMapping } from '../../src/functions/model.js'
import type { TestBus } from '../helpers/in-process.js'
import {
  ACCOUNT,
  arrived,
  eventually,
  functionError,
  functionRecord,
  functionsBus,
  ok,
  pause,
  REGION,
  SCOPE,
  throttled,
} from './async-helpers.js'

const buses: TestBus[] = []
after(async () => {
  for (const b of buses) await b.close()
})

type SqsRecord = {
  messageId: string
  receiptHandle: string
  body: string
  attributes: Record<string, string>
  messageAttributes: Record<string, Record<string, unknown>>
  md5OfBody: string
  eventSource: string
  eventSourceARN: string
  awsRegion: string
}

async function setup(
  mapping: Partial<EventSourceMapping> = {},
  queueAttributes: Record<string, string> = {},
) {
  const { bus, directory, runner } = await functionsBus()
  buses.push(bus)
  const dlq = await bus.queues.create(SCOPE, 'source-dlq', {}, {})
  const q = await bus.queues.create(
    SCOPE,
    'source',
    { VisibilityTimeout: '30', ...queueAttributes },
    {},
  )
  const fn = directory.add(functionRecord('consumer'))
  const m: EventSourceMapping = {
    uuid: 'a1b2c3d4-0000-0000-0000-000000000001',
    account: ACCOUNT,
    region: REGION,
    eventSourceArn: q.arn,
    functionArn: fn.arn,
    batchSize: 10,
    maximumBatchingWindowInSeconds: 0,
    enabled: true,
    reportBatchItemFailures: false,
    lastModified: 1,
    ...mapping,
  }
  directory.setMappings([m])
  const send = async (...bodies: string[]) => {
    const results = await bus.queues.send(
      q,
      bodies.map((body) => ({ body })),
      ACCOUNT,
    )
    return results.map((r) => ('messageId' in r ? r.messageId : assert.fail(r.message)))
  }
  const records = (i: number) =>
    (JSON.parse(runner.calls[i]!.payload) as { Records: SqsRecord[] }).Records
  const visible = () =>
    bus.queues.attributes(q, [
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
    ])
  return { bus, directory, runner, q, dlq, fn, m, send, records, visible }
}

test('a batch becomes Lambda SQS event; processed messages are deleted', async () => {
  const s = await setup()
  await pause()
  const [id] = await s.bus.queues.send(
    s.q,
    [
      {
        body: 'hello',
        attributes: { colour: { dataType: 'String', stringValue: 'blue' } },
      },
      { body: 'world' },
    ],
    ACCOUNT,
  )
  await eventually(() => s.runner.calls.length === 1, 'the invoke')
  const records = s.records(0)
  assert.equal(records.length, 2)
  const r = records.find((x) => x.body === 'hello')!
  assert.equal(r.messageId, id && 'messageId' in id ? id.messageId : '')
  assert.equal(r.md5OfBody, createHash('md5').update('hello').digest('hex'))
  assert.equal(r.eventSource, 'aws:sqs')
  assert.equal(r.eventSourceARN, s.q.arn)
  assert.equal(r.awsRegion, REGION)
  assert.equal(typeof r.receiptHandle, 'string')
  assert.deepEqual(Object.keys(r.attributes).sort(), [
    'ApproximateFirstReceiveTimestamp',
    'ApproximateReceiveCount',
    'SenderId',
    'SentTimestamp',
  ])
  assert.equal(r.attributes.ApproximateReceiveCount, '1')
  assert.equal(r.attributes.SenderId, ACCOUNT)
  assert.match(r.attributes.SentTimestamp!, /^\d{13}$/)
  assert.deepEqual(r.messageAttributes, {
    colour: { stringValue: 'blue', stringListValues: [], binaryListValues: [], dataType: 'String' },
  })
  assert.deepEqual(records.find((x) => x.body === 'world')!.messageAttributes, {})
  // Deleted: nothing comes back after the visibility timeout.
  await eventually(
    async () => (await s.visible()).ApproximateNumberOfMessagesNotVisible === '0',
    'the delete',
  )
  await s.bus.clock.advance(31_000)
  await pause()
  assert.equal(s.runner.calls.length, 1)
  assert.equal((await s.visible()).ApproximateNumberOfMessages, '0')
})

test('the batching window gathers messages until the batch is full or the window ends', async () => {
  const s = await setup({ batchSize: 3, maximumBatchingWindowInSeconds: 10 })
  await pause()
  await s.send('a')
  await pause()
  await s.bus.clock.advance(5_000)
  await s.send('b')
  await pause()
  assert.equal(s.runner.calls.length, 0, 'waits for the window')
  await s.bus.clock.advance(5_000)
  await eventually(() => s.runner.calls.length === 1, 'the invoke at the window end')
  assert.deepEqual(
    s
      .records(0)
      .map((r) => r.body)
      .sort(),
    ['a', 'b'],
  )
  // A full batch goes at once.
  await s.send('c', 'd', 'e')
  await eventually(() => s.runner.calls.length === 2, 'the full batch')
  assert.equal(s.records(1).length, 3)
})

test('ReportBatchItemFailures: only the reported messages come back', async () => {
  const s = await setup({ reportBatchItemFailures: true })
  await pause()
  // The second message of the batch is reported as failed.
  s.runner.script = (c, i) => {
    if (i > 0) return ok('{}')
    const records = (JSON.parse(c.payload) as { Records: SqsRecord[] }).Records
    const two = records.find((r) => r.body === 'two')!
    return ok(JSON.stringify({ batchItemFailures: [{ itemIdentifier: two.messageId }] }))
  }
  const ids = await s.send('one', 'two', 'three')
  await eventually(() => s.runner.calls.length === 1, 'the invoke')
  await s.bus.clock.advance(30_000)
  await eventually(() => s.runner.calls.length === 2, 'the failed message again')
  const again = s.records(1)
  assert.deepEqual(
    again.map((r) => [r.messageId, r.attributes.ApproximateReceiveCount]),
    [[ids[1], '2']],
  )
  await eventually(
    async () => (await s.visible()).ApproximateNumberOfMessagesNotVisible === '0',
    'the delete',
  )
})

test('ReportBatchItemFailures: an unknown or empty identifier, or invalid JSON, fails the whole batch', async () => {
  for (const response of [
    JSON.stringify({ batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] }),
    JSON.stringify({ batchItemFailures: [{ itemIdentifier: '' }] }),
    JSON.stringify({ batchItemFailures: [{ id: 'wrong key' }] }),
    'not json',
  ]) {
    const s = await setup({ reportBatchItemFailures: true })
    await pause()
    s.runner.script = (_c, i) => (i === 0 ? ok(response) : ok('null'))
    await s.send('x', 'y')
    await eventually(() => s.runner.calls.length === 1, 'the invoke')
    await s.bus.clock.advance(30_000)
    await eventually(() => s.runner.calls.length === 2, `the whole batch again after ${response}`)
    assert.equal(s.records(1).length, 2, response)
  }
})

test('a function error returns the batch; the redrive policy moves it after maxReceiveCount', async () => {
  const s = await setup({}, {})
  await s.bus.queues.setAttributes(s.q, {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: s.dlq.arn, maxReceiveCount: 2 }),
  })
  await pause()
  s.runner.script = () => functionError()
  const [id] = await s.send('poison')
  await eventually(() => s.runner.calls.length === 1, 'the first invoke')
  await s.bus.clock.advance(30_000)
  await eventually(() => s.runner.calls.length === 2, 'the second receive')
  assert.equal(s.records(1)[0]!.attributes.ApproximateReceiveCount, '2')
  // A third receive finds it over maxReceiveCount: into the dead-letter queue instead.
  await s.bus.clock.advance(61_000)
  const dead = await arrived(s.bus, s.dlq)
  assert.equal(dead[0]!.id, id)
  assert.equal(dead[0]!.body, 'poison')
  assert.equal(s.runner.calls.length, 2)
})

test('a throttled batch is invoked again with backoff while it is still hidden', async () => {
  const s = await setup()
  await pause()
  s.runner.script = (_c, i) => (i < 2 ? throttled : ok('null'))
  await s.send('m')
  await eventually(() => s.runner.calls.length === 1, 'the first invoke')
  for (let i = 0; i < 10 && s.runner.calls.length < 3; i++) {
    await s.bus.clock.advance(1_000)
    await pause(20)
  }
  assert.equal(s.runner.calls.length, 3)
  assert.equal(s.records(2)[0]!.attributes.ApproximateReceiveCount, '1', 'the same receive')
  await eventually(
    async () => (await s.visible()).ApproximateNumberOfMessagesNotVisible === '0',
    'the delete',
  )
})

test('MaximumConcurrency bounds the batches in flight', async () => {
  const s = await setup({ batchSize: 1, maximumConcurrency: 2 })
  await pause()
  const release: (() => void)[] = []
  let running = 0
  let most = 0
  s.runner.script = () =>
    new Promise((resolve) => {
      running++
      most = Math.max(most, running)
      release.push(() => {
        running--
        resolve(ok('null'))
      })
    })
  await s.send('1', '2', '3', '4', '5')
  await eventually(() => release.length === 2, 'two batches')
  await pause()
  assert.equal(running, 2, 'no third batch while two are in flight')
  const waiting = () => release.length
  while (s.runner.calls.length < 5 || waiting() > 0) {
    release.shift()?.()
    await pause(10)
  }
  assert.equal(most, 2)
})

test('a disabled mapping stops polling; enabling it again resumes', async () => {
  const s = await setup()
  await pause()
  s.directory.setMappings([{ ...s.m, enabled: false, lastModified: 2 }])
  await pause()
  await s.send('held')
  await s.bus.clock.advance(60_000)
  await pause()
  assert.equal(s.runner.calls.length, 0)
  assert.equal((await s.visible()).ApproximateNumberOfMessages, '1')
  s.directory.setMappings([{ ...s.m, enabled: true, lastModified: 3 }])
  await eventually(() => s.runner.calls.length === 1, 'the invoke after enabling')
})

test('a FIFO queue: records carry MessageGroupId, MessageDeduplicationId and SequenceNumber', async () => {
  const { bus, directory, runner } = await functionsBus()
  buses.push(bus)
  const q = await bus.queues.create(SCOPE, 'orders.fifo', { FifoQueue: 'true' }, {})
  const fn = directory.add(functionRecord('fifo-consumer'))
  directory.setMappings([
    {
      uuid: 'a1b2c3d4-0000-0000-0000-000000000002',
      account: ACCOUNT,
      region: REGION,
      eventSourceArn: q.arn,
      functionArn: fn.arn,
      batchSize: 10,
      maximumBatchingWindowInSeconds: 0,
      enabled: true,
      reportBatchItemFailures: false,
      lastModified: 1,
    },
  ])
  await pause()
  await bus.queues.send(q, [{ body: 'first', groupId: 'g1', dedupId: 'd1' }], ACCOUNT)
  await eventually(() => runner.calls.length === 1, 'the invoke')
  const [r] = (JSON.parse(runner.calls[0]!.payload) as { Records: SqsRecord[] }).Records
  assert.equal(r!.attributes.MessageGroupId, 'g1')
  assert.equal(r!.attributes.MessageDeduplicationId, 'd1')
  assert.match(r!.attributes.SequenceNumber!, /^\d{20}$/)
  assert.equal(r!.eventSourceARN, q.arn)
})

test('a batch over the 6 MB payload limit is invoked in parts that each fit', async () => {
  const s = await setup({ enabled: false })
  const big = 'x'.repeat(1_000_000)
  for (let i = 0; i < 7; i++) await s.send(`${String(i)}${big}`)
  s.directory.setMappings([{ ...s.m, enabled: true, lastModified: 2 }])
  await eventually(() => s.runner.calls.length === 2, 'two invokes')
  assert.deepEqual([s.records(0).length, s.records(1).length], [6, 1])
  for (const c of s.runner.calls) assert.ok(c.request.payload.length <= 6 * 1024 * 1024)
  await eventually(
    async () => (await s.visible()).ApproximateNumberOfMessagesNotVisible === '0',
    'the deletes',
  )
})

test('closing the bus does not wait past its timeout for an invocation that never ends', async () => {
  const { bus, directory, runner } = await functionsBus()
  const q = await bus.queues.create(SCOPE, 'slow', {}, {})
  const fn = directory.add(functionRecord('slow'))
  runner.script = () => new Promise(() => undefined)
  directory.setMappings([
    {
      uuid: 'a1b2c3d4-0000-0000-0000-000000000003',
      account: ACCOUNT,
      region: REGION,
      eventSourceArn: q.arn,
      functionArn: fn.arn,
      batchSize: 10,
      maximumBatchingWindowInSeconds: 0,
      enabled: true,
      reportBatchItemFailures: false,
      lastModified: 1,
    },
  ])
  await pause()
  await bus.queues.send(q, [{ body: 'forever' }], ACCOUNT)
  await eventually(() => runner.calls.length === 1, 'the invoke')
  const started = Date.now()
  await bus.close(300)
  assert.ok(Date.now() - started < 3000)
})

test('FilterCriteria: only messages a filter matches reach the function; the others are deleted', async () => {
  const s = await setup({
    filters: [
      '{"body":{"kind":["order"],"total":[{"numeric":[">",100]}]}}',
      '{"body":["ping"]}',
      '{"messageAttributes":{"urgent":{"stringValue":["yes"]}}}',
    ],
  })
  await pause()
  await s.bus.queues.send(
    s.q,
    [
      { body: '{"kind":"order","total":250}' }, // a JSON body's field matches
      { body: '{"kind":"order","total":50}' }, // too small
      { body: '{"kind":"refund","total":250}' }, // another kind
      { body: 'ping' }, // a text body matches as text
      { body: '"ping"' }, // a JSON string is not an object: its text is "ping" with quotes
      { body: 'pong', attributes: { urgent: { dataType: 'String', stringValue: 'yes' } } },
    ],
    ACCOUNT,
  )
  await eventually(() => s.runner.calls.length >= 1, 'the invoke')
  await eventually(
    async () =>
      (await s.visible()).ApproximateNumberOfMessages === '0' &&
      (await s.visible()).ApproximateNumberOfMessagesNotVisible === '0',
    'every message deleted',
  )
  const bodies = s.runner.calls.flatMap((_, i) => s.records(i).map((r) => r.body)).sort()
  assert.deepEqual(bodies, ['ping', 'pong', '{"kind":"order","total":250}'])
  // Nothing filtered out comes back after the visibility timeout.
  await s.bus.clock.advance(31_000)
  await pause()
  assert.equal((await s.visible()).ApproximateNumberOfMessages, '0')
})
