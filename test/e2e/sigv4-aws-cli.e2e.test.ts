/**
 * `--auth sigv4` end to end: a `junction serve` process with a credentials file, driven by the
 * real AWS CLI v2 (EventBridge's JSON 1.1 and SQS's query protocol) with `--profile` over the
 * same file, and by the JS SDK (SQS's JSON protocol). Each identity acts in its own account; a
 * wrong secret, an unknown key and an unsigned request are refused with each protocol's codes;
 * a key added to the file works without a restart; no secret reaches the server's output.
 */
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startServerProcess, type ServerProcess } from '../helpers/server.js'
import { clientEnv } from './scenario.js'

const AWS = '/usr/bin/aws'
const SECRET_A = 'secret-of-team-a-0123456789'
const SECRET_B = 'secret-of-team-b-9876543210'

let server: ServerProcess
let dir: string
let serverFile: string
let env: NodeJS.ProcessEnv

type Run = { code: number | string; stdout: string; stderr: string }

function aws(profile: string, ...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(
      AWS,
      ['--endpoint-url', server.url, '--output', 'json', '--profile', profile, ...args],
      { env, timeout: 60_000 },
      (err, stdout, stderr) => {
        done({ code: err ? (err.code ?? 'killed') : 0, stdout, stderr })
      },
    )
  })
}

async function ok(profile: string, ...args: string[]): Promise<Record<string, unknown>> {
  const r = await aws(profile, ...args)
  assert.equal(r.code, 0, `${profile}: aws ${args.join(' ')}\n${r.stderr}`)
  return (r.stdout.trim() === '' ? {} : JSON.parse(r.stdout)) as Record<string, unknown>
}

