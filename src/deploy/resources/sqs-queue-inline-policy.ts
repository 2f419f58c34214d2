/**
 * @module
 * AWS::SQS::QueueInlinePolicy: one queue's `Policy` attribute. `Ref` is the queue URL. A new
 * `Queue` replaces it (the old queue's policy is cleared).
 */
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs'
import type { ProvisionContext, Provisioner } from '../model.js'
import { ignoreNotFound, PropReader, type Props } from './resource-props.js'

const TYPE = 'AWS::SQS::QueueInlinePolicy'

async function put(ctx: ProvisionContext, props: Props): Promise<string> {
  const p = new PropReader(ctx, TYPE, props)
  const queue = p.requiredString('Queue')
  const policy = p.json('PolicyDocument')
  if (policy === undefined) throw p.error('the property PolicyDocument is required')
  await ctx.clients.sqs.send(
    new SetQueueAttributesCommand({ QueueUrl: queue, Attributes: { Policy: policy } }),
  )
  return queue
}

async function clear(ctx: ProvisionContext, queue: string): Promise<void> {
  await ignoreNotFound(
    ctx.clients.sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: queue, Attributes: { Policy: '' } }),
    ),
  )
}

export const sqsQueueInlinePolicy: Provisioner = {
  type: TYPE,
  properties: ['Queue', 'PolicyDocument'],
  async create(ctx, props) {
    const queue = await put(ctx, props)
    return { physicalId: queue, attributes: {} }
  },
  async update(ctx, current, _before, after) {
    const queue = await put(ctx, after)
    if (queue !== current.physicalId) await clear(ctx, current.physicalId)
    return { physicalId: queue, attributes: {} }
  },
  async delete(ctx, current) {
    await clear(ctx, current.physicalId)
  },
}
