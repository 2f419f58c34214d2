/**
 * @module
 * `AWS::Events::Connection`: CreateConnection, UpdateConnection, DeleteConnection. `Name`
 * defaults to a generated one (64 characters at most); `AuthParameters` has the API's shape
 * (API key, basic or OAuth client credentials, plus invocation HTTP parameters). `Ref` is the
 * name; attributes `Arn` and `SecretArn` (DescribeConnection).
 */
import {
  CreateConnectionCommand,
  DeleteConnectionCommand,
  DescribeConnectionCommand,
  UpdateConnectionCommand,
} from '@aws-sdk/client-eventbridge'
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { defined, nameOf, obj, replace, requiredStr, str } from './events-common.js'
import { changed, ignoreNotFound, type Props } from './resource-props.js'

const MAX_NAME = 64

type AuthorizationType = CreateConnectionCommand['input']['AuthorizationType']

async function attributes(ctx: ProvisionContext, name: string): Promise<ResourceCreated> {
  const d = await ctx.clients.events.send(new DescribeConnectionCommand({ Name: name }))
  return {
    physicalId: name,
    attributes: { Arn: d.ConnectionArn ?? '', SecretArn: d.SecretArn ?? '' },
  }
}

async function create(ctx: ProvisionContext, props: Props): Promise<ResourceCreated> {
  const name = nameOf(ctx, props, 'Name', MAX_NAME)
  await ctx.clients.events.send(
    new CreateConnectionCommand(
      defined({
        Name: name,
        Description: str(ctx, props, 'Description'),
        AuthorizationType: requiredStr(ctx, props, 'AuthorizationType') as AuthorizationType,
        AuthParameters: obj(ctx, props, 'AuthParameters') ?? {},
        KmsKeyIdentifier: str(ctx, props, 'KmsKeyIdentifier'),
      }),
    ),
  )
  return attributes(ctx, name)
}

async function remove(ctx: ProvisionContext, current: ResourceCreated): Promise<void> {
  await ignoreNotFound(
    ctx.clients.events.send(new DeleteConnectionCommand({ Name: current.physicalId })),
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
  await ctx.clients.events.send(
    new UpdateConnectionCommand(
      defined({
        Name: current.physicalId,
        Description: str(ctx, after, 'Description'),
        AuthorizationType: str(ctx, after, 'AuthorizationType') as AuthorizationType,
        AuthParameters: obj(ctx, after, 'AuthParameters'),
        KmsKeyIdentifier: str(ctx, after, 'KmsKeyIdentifier'),
      }),
    ),
  )
  return attributes(ctx, current.physicalId)
}

export const connectionProvisioner: Provisioner & { unsupported: Record<string, string> } = {
  type: 'AWS::Events::Connection',
  properties: ['Name', 'Description', 'AuthorizationType', 'AuthParameters', 'KmsKeyIdentifier'],
  unsupported: {
    InvocationConnectivityParameters:
      'private APIs through VPC Lattice (InvocationConnectivityParameters) are not supported by Junction',
  },
  create,
  update,
  delete: remove,
}
