/**
 * @module
 * `AWS::Events::ApiDestination`: CreateApiDestination, UpdateApiDestination,
 * DeleteApiDestination. `Name` defaults to a generated one (64 characters at most). `Ref` is the
 * name; attribute `Arn`.
 */
import {
  CreateApiDestinationCommand,
  DeleteApiDestinationCommand,
  UpdateApiDestinationCommand,
} from '@aws-sdk/client-eventbridge'
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { defined, int, nameOf, replace, requiredStr, str } from './events-common.js'
import { changed, ignoreNotFound, type Props } from './resource-props.js'

const MAX_NAME = 64

type HttpMethod = CreateApiDestinationCommand['input']['HttpMethod']

async function create(ctx: ProvisionContext, props: Props): Promise<ResourceCreated> {
  const name = nameOf(ctx, props, 'Name', MAX_NAME)
  const out = await ctx.clients.events.send(
    new CreateApiDestinationCommand(
      defined({
        Name: name,
        Description: str(ctx, props, 'Description'),
        ConnectionArn: requiredStr(ctx, props, 'ConnectionArn'),
        InvocationEndpoint: requiredStr(ctx, props, 'InvocationEndpoint'),
        HttpMethod: requiredStr(ctx, props, 'HttpMethod') as HttpMethod,
        InvocationRateLimitPerSecond: int(ctx, props, 'InvocationRateLimitPerSecond'),
      }),
    ),
  )
  return { physicalId: name, attributes: { Arn: out.ApiDestinationArn ?? '' } }
}

async function remove(ctx: ProvisionContext, current: ResourceCreated): Promise<void> {
  await ignoreNotFound(
    ctx.clients.events.send(new DeleteApiDestinationCommand({ Name: current.physicalId })),
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
  const out = await ctx.clients.events.send(
    new UpdateApiDestinationCommand(
      defined({
        Name: current.physicalId,
        Description: str(ctx, after, 'Description'),
        ConnectionArn: str(ctx, after, 'ConnectionArn'),
        InvocationEndpoint: str(ctx, after, 'InvocationEndpoint'),
        HttpMethod: str(ctx, after, 'HttpMethod') as HttpMethod,
        InvocationRateLimitPerSecond: int(ctx, after, 'InvocationRateLimitPerSecond'),
      }),
    ),
  )
  return {
    physicalId: current.physicalId,
    attributes: { Arn: out.ApiDestinationArn ?? current.attributes.Arn },
  }
}

export const apiDestinationProvisioner: Provisioner = {
  type: 'AWS::Events::ApiDestination',
  properties: [
    'Name',
    'Description',
    'ConnectionArn',
    'InvocationEndpoint',
    'HttpMethod',
    'InvocationRateLimitPerSecond',
  ],
  create,
  update,
  delete: remove,
}
