/**
 * EventBridge Scheduler end to end: the real AWS CLI v2 (`/usr/bin/aws scheduler …`) against a
 * `junction serve` process on SQLite with `--clock manual`, moved by `junction clock advance`.
 * Groups and schedules are created, listed, replaced and deleted; errors come with the codes
 * and HTTP statuses of Scheduler's model (ConflictException 409, ResourceNotFoundException 404,
 * ValidationException 400); a one-time schedule delivers its Input (placeholders replaced) to a
 * queue once, and another puts an event on a bus whose rule passes it to a queue.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { awsCli } from '../helpers/aws-cli.js'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { ACCOUNT, clientEnv, REGION } from './scenario.js'

const ROLE = `arn:aws:iam::${ACCOUNT}:role/scheduler`

let server: ServerProcess
let env: NodeJS.ProcessEnv
const {
  aws,
  ok,
  clock: junctionClock,
} = awsCli(
  () => server.url,
  () => env,
)

/** The CLI fails with 254 on a service error and prints its code, operation and message. */
async function fails(code: string, operation: string, message: string, ...args: string[]) {
  const r = await aws(...args)
  assert.equal(r.code, 254, `aws ${args.join(' ')}\n${r.stdout}`)
  assert.equal(
    r.stderr.trim(),
    `An error occurred (${code}) when calling the ${operation} operation: ${message}`,
  )
}

async function clockNow(): Promise<number> {
  const r = await junctionClock('now')
  assert.equal(r.code, 0, r.stderr)
  return Date.parse(r.stdout.split(' ')[0]!)
}

async function advance(duration: string): Promise<void> {
  const r = await junctionClock('advance', duration)
  assert.equal(r.code, 0, r.stderr)
}

