// AWS::SQS::Queue, QueuePolicy and QueueInlinePolicy provisioners against a real server, the
// result read back with the AWS SDK.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueueTagsCommand,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs'
import { TemplateError } from '../../src/deploy/model.js'
import { sqsQueue } from '../../src/deploy/resources/sqs-queue.js'
import { sqsQueueInlinePolicy } from '../../src/deploy/resources/sqs-queue-inline-policy.js'
import { sqsQueuePolicy } from '../../src/deploy/resources/sqs-queue-policy.js'
import { ACCOUNT, harness, REGION, type Harness } from './resources-helpers.js'

let h: Harness
before(async () => {
  h = await harness()
})
after(() => h.close())

async function attrs(url: string, names: QueueAttributeName[] = ['All']) {
  const out = await h.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names }),
  )
  return out.Attributes ?? {}
}

async function exists(name: string): Promise<boolean> {
  try {
    await h.clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }))
    return true
  } catch (e) {
    assert.match((e as Error).name, /QueueDoesNotExist|NonExistentQueue/)
    return false
  }
}

describe('AWS::SQS::Queue', () => {
  test('without QueueName: a generated name, Ref the URL, Arn and QueueName attributes', async () => {
    const ctx = h.ctx('Orders')
    const q = await sqsQueue.create(ctx, {})
    assert.match(q.physicalId, /^http:\/\/.+\/123456789012\/res-test-Orders-SFX\d{10}$/)
    const name = q.physicalId.slice(q.physicalId.lastIndexOf('/') + 1)
    assert.equal(q.attributes.QueueName, name)
    assert.equal(q.attributes.QueueUrl, q.physicalId)
    assert.equal(q.attributes.Arn, `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`)
    await sqsQueue.delete(ctx, q, {})
    assert.equal(await exists(name), false)
    // Already gone: not an error.
    await sqsQueue.delete(ctx, q, {})
  })

  test('a FIFO queue without a name gets one ending in .fifo, within 80 characters', async () => {
    const ctx = h.ctx('AVeryLongLogicalIdForAFifoQueueThatMustBeShortenedToFitTheLimitOfSqsNames')
    const q = await sqsQueue.create(ctx, { FifoQueue: true, ContentBasedDeduplication: 'true' })
    const name = String(q.attributes.QueueName)
    assert.ok(name.endsWith('.fifo'), name)
    assert.ok(name.length <= 80, String(name.length))
    const a = await attrs(q.physicalId)
    assert.equal(a.FifoQueue, 'true')
    assert.equal(a.ContentBasedDeduplication, 'true')
    // The same FIFO queue written another way is updated in place, not replaced.
    const same = await sqsQueue.update(
      ctx,
      q,
      { FifoQueue: true, ContentBasedDeduplication: 'true' },
      { FifoQueue: 'true', ContentBasedDeduplication: false },
    )
    assert.equal(same.physicalId, q.physicalId)
    assert.equal((await attrs(q.physicalId)).ContentBasedDeduplication, 'false')
    await sqsQueue.delete(ctx, q, {})
  })

  test('every attribute property is set; an update changes and resets them; tags follow', async () => {
    const ctx = h.ctx('Work')
    const dlq = await sqsQueue.create(h.ctx('Dlq'), { QueueName: 'work-dlq' })
    const props = {
      QueueName: 'work',
      DelaySeconds: 5,
      MaximumMessageSize: '2048',
      MessageRetentionPeriod: 3600,
      ReceiveMessageWaitTimeSeconds: 2,
      VisibilityTimeout: '45',
      RedrivePolicy: { deadLetterTargetArn: dlq.attributes.Arn, maxReceiveCount: 3 },
      Tags: [
        { Key: 'team', Value: 'widgets' },
        { Key: 'tier', Value: 'gold' },
      ],
    }
    const q = await sqsQueue.create(ctx, props)
    let a = await attrs(q.physicalId)
    assert.equal(a.DelaySeconds, '5')
    assert.equal(a.MaximumMessageSize, '2048')
    assert.equal(a.MessageRetentionPeriod, '3600')
    assert.equal(a.ReceiveMessageWaitTimeSeconds, '2')
    assert.equal(a.VisibilityTimeout, '45')
    assert.deepEqual(JSON.parse(a.RedrivePolicy!), {
      deadLetterTargetArn: dlq.attributes.Arn,
      maxReceiveCount: 3,
    })
    let tags = await h.clients.sqs.send(new ListQueueTagsCommand({ QueueUrl: q.physicalId }))
    assert.deepEqual(tags.Tags, { team: 'widgets', tier: 'gold' })

    const next = {
      QueueName: 'work',
      DelaySeconds: 7,
      VisibilityTimeout: '45',
      Tags: [{ Key: 'team', Value: 'gadgets' }],
    }
    const updated = await sqsQueue.update(ctx, q, props, next)
    assert.equal(updated.physicalId, q.physicalId)
    a = await attrs(q.physicalId)
    assert.equal(a.DelaySeconds, '7')
    assert.equal(a.VisibilityTimeout, '45')
    // Removed from the template: back to SQS's defaults.
    assert.equal(a.MaximumMessageSize, '1048576')
    assert.equal(a.MessageRetentionPeriod, '345600')
    assert.equal(a.ReceiveMessageWaitTimeSeconds, '0')
    assert.equal(a.RedrivePolicy, undefined)
    tags = await h.clients.sqs.send(new ListQueueTagsCommand({ QueueUrl: q.physicalId }))
    assert.deepEqual(tags.Tags, { team: 'gadgets' })

    // A new QueueName replaces the queue.
    const renamed = await sqsQueue.update(ctx, updated, next, { ...next, QueueName: 'work2' })
    assert.notEqual(renamed.physicalId, q.physicalId)
    assert.equal(renamed.attributes.QueueName, 'work2')
    assert.equal(await exists('work'), false)
    assert.equal((await attrs(renamed.physicalId)).DelaySeconds, '7')
    await sqsQueue.delete(ctx, renamed, {})
    await sqsQueue.delete(ctx, dlq, {})
  })

  test('the server refusing a value is the error; a bad property type names the resource and line', async () => {
    await assert.rejects(
      sqsQueue.create(h.ctx('Bad'), { QueueName: 'bad', DelaySeconds: 9999 }),
      (e: Error) => {
        assert.match(e.name, /InvalidAttributeValue/)
        return true
      },
    )
    await assert.rejects(sqsQueue.create(h.ctx('Bad'), { DelaySeconds: [1] }), (e: Error) => {
      assert.ok(e instanceof TemplateError)
      assert.equal(
        e.message,
        'line 12: Bad (AWS::SQS::Queue): DelaySeconds must be a string, not [1]',
      )
      return true
    })
    await assert.rejects(
      sqsQueue.create(h.ctx('Bad'), { QueueName: 'plain', FifoQueue: true }),
      /must end in \.fifo/,
    )
  })
})

