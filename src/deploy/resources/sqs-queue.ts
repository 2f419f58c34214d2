/**
 * @module
 * AWS::SQS::Queue through CreateQueue, SetQueueAttributes, TagQueue/UntagQueue and DeleteQueue.
 * `Ref` is the queue URL; `Fn::GetAtt` gives `Arn`, `QueueName` and `QueueUrl`. A new
 * `QueueName` or `FifoQueue` replaces the queue, as in CloudFormation; a generated name for a
 * FIFO queue ends in `.fifo` within SQS's 80 characters.
 */
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  TagQueueCommand,
  UntagQueueCommand,
} from '@aws-sdk/client-sqs'
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { changed, ignoreNotFound, PropReader, type Props } from './resource-props.js'

const TYPE = 'AWS::SQS::Queue'

/** Attribute properties and the value a removed one goes back to (SQS's defaults). */
const ATTRIBUTES: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  RedrivePolicy: '',
  RedriveAllowPolicy: '',
  ContentBasedDeduplication: 'false',
  DeduplicationScope: 'queue',
  FifoThroughputLimit: 'perQueue',
  KmsMasterKeyId: '',
  KmsDataKeyReusePeriodSeconds: '300',
  SqsManagedSseEnabled: 'true',
}
const JSON_ATTRIBUTES = new Set(['RedrivePolicy', 'RedriveAllowPolicy'])

function attributes(p: PropReader, names: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of names) {
    if (!p.has(name)) continue
    out[name] = JSON_ATTRIBUTES.has(name) ? p.json(name)! : p.string(name)!
  }
  return out
}

async function create(ctx: ProvisionContext, props: Props): Promise<ResourceCreated> {
  const p = new PropReader(ctx, TYPE, props)
  const fifo = p.boolean('FifoQueue') ?? false
  const name =
    p.string('QueueName') ?? (fifo ? `${ctx.generatedName(75)}.fifo` : ctx.generatedName(80))
  if (fifo && !name.endsWith('.fifo'))
    throw p.error(`the QueueName of a FIFO queue must end in .fifo: ${name}`)
  const attrs = attributes(p, Object.keys(ATTRIBUTES))
  if (fifo) attrs.FifoQueue = 'true'
  const tags = p.tags()
  const out = await ctx.clients.sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: attrs,
      ...(Object.keys(tags).length > 0 ? { tags } : {}),
    }),
  )
  const url = out.QueueUrl!
  return created(ctx, url, name)
}

async function created(ctx: ProvisionContext, url: string, name: string): Promise<ResourceCreated> {
  const got = await ctx.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  )
  return {
    physicalId: url,
    attributes: { Arn: got.Attributes?.QueueArn, QueueName: name, QueueUrl: url },
  }
}

async function update(
  ctx: ProvisionContext,
  current: ResourceCreated,
  before: Props,
  after: Props,
): Promise<ResourceCreated> {
  const wasGenerated = before.QueueName === undefined && after.QueueName === undefined
  const was = new PropReader(ctx, TYPE, before)
  const is = new PropReader(ctx, TYPE, after)
  // Compared as SQS reads them: `FifoQueue: "true"` is `true`, and absent is `false`.
  if (
    was.string('QueueName') !== is.string('QueueName') ||
    (was.boolean('FifoQueue') ?? false) !== (is.boolean('FifoQueue') ?? false)
  ) {
    const next = await create(ctx, after)
    await remove(ctx, current)
    return next
  }
  const p = new PropReader(ctx, TYPE, after)
  const now = attributes(p, Object.keys(ATTRIBUTES))
  const set: Record<string, string> = {}
  for (const name of Object.keys(ATTRIBUTES)) {
    if (!changed(before, after, [name])) continue
    set[name] = now[name] ?? ATTRIBUTES[name]!
  }
  // FIFO-only attributes go back to their defaults only on FIFO queues.
  const fifoOnly = ['ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit']
  const settable = Object.fromEntries(
    Object.entries(set).filter(
      ([n]) => (p.boolean('FifoQueue') ?? false) || !fifoOnly.includes(n) || now[n] !== undefined,
    ),
  )
  const url = current.physicalId
  if (Object.keys(settable).length > 0)
    await ctx.clients.sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: url, Attributes: settable }),
    )
  if (changed(before, after, ['Tags'])) {
    const old = new PropReader(ctx, TYPE, before).tags()
    const tags = p.tags()
    const gone = Object.keys(old).filter((k) => !(k in tags))
    if (gone.length > 0)
      await ctx.clients.sqs.send(new UntagQueueCommand({ QueueUrl: url, TagKeys: gone }))
    if (Object.keys(tags).length > 0)
      await ctx.clients.sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: tags }))
  }
  const name = wasGenerated
    ? String(current.attributes.QueueName)
    : String(after.QueueName ?? current.attributes.QueueName)
  return created(ctx, url, name)
}

async function remove(ctx: ProvisionContext, current: ResourceCreated): Promise<void> {
  await ignoreNotFound(
    ctx.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: current.physicalId })),
  )
}

export const sqsQueue: Provisioner = {
  type: TYPE,
  properties: ['QueueName', 'FifoQueue', 'Tags', ...Object.keys(ATTRIBUTES)],
  create,
  update,
  delete: (ctx, current) => remove(ctx, current),
}
