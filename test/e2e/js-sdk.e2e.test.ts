/**
 * End to end with the AWS SDK for JavaScript v3 (`@aws-sdk/client-eventbridge`, in process)
 * against a `junction serve` process on SQLite and an HTTP sink behind API destinations. Service
 * errors reject with an exception whose `name` is the code (read from `x-amzn-errortype`, then
 * `__type`) and whose `message` is the body's `message`.
 */
import {
  CreateApiDestinationCommand,
  CreateConnectionCommand,
  CreateEventBusCommand,
  DescribeRuleCommand,
  EventBridgeClient,
  EventBridgeServiceException,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  TestEventPatternCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startHttpSink, type HttpSink } from '../helpers/http-sink.js'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import * as s from './scenario.js'

// The SDK warns once that its 2027 releases will need Node 22; not this pinned version's concern.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

let server: ServerProcess
let sink: HttpSink
let client: EventBridgeClient

before(async () => {
  ;[server, sink] = await Promise.all([startServerProcess(), startHttpSink()])
  client = new EventBridgeClient({
    endpoint: server.url,
    region: s.REGION,
    credentials: { accessKeyId: s.ACCOUNT, secretAccessKey: 'anything' },
    maxAttempts: 1,
  })
})

after(async () => {
  client.destroy()
  try {
    assert.equal(await server.stop(), 0, server.output())
  } finally {
    await sink.close()
  }
})

/** The output without `$metadata`, as plain data (the SDK's objects carry no extra members). */
function data(output: object): unknown {
  return Object.fromEntries(Object.entries(output).filter(([k]) => k !== '$metadata'))
}

/** Awaits a call that must fail with a service error; checks its name and HTTP status. */
async function serviceError(
  call: Promise<unknown>,
  name: string,
): Promise<EventBridgeServiceException> {
  try {
    await call
  } catch (e) {
    assert.ok(e instanceof EventBridgeServiceException, String(e))
    assert.equal(e.name, name)
    assert.equal(e.$fault, 'client')
    assert.equal(e.$metadata.httpStatusCode, 400)
    return e
  }
  assert.fail(`expected ${name}`)
}

const put = (Entries: PutEventsRequestEntry[]) => client.send(new PutEventsCommand({ Entries }))

