/**
 * @module
 * AWS::Lambda::EventSourceMapping (from Junction's SQS queues) through
 * Create/Update/DeleteEventSourceMapping. `Ref` is the mapping's UUID; `Fn::GetAtt` gives `Id`
 * and `EventSourceMappingArn`. A new `EventSourceArn` replaces the mapping. `FilterCriteria`'s
 * patterns are sent as given (a pattern written as an object is sent as its JSON); without
 * it, an update removes the mapping's filters.
 */
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  UpdateEventSourceMappingCommand,
  type FunctionResponseType,
} from '@aws-sdk/client-lambda'
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { changed, ignoreNotFound, PropReader, type Props } from './resource-props.js'

const TYPE = 'AWS::Lambda::EventSourceMapping'

function settings(ctx: ProvisionContext, props: Props) {
  const p = new PropReader(ctx, TYPE, props)
  const scaling = p.object('ScalingConfig')
  const filters = p.object('FilterCriteria')?.Filters
  const patterns = Array.isArray(filters)
    ? filters.map((f: unknown) => {
        const pattern = (f as { Pattern?: unknown } | null)?.Pattern
        return { Pattern: typeof pattern === 'string' ? pattern : JSON.stringify(pattern) }
      })
    : []
  const max = scaling?.MaximumConcurrency
  return {
    FunctionName: p.requiredString('FunctionName'),
    BatchSize: p.number('BatchSize') ?? 10,
    Enabled: p.boolean('Enabled') ?? true,
    MaximumBatchingWindowInSeconds: p.number('MaximumBatchingWindowInSeconds') ?? 0,
    FunctionResponseTypes: (p.stringList('FunctionResponseTypes') ?? []) as FunctionResponseType[],
    ScalingConfig: max === undefined ? {} : { MaximumConcurrency: Number(max) },
    FilterCriteria: { Filters: patterns },
  }
}

async function create(ctx: ProvisionContext, props: Props): Promise<ResourceCreated> {
  const p = new PropReader(ctx, TYPE, props)
  const out = await ctx.clients.lambda.send(
    new CreateEventSourceMappingCommand({
      EventSourceArn: p.requiredString('EventSourceArn'),
      ...settings(ctx, props),
    }),
  )
  const uuid = out.UUID!
  return {
    physicalId: uuid,
    attributes: {
      Id: uuid,
      EventSourceMappingArn: `arn:aws:lambda:${ctx.region}:${ctx.account}:event-source-mapping:${uuid}`,
    },
  }
}

async function remove(ctx: ProvisionContext, current: ResourceCreated): Promise<void> {
  await ignoreNotFound(
    ctx.clients.lambda.send(new DeleteEventSourceMappingCommand({ UUID: current.physicalId })),
  )
}

export const lambdaEventSourceMapping: Provisioner = {
  type: TYPE,
  properties: [
    'EventSourceArn',
    'FunctionName',
    'BatchSize',
    'Enabled',
    'MaximumBatchingWindowInSeconds',
    'FunctionResponseTypes',
    'ScalingConfig',
    'FilterCriteria',
  ],
  create,
  async update(ctx, current, before, after) {
    if (changed(before, after, ['EventSourceArn'])) {
      const next = await create(ctx, after)
      await remove(ctx, current)
      return next
    }
    await ctx.clients.lambda.send(
      new UpdateEventSourceMappingCommand({ UUID: current.physicalId, ...settings(ctx, after) }),
    )
    return current
  },
  delete: (ctx, current) => remove(ctx, current),
}
