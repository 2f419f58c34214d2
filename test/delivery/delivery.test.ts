/**
 * Delivery through a bus in this process: retries on an injected clock (a 24-hour window in
 * milliseconds), dead letters, bus-to-bus forwarding and the one-hop rule, against a real HTTP
 * endpoint.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { ManualClock } from '../../src/clock.js'
import type { DeadLetter } from '../../src/store/ports.js'
import { startHttpSink, type HttpSink } from '../helpers/http-sink.js'
import { createTestBus, TEST_SCOPE, type TestBus } from '../helpers/in-process.js'

const OTHER = { account: '222222222222', region: 'us-east-1' }
const DLQ = 'arn:aws:sqs:us-east-1:111111111111:dlq'

let sink: HttpSink
before(async () => {
  sink = await startHttpSink()
})
after(async () => {
  await sink.close()
})
beforeEach(() => {
  sink.received.length = 0
  sink.respond(() => 200)
})

async function apiDestination(bus: TestBus, scope = TEST_SCOPE): Promise<string> {
  const c = await bus.call(
    'CreateConnection',
    {
      Name: 'c',
      AuthorizationType: 'API_KEY',
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-key', ApiKeyValue: 'k' } },
    },
    scope,
  )
  const d = await bus.call(
    'CreateApiDestination',
    {
      Name: 'd',
      ConnectionArn: c.ConnectionArn,
      InvocationEndpoint: `${sink.url}/hook`,
      HttpMethod: 'POST',
      InvocationRateLimitPerSecond: 1000,
    },
    scope,
  )
  return d.ApiDestinationArn as string
}

async function ruleTo(
  bus: TestBus,
  target: Record<string, unknown>,
  options: { busName?: string; scope?: typeof TEST_SCOPE; name?: string } = {},
) {
  const base = options.busName === undefined ? {} : { EventBusName: options.busName }
  await bus.call(
    'PutRule',
    { Name: options.name ?? 'r', EventPattern: '{"source":["test"]}', ...base },
    options.scope,
  )
  await bus.call(
    'PutTargets',
    { Rule: options.name ?? 'r', ...base, Targets: [{ Id: 't', ...target }] },
    options.scope,
  )
}

async function put(bus: TestBus, busName?: string, scope = TEST_SCOPE): Promise<string> {
  const r = await bus.call(
    'PutEvents',
    {
      Entries: [
        {
          Source: 'test',
          DetailType: 't',
          Detail: '{"n":1}',
          ...(busName ? { EventBusName: busName } : {}),
        },
      ],
    },
    scope,
  )
  const entries = r.Entries as { EventId?: string }[]
  return entries[0]!.EventId!
}

/** Waits until no invocation is running (HTTP calls are real, so they take real time). */
async function settle(bus: TestBus): Promise<void> {
  for (let i = 0; i < 500; i++) {
    await new Promise((r) => setTimeout(r, 2))
    if (bus.services.dispatcher.running === 0) return
  }
  throw new Error('invocations still running')
}

/**
 * Moves the manual clock from timer to timer, letting each retry's real HTTP call finish in
 * between, until `done` (or `maxMs` of clock time has passed).
 */
async function drive(
  bus: TestBus,
  clock: ManualClock,
  done: () => Promise<boolean>,
  maxMs: number,
) {
  const end = clock.now() + maxMs
  while (clock.now() <= end) {
    await settle(bus)
    if (await done()) return
    if (!clock.runNext()) throw new Error('nothing scheduled, and the condition is not reached')
  }
  throw new Error('condition not reached in time')
}

const letters = (bus: TestBus): Promise<DeadLetter[]> => bus.store.events.deadLetters(DLQ)

