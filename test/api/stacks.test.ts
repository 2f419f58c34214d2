/**
 * `/junction/stacks` and `/junction/whoami` on a server run with `--auth sigv4`: each signed
 * caller sees and changes its own account's stacks only; names are checked as CloudFormation
 * checks them; records survive a restart (SQLite store). A whole deploy runs as the account of
 * a profile of a credentials file.
 */
import { DescribeEventBusCommand } from '@aws-sdk/client-eventbridge'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startServer, type RunningServer } from '../../src/bus.js'
import { DEFAULTS } from '../../src/config.js'
import { destroyClients } from '../../src/deploy/clients.js'
import { deployStack } from '../../src/deploy/deploy.js'
import { StackApiError, StackClient } from '../../src/deploy/stack-client.js'
import type { StackDraft } from '../../src/deploy/stack-record.js'
import { openSession } from '../../src/deploy/stack-session.js'
import { fakePlan } from '../deploy/deploy-plan.js'

const A = { accessKeyId: 'AKIDTEAMA0000000001', secretAccessKey: 'secret-of-a-0123456789' }
const B = { accessKeyId: 'AKIDTEAMB0000000002', secretAccessKey: 'secret-of-b-0123456789' }

let dir: string
let server: RunningServer
let asA: StackClient
let asB: StackClient

async function start(): Promise<RunningServer> {
  return startServer({
    ...DEFAULTS,
    port: 0,
    store: 'sqlite',
    dataDir: join(dir, 'data'),
    logLevel: 'silent',
    auth: 'sigv4',
    credentialsFile: join(dir, 'credentials'),
  })
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'junction-stacks-'))
  writeFileSync(
    join(dir, 'credentials'),
    [
      '[team-a]',
      `aws_access_key_id = ${A.accessKeyId}`,
      `aws_secret_access_key = ${A.secretAccessKey}`,
      'aws_account_id = 111111111111',
      '',
      '[team-b]',
      `aws_access_key_id = ${B.accessKeyId}`,
      `aws_secret_access_key = ${B.secretAccessKey}`,
      'aws_account_id = 222222222222',
      '',
    ].join('\n'),
  )
  server = await start()
  asA = new StackClient(server.url, 'us-east-1', A)
  asB = new StackClient(server.url, 'us-east-1', B)
})
after(async () => {
  await server.close()
})

const draft = (name: string): StackDraft => ({
  name,
  status: 'CREATE_COMPLETE',
  templatePath: '/tmp/t.yaml',
  parameters: { Stage: 'prod' },
  resources: [
    {
      logicalId: 'Bus',
      type: 'AWS::Events::EventBus',
      physicalId: 'orders',
      attributes: { Arn: 'arn:aws:events:us-east-1:111111111111:event-bus/orders' },
      properties: { Name: 'orders' },
      status: 'CREATE_COMPLETE',
    },
  ],
  outputs: [{ key: 'BusName', value: 'orders' }],
})

const refusal = (status: number, code: string, message?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof StackApiError, String(e))
  assert.equal(e.status, status)
  assert.equal(e.code, code)
  if (message) assert.match(e.message, message)
  return true
}

describe('/junction/stacks with --auth sigv4', () => {
  test('whoami answers the account of the signing key', async () => {
    assert.deepEqual(await asA.whoami(), {
      Account: '111111111111',
      Arn: 'arn:aws:iam::111111111111:root',
      UserId: A.accessKeyId,
    })
    assert.equal((await asB.whoami()).Account, '222222222222')
  })

  test('a stack put by account A is seen by A only', async () => {
    const stored = await asA.put(draft('orders'))
    assert.match(
      stored.id,
      /^arn:aws:cloudformation:us-east-1:111111111111:stack\/orders\/[0-9a-f-]{36}$/,
    )
    assert.deepEqual((await asA.get('orders'))?.outputs, [{ key: 'BusName', value: 'orders' }])
    assert.deepEqual(
      (await asA.list()).map((s) => s.name),
      ['orders'],
    )
    assert.equal(await asB.get('orders'), undefined)
    assert.deepEqual(await asB.list(), [])
    await assert.rejects(
      asB.delete('orders'),
      refusal(404, 'ValidationError', /Stack with id orders does not exist/),
    )
    assert.notEqual(await asA.get('orders'), undefined)
  })

  test('a second put keeps the id and creation time and moves updatedAt', async () => {
    const first = await asA.put(draft('kept'))
    await new Promise((r) => setTimeout(r, 5))
    const second = await asA.put({ ...draft('kept'), status: 'UPDATE_COMPLETE' })
    assert.equal(second.id, first.id)
    assert.equal(second.createdAt, first.createdAt)
    assert.ok(second.updatedAt > first.updatedAt)
    assert.equal(second.status, 'UPDATE_COMPLETE')
  })

  test('bad names, bad records and unsigned calls are refused', async () => {
    await assert.rejects(
      asA.get('bad_name'),
      refusal(
        400,
        'ValidationException',
        /Member must satisfy regular expression pattern: \[a-zA-Z\]\[-a-zA-Z0-9\]\*/,
      ),
    )
    await assert.rejects(
      asA.put({ ...draft('x'), name: '9lives' }),
      refusal(400, 'ValidationException'),
    )
    await assert.rejects(
      asA.put({ ...draft('odd'), status: 'DONE' as never }),
      refusal(400, 'ValidationException', /status must be one of/),
    )
    const unsigned = await fetch(`${server.url}/junction/stacks`)
    assert.equal(unsigned.status, 403)
    const body = (await unsigned.json()) as { __type: string }
    assert.equal(body.__type, 'MissingAuthenticationTokenException')
  })

  test('records survive a restart', async () => {
    const before = await asA.get('orders')
    await server.close()
    server = await start()
    asA = new StackClient(server.url, 'us-east-1', A)
    asB = new StackClient(server.url, 'us-east-1', B)
    assert.deepEqual(await asA.get('orders'), before)
    await asA.delete('orders')
    assert.equal(await asA.get('orders'), undefined)
  })

  test('a deploy as a profile of the credentials file acts in that account', async () => {
    const saved = { ...process.env }
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials')
    process.env.AWS_CONFIG_FILE = join(dir, 'no-config')
    delete process.env.AWS_ACCESS_KEY_ID
    delete process.env.AWS_SECRET_ACCESS_KEY
    try {
      const session = await openSession({
        endpointUrl: server.url,
        region: 'us-east-1',
        profile: 'team-b',
      })
      assert.equal(session.account, '222222222222')
      const plan = fakePlan(
        'team-b-stack',
        [{ logicalId: 'Bus', type: 'AWS::Events::EventBus', props: () => ({ Name: 'b-bus' }) }],
        undefined,
        { account: session.account, region: 'us-east-1' },
      )
      const result = await deployStack({ plan, ...session, templatePath: '/tmp/b.yaml' })
      assert.equal(
        result.record.resources[0]?.attributes.Arn,
        'arn:aws:events:us-east-1:222222222222:event-bus/b-bus',
      )
      const bus = await session.clients.events.send(new DescribeEventBusCommand({ Name: 'b-bus' }))
      assert.equal(bus.Arn, 'arn:aws:events:us-east-1:222222222222:event-bus/b-bus')
      destroyClients(session.clients)
      assert.deepEqual(
        (await asB.list()).map((s) => s.name),
        ['team-b-stack'],
      )
      assert.equal(await asA.get('team-b-stack'), undefined)
    } finally {
      for (const k of Object.keys(process.env))
        if (!(k in saved)) Reflect.deleteProperty(process.env, k)
      Object.assign(process.env, saved)
    }
  })
})
