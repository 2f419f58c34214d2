/**
 * End to end with the real AWS CLI v2 (`/usr/bin/aws`, not the v1 first on PATH): a `junction
 * serve` process on SQLite, an HTTP sink behind API destinations, and the scenario of
 * `scenario.ts`. Service errors: the CLI prints `An error occurred (Code) when calling the X
 * operation: message` on stderr and exits 254 (reference wire-captures.md §1).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startHttpSink, type HttpSink } from '../helpers/http-sink.js'
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server.js'
import * as s from './scenario.js'

const AWS = '/usr/bin/aws'

type Run = { code: number | string; stdout: string; stderr: string }

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

function aws(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      AWS,
      ['--endpoint-url', server.url, '--output', 'json', 'events', ...args],
      { env, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (err.code ?? 'killed') : 0, stdout, stderr })
      },
    )
  })
}

/** Runs a command that must succeed; its JSON output. */
async function ok<T>(...args: string[]): Promise<T> {
  const r = await aws(...args)
  assert.equal(r.code, 0, `aws events ${args.join(' ').slice(0, 300)}\n${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

/** Exit code 254 and `An error occurred (code) when calling the operation: message`. */
function assertServiceError(r: Run, operation: string, code: string): string {
  assert.equal(r.code, 254, r.stderr.slice(0, 500))
  const text = r.stderr.trim()
  const prefix = `An error occurred (${code}) when calling the ${operation} operation: `
  assert.ok(text.startsWith(prefix), text.slice(0, 500))
  return text.slice(prefix.length)
}

const json = (v: unknown) => JSON.stringify(v)

describe('AWS CLI v2: connection, API destinations, rule, targets, delivery', () => {
  const dests = () => s.destinations(sink.url)
  let hookArn = ''
  let rawArn = ''

  test('create-connection (API_KEY), two create-api-destination', async () => {
    const c = s.CONNECTION
    const out = await ok<{ ConnectionArn: string; ConnectionState: string }>(
      'create-connection',
      '--name',
      c.Name,
      '--authorization-type',
      c.AuthorizationType,
      '--auth-parameters',
      json(c.AuthParameters),
    )
    assert.match(out.ConnectionArn, s.CONNECTION_ARN)
    assert.equal(out.ConnectionState, 'AUTHORIZED')
    const hook = dests().hook
    const raw = dests().raw
    const [h, r] = await Promise.all([
      ok<{ ApiDestinationArn: string; ApiDestinationState: string }>(
        'create-api-destination',
        '--name',
        hook.Name,
        '--connection-arn',
        out.ConnectionArn,
        '--invocation-endpoint',
        hook.InvocationEndpoint,
        '--http-method',
        hook.HttpMethod,
        '--invocation-rate-limit-per-second',
        String(hook.InvocationRateLimitPerSecond),
      ),
      ok<{ ApiDestinationArn: string; ApiDestinationState: string }>(
        'create-api-destination',
        '--name',
        raw.Name,
        '--connection-arn',
        out.ConnectionArn,
        '--invocation-endpoint',
        raw.InvocationEndpoint,
        '--http-method',
        raw.HttpMethod,
      ),
    ])
    assert.match(h.ApiDestinationArn, s.API_DESTINATION_ARN)
    assert.match(r.ApiDestinationArn, s.API_DESTINATION_ARN)
    assert.equal(h.ApiDestinationState, 'ACTIVE')
    assert.equal(r.ApiDestinationState, 'ACTIVE')
    hookArn = h.ApiDestinationArn
    rawArn = r.ApiDestinationArn
  })

  test('create-event-bus, put-rule, put-targets', async () => {
    const bus = await ok<unknown>('create-event-bus', '--name', s.BUS)
    assert.deepEqual(bus, {
      EventBusArn: `arn:aws:events:${s.REGION}:${s.ACCOUNT}:event-bus/${s.BUS}`,
    })
    const rule = await ok<unknown>(
      'put-rule',
      '--name',
      s.RULE,
      '--event-bus-name',
      s.BUS,
      '--event-pattern',
      s.PATTERN,
      '--description',
      s.RULE_DESCRIPTION,
    )
    assert.deepEqual(rule, { RuleArn: s.RULE_ARN })
    const put = await ok<unknown>(
      'put-targets',
      '--rule',
      s.RULE,
      '--event-bus-name',
      s.BUS,
      '--targets',
      json(s.targets(hookArn, rawArn)),
    )
    assert.deepEqual(put, { FailedEntryCount: 0, FailedEntries: [] })
  })

  test('list-targets-by-rule, describe-rule, list-rules, test-event-pattern', async () => {
    const [listed, described, rules, yes, no] = await Promise.all([
      ok<{ Targets: s.WireTarget[] }>(
        'list-targets-by-rule',
        '--rule',
        s.RULE,
        '--event-bus-name',
        s.BUS,
      ),
      ok<unknown>('describe-rule', '--name', s.RULE, '--event-bus-name', s.BUS),
      ok<unknown>('list-rules', '--event-bus-name', s.BUS),
      ok<unknown>('test-event-pattern', '--event-pattern', s.PATTERN, '--event', s.testEvent(250)),
      ok<unknown>('test-event-pattern', '--event-pattern', s.PATTERN, '--event', s.testEvent(50)),
    ])
    assert.deepEqual(Object.keys(listed), ['Targets'])
    assert.deepEqual([...listed.Targets].sort(s.byId), s.targets(hookArn, rawArn).sort(s.byId))
    assert.deepEqual(described, s.DESCRIBE_RULE)
    assert.deepEqual(rules, s.LIST_RULES)
    assert.deepEqual(yes, { Result: true })
    assert.deepEqual(no, { Result: false })
  })

  test('put-events: the matching event reaches both targets as AWS delivers it', async () => {
    const sentAfter = Date.now()
    const out = await ok<{ FailedEntryCount: number; Entries: { EventId: string }[] }>(
      'put-events',
      '--entries',
      json([s.MATCHING, s.NOT_MATCHING]),
    )
    const sentBefore = Date.now()
    assert.equal(out.FailedEntryCount, 0)
    assert.equal(out.Entries.length, 2)
    for (const e of out.Entries) assert.deepEqual(Object.keys(e), ['EventId'])
    await s.assertDeliveries(
      sink,
      { eventId: out.Entries[0]!.EventId, sentAfter, sentBefore },
      async () => {
        const sentinel = await ok<{ FailedEntryCount: number }>(
          'put-events',
          '--entries',
          json([s.SENTINEL]),
        )
        assert.equal(sentinel.FailedEntryCount, 0)
      },
    )
  })
})

describe('AWS CLI v2: errors', { concurrency: true }, () => {
  test('put-rule with an invalid pattern: InvalidEventPatternException', async () => {
    const r = await aws('put-rule', '--name', 'e2e-bad', '--event-pattern', s.INVALID_PATTERN)
    const message = assertServiceError(r, 'PutRule', 'InvalidEventPatternException')
    assert.equal(message.split('\n')[0], s.INVALID_PATTERN_REASON)
  })

  test('put-rule on a missing bus: ResourceNotFoundException', async () => {
    const r = await aws(
      'put-rule',
      '--name',
      'e2e-r',
      '--event-bus-name',
      'nope',
      '--event-pattern',
      s.PATTERN,
    )
    assert.equal(
      assertServiceError(r, 'PutRule', 'ResourceNotFoundException'),
      s.MISSING_BUS_MESSAGE,
    )
  })

  test('put-events over the size limit: ValidationException', async () => {
    // Far beyond what one command-line argument may hold: the CLI reads it from a file.
    const file = join(tempDir('junction-e2e-cli-'), 'entries.json')
    writeFileSync(file, json([s.OVERSIZED_ENTRY]))
    const r = await aws('put-events', '--entries', `file://${file}`)
    assert.equal(assertServiceError(r, 'PutEvents', 'ValidationException'), s.OVER_LIMIT_MESSAGE)
  })

  test('put-events with 11 entries: ValidationException', async () => {
    const r = await aws('put-events', '--entries', json(s.ELEVEN_ENTRIES))
    s.assertTooManyEntriesMessage(assertServiceError(r, 'PutEvents', 'ValidationException'))
  })

  test('put-events with a Detail that is not an object: MalformedDetail entry, exit 0', async () => {
    const out = await ok<unknown>('put-events', '--entries', json([s.MALFORMED_ENTRY]))
    assert.deepEqual(out, s.MALFORMED_RESULT)
  })

  test('put-events without Source: InvalidArgument entry, exit 0', async () => {
    const out = await ok<unknown>('put-events', '--entries', json([s.NO_SOURCE_ENTRY]))
    assert.deepEqual(out, s.NO_SOURCE_RESULT)
  })

  test('an unknown operation: 400 UnknownOperationException', async () => {
    await s.assertUnknownOperation(server.url)
  })
})
