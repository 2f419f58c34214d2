/**
 * @module
 * AWS::SQS::QueuePolicy: `PolicyDocument` as the `Policy` attribute of every queue in `Queues`
 * (their URLs); deleting it clears the attribute. `Ref` is a generated id, as CloudFormation's.
 */
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs'
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { ignoreNotFound, PropReader, type Props } from './resource-props.js'

const TYPE = 'AWS::SQS::QueuePolicy'

function read(ctx: ProvisionContext, props: Props): { queues: string[]; policy: string } {
  const p = new PropReader(ctx, TYPE, props)
  p.required('Queues')
  const queues = p.stringList('Queues')!
  if (queues.length === 0) throw p.error('Queues must name at least one queue URL')
  const policy = p.json('PolicyDocument')
  if (policy === undefined) throw p.error('the property PolicyDocument is required')
  return { queues, policy }
}

async function setPolicy(ctx: ProvisionContext, queues: string[], policy: string): Promise<void> {
  for (const url of queues)
    await ctx.clients.sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: policy } }),
    )
}

async function clear(ctx: ProvisionContext, queues: string[]): Promise<void> {
  for (const url of queues)
    await ignoreNotFound(
      ctx.clients.sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: '' } }),
      ),
    )
}

export const sqsQueuePolicy: Provisioner = {
  type: TYPE,
  properties: ['Queues', 'PolicyDocument'],
  async create(ctx, props) {
    const { queues, policy } = read(ctx, props)
    await setPolicy(ctx, queues, policy)
    const id = ctx.generatedName(128)
    return { physicalId: id, attributes: { Id: id } }
  },
  async update(ctx, current, before, after): Promise<ResourceCreated> {
    const next = read(ctx, after)
    const old = read(ctx, before).queues.filter((q) => !next.queues.includes(q))
    await setPolicy(ctx, next.queues, next.policy)
    await clear(ctx, old)
    return current
  },
  async delete(ctx, _current, props) {
    const p = new PropReader(ctx, TYPE, props)
    await clear(ctx, p.stringList('Queues') ?? [])
  },
}
