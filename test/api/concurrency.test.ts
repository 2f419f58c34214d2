/**
 * Control-plane requests that arrive together on the durable store: each read-modify-write
 * must see the previous one's result (none may be lost).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestBus } from '../helpers/in-process.js'
import { tempDir } from '../helpers/server.js'

test('parallel PutTargets, PutPermission and TagResource on one resource all take effect, also after a restart', async () => {
  const dataDir = tempDir('junction-concurrency-')
  const bus = await createTestBus({ store: 'sqlite', dataDir })
  await bus.call('PutRule', { Name: 'r', EventPattern: '{"source":["s"]}' })
  const arn = 'arn:aws:events:us-east-1:111111111111:rule/r'
  await Promise.all([
    ...['t1', 't2', 't3', 't4'].map((Id) =>
      bus.call('PutTargets', {
        Rule: 'r',
        Targets: [{ Id, Arn: `arn:aws:sqs:us-east-1:111111111111:${Id}` }],
      }),
    ),
    ...['a', 'b', 'c'].map((StatementId, i) =>
      bus.call('PutPermission', {
        Action: 'events:PutEvents',
        Principal: `22222222222${String(i)}`,
        StatementId,
      }),
    ),
    ...['k1', 'k2', 'k3'].map((Key) =>
      bus.call('TagResource', { ResourceARN: arn, Tags: [{ Key, Value: 'v' }] }),
    ),
  ])
  const check = async (b: typeof bus) => {
    const targets = (await b.call('ListTargetsByRule', { Rule: 'r' })).Targets as { Id: string }[]
    assert.deepEqual(targets.map((t) => t.Id).sort(), ['t1', 't2', 't3', 't4'])
    const policy = JSON.parse((await b.call('DescribeEventBus', {})).Policy as string) as {
      Statement: { Sid: string }[]
    }
    assert.deepEqual(policy.Statement.map((s) => s.Sid).sort(), ['a', 'b', 'c'])
    const tags = (await b.call('ListTagsForResource', { ResourceARN: arn })).Tags as {
      Key: string
    }[]
    assert.deepEqual(tags.map((t) => t.Key).sort(), ['k1', 'k2', 'k3'])
  }
  await check(bus)
  await bus.close()
  const again = await createTestBus({ store: 'sqlite', dataDir })
  await check(again)
  await again.close()
})
