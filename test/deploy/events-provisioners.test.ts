/**
 * The EventBridge provisioners one by one against a real server (in this process, over HTTP,
 * with the AWS SDK): what an update changes in place, what it replaces (a new name, another
 * bus), and that deleting what is already gone is not an error.
 */
import {
  DescribeApiDestinationCommand,
  DescribeArchiveCommand,
  DescribeConnectionCommand,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-eventbridge'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startServer, type RunningServer } from '../../src/bus.js'
import { DEFAULTS } from '../../src/config.js'
import { createClients, destroyClients } from '../../src/deploy/clients.js'
import type { Clients, ProvisionContext, Provisioner } from '../../src/deploy/model.js'
import { generatedName } from '../../src/deploy/names.js'
import { provisioners } from '../../src/deploy/resources/index.js'

let server: RunningServer
let clients: Clients

before(async () => {
  server = await startServer({ ...DEFAULTS, port: 0, store: 'memory', logLevel: 'silent' })
  clients = createClients({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: '111111111111', secretAccessKey: 'unused' },
  })
})
after(async () => {
  destroyClients(clients)
  await server.close()
})

function ctx(logicalId: string, suffix = 'SUFFIX0000001'): ProvisionContext {
  return {
    clients,
    stackName: 'unit',
    logicalId,
    account: '111111111111',
    region: 'us-east-1',
    baseDir: '/tmp',
    line: 1,
    generatedName: (max) => generatedName('unit', logicalId, max, suffix),
  }
}

const p = (type: string): Provisioner => provisioners.get(type)!
const gone = async (promise: Promise<unknown>) =>
  assert.rejects(promise, (e: Error) => e.name === 'ResourceNotFoundException')
const policyOf = async (bus: string) => {
  const d = await clients.events.send(new DescribeEventBusCommand({ Name: bus }))
  return d.Policy === undefined
    ? undefined
    : (JSON.parse(d.Policy) as { Statement: { Sid: string; Principal: unknown }[] })
}

describe('AWS::Events::EventBus', () => {
  const bus = p('AWS::Events::EventBus')

  test('an update changes description, tags and policy in place; a new Name replaces it', async () => {
    const v1 = {
      Name: 'tagged',
      Description: 'one',
      Tags: [
        { Key: 'a', Value: '1' },
        { Key: 'b', Value: '2' },
      ],
      Policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'all',
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::222222222222:root' },
            Action: 'events:PutEvents',
            Resource: 'arn:aws:events:us-east-1:111111111111:event-bus/tagged',
          },
        ],
      },
    }
    const made = await bus.create(ctx('Bus'), v1)
    assert.equal(made.physicalId, 'tagged')
    assert.equal(made.attributes.Arn, 'arn:aws:events:us-east-1:111111111111:event-bus/tagged')
    assert.deepEqual(
      (await policyOf('tagged'))?.Statement.map((s) => s.Sid),
      ['all'],
    )

    const v2 = {
      Name: 'tagged',
      Description: 'two',
      Tags: [
        { Key: 'b', Value: '3' },
        { Key: 'c', Value: '4' },
      ],
    }
    const updated = await bus.update(ctx('Bus'), made, v1, v2)
    assert.equal(updated.physicalId, 'tagged')
    const d = await clients.events.send(new DescribeEventBusCommand({ Name: 'tagged' }))
    assert.equal(d.Description, 'two')
    assert.equal(d.Policy, undefined)
    const tags = await clients.events.send(new ListTagsForResourceCommand({ ResourceARN: d.Arn }))
    assert.deepEqual(tags.Tags?.map((t) => `${t.Key!}=${t.Value!}`).sort(), ['b=3', 'c=4'])

    const renamed = await bus.update(ctx('Bus'), updated, v2, { ...v2, Name: 'renamed' })
    assert.equal(renamed.physicalId, 'renamed')
    await gone(clients.events.send(new DescribeEventBusCommand({ Name: 'tagged' })))
    await bus.delete(ctx('Bus'), renamed, { Name: 'renamed' })
    await gone(clients.events.send(new DescribeEventBusCommand({ Name: 'renamed' })))
    await bus.delete(ctx('Bus'), renamed, { Name: 'renamed' })
  })
})

