/**
 * @module
 * `AWS::Events::EventBus`: CreateEventBus (with its tags), the bus policy through
 * PutPermission, UpdateEventBus, TagResource/UntagResource and DeleteEventBus. `Ref` is the
 * name; attributes `Arn`, `Name` and `Policy`. Partner buses (`EventSourceName`) are refused.
 */
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  PutPermissionCommand,
  RemovePermissionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateEventBusCommand,
} from '@aws-sdk/client-eventbridge'
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import {
  defined,
  jsonText,
  obj,
  replace,
  requiredStr,
  str,
  tags,
  undoOnFailure,
} from './events-common.js'
import { changed, ignoreNotFound, type Props } from './resource-props.js'

function settings(ctx: ProvisionContext, props: Props) {
  return defined({
    Description: str(ctx, props, 'Description'),
    KmsKeyIdentifier: str(ctx, props, 'KmsKeyIdentifier'),
    DeadLetterConfig: obj(ctx, props, 'DeadLetterConfig'),
    LogConfig: obj(ctx, props, 'LogConfig'),
  })
}

async function create(ctx: ProvisionContext, props: Props): Promise<ResourceCreated> {
  const name = requiredStr(ctx, props, 'Name')
  const tagList = tags(ctx, props)
  const out = await ctx.clients.events.send(
    new CreateEventBusCommand({
      Name: name,
      ...settings(ctx, props),
      ...(tagList.length > 0 ? { Tags: tagList } : {}),
    }),
  )
  const policy = jsonText(ctx, props, 'Policy')
  if (policy !== undefined)
    await undoOnFailure(
      ctx.clients.events.send(new PutPermissionCommand({ EventBusName: name, Policy: policy })),
      () => remove(ctx, { physicalId: name, attributes: {} }),
    )
  return { physicalId: name, attributes: attributes(name, out.EventBusArn ?? '', props) }
}

function attributes(name: string, arn: string, props: Props): Record<string, unknown> {
  return { Arn: arn, Name: name, ...(props.Policy === undefined ? {} : { Policy: props.Policy }) }
}

async function remove(ctx: ProvisionContext, current: ResourceCreated): Promise<void> {
  await ignoreNotFound(
    ctx.clients.events.send(new DeleteEventBusCommand({ Name: current.physicalId })),
  )
}

async function update(
  ctx: ProvisionContext,
  current: ResourceCreated,
  before: Props,
  after: Props,
): Promise<ResourceCreated> {
  if (changed(before, after, ['Name']))
    return replace(
      () => create(ctx, after),
      () => remove(ctx, current),
    )
  const name = current.physicalId
  const { events } = ctx.clients
  const arn = String(current.attributes.Arn)
  await events.send(new UpdateEventBusCommand({ Name: name, ...settings(ctx, after) }))
  const oldTags = new Map(tags(ctx, before).map((t) => [t.Key, t.Value]))
  const newTags = tags(ctx, after)
  const gone = [...oldTags.keys()].filter((k) => !newTags.some((t) => t.Key === k))
  if (gone.length > 0)
    await events.send(new UntagResourceCommand({ ResourceARN: arn, TagKeys: gone }))
  const set = newTags.filter((t) => oldTags.get(t.Key) !== t.Value)
  if (set.length > 0) await events.send(new TagResourceCommand({ ResourceARN: arn, Tags: set }))
  if (changed(before, after, ['Policy'])) {
    const policy = jsonText(ctx, after, 'Policy')
    if (policy === undefined)
      await ignoreNotFound(
        events.send(
          new RemovePermissionCommand({ EventBusName: name, RemoveAllPermissions: true }),
        ),
      )
    else await events.send(new PutPermissionCommand({ EventBusName: name, Policy: policy }))
  }
  return { physicalId: name, attributes: attributes(name, arn, after) }
}

export const eventBusProvisioner: Provisioner & { unsupported: Record<string, string> } = {
  type: 'AWS::Events::EventBus',
  properties: [
    'Name',
    'Description',
    'KmsKeyIdentifier',
    'DeadLetterConfig',
    'LogConfig',
    'Policy',
    'Tags',
  ],
  unsupported: {
    EventSourceName: 'partner event buses (EventSourceName) are not supported by Junction',
  },
  create,
  update,
  delete: remove,
}
