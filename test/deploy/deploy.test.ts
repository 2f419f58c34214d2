/**
 * `deployStack` and `deleteStack` against a real server (in this process, over HTTP) with the
 * AWS SDK: a stack of every EventBridge resource type is created, updated (one resource changed,
 * one removed), rolled back when a resource fails, and deleted; the server's state is read back
 * through the SDK each time.
 */
import {
  DescribeApiDestinationCommand,
  DescribeArchiveCommand,
  DescribeConnectionCommand,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  ListArchivesCommand,
  ListTargetsByRuleCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-eventbridge'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startServer, type RunningServer } from '../../src/bus.js'
import { DEFAULTS } from '../../src/config.js'
import { createClients, destroyClients } from '../../src/deploy/clients.js'
import { deleteStack, deployStack, DeployError, type StackEvent } from '../../src/deploy/deploy.js'
import type { Clients } from '../../src/deploy/model.js'
import { StackClient } from '../../src/deploy/stack-client.js'
import { fakePlan, type FakeResource } from './deploy-plan.js'

const credentials = { accessKeyId: '111111111111', secretAccessKey: 'unused' }
let server: RunningServer
let clients: Clients
let stacks: StackClient

before(async () => {
  server = await startServer({ ...DEFAULTS, port: 0, store: 'memory', logLevel: 'silent' })
  clients = createClients({ endpoint: server.url, region: 'us-east-1', credentials })
  stacks = new StackClient(server.url, 'us-east-1', credentials)
})
after(async () => {
  destroyClients(clients)
  await server.close()
})

const gone = async (p: Promise<unknown>) =>
  assert.rejects(p, (e: Error) => e.name === 'ResourceNotFoundException')

/** The bus, rule, policies, archive, connection and API destination of the first deploy. */
function resources(): FakeResource[] {
  return [
    {
      logicalId: 'OrdersBus',
      type: 'AWS::Events::EventBus',
      line: 3,
      props: () => ({
        Name: 'orders',
        Description: 'orders of the shop',
        Tags: [{ Key: 'team', Value: 'shop' }],
      }),
    },
    {
      logicalId: 'Forward',
      type: 'AWS::Events::Rule',
      line: 10,
      dependsOn: ['OrdersBus'],
      props: (r) => ({
        EventBusName: r.ref('OrdersBus'),
        Description: 'to the central account',
        EventPattern: { source: ['cwi.servicea'] },
        State: 'ENABLED',
        Targets: [
          {
            Arn: 'arn:aws:events:us-east-1:222222222222:event-bus/default',
            Id: 'CentralTarget',
            RoleArn: 'arn:aws:iam::111111111111:role/forward',
          },
          {
            Arn: 'arn:aws:sqs:us-east-1:111111111111:audit',
            Id: 'Audit',
            InputTransformer: {
              InputPathsMap: { id: '$.detail.widget_id' },
              InputTemplate: '{"widget": <id>}',
            },
            RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 },
          },
        ],
      }),
    },
    {
      logicalId: 'AllowCentral',
      type: 'AWS::Events::EventBusPolicy',
      line: 30,
      props: (r) => ({
        EventBusName: r.ref('OrdersBus'),
        StatementId: 'allow-central',
        Action: 'events:PutEvents',
        Principal: '222222222222',
      }),
    },
    {
      logicalId: 'AllowOrg',
      type: 'AWS::Events::EventBusPolicy',
      line: 37,
      props: (r) => ({
        EventBusName: r.ref('OrdersBus'),
        StatementId: 'allow-three',
        Statement: {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::333333333333:root' },
          Action: 'events:PutEvents',
          Resource: r.att('OrdersBus', 'Arn'),
        },
      }),
    },
    {
      logicalId: 'Archive',
      type: 'AWS::Events::Archive',
      line: 48,
      props: (r) => ({
        SourceArn: r.att('OrdersBus', 'Arn'),
        EventPattern: { source: ['cwi.servicea'] },
        RetentionDays: 7,
      }),
    },
    {
      logicalId: 'Webhook',
      type: 'AWS::Events::Connection',
      line: 55,
      props: () => ({
        AuthorizationType: 'API_KEY',
        AuthParameters: {
          ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 's3cret' },
        },
      }),
    },
    {
      logicalId: 'Hook',
      type: 'AWS::Events::ApiDestination',
      line: 62,
      props: (r) => ({
        ConnectionArn: r.att('Webhook', 'Arn'),
        InvocationEndpoint: 'https://example.com/hook',
        HttpMethod: 'POST',
        InvocationRateLimitPerSecond: 10,
      }),
    },
  ]
}

