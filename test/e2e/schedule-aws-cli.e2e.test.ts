/**
 * Scheduled rules end to end: the real AWS CLI v2 (`/usr/bin/aws`) against a `junction serve`
 * process on SQLite with `--clock manual`, moved by `junction clock advance`; the scheduled
 * events arrive in a queue; a `kill -9` and a restart neither repeat nor lose a tick.
 *
 * AWS behaviour asserted (eventbridge-api.md §6.1, AWS's "Scheduled Event" envelope as the
 * EventBridge user guide shows it): invalid expressions get ValidationException `Parameter
 * ScheduleExpression is not valid.`; a schedule on a custom bus gets `ScheduleExpression is
 * supported only on the default event bus.`; the event has `source` `aws.events`,
 * `detail-type` `Scheduled Event`, the rule's ARN as its only resource and `{}` as detail.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { awsCli } from '../helpers/aws-cli.js'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { ACCOUNT, clientEnv, REGION } from './scenario.js'

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

const queueUrl = () => `${server.url}/${ACCOUNT}/ticks`

type Envelope = {
  id: string
  'detail-type': string
  source: string
  account: string
  time: string
  region: string
  resources: string[]
  detail: unknown
}

/**
 * The messages in the queue (deleted as read), until at least `expected` have come: deliveries
 * run on after `junction clock advance` answers (the ticks are stored by then, not delivered).
 */
async function drain(expected = 0): Promise<string[]> {
  const bodies: string[] = []
  const deadline = Date.now() + 30_000
  for (;;) {
    const r = await ok<{ Messages?: { Body: string; ReceiptHandle: string }[] }>(
      'sqs',
      'receive-message',
      '--queue-url',
      queueUrl(),
      '--max-number-of-messages',
      '10',
    )
    const messages = r.Messages ?? []
    if (messages.length === 0) {
      if (bodies.length >= expected || Date.now() > deadline) return bodies
      await new Promise((resolve) => setTimeout(resolve, 200))
      continue
    }
    for (const m of messages) bodies.push(m.Body)
    await ok(
      'sqs',
      'delete-message-batch',
      '--queue-url',
      queueUrl(),
      '--entries',
      JSON.stringify(messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle }))),
    )
  }
}

const RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/every-5`

before(async () => {
  env = clientEnv()
  server = await startServerProcess({ args: ['--clock', 'manual'] })
})
after(async () => {
  await server.stop()
})

describe('scheduled rules with the AWS CLI and a manual clock', () => {
  let started: number

  test('invalid expressions and custom buses are refused with AWS errors', async () => {
    for (const expression of ['rate(1 minutes)', 'rate(10 seconds)', 'cron(0 1 * * * *)']) {
      const r = await aws(
        'events',
        'put-rule',
        '--name',
        'bad',
        '--schedule-expression',
        expression,
      )
      assert.equal(r.code, 254, expression)
      assert.match(
        r.stderr,
        /An error occurred \(ValidationException\) when calling the PutRule operation: Parameter ScheduleExpression is not valid\./,
        expression,
      )
    }
    await ok('events', 'create-event-bus', '--name', 'custom')
    const r = await aws(
      'events',
      'put-rule',
      '--name',
      'on-custom',
      '--event-bus-name',
      'custom',
      '--schedule-expression',
      'rate(5 minutes)',
    )
    assert.equal(r.code, 254)
    assert.match(
      r.stderr,
      /\(ValidationException\) when calling the PutRule operation: ScheduleExpression is supported only on the default event bus\./,
    )
  })

  test('a rate rule and a cron rule deliver Scheduled Events at their times', async () => {
    const clock = await junctionClock('now')
    assert.equal(clock.code, 0, clock.stderr)
    assert.match(clock.stdout, /\(manual clock\)/)
    started = Date.parse(clock.stdout.split(' ')[0]!)
    await ok('sqs', 'create-queue', '--queue-name', 'ticks')
    const put = await ok<{ RuleArn: string }>(
      'events',
      'put-rule',
      '--name',
      'every-5',
      '--schedule-expression',
      'rate(5 minutes)',
    )
    assert.equal(put.RuleArn, RULE_ARN)
    const described = await ok<{ ScheduleExpression: string; State: string }>(
      'events',
      'describe-rule',
      '--name',
      'every-5',
    )
    assert.equal(described.ScheduleExpression, 'rate(5 minutes)')
    assert.equal(described.State, 'ENABLED')
    await ok(
      'events',
      'put-targets',
      '--rule',
      'every-5',
      '--targets',
      JSON.stringify([{ Id: 'q', Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:ticks` }]),
    )
    // Every minute from the top of the hour: a transformer shows which tick fired.
    await ok('events', 'put-rule', '--name', 'hourly', '--schedule-expression', 'cron(0 * * * ? *)')
    await ok(
      'events',
      'put-targets',
      '--rule',
      'hourly',
      '--targets',
      JSON.stringify([
        {
          Id: 'q',
          Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:ticks`,
          InputTransformer: {
            InputPathsMap: { t: '$.time', type: '$.detail-type' },
            InputTemplate: '{"hourly": <t>, "type": <type>}',
          },
        },
      ]),
    )
    assert.deepEqual(await drain(), [], 'nothing fires while the clock stands still')

    const advanced = await junctionClock('advance', '61m')
    assert.equal(advanced.code, 0, advanced.stderr)
    assert.equal(Date.parse(advanced.stdout.split(' ')[0]!), started + 61 * 60_000)

    // The tops of the hour in those 61 minutes: one, or two when the clock started in the last
    // minute of an hour.
    const end = started + 61 * 60_000
    const hours: number[] = []
    for (let h = Math.ceil(started / 3_600_000) * 3_600_000; h <= end; h += 3_600_000)
      if (h > started) hours.push(h)
    const bodies = await drain(12 + hours.length)
    const scheduled = bodies
      .filter((b) => !b.includes('"hourly"'))
      .map((b) => JSON.parse(b) as Envelope)
    const expectedTimes = Array.from({ length: 12 }, (_, i) =>
      envelopeTime(started + (i + 1) * 5 * 60_000),
    )
    assert.deepEqual(scheduled.map((e) => e.time).sort(), expectedTimes)
    for (const e of scheduled) {
      assert.equal(e['detail-type'], 'Scheduled Event')
      assert.equal(e.source, 'aws.events')
      assert.equal(e.account, ACCOUNT)
      assert.equal(e.region, REGION)
      assert.deepEqual(e.resources, [RULE_ARN])
      assert.deepEqual(e.detail, {})
    }
    assert.equal(new Set(scheduled.map((e) => e.id)).size, 12, 'each tick its own event')
    assert.deepEqual(
      bodies
        .filter((b) => b.includes('"hourly"'))
        .map((b) => JSON.parse(b) as { hourly: string })
        .sort((a, b) => a.hourly.localeCompare(b.hourly)),
      hours.map((h) => ({ hourly: envelopeTime(h), type: 'Scheduled Event' })),
    )
  })

  test('kill -9 and a restart neither repeat nor lose a tick', async () => {
    const dataDir = server.dataDir
    await server.kill()
    // The manual clock starts again at the real time, before the ticks already fired.
    server = await startServerProcess({ dataDir, args: ['--clock', 'manual'] })
    const restarted = Date.parse((await junctionClock('now')).stdout.split(' ')[0]!)
    assert.ok(restarted < started + 61 * 60_000)
    const r = await junctionClock(
      'advance',
      `${String(Math.ceil((started + 71 * 60_000 - restarted) / 1000))}s`,
    )
    assert.equal(r.code, 0, r.stderr)
    // A top of the hour in those ten minutes fires the hourly rule too.
    const hourly = Math.ceil((started + 61 * 60_000) / 3_600_000) * 3_600_000
    const hourlyTicks = hourly > started + 61 * 60_000 && hourly <= started + 71 * 60_000 ? 1 : 0
    const scheduled = (await drain(2 + hourlyTicks))
      .filter((b) => !b.includes('"hourly"'))
      .map((b) => (JSON.parse(b) as Envelope).time)
      .sort()
    assert.deepEqual(
      scheduled,
      [envelopeTime(started + 65 * 60_000), envelopeTime(started + 70 * 60_000)],
      'the ticks after the last one fired before the kill, once each',
    )
  })

  test('disable-rule stops the ticks', async () => {
    await ok('events', 'disable-rule', '--name', 'every-5')
    await ok('events', 'disable-rule', '--name', 'hourly')
    const r = await junctionClock('advance', '2h')
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(await drain(), [])
  })
})

describe('the clock of a server on the system clock', () => {
  let system: ServerProcess
  before(async () => {
    system = await startServerProcess({ args: ['--store', 'memory'] })
  })
  after(async () => {
    await system.stop()
  })

  test('can be read but not moved', async () => {
    const { clock: cli } = awsCli(
      () => system.url,
      () => env,
    )
    const now = await cli('now')
    assert.equal(now.code, 0, now.stderr)
    assert.ok(Math.abs(Date.parse(now.stdout.trim()) - Date.now()) < 60_000)
    const moved = await cli('advance', '1h')
    assert.equal(moved.code, 2)
    assert.match(moved.stderr, /start the server with --clock manual/)
  })
})

/** EventBridge's `time`: ISO 8601 to the second, UTC. */
function envelopeTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}