async function refused(
  r: Promise<Run>,
  operation: string,
  code: string,
  message: string | RegExp,
): Promise<void> {
  const { code: exit, stderr } = await r
  assert.equal(exit, 254, stderr)
  const m = /An error occurred \(([^)]+)\) when calling the (\w+) operation: (.*)/.exec(stderr)
  assert.ok(m, stderr)
  assert.equal(m[1], code)
  assert.equal(m[2], operation)
  if (typeof message === 'string') assert.equal(m[3]!.trim(), message)
  else assert.match(m[3]!, message)
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'junction-sigv4-'))
  // The server's identities; the clients read the same file, plus profiles it does not know.
  serverFile = join(dir, 'server-credentials')
  writeFileSync(
    serverFile,
    [
      '[team-a]',
      'aws_access_key_id = AKIDTEAMA0000000001',
      `aws_secret_access_key = ${SECRET_A}`,
      'aws_account_id = 111111111111',
      '',
      '[team-b]',
      'aws_access_key_id = AKIDTEAMB0000000002',
      `aws_secret_access_key = ${SECRET_B}`,
      'aws_account_id = 222222222222',
      'organization_id = o-abcdefghij',
      '',
    ].join('\n'),
  )
  const clientFile = join(dir, 'client-credentials')
  writeFileSync(
    clientFile,
    [
      '[team-a]',
      'aws_access_key_id = AKIDTEAMA0000000001',
      `aws_secret_access_key = ${SECRET_A}`,
      '[team-b]',
      'aws_access_key_id = AKIDTEAMB0000000002',
      `aws_secret_access_key = ${SECRET_B}`,
      '[wrong-secret]',
      'aws_access_key_id = AKIDTEAMA0000000001',
      'aws_secret_access_key = not-the-secret',
      '[stranger]',
      'aws_access_key_id = AKIDSTRANGER0000003',
      'aws_secret_access_key = whatever',
      '[team-c]',
      'aws_access_key_id = AKIDTEAMC0000000003',
      'aws_secret_access_key = secret-of-team-c',
      '',
    ].join('\n'),
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

describe('--auth sigv4 with the AWS CLI', () => {
  test('each identity acts in the account the file gives it', async () => {
    await ok('team-a', 'events', 'create-event-bus', '--name', 'orders')
    const a = await ok('team-a', 'events', 'describe-event-bus', '--name', 'orders')
    assert.equal(a.Arn, 'arn:aws:events:us-east-1:111111111111:event-bus/orders')
    await refused(
      aws('team-b', 'events', 'describe-event-bus', '--name', 'orders'),
      'DescribeEventBus',
      'ResourceNotFoundException',
      'Event bus orders does not exist.',
    )
    const q = await ok('team-b', 'sqs', 'create-queue', '--queue-name', 'inbox')
    assert.match(String(q.QueueUrl), /\/222222222222\/inbox$/)
  })

  test('a wrong secret, an unknown key and no signature are refused (JSON 1.1)', async () => {
    await refused(
      aws('wrong-secret', 'events', 'list-event-buses'),
      'ListEventBuses',
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    )
    await refused(
      aws('stranger', 'events', 'list-event-buses'),
      'ListEventBuses',
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    )
    await refused(
      aws('team-a', '--no-sign-request', 'events', 'list-event-buses'),
      'ListEventBuses',
      'MissingAuthenticationTokenException',
      'Missing Authentication Token',
    )
  })

  test('the same refusals in the SQS query protocol', async () => {
    await refused(
      aws('wrong-secret', 'sqs', 'list-queues'),
      'ListQueues',
      'SignatureDoesNotMatch',
      /^The request signature we calculated does not match/,
    )
    await refused(
      aws('stranger', 'sqs', 'list-queues'),
      'ListQueues',
      'InvalidClientTokenId',
      'The security token included in the request is invalid.',
    )
  })

  test('Scheduler (REST-JSON, signing name scheduler) is verified too', async () => {
    const listed = await ok('team-a', 'scheduler', 'list-schedule-groups')
    assert.deepEqual(
      (listed.ScheduleGroups as { Arn: string }[]).map((g) => g.Arn),
      ['arn:aws:scheduler:us-east-1:111111111111:schedule-group/default'],
    )
    await refused(
      aws('wrong-secret', 'scheduler', 'list-schedule-groups'),
      'ListScheduleGroups',
      'InvalidSignatureException',
      /^The request signature we calculated does not match/,
    )
    await refused(
      aws('stranger', 'scheduler', 'list-schedules'),
      'ListSchedules',
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    )
  })

  test('the SQS JSON protocol (JS SDK) gets the query protocol’s code', async () => {
    const client = new SQSClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEAMB0000000002', secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
    })
    try {
      await assert.rejects(
        client.send(new GetQueueUrlCommand({ QueueName: 'inbox' })),
        (e: Error) => {
          // The SDK is query-compatible: it names the error by `x-amzn-query-error`, so a JSON
          // client sees the same code as a query-protocol one.
          assert.equal(e.name, 'SignatureDoesNotMatch')
          return true
        },
      )
      const good = new SQSClient({
        endpoint: server.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDTEAMB0000000002', secretAccessKey: SECRET_B },
        maxAttempts: 1,
      })
      const url = await good.send(new GetQueueUrlCommand({ QueueName: 'inbox' }))
      assert.match(url.QueueUrl ?? '', /\/222222222222\/inbox$/)
      good.destroy()
    } finally {
      client.destroy()
    }
  })

  test('a key added to the file works without a restart', async () => {
    await refused(
      aws('team-c', 'events', 'list-event-buses'),
      'ListEventBuses',
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    )
    appendFileSync(
      serverFile,
      '[team-c]\naws_access_key_id = AKIDTEAMC0000000003\naws_secret_access_key = secret-of-team-c\naws_account_id = 333333333333\n',
    )
    // The file's change is noticed within a second.
    await new Promise((r) => setTimeout(r, 1200))
    const buses = await ok('team-c', 'events', 'list-event-buses')
    assert.deepEqual(
      (buses.EventBuses as { Arn: string }[]).map((b) => b.Arn),
      ['arn:aws:events:us-east-1:333333333333:event-bus/default'],
    )
  })

  test("a bus policy trusting an organization lets its members' keys put events, no one else", async () => {
    // team-a's bus trusts organization o-abcdefghij, which the file gives team-b (not team-c).
    await ok(
      'team-a',
      'events',
      'put-permission',
      '--event-bus-name',
      'orders',
      '--action',
      'events:PutEvents',
      '--principal',
      '*',
      '--statement-id',
      'org',
      '--condition',
      'Type=StringEquals,Key=aws:PrincipalOrgID,Value=o-abcdefghij',
    )
    const entry = JSON.stringify([
      {
        Source: 'team.b',
        DetailType: 'hello',
        Detail: '{}',
        EventBusName: 'arn:aws:events:us-east-1:111111111111:event-bus/orders',
      },
    ])
    const fromB = await ok('team-b', 'events', 'put-events', '--entries', entry)
    assert.equal(fromB.FailedEntryCount, 0, JSON.stringify(fromB))
    const fromC = await ok('team-c', 'events', 'put-events', '--entries', entry)
    assert.equal(fromC.FailedEntryCount, 1)
    assert.deepEqual((fromC.Entries as Record<string, string>[])[0], {
      ErrorCode: 'AccessDeniedException',
      ErrorMessage:
        'Account 333333333333 is not authorized to perform: events:PutEvents on resource: arn:aws:events:us-east-1:111111111111:event-bus/orders because no resource-based policy allows the events:PutEvents action (statement "org" applies, but its Condition does not hold)',
    })
  })

  test('no secret appears in what the server wrote', () => {
    const out = server.output()
    for (const secret of [SECRET_A, SECRET_B, 'secret-of-team-c', 'not-the-secret'])
      assert.ok(!out.includes(secret), `the output holds ${secret}`)
    assert.match(out, /credentials read/)
  })
})

describe('--auth sigv4 settings', () => {
  test('without --credentials, or with --clock manual alone, the server does not start', async () => {
    await assert.rejects(
      startServerProcess({ args: ['--store', 'memory', '--auth', 'sigv4'] }),
      /--auth sigv4 needs --credentials FILE/,
    )
    await assert.rejects(
      startServerProcess({
        args: [
          '--store',
          'memory',
          '--auth',
          'sigv4',
          '--credentials',
          serverFile,
          '--clock',
          'manual',
        ],
      }),
      /add --allow-manual-clock/,
    )
  })
})
