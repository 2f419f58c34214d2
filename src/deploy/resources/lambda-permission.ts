/**
 * @module
 * AWS::Lambda::Permission through AddPermission and RemovePermission, with a generated statement
 * id. `Ref` is the statement id. Every property of this type replaces it when changed, as in
 * CloudFormation: the old statement is removed, then the new one added.
 */
import { AddPermissionCommand, RemovePermissionCommand } from '@aws-sdk/client-lambda'
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { ignoreNotFound, PropReader, type Props } from './resource-props.js'

const TYPE = 'AWS::Lambda::Permission'

async function add(ctx: ProvisionContext, props: Props): Promise<ResourceCreated> {
  const p = new PropReader(ctx, TYPE, props)
  const sid = ctx.generatedName(100)
  const optional = (name: string) => {
    const v = p.string(name)
    return v === undefined ? {} : { [name]: v }
  }
  await ctx.clients.lambda.send(
    new AddPermissionCommand({
      FunctionName: p.requiredString('FunctionName'),
      StatementId: sid,
      Action: p.requiredString('Action'),
      Principal: p.requiredString('Principal'),
      ...optional('SourceArn'),
      ...optional('SourceAccount'),
      ...optional('EventSourceToken'),
      ...optional('PrincipalOrgID'),
    }),
  )
  return { physicalId: sid, attributes: { Id: sid } }
}

async function remove(
  ctx: ProvisionContext,
  current: ResourceCreated,
  props: Props,
): Promise<void> {
  const fn = new PropReader(ctx, TYPE, props).string('FunctionName')
  if (fn === undefined) return
  await ignoreNotFound(
    ctx.clients.lambda.send(
      new RemovePermissionCommand({ FunctionName: fn, StatementId: current.physicalId }),
    ),
  )
}

export const lambdaPermission: Provisioner = {
  type: TYPE,
  properties: [
    'Action',
    'FunctionName',
    'Principal',
    'SourceArn',
    'SourceAccount',
    'EventSourceToken',
    'PrincipalOrgID',
  ],
  create: add,
  async update(ctx, current, before, after) {
    await remove(ctx, current, before)
    return add(ctx, after)
  },
  delete: remove,
}