describe('retries and dead letters', () => {
  test('a target answering 500 is retried until MaximumRetryAttempts, then dead-lettered with AWS attributes', async () => {
    const clock = new ManualClock()
    const bus = await createTestBus({ clock, random: () => 0.5 })
    try {
      sink.respond(() => 500)
      const arn = await apiDestination(bus)
      await ruleTo(bus, {
        Arn: arn,
        RetryPolicy: { MaximumRetryAttempts: 3 },
        DeadLetterConfig: { Arn: DLQ },
      })
      const id = await put(bus)
      await drive(bus, clock, async () => (await letters(bus)).length > 0, 600_000)
      assert.equal(sink.received.length, 4, 'one attempt and three retries')
      const [letter] = await letters(bus)
      assert.equal(letter!.event.id, id)
      assert.equal(letter!.exhaustedRetryCondition, 'MaximumRetryAttempts')
      assert.equal(letter!.retryAttempts, 3)
      assert.equal(letter!.ruleArn, 'arn:aws:events:us-east-1:111111111111:rule/r')
      assert.equal(letter!.targetArn, arn)
      assert.match(letter!.errorMessage, /500/)
      const metrics = await bus.metrics.registry.getSingleMetricAsString('InvocationAttempts')
      assert.match(metrics, /InvocationAttempts\{EventBusName="default",RuleName="r"\} 4/)
      // There is no queue named dlq: the letter is kept, and counted as not sent to the DLQ.
      assert.match(
        await bus.metrics.registry.getSingleMetricAsString('InvocationsFailedToBeSentToDlq'),
        /InvocationsFailedToBeSentToDlq\{EventBusName="default",RuleName="r"\} 1/,
      )
    } finally {
      await bus.close()
    }
  })

  test('a dead letter goes into its queue when it exists, and the job ends with it', async () => {
    const clock = new ManualClock()
    const bus = await createTestBus({ clock, random: () => 0.5 })
    try {
      sink.respond(() => 400)
      const queue = await bus.queues.create(TEST_SCOPE, 'dlq', {}, {})
      assert.equal(queue.arn, DLQ)
      const arn = await apiDestination(bus)
      await ruleTo(bus, { Arn: arn, DeadLetterConfig: { Arn: DLQ } })
      const id = await put(bus)
      let got: Awaited<ReturnType<typeof bus.queues.receive>> = []
      await drive(
        bus,
        clock,
        async () => (got = await bus.queues.receive(queue, { max: 10 })).length > 0,
        60_000,
      )
      assert.equal(got.length, 1)
      assert.equal((JSON.parse(got[0]!.body) as { id: string }).id, id)
      const attributes = got[0]!.attributes ?? {}
      assert.deepEqual(Object.keys(attributes).sort(), [
        'ERROR_CODE',
        'ERROR_MESSAGE',
        'RETRY_ATTEMPTS',
        'RULE_ARN',
        'TARGET_ARN',
      ])
      assert.deepEqual(attributes.RETRY_ATTEMPTS, { dataType: 'String', stringValue: '0' })
      assert.deepEqual(attributes.TARGET_ARN, { dataType: 'String', stringValue: arn })
      assert.deepEqual(await letters(bus), [])
      assert.equal(await bus.store.events.pendingCount(), 0)
      assert.match(
        await bus.metrics.registry.getSingleMetricAsString('InvocationsSentToDlq'),
        /InvocationsSentToDlq\{EventBusName="default",RuleName="r"\} 1/,
      )
    } finally {
      await bus.close()
    }
  })

  test('retries go on for hours and stop at MaximumEventAgeInSeconds', async () => {
    const clock = new ManualClock()
    const bus = await createTestBus({ clock, random: () => 0.5 })
    try {
      sink.respond(() => 503)
      const arn = await apiDestination(bus)
      await ruleTo(bus, {
        Arn: arn,
        RetryPolicy: { MaximumEventAgeInSeconds: 7200 },
        DeadLetterConfig: { Arn: DLQ },
      })
      const start = clock.now()
      await put(bus)
      await drive(bus, clock, async () => (await letters(bus)).length > 0, 86_400_000)
      const [letter] = await letters(bus)
      assert.equal(letter!.exhaustedRetryCondition, 'MaximumEventAgeInSeconds')
      assert.ok(letter!.at - start <= 7_200_000, 'gave up within MaximumEventAgeInSeconds')
      assert.ok(letter!.at - start > 6_000_000, 'kept retrying for most of the window')
      assert.ok(
        sink.received.length > 20 && sink.received.length < 186,
        `${String(sink.received.length)} attempts`,
      )
    } finally {
      await bus.close()
    }
  })

  test("with AWS's default policy: 185 retries, all within 24 hours of ingestion", async () => {
    const clock = new ManualClock()
    const bus = await createTestBus({ clock })
    try {
      sink.respond(() => 502)
      const arn = await apiDestination(bus)
      await ruleTo(bus, { Arn: arn, DeadLetterConfig: { Arn: DLQ } })
      const start = clock.now()
      await put(bus)
      await drive(bus, clock, async () => (await letters(bus)).length > 0, 86_400_000)
      const [letter] = await letters(bus)
      assert.equal(sink.received.length, 186)
      assert.equal(letter!.retryAttempts, 185)
      assert.equal(letter!.exhaustedRetryCondition, 'MaximumRetryAttempts')
      assert.ok(letter!.at - start < 86_400_000)
    } finally {
      await bus.close()
    }
  })

  test('a 4xx other than 429 is not retried; the dead letter has no exhausted condition', async () => {
    const clock = new ManualClock()
    const bus = await createTestBus({ clock })
    try {
      sink.respond(() => 404)
      const arn = await apiDestination(bus)
      await ruleTo(bus, { Arn: arn, DeadLetterConfig: { Arn: DLQ } })
      await put(bus)
      await drive(bus, clock, async () => (await letters(bus)).length > 0, 60_000)
      assert.equal(sink.received.length, 1)
      const [letter] = await letters(bus)
      assert.equal(letter!.exhaustedRetryCondition, undefined)
      assert.equal(letter!.retryAttempts, 0)
    } finally {
      await bus.close()
    }
  })

  test('429 is retried and then delivered', async () => {
    const clock = new ManualClock()
    const bus = await createTestBus({ clock, random: () => 0 })
    try {
      let n = 0
      sink.respond(() => (++n <= 2 ? 429 : 200))
      const arn = await apiDestination(bus)
      await ruleTo(bus, { Arn: arn, DeadLetterConfig: { Arn: DLQ } })
      await put(bus)
      await drive(bus, clock, () => Promise.resolve(sink.received.length >= 3), 60_000)
      await settle(bus)
      assert.equal(sink.received.length, 3)
      assert.equal((await letters(bus)).length, 0)
    } finally {
      await bus.close()
    }
  })
})

