/**
 * @module
 * `AWS::Events::EventBusPolicy`: one statement of a bus's policy. With `Action`, `Principal`
 * (and `Condition`) it is PutPermission's statement form; with `Statement` the bus's policy is
 * read (DescribeEventBus), the statement with this `StatementId` replaced or added, and the
 * whole policy put back. Delete is RemovePermission of the statement. `Ref` is the StatementId.
 */
import {
  DescribeEventBusCommand,
  PutPermissionCommand,
  RemovePermissionCommand,
  type Condition,
} from '@aws-sdk/client-eventbridge'
import {
  TemplateError,
  type ProvisionContext,
  type Provisioner,
  type ResourceCreated,
} from '../model.js'
import { defined, obj, replace, requiredStr, str } from './events-common.js'
import { changed, ignoreNotFound, type Props } from './resource-props.js'

type PolicyDoc = { Version?: string; Statement?: unknown }

async function put(ctx: ProvisionContext, props: Props): Promise<ResourceCreated> {
  const sid = requiredStr(ctx, props, 'StatementId')
  const busName = str(ctx, props, 'EventBusName') ?? 'default'
  const statement = obj(ctx, props, 'Statement')
  const { events } = ctx.clients
  if (statement) {
    if (
      props.Action !== undefined ||
      props.Principal !== undefined ||
      props.Condition !== undefined
    )
      throw new TemplateError(
        `${ctx.logicalId}: give either Statement, or Action and Principal (with Condition), not both.`,
        ctx.line,
      )
    const bus = await events.send(new DescribeEventBusCommand({ Name: busName }))
    const doc = (bus.Policy === undefined ? {} : JSON.parse(bus.Policy)) as PolicyDoc
    const list = (Array.isArray(doc.Statement) ? doc.Statement : []) as { Sid?: unknown }[]
    const policy = {
      Version: doc.Version ?? '2012-10-17',
      Statement: [...list.filter((s) => s.Sid !== sid), { Sid: sid, ...statement }],
    }
    await events.send(
      new PutPermissionCommand({ EventBusName: busName, Policy: JSON.stringify(policy) }),
    )
  } else {
    if (props.Action === undefined || props.Principal === undefined)
      throw new TemplateError(
        `${ctx.logicalId}: give Statement, or Action and Principal (with Condition).`,
        ctx.line,
      )
    await events.send(
      new PutPermissionCommand(
        defined({
          EventBusName: busName,
          StatementId: sid,
          Action: str(ctx, props, 'Action'),
          Principal: str(ctx, props, 'Principal'),
          Condition: obj(ctx, props, 'Condition') as Condition | undefined,
        }),
      ),
    )
  }
  return { physicalId: sid, attributes: {} }
}

async function remove(
  ctx: ProvisionContext,
  current: ResourceCreated,
  props: Props,
): Promise<void> {
  await ignoreNotFound(
    ctx.clients.events.send(
      new RemovePermissionCommand({
        EventBusName: str(ctx, props, 'EventBusName') ?? 'default',
        StatementId: current.physicalId,
      }),
    ),
  )
}

async function update(
  ctx: ProvisionContext,
  current: ResourceCreated,
  before: Props,
  after: Props,
): Promise<ResourceCreated> {
  if (changed(before, after, ['StatementId', 'EventBusName']))
    return replace(
      () => put(ctx, after),
      () => remove(ctx, current, before),
    )
  return put(ctx, after)
}

export const eventBusPolicyProvisioner: Provisioner = {
  type: 'AWS::Events::EventBusPolicy',
  properties: ['StatementId', 'EventBusName', 'Statement', 'Action', 'Principal', 'Condition'],
  create: put,
  update,
  delete: remove,
}
