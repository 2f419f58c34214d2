/**
 * @module
 * AWS::Scheduler::Schedule through Create/Update/DeleteSchedule. `Name` is optional (generated,
 * 64 characters); `Ref` is the name; `Fn::GetAtt` gives `Arn`. A new `Name` or `GroupName`
 * replaces the schedule; anything else is an UpdateSchedule (which, as in the API, restates
 * the whole schedule). The CloudFormation `Target` shape is the API's, passed through with its
 * numbers read from strings where a template writes them so.
 */
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
  type Target,
} from '@aws-sdk/client-scheduler'
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { changed, ignoreNotFound, PropReader, toNumber, type Props } from './resource-props.js'

const TYPE = 'AWS::Scheduler::Schedule'

function date(p: PropReader, name: string): Date | undefined {
  const v = p.string(name)
  if (v === undefined) return undefined
  const d = new Date(v)
  if (Number.isNaN(d.getTime())) throw p.error(`${name} is not a date: ${v}`)
  return d
}

function target(p: PropReader): Target {
  const t = p.object('Target')
  if (t === undefined) throw p.error('the property Target is required')
  if (typeof t.Arn !== 'string') throw p.error('Target.Arn is required')
  if (typeof t.RoleArn !== 'string') throw p.error('Target.RoleArn is required')
  const out = { ...t }
  const retry = t.RetryPolicy as Props | undefined
  if (retry !== undefined) {
    out.RetryPolicy = {
      ...retry,
      ...(retry.MaximumEventAgeInSeconds === undefined
        ? {}
        : {
            MaximumEventAgeInSeconds: toNumber(
              p,
              'Target.RetryPolicy.MaximumEventAgeInSeconds',
              retry.MaximumEventAgeInSeconds,
            ),
          }),
      ...(retry.MaximumRetryAttempts === undefined
        ? {}
        : {
            MaximumRetryAttempts: toNumber(
              p,
              'Target.RetryPolicy.MaximumRetryAttempts',
              retry.MaximumRetryAttempts,
            ),
          }),
    }
  }
  if (t.Input !== undefined && typeof t.Input !== 'string') out.Input = JSON.stringify(t.Input)
  return out as unknown as Target
}

function input(ctx: ProvisionContext, props: Props, name: string): CreateScheduleCommandInput {
  const p = new PropReader(ctx, TYPE, props)
  const window = p.object('FlexibleTimeWindow')
  if (window === undefined) throw p.error('the property FlexibleTimeWindow is required')
  const optional = (key: string) => {
    const v = p.string(key)
    return v === undefined ? {} : { [key]: v }
  }
  const start = date(p, 'StartDate')
  const end = date(p, 'EndDate')
  return {
    Name: name,
    ScheduleExpression: p.requiredString('ScheduleExpression'),
    FlexibleTimeWindow: {
      Mode: String(window.Mode) as 'OFF' | 'FLEXIBLE',
      ...(window.MaximumWindowInMinutes === undefined
        ? {}
        : {
            MaximumWindowInMinutes: toNumber(
              p,
              'FlexibleTimeWindow.MaximumWindowInMinutes',
              window.MaximumWindowInMinutes,
            ),
          }),
    },
    Target: target(p),
    ...optional('GroupName'),
    ...optional('ScheduleExpressionTimezone'),
    ...optional('State'),
    ...optional('Description'),
    ...optional('KmsKeyArn'),
    ...optional('ActionAfterCompletion'),
    ...(start === undefined ? {} : { StartDate: start }),
    ...(end === undefined ? {} : { EndDate: end }),
  }
}

async function create(ctx: ProvisionContext, props: Props): Promise<ResourceCreated> {
  const name = new PropReader(ctx, TYPE, props).string('Name') ?? ctx.generatedName(64)
  const out = await ctx.clients.scheduler.send(new CreateScheduleCommand(input(ctx, props, name)))
  return { physicalId: name, attributes: { Arn: out.ScheduleArn } }
}

async function remove(ctx: ProvisionContext, name: string, props: Props): Promise<void> {
  const group = new PropReader(ctx, TYPE, props).string('GroupName')
  await ignoreNotFound(
    ctx.clients.scheduler.send(
      new DeleteScheduleCommand({
        Name: name,
        ...(group === undefined ? {} : { GroupName: group }),
      }),
    ),
  )
}

export const schedulerSchedule: Provisioner = {
  type: TYPE,
  properties: [
    'Name',
    'GroupName',
    'ScheduleExpression',
    'ScheduleExpressionTimezone',
    'FlexibleTimeWindow',
    'StartDate',
    'EndDate',
    'State',
    'Description',
    'Target',
    'KmsKeyArn',
    'ActionAfterCompletion',
  ],
  create,
  async update(ctx, current, before, after) {
    if (changed(before, after, ['Name', 'GroupName'])) {
      const next = await create(ctx, after)
      await remove(ctx, current.physicalId, before)
      return next
    }
    const out = await ctx.clients.scheduler.send(
      new UpdateScheduleCommand(input(ctx, after, current.physicalId)),
    )
    return { physicalId: current.physicalId, attributes: { Arn: out.ScheduleArn } }
  },
  delete: (ctx, current, props) => remove(ctx, current.physicalId, props),
}
