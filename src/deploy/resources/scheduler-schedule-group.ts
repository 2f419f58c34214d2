/**
 * @module
 * AWS::Scheduler::ScheduleGroup through Create/DeleteScheduleGroup and TagResource/UntagResource.
 * `Name` is optional (generated, 64 characters); `Ref` is the name; `Fn::GetAtt` gives `Arn`,
 * `CreationDate`, `LastModificationDate` and `State`. A new `Name` replaces the group.
 */
import {
  CreateScheduleGroupCommand,
  DeleteScheduleGroupCommand,
  GetScheduleGroupCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-scheduler'
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { changed, ignoreNotFound, PropReader, type Props } from './resource-props.js'

const TYPE = 'AWS::Scheduler::ScheduleGroup'

const tagList = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }))

async function describe(ctx: ProvisionContext, name: string): Promise<ResourceCreated> {
  const g = await ctx.clients.scheduler.send(new GetScheduleGroupCommand({ Name: name }))
  return {
    physicalId: name,
    attributes: {
      Arn: g.Arn,
      CreationDate: g.CreationDate?.toISOString(),
      LastModificationDate: g.LastModificationDate?.toISOString(),
      State: g.State,
    },
  }
}

async function create(ctx: ProvisionContext, props: Props): Promise<ResourceCreated> {
  const p = new PropReader(ctx, TYPE, props)
  const name = p.string('Name') ?? ctx.generatedName(64)
  const tags = p.tags()
  await ctx.clients.scheduler.send(
    new CreateScheduleGroupCommand({
      Name: name,
      ...(Object.keys(tags).length > 0 ? { Tags: tagList(tags) } : {}),
    }),
  )
  return describe(ctx, name)
}

async function remove(ctx: ProvisionContext, current: ResourceCreated): Promise<void> {
  await ignoreNotFound(
    ctx.clients.scheduler.send(new DeleteScheduleGroupCommand({ Name: current.physicalId })),
  )
}

export const schedulerScheduleGroup: Provisioner = {
  type: TYPE,
  properties: ['Name', 'Tags'],
  create,
  async update(ctx, current, before, after) {
    if (changed(before, after, ['Name'])) {
      const next = await create(ctx, after)
      await remove(ctx, current)
      return next
    }
    const old = new PropReader(ctx, TYPE, before).tags()
    const tags = new PropReader(ctx, TYPE, after).tags()
    const arn = String(current.attributes.Arn)
    const gone = Object.keys(old).filter((k) => !(k in tags))
    if (gone.length > 0)
      await ctx.clients.scheduler.send(
        new UntagResourceCommand({ ResourceArn: arn, TagKeys: gone }),
      )
    if (Object.keys(tags).length > 0)
      await ctx.clients.scheduler.send(
        new TagResourceCommand({ ResourceArn: arn, Tags: tagList(tags) }),
      )
    return describe(ctx, current.physicalId)
  },
  delete: (ctx, current) => remove(ctx, current),
}
