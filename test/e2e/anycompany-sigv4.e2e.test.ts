/**
 * The founding brief's flow across four accounts, in `--auth sigv4` mode, driven by the real AWS
 * CLI v2 under each account's keys:
 *
 * - service A (111111111111) publishes `cwi.servicea` events; its rule forwards them to the
 *   central account's bus (222222222222), whose policy trusts A's organization;
 * - central's rule sends them to a queue where a validator (this test) reads them and
 *   re-publishes the valid ones as `valid.cw.servicea`;
 * - two central rules forward those to service B's bus (333333333333, same region) and service
 *   C's bus (444444444444, eu-west-1); each delivers into its own queue;
 * - B and C receive exactly the valid events, with A's account and region kept; a bus that B
 *   forwards to gets nothing (one hop); an account that the policy does not name is refused
 *   with a message saying so; a wrong secret and an expired signature are refused.
 */
import { EventBridgeClient, ListEventBusesCommand } from '@aws-sdk/client-eventbridge'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { clientEnv } from './scenario.js'

const AWS = '/usr/bin/aws'
const A = '111111111111'
const CENTRAL = '222222222222'
const B = '333333333333'
const C = '444444444444'
const OUTSIDER = '555555555555'
const ORG = 'o-anycompany01'
const WEST = 'eu-west-1'

const identities: [profile: string, account: string, org?: string][] = [
  ['a', A, ORG],
  ['central', CENTRAL, ORG],
  ['b', B, ORG],
  ['c', C, ORG],
  ['outsider', OUTSIDER],
]
const keyOf = (account: string) => `AKIDANYCOMPANY${account.slice(0, 6)}`
const secretOf = (account: string) => `secret-${account}`

let server: ServerProcess
let env: NodeJS.ProcessEnv

type Run = { code: number | string; stdout: string; stderr: string }

function aws(profile: string, region: string, ...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(
      AWS,
      [
        '--endpoint-url',
        server.url,
        '--output',
        'json',
        '--profile',
        profile,
        '--region',
        region,
        ...args,
      ],
      { env, timeout: 60_000 },
      (err, stdout, stderr) => done({ code: err ? (err.code ?? 'killed') : 0, stdout, stderr }),
    )
  })
}

async function ok(
  profile: string,
  region: string,
  ...args: string[]
): Promise<Record<string, unknown>> {
  const r = await aws(profile, region, ...args)
  assert.equal(r.code, 0, `${profile}: aws ${args.join(' ')}\n${r.stderr}`)
  return (r.stdout.trim() === '' ? {} : JSON.parse(r.stdout)) as Record<string, unknown>
}

const east = (profile: string, ...args: string[]) => ok(profile, 'us-east-1', ...args)
const busArn = (account: string, name: string, region = 'us-east-1') =>
  `arn:aws:events:${region}:${account}:event-bus/${name}`
const queueArn = (account: string, name: string, region = 'us-east-1') =>
  `arn:aws:sqs:${region}:${account}:${name}`

/** Messages from a queue until `expected` have come (then a little longer for extras). */
async function receive(
  profile: string,
  region: string,
  account: string,
  queue: string,
  expected: number,
): Promise<string[]> {
  const url = `${server.url}/${account}/${queue}`
  const bodies: string[] = []
  const deadline = Date.now() + 30_000
  for (;;) {
    const r = await ok(
      profile,
      region,
      'sqs',
      'receive-message',
      '--queue-url',
      url,
      '--max-number-of-messages',
      '10',
      '--wait-time-seconds',
      '1',
    )
    const messages = (r.Messages ?? []) as { Body: string; ReceiptHandle: string }[]
    for (const m of messages) bodies.push(m.Body)
    if (messages.length > 0)
      await ok(
        profile,
        region,
        'sqs',
        'delete-message-batch',
        '--queue-url',
        url,
        '--entries',
        JSON.stringify(messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle }))),
      )
    if (bodies.length >= expected && messages.length === 0) return bodies
    if (Date.now() > deadline) return bodies
  }
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'junction-anycompany-'))
  const lines: string[] = []
  for (const [profile, account, org] of identities) {
    lines.push(
      `[${profile}]`,
      `aws_access_key_id = ${keyOf(account)}`,
      `aws_secret_access_key = ${secretOf(account)}`,
      `aws_account_id = ${account}`,
    )
    if (org) lines.push(`organization_id = ${ORG}`)
    lines.push('')
  }
  const serverFile = join(dir, 'credentials')
  writeFileSync(serverFile, lines.join('\n'))
  const clientFile = join(dir, 'client-credentials')
  writeFileSync(
    clientFile,
    `${lines.filter((l) => !l.startsWith('aws_account_id') && !l.startsWith('organization_id')).join('\n')}\n[wrong]\naws_access_key_id = ${keyOf(A)}\naws_secret_access_key = not-a's-secret\n`,
  )
  env = { ...clientEnv(), AWS_SHARED_CREDENTIALS_FILE: clientFile }
  delete env.AWS_ACCESS_KEY_ID
  delete env.AWS_SECRET_ACCESS_KEY
  server = await startServerProcess({
    args: ['--store', 'memory', '--auth', 'sigv4', '--credentials', serverFile],
  })
})
after(async () => {
  await server.stop()
})

