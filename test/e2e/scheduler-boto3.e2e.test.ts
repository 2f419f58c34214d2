/**
 * EventBridge Scheduler with the real boto3 (Debian's 1.26 under `/usr/bin/python3`):
 * `boto3_scheduler.py` makes the calls and prints what botocore parsed. Asserts the REST-JSON
 * wire as botocore reads it: datetimes sent and returned as epoch seconds, errors by
 * `x-amzn-ErrorType` with the model's HTTP statuses (ConflictException 409,
 * ResourceNotFoundException 404, ValidationException 400) and modelled exception classes,
 * paging with NextToken, tags on a schedule group, and a group's deletion taking its schedules.
 */
import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { runBoto3 } from '../helpers/boto3.js'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { ACCOUNT, clientEnv, REGION } from './scenario.js'

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'boto3_scheduler.py')

type ServiceError = { Code: string; Message: string; HTTPStatusCode: number; Class: string }
type Outcome<R = Record<string, unknown>> =
  { response: R; error?: undefined } | { error: ServiceError }

let server: ServerProcess
let out: Record<string, Outcome>

before(async () => {
  server = await startServerProcess()
  out = await runBoto3<Record<string, Outcome>>(SCRIPT, 'flow', server.url, clientEnv(), {
    queueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:anywhere`,
    role: `arn:aws:iam::${ACCOUNT}:role/scheduler`,
  })
})
after(async () => {
  assert.equal(await server.stop(), 0, server.output())
})

function response(name: string): Record<string, unknown> {
  const o = out[name]!
  assert.equal(o.error, undefined, `${name}: ${JSON.stringify(o.error)}`)
  return (o as { response: Record<string, unknown> }).response
}

function error(name: string, code: string, status: number): ServiceError {
  const o = out[name]!
  assert.ok(o.error, `${name}: expected ${code}, got ${JSON.stringify(o)}`)
  assert.equal(o.error.Code, code)
  assert.equal(o.error.HTTPStatusCode, status)
  assert.equal(o.error.Class, code, 'botocore maps it to the modelled exception')
  return o.error
}

describe('EventBridge Scheduler with boto3', () => {
  test('create and get: datetimes, zone, flexible window, retry policy defaults', () => {
    assert.equal(
      response('group').ScheduleGroupArn,
      `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/ops`,
    )
    assert.equal(
      response('create').ScheduleArn,
      `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/ops/weekly`,
    )
    const got = response('get')
    assert.equal(got.StartDate, '2031-01-01T12:00:00+00:00')
    assert.equal(got.EndDate, '2031-06-30T00:00:00+00:00')
    assert.equal(got.ScheduleExpressionTimezone, 'America/New_York')
    assert.deepEqual(got.FlexibleTimeWindow, { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 30 })
    assert.deepEqual((got.Target as Record<string, unknown>).RetryPolicy, {
      MaximumRetryAttempts: 3,
      MaximumEventAgeInSeconds: 86400,
    })
  })

  test('errors carry the model codes, statuses and messages', () => {
    assert.equal(
      error('groupAgain', 'ConflictException', 409).Message,
      'Schedule group ops already exists.',
    )
    assert.equal(
      error('again', 'ConflictException', 409).Message,
      'Schedule weekly already exists.',
    )
    assert.equal(
      error('missing', 'ResourceNotFoundException', 404).Message,
      'Schedule nope does not exist.',
    )
    assert.equal(
      error('badZone', 'ValidationException', 400).Message,
      'Invalid timezone Mars/Olympus.',
    )
    error('flexibleWithoutWindow', 'ValidationException', 400)
  })

  test('list_schedules pages by NextToken', () => {
    const first = response('page1')
    const second = response('page2')
    assert.equal(typeof first.NextToken, 'string')
    assert.equal(second.NextToken, undefined)
    const names = [
      ...(first.Schedules as { Name: string }[]),
      ...(second.Schedules as { Name: string }[]),
    ].map((s) => s.Name)
    assert.deepEqual(names, ['daily', 'weekly'])
  })

  test('tags on a schedule group', () => {
    response('tag')
    response('untag')
    assert.deepEqual(response('tags').Tags, [{ Key: 'env', Value: 'dev' }])
  })

  test('deleting the group removes it and its schedules', () => {
    response('deleteGroup')
    assert.equal(
      error('afterDelete', 'ResourceNotFoundException', 404).Message,
      'Schedule group ops does not exist.',
    )
  })
})
