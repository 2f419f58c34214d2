/**
 * End to end with the real boto3 (Debian's 1.26 under `/usr/bin/python3`, not the `python3` on
 * PATH): `boto3_flow.py` makes the calls, one phase per process, and prints what botocore
 * returned; this file starts the server and the sink and asserts. Service errors are botocore
 * `ClientError`s: `Error.Code` from the body's `__type`, `Error.Message` from `message`.
 */
import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runBoto3 } from '../helpers/boto3.js'
import { startHttpSink, type HttpSink } from '../helpers/http-sink.js'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import * as s from './scenario.js'

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'boto3_flow.py')

type ServiceError = { Code: string; Message: string; HTTPStatusCode: number; Class: string }
type Outcome<R = unknown> = { response: R; error?: undefined } | { error: ServiceError }

let server: ServerProcess
let sink: HttpSink
let env: NodeJS.ProcessEnv

before(async () => {
  ;[server, sink] = await Promise.all([startServerProcess(), startHttpSink()])
  env = s.clientEnv()
})

after(async () => {
  try {
    assert.equal(await server.stop(), 0, server.output())
  } finally {
    await sink.close()
  }
})

/** Runs one phase of boto3_flow.py with `input` on stdin; its `result`. */
function boto3<T>(phase: string, input: unknown): Promise<T> {
  return runBoto3<T>(SCRIPT, phase, server.url, env, input)
}

function response<R>(o: Outcome<R>): R {
  assert.equal(o.error, undefined, JSON.stringify(o.error))
  return (o as { response: R }).response
}

function serviceError(o: Outcome, code: string): ServiceError {
  assert.ok(o.error, `expected ${code}, got ${JSON.stringify(o).slice(0, 300)}`)
  assert.equal(o.error.Code, code)
  assert.equal(o.error.HTTPStatusCode, 400)
  return o.error
}

describe('boto3: connection, API destinations, rule, targets, delivery', () => {
  let hookArn = ''
  let rawArn = ''

  test('create_connection (API_KEY) and two API destinations', async () => {
    const out = await boto3<Record<'connection' | 'hook' | 'raw', Outcome<Record<string, string>>>>(
      'destinations',
      { connection: s.CONNECTION, destinations: s.destinations(sink.url) },
    )
    const connection = response(out.connection)
    assert.match(connection.ConnectionArn!, s.CONNECTION_ARN)
    assert.equal(connection.ConnectionState, 'AUTHORIZED')
    const hook = response(out.hook)
    const raw = response(out.raw)
    assert.match(hook.ApiDestinationArn!, s.API_DESTINATION_ARN)
    assert.match(raw.ApiDestinationArn!, s.API_DESTINATION_ARN)
    assert.equal(hook.ApiDestinationState, 'ACTIVE')
    assert.equal(raw.ApiDestinationState, 'ACTIVE')
    hookArn = hook.ApiDestinationArn!
    rawArn = raw.ApiDestinationArn!
  })

  test('create_event_bus, put_rule, put_targets; list/describe; test_event_pattern', async () => {
    const out = await boto3<{
      create_event_bus: Outcome
      put_rule: Outcome
      put_targets: Outcome
      list_targets_by_rule: Outcome<{ Targets: s.WireTarget[] }>
      describe_rule: Outcome
      list_rules: Outcome
      test_event_pattern: Outcome[]
    }>('rule', {
      bus: s.BUS,
      rule: { Name: s.RULE, EventPattern: s.PATTERN, Description: s.RULE_DESCRIPTION },
      targets: s.targets(hookArn, rawArn),
      testEvents: [s.testEvent(250), s.testEvent(50)],
    })
    assert.deepEqual(response(out.create_event_bus), {
      EventBusArn: `arn:aws:events:${s.REGION}:${s.ACCOUNT}:event-bus/${s.BUS}`,
    })
    assert.deepEqual(response(out.put_rule), { RuleArn: s.RULE_ARN })
    assert.deepEqual(response(out.put_targets), { FailedEntryCount: 0, FailedEntries: [] })
    const listed = response(out.list_targets_by_rule)
    assert.deepEqual(Object.keys(listed), ['Targets'])
    assert.deepEqual([...listed.Targets].sort(s.byId), s.targets(hookArn, rawArn).sort(s.byId))
    assert.deepEqual(response(out.describe_rule), s.DESCRIBE_RULE)
    assert.deepEqual(response(out.list_rules), s.LIST_RULES)
    assert.deepEqual(
      out.test_event_pattern.map((o) => response(o)),
      [{ Result: true }, { Result: false }],
    )
  })

  test('put_events: the matching event reaches both targets as AWS delivers it', async () => {
    const sentAfter = Date.now()
    const out = response(
      await boto3<Outcome<{ FailedEntryCount: number; Entries: { EventId: string }[] }>>('put', {
        entries: [s.MATCHING, s.NOT_MATCHING],
      }),
    )
    const sentBefore = Date.now()
    assert.equal(out.FailedEntryCount, 0)
    assert.equal(out.Entries.length, 2)
    for (const e of out.Entries) assert.deepEqual(Object.keys(e), ['EventId'])
    await s.assertDeliveries(
      sink,
      { eventId: out.Entries[0]!.EventId, sentAfter, sentBefore },
      async () => {
        const sentinel = await boto3<Outcome<{ FailedEntryCount: number }>>('put', {
          entries: [s.SENTINEL],
        })
        assert.equal(response(sentinel).FailedEntryCount, 0)
      },
    )
  })
})

describe('boto3: errors', () => {
  let out: Record<
    'invalid_pattern' | 'missing_bus' | 'oversized' | 'eleven' | 'malformed' | 'no_source',
    Outcome
  >

  before(async () => {
    out = await boto3('errors', {
      invalidPattern: s.INVALID_PATTERN,
      pattern: s.PATTERN,
      oversized: s.OVERSIZED_ENTRY,
      eleven: s.ELEVEN_ENTRIES,
      malformed: s.MALFORMED_ENTRY,
      noSource: s.NO_SOURCE_ENTRY,
    })
  })

  test('put_rule with an invalid pattern: InvalidEventPatternException', () => {
    const e = serviceError(out.invalid_pattern, 'InvalidEventPatternException')
    assert.equal(e.Class, 'InvalidEventPatternException')
    assert.equal(e.Message.split('\n')[0], s.INVALID_PATTERN_REASON)
  })

  test('put_rule on a missing bus: ResourceNotFoundException', () => {
    const e = serviceError(out.missing_bus, 'ResourceNotFoundException')
    assert.equal(e.Class, 'ResourceNotFoundException')
    assert.equal(e.Message, s.MISSING_BUS_MESSAGE)
  })

  test('put_events over the size limit: ValidationException', () => {
    assert.equal(serviceError(out.oversized, 'ValidationException').Message, s.OVER_LIMIT_MESSAGE)
  })

  test('put_events with 11 entries: ValidationException', () => {
    s.assertTooManyEntriesMessage(serviceError(out.eleven, 'ValidationException').Message)
  })

  test('put_events with a Detail that is not an object: MalformedDetail entry', () => {
    assert.deepEqual(response(out.malformed), s.MALFORMED_RESULT)
  })

  test('put_events without Source: InvalidArgument entry', () => {
    assert.deepEqual(response(out.no_source), s.NO_SOURCE_RESULT)
  })

  test('an unknown operation: 400 UnknownOperationException', async () => {
    await s.assertUnknownOperation(server.url)
  })
})
