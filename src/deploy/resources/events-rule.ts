/**
 * @module
 * `AWS::Events::Rule`: PutRule, then PutTargets with the targets as the template writes them
 * (CloudFormation's Target has PutTargets' shape, so every field passes through and the server
 * judges it). An update puts the rule and its targets again and removes the targets whose Id
 * left the template. `Ref` is the rule name on the default bus and `bus|name` on another bus,
 * as CloudFormation answers; attribute `Arn`. A rule without a Name gets a generated one.
 */
import {
  DeleteRuleCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  type Target,
} from '@aws-sdk/client-eventbridge'
import {
  TemplateError,
  type ProvisionContext,
  type Provisioner,
  type ResourceCreated,
} from '../model.js'
import { defined, undoOnFailure, jsonText, nameOf, replace, str } from './events-common.js'
import { changed, ignoreNotFound, isNotFound, type Props } from './resource-props.js'

const MAX_NAME = 64

/** The bus name of an `EventBusName` given as a name or an ARN (`…:event-bus/NAME`). */
function busNameOf(busNameOrArn: string | undefined): string {
  if (busNameOrArn === undefined) return 'default'
  const i = busNameOrArn.indexOf(':event-bus/')
  return i < 0 ? busNameOrArn : busNameOrArn.slice(i + ':event-bus/'.length)
}

/** The rule's name and bus out of its physical id (`name` or `bus|name`). */
function parsePhysicalId(id: string): { bus: string; name: string } {
  const i = id.indexOf('|')
  return i < 0 ? { bus: 'default', name: id } : { bus: id.slice(0, i), name: id.slice(i + 1) }
}

function targetsOf(ctx: ProvisionContext, props: Props): Target[] {
  const v = props.Targets
  if (v === undefined) return []
  if (!Array.isArray(v))
    throw new TemplateError(`${ctx.logicalId}: property Targets must be a list.`, ctx.line)
  return v.map((t: unknown, i) => {
    if (t === null || typeof t !== 'object' || Array.isArray(t))
      throw new TemplateError(
        `${ctx.logicalId}: Targets[${String(i)}] must be an object.`,
        ctx.line,
      )
    const target = t as Props
    if (typeof target.Id !== 'string' || typeof target.Arn !== 'string')
      throw new TemplateError(
        `${ctx.logicalId}: Targets[${String(i)}] needs an Id and an Arn (strings).`,
        ctx.line,
      )
    return target as unknown as Target
  })
}

async function putRule(ctx: ProvisionContext, props: Props, name: string): Promise<string> {
  const out = await ctx.clients.events.send(
    new PutRuleCommand(
      defined({
        Name: name,
        EventBusName: str(ctx, props, 'EventBusName'),
        EventPattern: jsonText(ctx, props, 'EventPattern'),
        ScheduleExpression: str(ctx, props, 'ScheduleExpression'),
        State: str(ctx, props, 'State') as PutRuleCommand['input']['State'],
        Description: str(ctx, props, 'Description'),
        RoleArn: str(ctx, props, 'RoleArn'),
      }),
    ),
  )
  return out.RuleArn ?? ''
}

async function putTargets(ctx: ProvisionContext, props: Props, name: string): Promise<void> {
  const targets = targetsOf(ctx, props)
  if (targets.length === 0) return
  const out = await ctx.clients.events.send(
    new PutTargetsCommand(
      defined({ Rule: name, EventBusName: str(ctx, props, 'EventBusName'), Targets: targets }),
    ),
  )
  const failed = out.FailedEntries?.[0]
  if ((out.FailedEntryCount ?? 0) > 0 && failed) {
    const e = new Error(`target ${failed.TargetId ?? '?'}: ${failed.ErrorMessage ?? ''}`)
    e.name = failed.ErrorCode ?? 'PutTargetsFailed'
    throw e
  }
}

async function create(ctx: ProvisionContext, props: Props): Promise<ResourceCreated> {
  const name = nameOf(ctx, props, 'Name', MAX_NAME)
  const bus = busNameOf(str(ctx, props, 'EventBusName'))
  const arn = await putRule(ctx, props, name)
  const physicalId = bus === 'default' ? name : `${bus}|${name}`
  await undoOnFailure(putTargets(ctx, props, name), () =>
    remove(ctx, { physicalId, attributes: {} }, props),
  )
  return { physicalId, attributes: { Arn: arn } }
}

async function remove(
  ctx: ProvisionContext,
  current: ResourceCreated,
  props: Props,
): Promise<void> {
  const { name } = parsePhysicalId(current.physicalId)
  const busName = str(ctx, props, 'EventBusName') ?? parsePhysicalId(current.physicalId).bus
  const { events } = ctx.clients
  let ids: string[]
  try {
    const listed = await events.send(
      new ListTargetsByRuleCommand({ Rule: name, EventBusName: busName }),
    )
    ids = (listed.Targets ?? []).map((t) => t.Id ?? '')
  } catch (e) {
    if (isNotFound(e)) return
    throw e
  }
  if (ids.length > 0)
    await ignoreNotFound(
      events.send(new RemoveTargetsCommand({ Rule: name, EventBusName: busName, Ids: ids })),
    )
  await ignoreNotFound(events.send(new DeleteRuleCommand({ Name: name, EventBusName: busName })))
}

async function update(
  ctx: ProvisionContext,
  current: ResourceCreated,
  before: Props,
  after: Props,
): Promise<ResourceCreated> {
  const { name } = parsePhysicalId(current.physicalId)
  const busBefore = busNameOf(str(ctx, before, 'EventBusName'))
  if (changed(before, after, ['Name']) || busBefore !== busNameOf(str(ctx, after, 'EventBusName')))
    return replace(
      () => create(ctx, after),
      () => remove(ctx, current, before),
    )
  const arn = await putRule(ctx, after, name)
  await putTargets(ctx, after, name)
  const keep = new Set(targetsOf(ctx, after).map((t) => t.Id))
  const gone = targetsOf(ctx, before)
    .map((t) => t.Id!)
    .filter((id) => !keep.has(id))
  if (gone.length > 0)
    await ctx.clients.events.send(
      new RemoveTargetsCommand(
        defined({ Rule: name, EventBusName: str(ctx, after, 'EventBusName'), Ids: gone }),
      ),
    )
  return { physicalId: current.physicalId, attributes: { Arn: arn } }
}

export const ruleProvisioner: Provisioner = {
  type: 'AWS::Events::Rule',
  properties: [
    'Name',
    'Description',
    'EventBusName',
    'EventPattern',
    'ScheduleExpression',
    'State',
    'RoleArn',
    'Targets',
  ],
  create,
  update,
  delete: remove,
}