describe('AWS::Events::Rule', () => {
  const rule = p('AWS::Events::Rule')
  const bus = p('AWS::Events::EventBus')

  test('moving a rule to another bus replaces it; Ref is bus|name there', async () => {
    await bus.create(ctx('Other'), { Name: 'other' })
    const v1 = { Name: 'nightly', ScheduleExpression: 'rate(1 day)', State: 'DISABLED' }
    const made = await rule.create(ctx('Rule'), v1)
    assert.equal(made.physicalId, 'nightly')
    const d = await clients.events.send(new DescribeRuleCommand({ Name: 'nightly' }))
    assert.equal(d.State, 'DISABLED')
    assert.equal(d.ScheduleExpression, 'rate(1 day)')

    const v2 = {
      Name: 'nightly',
      EventBusName: 'arn:aws:events:us-east-1:111111111111:event-bus/other',
      EventPattern: '{"source":["billing"]}',
    }
    const moved = await rule.update(ctx('Rule'), made, v1, v2)
    assert.equal(moved.physicalId, 'other|nightly')
    assert.equal(moved.attributes.Arn, 'arn:aws:events:us-east-1:111111111111:rule/other/nightly')
    await gone(clients.events.send(new DescribeRuleCommand({ Name: 'nightly' })))
    const there = await clients.events.send(
      new DescribeRuleCommand({ Name: 'nightly', EventBusName: 'other' }),
    )
    assert.equal(there.EventPattern, '{"source":["billing"]}')
    await rule.delete(ctx('Rule'), moved, v2)
    await gone(
      clients.events.send(new DescribeRuleCommand({ Name: 'nightly', EventBusName: 'other' })),
    )
  })

  test('targets the server refuses fail the create with its error code', async () => {
    const targets = [1, 2, 3, 4, 5, 6].map((i) => ({
      Id: `t${String(i)}`,
      Arn: 'arn:aws:sqs:us-east-1:111111111111:q',
    }))
    await assert.rejects(
      rule.create(ctx('Bad'), {
        Name: 'too-many',
        EventPattern: { source: ['x'] },
        Targets: targets,
      }),
      (e: Error) => e.name === 'LimitExceededException',
    )
    // All or nothing: the rule put before the targets were refused is gone again.
    await gone(clients.events.send(new DescribeRuleCommand({ Name: 'too-many' })))
  })
})

describe('AWS::Events::EventBusPolicy', () => {
  const policy = p('AWS::Events::EventBusPolicy')

  test('the Statement form adds, replaces and removes one statement, keeping the others', async () => {
    await p('AWS::Events::EventBus').create(ctx('B'), { Name: 'shared' })
    const keep = await policy.create(ctx('Keep'), {
      EventBusName: 'shared',
      StatementId: 'keep',
      Action: 'events:PutEvents',
      Principal: '333333333333',
    })
    const v1 = {
      EventBusName: 'shared',
      StatementId: 'mine',
      Statement: {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::222222222222:root' },
        Action: 'events:PutEvents',
        Resource: 'arn:aws:events:us-east-1:111111111111:event-bus/shared',
      },
    }
    const made = await policy.create(ctx('Mine'), v1)
    assert.equal(made.physicalId, 'mine')
    const v2 = {
      ...v1,
      Statement: { ...v1.Statement, Principal: { AWS: 'arn:aws:iam::444444444444:root' } },
    }
    await policy.update(ctx('Mine'), made, v1, v2)
    const after = await policyOf('shared')
    assert.deepEqual(after?.Statement.map((s) => s.Sid).sort(), ['keep', 'mine'])
    assert.deepEqual(after.Statement.find((s) => s.Sid === 'mine')?.Principal, {
      AWS: 'arn:aws:iam::444444444444:root',
    })
    await policy.delete(ctx('Mine'), made, v2)
    assert.deepEqual(
      (await policyOf('shared'))?.Statement.map((s) => s.Sid),
      ['keep'],
    )
    await policy.delete(ctx('Keep'), keep, { EventBusName: 'shared' })
  })
})