describe('deployStack', () => {
  let archiveName = ''
  let ruleArn = ''

  test('creates every resource in plan order and records the stack', async () => {
    const events: StackEvent[] = []
    const plan = fakePlan('shop', resources(), (r) => [
      { key: 'RuleArn', value: r.att('Forward', 'Arn') },
    ])
    const result = await deployStack({
      plan,
      clients,
      stacks,
      templatePath: '/tmp/shop.yaml',
      onEvent: (e) => events.push(e),
    })
    const { events: eb } = clients
    const bus = await eb.send(new DescribeEventBusCommand({ Name: 'orders' }))
    assert.equal(bus.Description, 'orders of the shop')
    const sids = (JSON.parse(bus.Policy!) as { Statement: { Sid: string }[] }).Statement.map(
      (s) => s.Sid,
    )
    assert.deepEqual(sids.sort(), ['allow-central', 'allow-three'])
    const tags = await eb.send(new ListTagsForResourceCommand({ ResourceARN: bus.Arn }))
    assert.deepEqual(tags.Tags, [{ Key: 'team', Value: 'shop' }])

    // A rule without a Name: <stack>-<logicalId>-<13 uppercase letters and digits>.
    const rule = result.record.resources.find((r) => r.logicalId === 'Forward')!
    assert.match(rule.physicalId, /^orders\|shop-Forward-[A-Z0-9]{13}$/)
    const ruleName = rule.physicalId.split('|')[1]!
    const described = await eb.send(
      new DescribeRuleCommand({ Name: ruleName, EventBusName: 'orders' }),
    )
    assert.deepEqual(JSON.parse(described.EventPattern!), { source: ['cwi.servicea'] })
    ruleArn = described.Arn!
    const targets = await eb.send(
      new ListTargetsByRuleCommand({ Rule: ruleName, EventBusName: 'orders' }),
    )
    const audit = targets.Targets!.find((t) => t.Id === 'Audit')!
    assert.equal(audit.InputTransformer?.InputTemplate, '{"widget": <id>}')
    assert.equal(audit.RetryPolicy?.MaximumRetryAttempts, 3)
    assert.equal(
      targets.Targets!.find((t) => t.Id === 'CentralTarget')?.RoleArn,
      'arn:aws:iam::111111111111:role/forward',
    )

    archiveName = result.record.resources.find((r) => r.logicalId === 'Archive')!.physicalId
    assert.match(archiveName, /^shop-Archive-[A-Z0-9]{13}$/)
    const archive = await eb.send(new DescribeArchiveCommand({ ArchiveName: archiveName }))
    assert.equal(archive.EventSourceArn, bus.Arn)
    assert.equal(archive.RetentionDays, 7)
    const connection = await eb.send(
      new DescribeConnectionCommand({ Name: findId(result.record, 'Webhook') }),
    )
    assert.equal(connection.AuthorizationType, 'API_KEY')
    const hook = await eb.send(
      new DescribeApiDestinationCommand({ Name: findId(result.record, 'Hook') }),
    )
    assert.equal(hook.ConnectionArn, connection.ConnectionArn)

    assert.deepEqual(result.outputs, [{ key: 'RuleArn', value: ruleArn }])
    const record = await stacks.get('shop')
    assert.equal(record?.status, 'CREATE_COMPLETE')
    assert.match(
      record.id,
      /^arn:aws:cloudformation:us-east-1:111111111111:stack\/shop\/[0-9a-f-]{36}$/,
    )
    assert.deepEqual(
      record.resources.map((r) => r.logicalId),
      ['OrdersBus', 'Forward', 'AllowCentral', 'AllowOrg', 'Archive', 'Webhook', 'Hook'],
    )
    assert.deepEqual(record.parameters, { Stage: 'test' })
    assert.equal(record.templatePath, '/tmp/shop.yaml')
    const lines = events.map((e) => `${e.status} ${e.type} ${e.logicalId}`)
    assert.equal(lines[0], 'CREATE_IN_PROGRESS AWS::CloudFormation::Stack shop')
    assert.ok(lines.includes('CREATE_IN_PROGRESS AWS::Events::Rule Forward'))
    assert.ok(
      lines.indexOf('CREATE_COMPLETE AWS::Events::EventBus OrdersBus') <
        lines.indexOf('CREATE_IN_PROGRESS AWS::Events::Rule Forward'),
    )
    assert.equal(lines.at(-1), 'CREATE_COMPLETE AWS::CloudFormation::Stack shop')
  })

  test('a redeploy updates what changed, deletes what was removed, keeps generated names', async () => {
    const changed = resources()
      .filter((r) => r.logicalId !== 'Hook')
      .map((r) =>
        r.logicalId === 'Forward'
          ? {
              ...r,
              props: (x: Parameters<FakeResource['props']>[0]) => {
                const p = r.props(x)
                return {
                  ...p,
                  EventPattern: '{"source":["cwi.serviceb"]}',
                  Targets: (p.Targets as unknown[]).slice(0, 1),
                }
              },
            }
          : r,
      )
    const before = await stacks.get('shop')
    const hookName = findId(before!, 'Hook')
    const result = await deployStack({
      plan: fakePlan('shop', changed),
      clients,
      stacks,
      templatePath: '/tmp/shop.yaml',
    })
    assert.deepEqual(result.created, [])
    assert.deepEqual(result.updated, ['Forward'])
    assert.deepEqual(result.deleted, ['Hook'])
    const ruleName = findId(result.record, 'Forward').split('|')[1]!
    assert.equal(findId(result.record, 'Forward'), findId(before!, 'Forward'))
    const { events: eb } = clients
    const rule = await eb.send(new DescribeRuleCommand({ Name: ruleName, EventBusName: 'orders' }))
    assert.deepEqual(JSON.parse(rule.EventPattern!), { source: ['cwi.serviceb'] })
    const targets = await eb.send(
      new ListTargetsByRuleCommand({ Rule: ruleName, EventBusName: 'orders' }),
    )
    assert.deepEqual(
      targets.Targets!.map((t) => t.Id),
      ['CentralTarget'],
    )
    await gone(eb.send(new DescribeApiDestinationCommand({ Name: hookName })))
    assert.equal(findId(result.record, 'Archive'), archiveName)
    const record = await stacks.get('shop')
    assert.equal(record?.status, 'UPDATE_COMPLETE')
    assert.equal(record.resources.length, 6)
  })

  test('a failed update reverts what it updated and deletes what it created', async () => {
    const events: StackEvent[] = []
    const base = resources().filter((r) => r.logicalId !== 'Hook')
    const plan = fakePlan('shop', [
      ...base.map((r) =>
        r.logicalId === 'OrdersBus'
          ? { ...r, props: () => ({ ...r.props({} as never), Description: 'changed' }) }
          : r,
      ),
      {
        logicalId: 'Extra',
        type: 'AWS::Events::EventBus',
        line: 70,
        props: () => ({ Name: 'extra' }),
      },
      {
        logicalId: 'Broken',
        type: 'AWS::Events::Rule',
        line: 74,
        props: () => ({ EventPattern: { source: 'not-a-list' } }),
      },
    ])
    const before = await stacks.get('shop')
    await assert.rejects(
      deployStack({
        plan,
        clients,
        stacks,
        templatePath: '/tmp/shop.yaml',
        onEvent: (e) => events.push(e),
      }),
      (e: DeployError) => {
        assert.equal(e.phase, 'provision')
        assert.equal(e.rolledBack, true)
        assert.equal(e.failed?.logicalId, 'Broken')
        assert.equal(e.failed.line, 74)
        assert.equal(e.failed.code, 'InvalidEventPatternException')
        assert.match(
          e.message,
          /Broken \(AWS::Events::Rule, line 74\): InvalidEventPatternException/,
        )
        return true
      },
    )
    const { events: eb } = clients
    await gone(eb.send(new DescribeEventBusCommand({ Name: 'extra' })))
    const bus = await eb.send(new DescribeEventBusCommand({ Name: 'orders' }))
    assert.equal(bus.Description, 'orders of the shop')
    const record = await stacks.get('shop')
    assert.equal(record?.status, 'UPDATE_ROLLBACK_COMPLETE')
    assert.deepEqual(
      record.resources.map((r) => [r.logicalId, r.physicalId]),
      before!.resources.map((r) => [r.logicalId, r.physicalId]),
    )
    assert.match(record.statusReason!, /InvalidEventPatternException/)
    const statuses = events.map((e) => `${e.status} ${e.logicalId}`)
    assert.ok(statuses.includes('CREATE_FAILED Broken'))
    assert.ok(statuses.includes('DELETE_COMPLETE Extra'))
  })

  test('an unknown type or property is refused for the whole plan before anything is created', async () => {
    const plan = fakePlan('checked', [
      {
        logicalId: 'First',
        type: 'AWS::Events::EventBus',
        line: 4,
        props: () => ({ Name: 'first' }),
      },
      {
        logicalId: 'Partner',
        type: 'AWS::Events::EventBus',
        line: 8,
        props: () => ({ Name: 'partner', EventSourceName: 'aws.partner/x' }),
      },
      { logicalId: 'Topic', type: 'AWS::SNS::Topic', line: 12, props: () => ({}) },
    ])
    await assert.rejects(
      deployStack({ plan, clients, stacks, templatePath: '/tmp/checked.yaml' }),
      (e: DeployError) => {
        assert.equal(e.phase, 'validation')
        assert.match(
          e.message,
          /line 8: resource Partner \(AWS::Events::EventBus\) has property EventSourceName, which Junction does not support \(partner event buses/,
        )
        assert.match(e.message, /Supported properties: Name, Description,/)
        assert.match(
          e.message,
          /line 12: resource Topic has type AWS::SNS::Topic, which Junction does not support\. Supported types: .*AWS::Events::Rule/,
        )
        return true
      },
    )
    await gone(clients.events.send(new DescribeEventBusCommand({ Name: 'first' })))
    assert.equal(await stacks.get('checked'), undefined)
  })

  test('a failed create deletes what it created and leaves no record', async () => {
    const plan = fakePlan('failing', [
      {
        logicalId: 'Bus',
        type: 'AWS::Events::EventBus',
        line: 3,
        props: () => ({ Name: 'failing-bus' }),
      },
      {
        logicalId: 'BadRule',
        type: 'AWS::Events::Rule',
        line: 9,
        props: (r) => ({ EventBusName: r.ref('Bus'), ScheduleExpression: 'rate(often)' }),
      },
    ])
    await assert.rejects(
      deployStack({ plan, clients, stacks, templatePath: '/tmp/failing.yaml' }),
      (e: DeployError) => {
        assert.equal(e.failed?.logicalId, 'BadRule')
        assert.equal(e.failed.line, 9)
        assert.equal(e.failed.code, 'ValidationException')
        assert.match(
          e.message,
          /^Create of stack failing failed at BadRule \(AWS::Events::Rule, line 9\)/,
        )
        return true
      },
    )
    await gone(clients.events.send(new DescribeEventBusCommand({ Name: 'failing-bus' })))
    assert.equal(await stacks.get('failing'), undefined)
  })

  test('a replacement rolled back leaves one resource, as before, under a generated name', async () => {
    const buses: FakeResource[] = [
      { logicalId: 'BusA', type: 'AWS::Events::EventBus', props: () => ({ Name: 'moving-a' }) },
      { logicalId: 'BusB', type: 'AWS::Events::EventBus', props: () => ({ Name: 'moving-b' }) },
    ]
    const archiveOn = (bus: string): FakeResource => ({
      logicalId: 'Keep',
      type: 'AWS::Events::Archive',
      props: (r) => ({ SourceArn: r.att(bus, 'Arn') }),
    })
    const first = await deployStack({
      plan: fakePlan('moving', [...buses, archiveOn('BusA')]),
      clients,
      stacks,
      templatePath: '/tmp/moving.yaml',
    })
    const broken: FakeResource = {
      logicalId: 'Broken',
      type: 'AWS::Events::Rule',
      line: 20,
      props: () => ({ ScheduleExpression: 'cron(nonsense)' }),
    }
    await assert.rejects(
      deployStack({
        plan: fakePlan('moving', [...buses, archiveOn('BusB'), broken]),
        clients,
        stacks,
        templatePath: '/tmp/moving.yaml',
      }),
      (e: DeployError) => e.rolledBack === true && e.failed?.logicalId === 'Broken',
    )
    const record = await stacks.get('moving')
    assert.equal(record?.status, 'UPDATE_ROLLBACK_COMPLETE')
    const name = findId(record, 'Keep')
    assert.match(name, /^moving-Keep-[A-Z0-9]{13}$/)
    const archive = await clients.events.send(new DescribeArchiveCommand({ ArchiveName: name }))
    assert.equal(archive.EventSourceArn, findAttr(first.record, 'BusA', 'Arn'))
    const all = await clients.events.send(new ListArchivesCommand({ NamePrefix: 'moving-' }))
    assert.deepEqual(
      all.Archives?.map((a) => a.ArchiveName),
      [name],
    )
  })

  test('deleteStack deletes every resource but the retained ones, then the record', async () => {
    const plan = fakePlan('short', [
      {
        logicalId: 'Kept',
        type: 'AWS::Events::EventBus',
        deletionPolicy: 'Retain',
        props: () => ({ Name: 'kept' }),
      },
      { logicalId: 'Dropped', type: 'AWS::Events::EventBus', props: () => ({ Name: 'dropped' }) },
    ])
    await deployStack({ plan, clients, stacks, templatePath: '/tmp/short.yaml' })
    await deleteStack({
      stackName: 'short',
      account: '111111111111',
      region: 'us-east-1',
      clients,
      stacks,
    })
    await gone(clients.events.send(new DescribeEventBusCommand({ Name: 'dropped' })))
    const kept = await clients.events.send(new DescribeEventBusCommand({ Name: 'kept' }))
    assert.equal(kept.Name, 'kept')
    assert.equal(await stacks.get('short'), undefined)
    await assert.rejects(
      deleteStack({
        stackName: 'short',
        account: '111111111111',
        region: 'us-east-1',
        clients,
        stacks,
      }),
      /Stack with id short does not exist/,
    )
  })
})

function findId(
  record: { resources: { logicalId: string; physicalId: string }[] },
  id: string,
): string {
  return record.resources.find((r) => r.logicalId === id)!.physicalId
}

function findAttr(
  record: { resources: { logicalId: string; attributes: Record<string, unknown> }[] },
  id: string,
  name: string,
): unknown {
  return record.resources.find((r) => r.logicalId === id)!.attributes[name]
}