/** Messages in a queue (deleted as read) until `expected` have come or a short wait ends. */
async function drain(queue: string, expected: number): Promise<string[]> {
  const url = `${server.url}/${ACCOUNT}/${queue}`
  const bodies: string[] = []
  const deadline = Date.now() + (expected === 0 ? 1500 : 20_000)
  while (Date.now() < deadline && (expected === 0 || bodies.length < expected)) {
    const r = await ok<{ Messages?: { Body: string; ReceiptHandle: string }[] }>(
      'sqs',
      'receive-message',
      '--queue-url',
      url,
      '--max-number-of-messages',
      '10',
    )
    for (const m of r.Messages ?? []) {
      bodies.push(m.Body)
      await ok('sqs', 'delete-message', '--queue-url', url, '--receipt-handle', m.ReceiptHandle)
    }
    if (!r.Messages) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return bodies
}

const pad = (n: number) => String(n).padStart(2, '0')
/** `yyyy-mm-ddThh:mm:ss` in UTC, as at() takes it. */
const atText = (ms: number) => {
  const d = new Date(ms)
  return (
    `${String(d.getUTCFullYear())}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  )
}

const queueTarget = (queue: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue}`, RoleArn: ROLE, ...extra })

before(async () => {
  env = clientEnv()
  server = await startServerProcess({ args: ['--clock', 'manual'] })
})
after(async () => {
  await server.stop()
})

describe('EventBridge Scheduler with the AWS CLI', () => {
  let fireAt: number

  test('schedule groups: create, get, list, errors', async () => {
    const created = await ok<{ ScheduleGroupArn: string }>(
      'scheduler',
      'create-schedule-group',
      '--name',
      'team',
    )
    assert.equal(
      created.ScheduleGroupArn,
      `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/team`,
    )
    await fails(
      'ConflictException',
      'CreateScheduleGroup',
      'Schedule group team already exists.',
      'scheduler',
      'create-schedule-group',
      '--name',
      'team',
    )
    await fails(
      'ResourceNotFoundException',
      'GetScheduleGroup',
      'Schedule group nope does not exist.',
      'scheduler',
      'get-schedule-group',
      '--name',
      'nope',
    )
    const got = await ok<{ Name: string; State: string }>(
      'scheduler',
      'get-schedule-group',
      '--name',
      'team',
    )
    assert.equal(got.Name, 'team')
    assert.equal(got.State, 'ACTIVE')
    const listed = await ok<{ ScheduleGroups: { Name: string }[] }>(
      'scheduler',
      'list-schedule-groups',
    )
    assert.deepEqual(
      listed.ScheduleGroups.map((g) => g.Name),
      ['default', 'team'],
    )
    await fails(
      'ValidationException',
      'DeleteScheduleGroup',
      'Cannot delete the default schedule group.',
      'scheduler',
      'delete-schedule-group',
      '--name',
      'default',
    )
  })

  test('schedules: create, get with defaults, list, and errors', async () => {
    await ok('sqs', 'create-queue', '--queue-name', 'sched')
    const now = await clockNow()
    // Ten minutes ahead, on a whole second.
    fireAt = Math.floor(now / 1000) * 1000 + 10 * 60_000
    const created = await ok<{ ScheduleArn: string }>(
      'scheduler',
      'create-schedule',
      '--name',
      'once',
      '--group-name',
      'team',
      '--schedule-expression',
      `at(${atText(fireAt)})`,
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      queueTarget('sched', {
        Input:
          '{"arn":"<aws.scheduler.schedule-arn>","at":"<aws.scheduler.scheduled-time>",' +
          '"attempt":"<aws.scheduler.attempt-number>","execution":"<aws.scheduler.execution-id>"}',
      }),
    )
    assert.equal(created.ScheduleArn, `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/team/once`)
    const got = await ok('scheduler', 'get-schedule', '--name', 'once', '--group-name', 'team')
    assert.equal(got.State, 'ENABLED')
    assert.equal(got.ScheduleExpressionTimezone, 'UTC')
    assert.equal(got.GroupName, 'team')
    assert.deepEqual(got.FlexibleTimeWindow, { Mode: 'OFF' })
    assert.deepEqual((got.Target as Record<string, unknown>).RetryPolicy, {
      MaximumEventAgeInSeconds: 86400,
      MaximumRetryAttempts: 185,
    })
    assert.equal(typeof got.CreationDate, 'string') // the CLI prints timestamps as ISO text

    await fails(
      'ConflictException',
      'CreateSchedule',
      'Schedule once already exists.',
      'scheduler',
      'create-schedule',
      '--name',
      'once',
      '--group-name',
      'team',
      '--schedule-expression',
      'rate(5 minutes)',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      queueTarget('sched'),
    )
    await fails(
      'ResourceNotFoundException',
      'GetSchedule',
      'Schedule once does not exist.',
      'scheduler',
      'get-schedule',
      '--name',
      'once', // in the default group, not in team
    )
    await fails(
      'ResourceNotFoundException',
      'CreateSchedule',
      'Schedule group nogroup does not exist.',
      'scheduler',
      'create-schedule',
      '--name',
      'x',
      '--group-name',
      'nogroup',
      '--schedule-expression',
      'rate(5 minutes)',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      queueTarget('sched'),
    )
    await fails(
      'ValidationException',
      'CreateSchedule',
      'Invalid Schedule Expression rate(0 minutes).',
      'scheduler',
      'create-schedule',
      '--name',
      'x',
      '--schedule-expression',
      'rate(0 minutes)',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      queueTarget('sched'),
    )
    await fails(
      'ValidationException',
      'CreateSchedule',
      "1 validation error detected: Value 'bad/name' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$",
      'scheduler',
      'create-schedule',
      '--name',
      'bad/name',
      '--schedule-expression',
      'rate(5 minutes)',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      queueTarget('sched'),
    )
    await fails(
      'ValidationException',
      'CreateSchedule',
      "1 validation error detected: Value '1441' at 'flexibleTimeWindow.maximumWindowInMinutes' failed to satisfy constraint: Member must have value less than or equal to 1440",
      'scheduler',
      'create-schedule',
      '--name',
      'x',
      '--schedule-expression',
      'rate(5 minutes)',
      '--flexible-time-window',
      'Mode=FLEXIBLE,MaximumWindowInMinutes=1441',
      '--target',
      queueTarget('sched'),
    )
    await ok(
      'scheduler',
      'create-schedule',
      '--name',
      'later',
      '--group-name',
      'team',
      '--schedule-expression',
      'cron(0 9 * * ? *)',
      '--schedule-expression-timezone',
      'Europe/Paris',
      '--state',
      'DISABLED',
      '--description',
      'kept until replaced',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      queueTarget('sched'),
    )
    const listed = await ok<{ Schedules: { Name: string; State: string }[] }>(
      'scheduler',
      'list-schedules',
      '--group-name',
      'team',
    )
    assert.deepEqual(
      listed.Schedules.map((s) => [s.Name, s.State]),
      [
        ['later', 'DISABLED'],
        ['once', 'ENABLED'],
      ],
    )
  })

  test('UpdateSchedule replaces every field', async () => {
    // Its own queue: enabled at 10:00 UTC daily, it fires whenever a later test's clock advance
    // crosses that time of day, which must not land in the queue those tests count.
    await ok('sqs', 'create-queue', '--queue-name', 'later')
    await ok(
      'scheduler',
      'update-schedule',
      '--name',
      'later',
      '--group-name',
      'team',
      '--schedule-expression',
      'cron(0 10 * * ? *)',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      queueTarget('later'),
    )
    const got = await ok('scheduler', 'get-schedule', '--name', 'later', '--group-name', 'team')
    assert.equal(got.ScheduleExpression, 'cron(0 10 * * ? *)')
    assert.equal(got.ScheduleExpressionTimezone, 'UTC')
    assert.equal(got.State, 'ENABLED')
    assert.equal(got.Description, undefined)
    await fails(
      'ResourceNotFoundException',
      'UpdateSchedule',
      'Schedule ghost does not exist.',
      'scheduler',
      'update-schedule',
      '--name',
      'ghost',
      '--schedule-expression',
      'rate(5 minutes)',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      queueTarget('sched'),
    )
  })

  test('a one-time schedule fires once, at its time, to a queue and to a bus', async () => {
    await ok('sqs', 'create-queue', '--queue-name', 'from-bus')
    await ok('events', 'create-event-bus', '--name', 'sched-bus')
    await ok(
      'events',
      'put-rule',
      '--name',
      'from-scheduler',
      '--event-bus-name',
      'sched-bus',
      '--event-pattern',
      '{"source":["app.scheduler"]}',
    )
    await ok(
      'events',
      'put-targets',
      '--rule',
      'from-scheduler',
      '--event-bus-name',
      'sched-bus',
      '--targets',
      JSON.stringify([{ Id: 'q', Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:from-bus` }]),
    )
    await ok(
      'scheduler',
      'create-schedule',
      '--name',
      'to-bus',
      '--schedule-expression',
      `at(${atText(fireAt)})`,
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      JSON.stringify({
        Arn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/sched-bus`,
        RoleArn: ROLE,
        Input: '{"job":"nightly"}',
        EventBridgeParameters: { Source: 'app.scheduler', DetailType: 'Nightly Job' },
      }),
    )
    // A queue that does not exist: the invocation fails and goes to the dead-letter queue.
    await ok('sqs', 'create-queue', '--queue-name', 'sched-dlq')
    await ok(
      'scheduler',
      'create-schedule',
      '--name',
      'to-nowhere',
      '--schedule-expression',
      `at(${atText(fireAt)})`,
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      queueTarget('no-such-queue', {
        Input: 'lost at <aws.scheduler.scheduled-time>',
        DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:sched-dlq` },
      }),
    )
    await advance('9m')
    assert.deepEqual(await drain('sched', 0), [], 'nothing before its time')
    await advance('2m')
    const bodies = await drain('sched', 1)
    const expectedTime = new Date(fireAt).toISOString().replace('.000Z', 'Z')
    assert.equal(bodies.length, 1)
    const body = JSON.parse(bodies[0]!) as Record<string, string>
    assert.match(body.execution!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    assert.deepEqual(
      { ...body, execution: 'checked above' },
      {
        arn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/team/once`,
        at: expectedTime,
        attempt: '1',
        execution: 'checked above',
      },
    )
    assert.deepEqual(await drain('sched-dlq', 1), [`lost at ${expectedTime}`])
    const viaBus = await drain('from-bus', 1)
    assert.equal(viaBus.length, 1)
    const event = JSON.parse(viaBus[0]!) as Record<string, unknown>
    assert.equal(event.source, 'app.scheduler')
    assert.equal(event['detail-type'], 'Nightly Job')
    assert.deepEqual(event.detail, { job: 'nightly' })
    assert.equal(event.time, expectedTime)
    await advance('2h')
    assert.deepEqual(await drain('sched', 0), [], 'fired once')
    assert.deepEqual(await drain('from-bus', 0), [], 'fired once')
    assert.deepEqual(await drain('sched-dlq', 0), [], 'fired once')
  })

  test('deleting a group deletes its schedules', async () => {
    await ok('scheduler', 'delete-schedule-group', '--name', 'team')
    await fails(
      'ResourceNotFoundException',
      'GetSchedule',
      'Schedule later does not exist.',
      'scheduler',
      'get-schedule',
      '--name',
      'later',
      '--group-name',
      'team',
    )
    await ok('scheduler', 'delete-schedule', '--name', 'to-bus')
    await ok('scheduler', 'delete-schedule', '--name', 'to-nowhere')
    await fails(
      'ResourceNotFoundException',
      'DeleteSchedule',
      'Schedule to-bus does not exist.',
      'scheduler',
      'delete-schedule',
      '--name',
      'to-bus',
    )
    const listed = await ok<{ Schedules: unknown[] }>('scheduler', 'list-schedules')
    assert.deepEqual(listed.Schedules, [])
  })
  test('kill -9 and a restart neither repeat nor lose a rate() tick', async () => {
    await ok('sqs', 'create-queue', '--queue-name', 'rated')
    const created = await clockNow()
    await ok(
      'scheduler',
      'create-schedule',
      '--name',
      'every-5',
      '--schedule-expression',
      'rate(5 minutes)',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      queueTarget('rated', { Input: '<aws.scheduler.scheduled-time>' }),
    )
    // Runs "immediately" on creation, then every 5 minutes: 0, 5 and 10 minutes in 12.
    await advance('12m')
    const before = await drain('rated', 3)
    assert.equal(before.length, 3)
    assert.equal(new Set(before).size, 3)
    await server.kill()
    // The manual clock starts again at the real time, hours before the ticks already fired
    // (the tests above advanced it): bring it to just after the 10-minute tick, then past 15.
    server = await startServerProcess({ dataDir: server.dataDir, args: ['--clock', 'manual'] })
    await advance(`${String(created + 12 * 60_000 - (await clockNow()))}ms`)
    assert.deepEqual(await drain('rated', 0), [], 'the ticks fired before the crash stay fired')
    await advance('4m')
    const after = await drain('rated', 1)
    assert.equal(after.length, 1)
    assert.ok(!before.includes(after[0]!), `${after[0]!} is a new tick`)
    assert.equal(
      Date.parse(after[0]!) - Date.parse(before[2]!),
      5 * 60_000,
      'the next tick, five minutes after the last one fired',
    )
  })
})