describe('AWS::SQS::QueuePolicy and QueueInlinePolicy', () => {
  const policy = (sid: string) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: sid,
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: '*',
      },
    ],
  })

  test('QueuePolicy sets Policy on every queue, moves with the list and clears on delete', async () => {
    const a = await sqsQueue.create(h.ctx('A'), { QueueName: 'pol-a' })
    const b = await sqsQueue.create(h.ctx('B'), { QueueName: 'pol-b' })
    const ctx = h.ctx('Policy')
    const props = { Queues: [a.physicalId, b.physicalId], PolicyDocument: policy('one') }
    const made = await sqsQueuePolicy.create(ctx, props)
    assert.match(made.physicalId, /^res-test-Policy-/)
    for (const q of [a, b])
      assert.deepEqual(JSON.parse((await attrs(q.physicalId, ['Policy'])).Policy!), policy('one'))

    const next = { Queues: [b.physicalId], PolicyDocument: JSON.stringify(policy('two')) }
    await sqsQueuePolicy.update(ctx, made, props, next)
    assert.equal((await attrs(a.physicalId, ['Policy'])).Policy, undefined)
    assert.deepEqual(JSON.parse((await attrs(b.physicalId, ['Policy'])).Policy!), policy('two'))

    await sqsQueuePolicy.delete(ctx, made, next)
    assert.equal((await attrs(b.physicalId, ['Policy'])).Policy, undefined)
    await assert.rejects(
      sqsQueuePolicy.create(ctx, { Queues: [a.physicalId] }),
      /PolicyDocument is required/,
    )
  })

  test('QueueInlinePolicy: Ref is the queue URL; delete clears the policy', async () => {
    const q = await sqsQueue.create(h.ctx('C'), { QueueName: 'pol-c' })
    const ctx = h.ctx('Inline')
    const made = await sqsQueueInlinePolicy.create(ctx, {
      Queue: q.physicalId,
      PolicyDocument: policy('x'),
    })
    assert.equal(made.physicalId, q.physicalId)
    assert.deepEqual(JSON.parse((await attrs(q.physicalId, ['Policy'])).Policy!), policy('x'))
    await sqsQueueInlinePolicy.delete(ctx, made, {})
    assert.equal((await attrs(q.physicalId, ['Policy'])).Policy, undefined)
  })
})