describe('event-bus targets', () => {
  test('an event forwarded to another bus keeps its envelope and is routed there, but never forwarded again', async () => {
    const bus = await createTestBus()
    try {
      const arn = await apiDestination(bus)
      await bus.call('CreateEventBus', { Name: 'central' })
      await bus.call('CreateEventBus', { Name: 'third' })
      await ruleTo(
        bus,
        { Arn: 'arn:aws:events:us-east-1:111111111111:event-bus/central' },
        { name: 'forward' },
      )
      await ruleTo(bus, { Arn: arn }, { busName: 'central', name: 'deliver' })
      await ruleTo(
        bus,
        { Arn: 'arn:aws:events:us-east-1:111111111111:event-bus/third' },
        { busName: 'central', name: 'onward' },
      )
      await ruleTo(bus, { Arn: arn }, { busName: 'third', name: 'never' })
      const id = await put(bus)
      const [got] = await sink.waitFor(1)
      const event = JSON.parse(got!.body) as Record<string, unknown>
      assert.equal(event.id, id)
      assert.equal(event.account, '111111111111')
      assert.equal(event.source, 'test')
      await new Promise((r) => setTimeout(r, 100))
      assert.equal(sink.received.length, 1, 'the third bus got nothing')
      const skipped = await bus.metrics.registry.getSingleMetricAsString('DeadLetterInvocations')
      assert.match(skipped, /RuleName="onward"\} 1/)
    } finally {
      await bus.close()
    }
  })

  test("another account's bus takes forwarded events only once its policy allows the sender; a denied delivery is retried, then dead-lettered with the reason", async () => {
    const clock = new ManualClock()
    const bus = await createTestBus({ clock, random: () => 0.5 })
    try {
      const arn = await apiDestination(bus, OTHER)
      await ruleTo(bus, { Arn: arn }, { scope: OTHER, name: 'central' })
      await ruleTo(bus, {
        Arn: 'arn:aws:events:us-east-1:222222222222:event-bus/default',
        RetryPolicy: { MaximumRetryAttempts: 2 },
        DeadLetterConfig: { Arn: DLQ },
      })
      await put(bus)
      await drive(bus, clock, async () => (await letters(bus)).length > 0, 600_000)
      assert.equal(sink.received.length, 0)
      const [denied] = await letters(bus)
      assert.equal(denied!.errorCode, 'NO_PERMISSIONS')
      assert.equal(denied!.retryAttempts, 2)
      assert.equal(denied!.exhaustedRetryCondition, 'MaximumRetryAttempts')
      assert.match(denied!.errorMessage, /not authorized to perform: events:PutEvents/)

      await bus.call(
        'PutPermission',
        { Action: 'events:PutEvents', Principal: '111111111111', StatementId: 'a' },
        OTHER,
      )
      const id = await put(bus)
      const [got] = await sink.waitFor(1)
      const event = JSON.parse(got!.body) as Record<string, unknown>
      assert.equal(event.id, id)
      assert.equal(event.account, '111111111111', 'the sender account is kept')
    } finally {
      await bus.close()
    }
  })

  test("another region's bus (another account's too) gets the event with a new id and its original account, region and source", async () => {
    const bus = await createTestBus()
    const WEST = { account: '222222222222', region: 'eu-west-1' }
    try {
      const arn = await apiDestination(bus, WEST)
      await ruleTo(bus, { Arn: arn }, { scope: WEST, name: 'in-west' })
      await bus.call(
        'PutPermission',
        { Action: 'events:PutEvents', Principal: '111111111111', StatementId: 'east' },
        WEST,
      )
      await ruleTo(bus, { Arn: 'arn:aws:events:eu-west-1:222222222222:event-bus/default' })
      const id = await put(bus)
      const [got] = await sink.waitFor(1)
      const event = JSON.parse(got!.body) as Record<string, unknown>
      assert.notEqual(event.id, id, 'a cross-region hop gives the event a new id')
      assert.match(String(event.id), /^[0-9a-f-]{36}$/)
      assert.equal(event.account, '111111111111')
      assert.equal(event.region, 'us-east-1', 'the original region is kept')
      assert.equal(event.source, 'test')
      assert.equal(got!.body.split(`"id":"${String(event.id)}"`).length, 2, 'one id, the new one')
    } finally {
      await bus.close()
    }
  })

  test("PutEvents straight onto another account's bus is refused per entry without a policy", async () => {
    const bus = await createTestBus()
    try {
      const r = await bus.call('PutEvents', {
        Entries: [
          {
            Source: 'test',
            DetailType: 't',
            Detail: '{}',
            EventBusName: 'arn:aws:events:us-east-1:222222222222:event-bus/default',
          },
        ],
      })
      assert.equal(r.FailedEntryCount, 1)
      assert.equal((r.Entries as { ErrorCode: string }[])[0]!.ErrorCode, 'AccessDeniedException')
    } finally {
      await bus.close()
    }
  })
})