describe('JS SDK v3: connection, API destinations, rule, targets, delivery', () => {
  let hookArn = ''
  let rawArn = ''

  test('CreateConnection (API_KEY) and two API destinations', async () => {
    const c = await client.send(new CreateConnectionCommand(s.CONNECTION))
    assert.match(c.ConnectionArn!, s.CONNECTION_ARN)
    assert.equal(c.ConnectionState, 'AUTHORIZED')
    const dests = s.destinations(sink.url)
    const [hook, raw] = await Promise.all([
      client.send(
        new CreateApiDestinationCommand({ ...dests.hook, ConnectionArn: c.ConnectionArn }),
      ),
      client.send(
        new CreateApiDestinationCommand({ ...dests.raw, ConnectionArn: c.ConnectionArn }),
      ),
    ])
    assert.match(hook.ApiDestinationArn!, s.API_DESTINATION_ARN)
    assert.match(raw.ApiDestinationArn!, s.API_DESTINATION_ARN)
    assert.equal(hook.ApiDestinationState, 'ACTIVE')
    assert.equal(raw.ApiDestinationState, 'ACTIVE')
    hookArn = hook.ApiDestinationArn!
    rawArn = raw.ApiDestinationArn!
  })

  test('CreateEventBus, PutRule, PutTargets', async () => {
    const bus = await client.send(new CreateEventBusCommand({ Name: s.BUS }))
    assert.deepEqual(data(bus), {
      EventBusArn: `arn:aws:events:${s.REGION}:${s.ACCOUNT}:event-bus/${s.BUS}`,
    })
    const rule = await client.send(
      new PutRuleCommand({
        Name: s.RULE,
        EventBusName: s.BUS,
        EventPattern: s.PATTERN,
        Description: s.RULE_DESCRIPTION,
      }),
    )
    assert.deepEqual(data(rule), { RuleArn: s.RULE_ARN })
    const targets = await client.send(
      new PutTargetsCommand({
        Rule: s.RULE,
        EventBusName: s.BUS,
        Targets: s.targets(hookArn, rawArn),
      }),
    )
    assert.deepEqual(data(targets), { FailedEntryCount: 0, FailedEntries: [] })
  })

  test('ListTargetsByRule, DescribeRule, ListRules, TestEventPattern', async () => {
    const [listed, described, rules, yes, no] = await Promise.all([
      client.send(new ListTargetsByRuleCommand({ Rule: s.RULE, EventBusName: s.BUS })),
      client.send(new DescribeRuleCommand({ Name: s.RULE, EventBusName: s.BUS })),
      client.send(new ListRulesCommand({ EventBusName: s.BUS })),
      client.send(
        new TestEventPatternCommand({ EventPattern: s.PATTERN, Event: s.testEvent(250) }),
      ),
      client.send(new TestEventPatternCommand({ EventPattern: s.PATTERN, Event: s.testEvent(50) })),
    ])
    assert.deepEqual(Object.keys(data(listed) as object), ['Targets'])
    assert.deepEqual([...listed.Targets!].sort(s.byId), s.targets(hookArn, rawArn).sort(s.byId))
    assert.deepEqual(data(described), s.DESCRIBE_RULE)
    assert.deepEqual(data(rules), s.LIST_RULES)
    assert.deepEqual(data(yes), { Result: true })
    assert.deepEqual(data(no), { Result: false })
  })

  test('PutEvents: the matching event reaches both targets as AWS delivers it', async () => {
    const sentAfter = Date.now()
    const out = await put([s.MATCHING, s.NOT_MATCHING])
    const sentBefore = Date.now()
    assert.equal(out.FailedEntryCount, 0)
    assert.equal(out.Entries!.length, 2)
    for (const e of out.Entries!) assert.deepEqual(Object.keys(e), ['EventId'])
    await s.assertDeliveries(
      sink,
      { eventId: out.Entries![0]!.EventId!, sentAfter, sentBefore },
      async () => {
        assert.equal((await put([s.SENTINEL])).FailedEntryCount, 0)
      },
    )
  })
})

describe('JS SDK v3: errors', { concurrency: true }, () => {
  test('PutRule with an invalid pattern: InvalidEventPatternException', async () => {
    const e = await serviceError(
      client.send(new PutRuleCommand({ Name: 'e2e-bad', EventPattern: s.INVALID_PATTERN })),
      'InvalidEventPatternException',
    )
    assert.equal(e.constructor.name, 'InvalidEventPatternException')
    assert.equal(e.message.split('\n')[0], s.INVALID_PATTERN_REASON)
  })

  test('PutRule on a missing bus: ResourceNotFoundException', async () => {
    const e = await serviceError(
      client.send(
        new PutRuleCommand({ Name: 'e2e-r', EventBusName: 'nope', EventPattern: s.PATTERN }),
      ),
      'ResourceNotFoundException',
    )
    assert.equal(e.constructor.name, 'ResourceNotFoundException')
    assert.equal(e.message, s.MISSING_BUS_MESSAGE)
  })

  test('PutEvents over the size limit: ValidationException', async () => {
    const e = await serviceError(put([s.OVERSIZED_ENTRY]), 'ValidationException')
    assert.equal(e.message, s.OVER_LIMIT_MESSAGE)
  })

  test('PutEvents with 11 entries: ValidationException', async () => {
    const e = await serviceError(put(s.ELEVEN_ENTRIES), 'ValidationException')
    s.assertTooManyEntriesMessage(e.message)
  })

  test('PutEvents with a Detail that is not an object: MalformedDetail entry', async () => {
    const out = await put([s.MALFORMED_ENTRY])
    assert.equal(out.$metadata.httpStatusCode, 200)
    assert.deepEqual(data(out), s.MALFORMED_RESULT)
  })

  test('PutEvents without Source: InvalidArgument entry', async () => {
    const out = await put([s.NO_SOURCE_ENTRY])
    assert.equal(out.$metadata.httpStatusCode, 200)
    assert.deepEqual(data(out), s.NO_SOURCE_RESULT)
  })

  test('an unknown operation: 400 UnknownOperationException', async () => {
    await s.assertUnknownOperation(server.url)
  })
})
