/**
 * Rules invoke Lambda functions asynchronously, on a real SQLite store, the real dispatcher and
 * a manual clock, with a scripted runner: EventBridge needs the function's permission, then
 * Lambda's queue applies its retries (two by default, after 1 and 2 minutes), the event age,
 * throttles, OnSuccess / OnFailure destinations and the dead-letter queue.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import type { EventInvokeConfig } from '../../src/functions/model.js'
import { scheduleArn } from '../../src/schedule/schedules.js'
import type { TestBus } from '../helpers/in-process.js'
import {
  arrived,
  eventually,
  functionError,
  functionRecord,
  functionsBus,
  type InvocationRecordJson,
  ok,
  pause,
  SCOPE,
  throttled,
} from './async-helpers.js'

const buses: TestBus[] = []
after(async () => {
  for (const b of buses) await b.close()
})

async function setup(config?: Partial<EventInvokeConfig>, deadLetter = false) {
  const { bus, directory, runner } = await functionsBus()
  buses.push(bus)
  const failures = await bus.queues.create(SCOPE, 'failures', {}, {})
  const successes = await bus.queues.create(SCOPE, 'successes', {}, {})
  const fnDlq = await bus.queues.create(SCOPE, 'fn-dlq', {}, {})
  const ruleDlq = await bus.queues.create(SCOPE, 'rule-dlq', {}, {})
  const fn = directory.add(
    functionRecord('worker', {
      ...(config ? { eventInvokeConfig: { lastModified: 0, ...config } } : {}),
      ...(deadLetter ? { deadLetterArn: fnDlq.arn } : {}),
    }),
  )
  const rule = await bus.call('PutRule', { Name: 'r', EventPattern: '{"source":["app"]}' })
  await bus.call('PutTargets', {
    Rule: 'r',
    Targets: [{ Id: 'fn', Arn: fn.arn, DeadLetterConfig: { Arn: ruleDlq.arn } }],
  })
  const ruleArn = rule.RuleArn as string
  directory.allow(fn, 'events.amazonaws.com', ruleArn)
  const put = async (detail: object = { n: 1 }) => {
    const r = await bus.call('PutEvents', {
      Entries: [{ Source: 'app', DetailType: 't', Detail: JSON.stringify(detail) }],
    })
    assert.equal(r.FailedEntryCount, 0)
  }
  return { bus, directory, runner, fn, ruleArn, put, failures, successes, fnDlq, ruleDlq }
}

test('a rule invokes its function with the event, once', async () => {
  const { bus, runner, put, fn } = await setup()
  await put({ n: 7 })
  await eventually(() => runner.calls.length === 1, 'the invoke')
  const event = JSON.parse(runner.calls[0]!.payload) as Record<string, unknown>
  assert.equal(event.source, 'app')
  assert.deepEqual(event.detail, { n: 7 })
  assert.match(runner.calls[0]!.request.requestId, /^[0-9a-f-]{36}$/)
  assert.equal(runner.calls[0]!.request.tailLog, false)
  await bus.clock.advance(600_000)
  await pause()
  assert.equal(runner.calls.length, 1)
  assert.ok(fn)
})

test('without the function permission the event goes to the rule DLQ with NO_PERMISSIONS', async () => {
  const { bus, runner, put, directory, ruleDlq } = await setup()
  directory.allowed.clear()
  await put()
  const letters = await arrived(bus, ruleDlq)
  assert.equal(letters[0]!.attributes?.ERROR_CODE?.stringValue, 'NO_PERMISSIONS')
  assert.equal(runner.calls.length, 0)
})

test('a missing function dead-letters the event with NO_RESOURCE', async () => {
  const { bus, runner, put, directory, ruleDlq, fn } = await setup()
  directory.functions.delete(fn.arn)
  await put()
  const letters = await arrived(bus, ruleDlq)
  assert.equal(letters[0]!.attributes?.ERROR_CODE?.stringValue, 'NO_RESOURCE')
  assert.equal(runner.calls.length, 0)
})

test('a function error is retried twice, after 1 and 2 minutes, then the OnFailure record', async () => {
  const s = await setup()
  s.fn.eventInvokeConfig = { lastModified: 0, onFailure: s.failures.arn }
  s.runner.script = () => functionError('bad input')
  await s.put({ n: 3 })
  await eventually(() => s.runner.calls.length === 1, 'the first invoke')
  const t0 = s.runner.calls[0]!.at
  await s.bus.clock.advance(59_000)
  await pause()
  assert.equal(s.runner.calls.length, 1, 'no retry before a minute')
  await s.bus.clock.advance(1_000)
  await eventually(() => s.runner.calls.length === 2, 'the first retry')
  assert.equal(s.runner.calls[1]!.at - t0, 60_000)
  await s.bus.clock.advance(119_000)
  await pause()
  assert.equal(s.runner.calls.length, 2, 'no second retry before two more minutes')
  await s.bus.clock.advance(1_000)
  await eventually(() => s.runner.calls.length === 3, 'the second retry')
  assert.equal(s.runner.calls[2]!.at - s.runner.calls[1]!.at, 120_000)
  // Every attempt is the same invocation.
  assert.equal(new Set(s.runner.calls.map((c) => c.request.requestId)).size, 1)
  const records = await arrived(s.bus, s.failures)
  const record = JSON.parse(records[0]!.body) as InvocationRecordJson
  assert.equal(record.version, '1.0')
  assert.equal(record.requestContext.requestId, s.runner.calls[0]!.request.requestId)
  assert.equal(record.requestContext.functionArn, `${s.fn.arn}:$LATEST`)
  assert.equal(record.requestContext.condition, 'RetriesExhausted')
  assert.equal(record.requestContext.approximateInvokeCount, 3)
  assert.equal(record.requestPayload.detail?.n, 3)
  assert.deepEqual(record.responseContext, {
    statusCode: 200,
    executedVersion: '$LATEST',
    functionError: 'Unhandled',
  })
  assert.equal(record.responsePayload?.errorMessage, 'bad input')
  assert.match(record.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  await s.bus.clock.advance(600_000)
  await pause()
  assert.equal(s.runner.calls.length, 3)
})

test('MaximumRetryAttempts 0 without a destination: one invoke, then the function DLQ', async () => {
  const s = await setup({ maximumRetryAttempts: 0 }, true)
  s.runner.script = () => functionError('nope')
  await s.put({ n: 5 })
  const letters = await arrived(s.bus, s.fnDlq)
  assert.equal(s.runner.calls.length, 1)
  const m = letters[0]!
  // The body is the event alone.
  assert.equal(m.body, s.runner.calls[0]!.payload)
  assert.deepEqual(m.attributes, {
    RequestID: { dataType: 'String', stringValue: s.runner.calls[0]!.request.requestId },
    ErrorCode: { dataType: 'Number', stringValue: '200' },
    ErrorMessage: { dataType: 'String', stringValue: 'nope' },
  })
  await s.bus.clock.advance(600_000)
  await pause()
  assert.equal(s.runner.calls.length, 1)
})

test('MaximumEventAgeInSeconds: an event too old for its next retry ends as EventAgeExceeded', async () => {
  // 90 s: the first retry (at 60 s) is within the age, the second (at 180 s) is not.
  const s = await setup({ maximumEventAgeInSeconds: 90 })
  s.fn.eventInvokeConfig!.onFailure = s.failures.arn
  s.runner.script = () => functionError()
  await s.put()
  await eventually(() => s.runner.calls.length === 1, 'the first invoke')
  await s.bus.clock.advance(60_000)
  const records = await arrived(s.bus, s.failures)
  const record = JSON.parse(records[0]!.body) as InvocationRecordJson
  assert.equal(record.requestContext.condition, 'EventAgeExceeded')
  assert.equal(record.requestContext.approximateInvokeCount, 2)
  assert.equal(s.runner.calls.length, 2)
  await s.bus.clock.advance(600_000)
  await pause()
  assert.equal(s.runner.calls.length, 2)
})

test('throttles are requeued with backoff and do not count as retries; then OnSuccess', async () => {
  const s = await setup({ maximumRetryAttempts: 0 })
  s.fn.eventInvokeConfig!.onSuccess = s.successes.arn
  s.runner.script = (_c, i) => (i < 4 ? throttled : ok('{"done":true}'))
  await s.put()
  await eventually(() => s.runner.calls.length === 1, 'the first invoke')
  for (let i = 0; i < 20 && s.runner.calls.length < 5; i++) {
    await s.bus.clock.advance(1_000)
    await pause(20)
  }
  assert.equal(s.runner.calls.length, 5, 'invoked until it was not throttled')
  const gaps = s.runner.calls.slice(1).map((c, i) => c.at - s.runner.calls[i]!.at)
  assert.ok(
    gaps.every((g) => g >= 1_000),
    `backoff of at least 1 s: ${gaps.join()}`,
  )
  const records = await arrived(s.bus, s.successes)
  const record = JSON.parse(records[0]!.body) as InvocationRecordJson
  assert.equal(record.requestContext.condition, 'Success')
  assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST' })
  assert.deepEqual(record.responsePayload, { done: true })
})

test('asyncInvoker.enqueue queues an invocation with the given request id and payload', async () => {
  const s = await setup()
  await s.bus.asyncInvoker!.enqueue(s.fn, '{"direct":1}', 'req-1')
  await eventually(() => s.runner.calls.length === 1, 'the invoke')
  assert.equal(s.runner.calls[0]!.payload, '{"direct":1}')
  assert.equal(s.runner.calls[0]!.request.requestId, 'req-1')
})

test('a Scheduler schedule invokes a function with its Input, by its role and without the function policy', async () => {
  const s = await setup()
  s.directory.allowed.clear()
  const now = s.bus.clock.now()
  await s.bus.services.schedules.put({
    name: 'tick',
    group: 'default',
    arn: scheduleArn(SCOPE, 'default', 'tick'),
    ...SCOPE,
    expression: 'rate(1 minute)',
    timeZone: 'UTC',
    state: 'ENABLED',
    flexibleWindow: { mode: 'OFF' },
    actionAfterCompletion: 'NONE',
    target: {
      Arn: s.fn.arn,
      RoleArn: 'arn:aws:iam::111111111111:role/scheduler',
      Input: '{"from":"schedule"}',
    },
    createdAt: now,
    modifiedAt: now,
    since: now,
  })
  await s.bus.clock.advance(60_000)
  await eventually(() => s.runner.calls.length === 1, 'the scheduled invoke')
  assert.equal(s.runner.calls[0]!.payload, '{"from":"schedule"}')
})

test("an OnFailure EventBridge bus destination gets Lambda's result event", async () => {
  const s = await setup({ maximumRetryAttempts: 0 })
  const busArn = `arn:aws:events:${SCOPE.region}:${SCOPE.account}:event-bus/default`
  s.fn.eventInvokeConfig!.onFailure = busArn
  await s.bus.call('PutRule', {
    Name: 'results',
    EventPattern: JSON.stringify({ source: ['lambda'] }),
  })
  await s.bus.call('PutTargets', { Rule: 'results', Targets: [{ Id: 'q', Arn: s.failures.arn }] })
  s.runner.script = () => functionError('fails')
  await s.put({ n: 9 })
  const got = await arrived(s.bus, s.failures)
  const event = JSON.parse(got[0]!.body) as {
    source: string
    'detail-type': string
    resources: string[]
    account: string
    detail: InvocationRecordJson
  }
  assert.equal(event.source, 'lambda')
  assert.equal(event['detail-type'], 'Lambda Function Invocation Result - Failure')
  assert.deepEqual(event.resources, [s.fn.arn])
  assert.equal(event.account, SCOPE.account)
  assert.equal(event.detail.requestContext.condition, 'RetriesExhausted')
  assert.equal(event.detail.requestPayload.detail?.n, 9)
})

test('an invocation throttled until its maximum event age ends as EventAgeExceeded', async () => {
  const s = await setup({ maximumEventAgeInSeconds: 60 })
  s.fn.eventInvokeConfig!.onFailure = s.failures.arn
  s.runner.script = () => throttled
  await s.put()
  await eventually(() => s.runner.calls.length === 1, 'the first invoke')
  for (let i = 0; i < 30; i++) {
    await s.bus.clock.advance(5_000)
    await pause(10)
  }
  const records = await arrived(s.bus, s.failures)
  const record = JSON.parse(records[0]!.body) as InvocationRecordJson
  assert.equal(record.requestContext.condition, 'EventAgeExceeded')
  const last = s.runner.calls.at(-1)!.at - s.runner.calls[0]!.at
  assert.ok(last <= 60_000, `no invoke after the event age: ${String(last)}`)
  assert.ok(s.runner.calls.length > 2, 'requeued several times')
})

test("another account's function is invoked when its own policy allows the rule", async () => {
  const s = await setup()
  const other = s.directory.add(
    functionRecord('shared', {
      account: '222222222222',
      key: '222222222222/us-east-1/shared',
      arn: 'arn:aws:lambda:us-east-1:222222222222:function:shared',
    }),
  )
  await s.bus.call('PutTargets', { Rule: 'r', Targets: [{ Id: 'other', Arn: other.arn }] })
  await s.put()
  // Only the same-account function is allowed so far.
  await eventually(() => s.runner.calls.length === 1, 'the allowed invoke')
  await pause()
  assert.equal(s.runner.calls.length, 1)
  s.directory.allow(other, 'events.amazonaws.com', s.ruleArn)
  await s.put()
  await eventually(() => s.runner.calls.length === 3, 'both invokes')
})