test('the AnyCompany flow across four accounts and two regions, signed', async () => {
  // Central: its bus trusts the organization; A's events go to the validator's queue.
  await east('central', 'events', 'create-event-bus', '--name', 'central')
  await east(
    'central',
    'events',
    'put-permission',
    '--event-bus-name',
    'central',
    '--action',
    'events:PutEvents',
    '--principal',
    '*',
    '--statement-id',
    'anycompany',
    '--condition',
    `Type=StringEquals,Key=aws:PrincipalOrgID,Value=${ORG}`,
  )
  await east('central', 'sqs', 'create-queue', '--queue-name', 'validator-in')
  await east(
    'central',
    'events',
    'put-rule',
    '--event-bus-name',
    'central',
    '--name',
    'to-validator',
    '--event-pattern',
    '{"source":["cwi.servicea"]}',
  )
  await east(
    'central',
    'events',
    'put-targets',
    '--event-bus-name',
    'central',
    '--rule',
    'to-validator',
    '--targets',
    JSON.stringify([{ Id: 'q', Arn: queueArn(CENTRAL, 'validator-in') }]),
  )
  // Consumers: B in this region, C in eu-west-1; each bus allows central; each has a queue.
  for (const [profile, account, region] of [
    ['b', B, 'us-east-1'],
    ['c', C, WEST],
  ] as const) {
    await ok(
      profile,
      region,
      'events',
      'put-permission',
      '--action',
      'events:PutEvents',
      '--principal',
      CENTRAL,
      '--statement-id',
      'central',
    )
    await ok(profile, region, 'sqs', 'create-queue', '--queue-name', 'inbox')
    await ok(
      profile,
      region,
      'events',
      'put-rule',
      '--name',
      'valid',
      '--event-pattern',
      '{"source":["valid.cw.servicea"]}',
    )
    await ok(
      profile,
      region,
      'events',
      'put-targets',
      '--rule',
      'valid',
      '--targets',
      JSON.stringify([{ Id: 'q', Arn: queueArn(account, 'inbox', region) }]),
    )
  }
  // B tries to pass the events on to a bus of its own: one hop only, so nothing arrives there.
  await east('b', 'events', 'create-event-bus', '--name', 'onward')
  await east('b', 'sqs', 'create-queue', '--queue-name', 'onward-in')
  await east(
    'b',
    'events',
    'put-rule',
    '--name',
    'onward',
    '--event-pattern',
    '{"source":["valid.cw.servicea"]}',
  )
  await east(
    'b',
    'events',
    'put-targets',
    '--rule',
    'onward',
    '--targets',
    JSON.stringify([{ Id: 'bus', Arn: busArn(B, 'onward') }]),
  )
  await east(
    'b',
    'events',
    'put-rule',
    '--event-bus-name',
    'onward',
    '--name',
    'catch',
    '--event-pattern',
    '{"source":[{"prefix":""}]}',
  )
  await east(
    'b',
    'events',
    'put-targets',
    '--event-bus-name',
    'onward',
    '--rule',
    'catch',
    '--targets',
    JSON.stringify([{ Id: 'q', Arn: queueArn(B, 'onward-in') }]),
  )
  // Central forwards valid events to both consumers.
  await east(
    'central',
    'events',
    'put-rule',
    '--event-bus-name',
    'central',
    '--name',
    'to-consumers',
    '--event-pattern',
    '{"source":["valid.cw.servicea"]}',
  )
  await east(
    'central',
    'events',
    'put-targets',
    '--event-bus-name',
    'central',
    '--rule',
    'to-consumers',
    '--targets',
    JSON.stringify([
      { Id: 'b', Arn: busArn(B, 'default') },
      { Id: 'c', Arn: busArn(C, 'default', WEST) },
    ]),
  )
  // Service A forwards its events to central.
  await east(
    'a',
    'events',
    'put-rule',
    '--name',
    'to-central',
    '--event-pattern',
    '{"source":["cwi.servicea"]}',
  )
  await east(
    'a',
    'events',
    'put-targets',
    '--rule',
    'to-central',
    '--targets',
    JSON.stringify([{ Id: 'central', Arn: busArn(CENTRAL, 'central') }]),
  )

  // A publishes four widgets, two of them valid.
  const widgets = [
    { widget: 'w1', valid: true },
    { widget: 'w2', valid: false },
    { widget: 'w3', valid: true },
    { widget: 'w4', valid: false },
  ]
  const put = await east(
    'a',
    'events',
    'put-events',
    '--entries',
    JSON.stringify(
      widgets.map((w) => ({
        Source: 'cwi.servicea',
        DetailType: 'widget',
        Detail: JSON.stringify(w),
      })),
    ),
  )
  assert.equal(put.FailedEntryCount, 0)

  // The validator: reads what central received, re-publishes the valid ones.
  const received = (await receive('central', 'us-east-1', CENTRAL, 'validator-in', 4)).map(
    (b) =>
      JSON.parse(b) as {
        account: string
        region: string
        detail: { widget: string; valid: boolean }
      },
  )
  assert.deepEqual(received.map((e) => e.detail.widget).sort(), ['w1', 'w2', 'w3', 'w4'])
  for (const e of received) assert.equal(e.account, A, 'the original account is kept')
  const valid = received.filter((e) => e.detail.valid)
  const republished = await east(
    'central',
    'events',
    'put-events',
    '--entries',
    JSON.stringify(
      valid.map((e) => ({
        Source: 'valid.cw.servicea',
        DetailType: 'widget',
        Detail: JSON.stringify(e.detail),
        EventBusName: 'central',
      })),
    ),
  )
  assert.equal(republished.FailedEntryCount, 0)

  // B and C receive exactly the valid events.
  for (const [profile, account, region] of [
    ['b', B, 'us-east-1'],
    ['c', C, WEST],
  ] as const) {
    const got = (await receive(profile, region, account, 'inbox', 2)).map(
      (b) =>
        JSON.parse(b) as {
          account: string
          region: string
          source: string
          detail: { widget: string }
        },
    )
    assert.deepEqual(got.map((e) => e.detail.widget).sort(), ['w1', 'w3'], profile)
    for (const e of got) {
      assert.equal(e.source, 'valid.cw.servicea')
      assert.equal(e.account, CENTRAL, 'published by central, which the hop keeps')
      assert.equal(e.region, 'us-east-1', 'the region it was published in, also in eu-west-1')
    }
  }
  assert.deepEqual(
    await receive('b', 'us-east-1', B, 'onward-in', 0),
    [],
    'never forwarded a second time',
  )

  // Refusals: an account outside the organization, a wrong secret, an expired signature.
  const outsider = await ok(
    'outsider',
    'us-east-1',
    'events',
    'put-events',
    '--entries',
    JSON.stringify([
      {
        Source: 'cwi.servicea',
        DetailType: 'widget',
        Detail: '{}',
        EventBusName: busArn(CENTRAL, 'central'),
      },
    ]),
  )
  assert.deepEqual((outsider.Entries as Record<string, string>[])[0], {
    ErrorCode: 'AccessDeniedException',
    ErrorMessage: `Account ${OUTSIDER} is not authorized to perform: events:PutEvents on resource: ${busArn(CENTRAL, 'central')} because no resource-based policy allows the events:PutEvents action (statement "anycompany" applies, but its Condition does not hold)`,
  })
  const wrong = await aws('wrong', 'us-east-1', 'events', 'list-event-buses')
  assert.equal(wrong.code, 254)
  assert.match(
    wrong.stderr,
    /\(InvalidSignatureException\) when calling the ListEventBuses operation: The request signature we calculated does not match/,
  )
  const late = new EventBridgeClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: keyOf(A), secretAccessKey: secretOf(A) },
    systemClockOffset: -20 * 60_000,
    maxAttempts: 1,
  })
  try {
    await assert.rejects(late.send(new ListEventBusesCommand({})), (e: Error) => {
      assert.equal(e.name, 'InvalidSignatureException')
      assert.match(e.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z/)
      return true
    })
  } finally {
    late.destroy()
  }
})