describe('AWS::Events::Archive', () => {
  const archive = p('AWS::Events::Archive')

  test('retention changes in place; a new ArchiveName replaces it', async () => {
    const source = 'arn:aws:events:us-east-1:111111111111:event-bus/default'
    const v1 = { SourceArn: source, RetentionDays: 3, EventPattern: { source: ['a'] } }
    const made = await archive.create(ctx('Arch'), v1)
    assert.equal(made.physicalId, 'unit-Arch-SUFFIX0000001')
    const v2 = { ...v1, RetentionDays: 9 }
    const same = await archive.update(ctx('Arch'), made, v1, v2)
    assert.equal(same.physicalId, made.physicalId)
    const d = await clients.events.send(
      new DescribeArchiveCommand({ ArchiveName: made.physicalId }),
    )
    assert.equal(d.RetentionDays, 9)
    assert.equal(d.EventPattern, '{"source":["a"]}')
    const v3 = { ...v2, ArchiveName: 'named' }
    const renamed = await archive.update(ctx('Arch'), same, v2, v3)
    assert.equal(renamed.physicalId, 'named')
    await gone(clients.events.send(new DescribeArchiveCommand({ ArchiveName: made.physicalId })))
    await archive.delete(ctx('Arch'), renamed, v3)
    await gone(clients.events.send(new DescribeArchiveCommand({ ArchiveName: 'named' })))
  })
})

describe('AWS::Events::Connection and AWS::Events::ApiDestination', () => {
  const connection = p('AWS::Events::Connection')
  const destination = p('AWS::Events::ApiDestination')

  test('the connection answers Arn and SecretArn; updates change auth and the rate limit', async () => {
    const c1 = {
      Name: 'crm',
      AuthorizationType: 'API_KEY',
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'k', ApiKeyValue: 'v' } },
    }
    const conn = await connection.create(ctx('Conn'), c1)
    const described = await clients.events.send(new DescribeConnectionCommand({ Name: 'crm' }))
    assert.equal(conn.attributes.Arn, described.ConnectionArn)
    assert.equal(conn.attributes.SecretArn, described.SecretArn)
    assert.match(String(conn.attributes.SecretArn), /^arn:aws:secretsmanager:/)
    const c2 = {
      Name: 'crm',
      AuthorizationType: 'BASIC',
      AuthParameters: { BasicAuthParameters: { Username: 'u', Password: 'p' } },
    }
    await connection.update(ctx('Conn'), conn, c1, c2)
    const after = await clients.events.send(new DescribeConnectionCommand({ Name: 'crm' }))
    assert.equal(after.AuthorizationType, 'BASIC')

    const d1 = {
      ConnectionArn: conn.attributes.Arn,
      InvocationEndpoint: 'https://example.com/a',
      HttpMethod: 'POST',
    }
    const dest = await destination.create(ctx('Dest'), d1)
    assert.equal(dest.physicalId, 'unit-Dest-SUFFIX0000001')
    const d2 = { ...d1, InvocationRateLimitPerSecond: '5', HttpMethod: 'PUT' }
    await destination.update(ctx('Dest'), dest, d1, d2)
    const got = await clients.events.send(
      new DescribeApiDestinationCommand({ Name: dest.physicalId }),
    )
    assert.equal(got.InvocationRateLimitPerSecond, 5)
    assert.equal(got.HttpMethod, 'PUT')
    await destination.delete(ctx('Dest'), dest, d2)
    await connection.delete(ctx('Conn'), conn, c2)
    await gone(clients.events.send(new DescribeConnectionCommand({ Name: 'crm' })))
    await connection.delete(ctx('Conn'), conn, c2)
  })
})