describe('queue targets', () => {
  const OWNER = TEST_SCOPE
  const OTHER = { account: '222222222222', region: 'us-east-1' }

  test("another account's queue takes a rule's events only once AddPermission lets that account in", async () => {
    const clock = new ManualClock()
    const bus = await createTestBus({ clock })
    try {
      const queue = await bus.queues.create(OWNER, 'shared', {}, {})
      const dlq = await bus.queues.create(OTHER, 'refused', {}, {})
      await ruleTo(bus, { Arn: queue.arn, DeadLetterConfig: { Arn: dlq.arn } }, { scope: OTHER })
      await put(bus, undefined, OTHER)
      await settle(bus)
      assert.deepEqual(await bus.queues.receive(queue, { max: 10 }), [])
      const [refused] = await bus.queues.receive(dlq, { max: 10 })
      assert.equal(refused?.attributes?.ERROR_CODE?.stringValue, 'NO_PERMISSIONS')

      await bus.queues.addPermission(queue, 'from-other', [OTHER.account], ['SendMessage'])
      const policy = JSON.parse((await bus.queues.attributes(queue, ['Policy'])).Policy!) as {
        Statement: unknown[]
      }
      assert.deepEqual(policy.Statement, [
        {
          Sid: 'from-other',
          Effect: 'Allow',
          Principal: { AWS: ['arn:aws:iam::222222222222:root'] },
          Action: ['SQS:SendMessage'],
          Resource: queue.arn,
        },
      ])
      const id = await put(bus, undefined, OTHER)
      await settle(bus)
      const [m] = await bus.queues.receive(queue, { max: 10 })
      assert.equal((JSON.parse(m!.body) as { id: string }).id, id)

      await assert.rejects(
        bus.queues.addPermission(queue, 'from-other', [OTHER.account], ['SendMessage']),
        { code: 'InvalidParameterValue' },
      )
      await bus.queues.removePermission(queue, 'from-other')
      assert.equal((await bus.queues.attributes(queue, ['Policy'])).Policy, undefined)
      await assert.rejects(bus.queues.removePermission(queue, 'from-other'), {
        code: 'InvalidParameterValue',
      })
    } finally {
      await bus.close()
    }
  })
})
