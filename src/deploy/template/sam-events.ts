/**
 * @module
 * A SAM function's Events, each turned into the resources SAM generates for it, with SAM's
 * logical ids: `<Function><Event>` for the rule, schedule or event source mapping,
 * `<Function><Event>Permission` for the permission EventBridge needs to invoke the function,
 * `<Function><Event>Role` for the role EventBridge Scheduler assumes, `<Function><Event>Queue`
 * for a dead-letter queue SAM is asked to create.
 */
import { TemplateError } from '../model.js'
import { assumeRolePolicy, checkKeys, compact, getAtt, type Generate } from './sam-support.js'
import { isRecord, own } from './template.js'

export type EventContext = {
  fnId: string
  line: number | undefined
  generate: Generate
  /** The function's generated role needs the policy to poll SQS. */
  pollsSqs(): void
}

type EventTransform = (id: string, props: Record<string, unknown>, ctx: EventContext) => void

const RULE_KEYS = [
  'Pattern',
  'EventBusName',
  'Input',
  'InputPath',
  'InputTransformer',
  'DeadLetterConfig',
  'RetryPolicy',
  'RuleName',
  'State',
  'Target',
]
const SCHEDULE_KEYS = [
  'Schedule',
  'Input',
  'Enabled',
  'State',
  'Name',
  'Description',
  'RetryPolicy',
  'DeadLetterConfig',
]
const SCHEDULE_V2_KEYS = [
  'ScheduleExpression',
  'ScheduleExpressionTimezone',
  'FlexibleTimeWindow',
  'Input',
  'Name',
  'OmitName',
  'GroupName',
  'State',
  'StartDate',
  'EndDate',
  'Description',
  'KmsKeyArn',
  'RetryPolicy',
  'DeadLetterConfig',
  'RoleArn',
  'PermissionsBoundary',
]
const SQS_KEYS = [
  'Queue',
  'BatchSize',
  'Enabled',
  'MaximumBatchingWindowInSeconds',
  'FilterCriteria',
  'FunctionResponseTypes',
  'ScalingConfig',
]

function required(
  props: Record<string, unknown>,
  key: string,
  where: string,
  line: number | undefined,
): unknown {
  if (props[key] === undefined) throw new TemplateError(`${where}: ${key} is required`, line)
  return props[key]
}

/** A target's dead-letter queue: an ARN as given, or (`Type: SQS`) a queue SAM creates. */
function deadLetter(
  dlc: unknown,
  id: string,
  service: string,
  sourceArn: unknown,
  ctx: EventContext,
): unknown {
  if (dlc === undefined) return undefined
  const where = `Event ${id}: DeadLetterConfig`
  const config = checkKeys(dlc, ['Arn', 'Type', 'QueueLogicalId'], where, ctx.line)
  if (config.Arn !== undefined) return { Arn: config.Arn }
  if (config.Type !== 'SQS')
    throw new TemplateError(
      `${where} needs an Arn, or Type: SQS for a queue created with the stack`,
      ctx.line,
    )
  const queueId = typeof config.QueueLogicalId === 'string' ? config.QueueLogicalId : `${id}Queue`
  ctx.generate(queueId, 'AWS::SQS::Queue', {})
  ctx.generate(`${id}QueuePolicy`, 'AWS::SQS::QueuePolicy', {
    Queues: [{ Ref: queueId }],
    PolicyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: service },
          Action: 'sqs:SendMessage',
          Resource: getAtt(queueId, 'Arn'),
          Condition: { ArnEquals: { 'aws:SourceArn': sourceArn } },
        },
      ],
    },
  })
  return { Arn: getAtt(queueId, 'Arn') }
}

function permission(id: string, ctx: EventContext): void {
  ctx.generate(`${id}Permission`, 'AWS::Lambda::Permission', {
    Action: 'lambda:InvokeFunction',
    FunctionName: { Ref: ctx.fnId },
    Principal: 'events.amazonaws.com',
    SourceArn: getAtt(id, 'Arn'),
  })
}

const eventBridgeRule: EventTransform = (id, p, ctx) => {
  required(p, 'Pattern', `Event ${id}`, ctx.line)
  const target = checkKeys(p.Target, ['Id'], `Event ${id}: Target`, ctx.line)
  ctx.generate(
    id,
    'AWS::Events::Rule',
    compact({
      EventPattern: p.Pattern,
      EventBusName: p.EventBusName,
      Name: p.RuleName,
      State: p.State,
      Targets: [
        compact({
          Arn: getAtt(ctx.fnId, 'Arn'),
          Id: target.Id ?? `${id}LambdaTarget`,
          Input: p.Input,
          InputPath: p.InputPath,
          InputTransformer: p.InputTransformer,
          RetryPolicy: p.RetryPolicy,
          DeadLetterConfig: deadLetter(
            p.DeadLetterConfig,
            id,
            'events.amazonaws.com',
            getAtt(id, 'Arn'),
            ctx,
          ),
        }),
      ],
    }),
  )
  permission(id, ctx)
}

function ruleState(p: Record<string, unknown>, id: string, line: number | undefined): unknown {
  if (p.Enabled === undefined) return p.State
  if (p.State !== undefined)
    throw new TemplateError(`Event ${id}: State and Enabled cannot both be set`, line)
  if (p.Enabled === true || p.Enabled === 'true') return 'ENABLED'
  if (p.Enabled === false || p.Enabled === 'false') return 'DISABLED'
  throw new TemplateError(`Event ${id}: Enabled must be true or false`, line)
}

const schedule: EventTransform = (id, p, ctx) => {
  ctx.generate(
    id,
    'AWS::Events::Rule',
    compact({
      ScheduleExpression: required(p, 'Schedule', `Event ${id}`, ctx.line),
      Name: p.Name,
      Description: p.Description,
      State: ruleState(p, id, ctx.line),
      Targets: [
        compact({
          Arn: getAtt(ctx.fnId, 'Arn'),
          Id: `${id}LambdaTarget`,
          Input: p.Input,
          RetryPolicy: p.RetryPolicy,
          DeadLetterConfig: deadLetter(
            p.DeadLetterConfig,
            id,
            'events.amazonaws.com',
            getAtt(id, 'Arn'),
            ctx,
          ),
        }),
      ],
    }),
  )
  permission(id, ctx)
}

const scheduleV2: EventTransform = (id, p, ctx) => {
  const roleId = `${id}Role`
  if (p.RoleArn === undefined) {
    ctx.generate(
      roleId,
      'AWS::IAM::Role',
      compact({
        AssumeRolePolicyDocument: assumeRolePolicy('scheduler.amazonaws.com'),
        Policies: [
          {
            PolicyName: `${id}LambdaPolicy`,
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Action: 'lambda:InvokeFunction',
                  Effect: 'Allow',
                  Resource: getAtt(ctx.fnId, 'Arn'),
                },
              ],
            },
          },
        ],
        PermissionsBoundary: p.PermissionsBoundary,
      }),
    )
  }
  const omitName = p.OmitName === true || p.OmitName === 'true'
  ctx.generate(
    id,
    'AWS::Scheduler::Schedule',
    compact({
      Name: p.Name ?? (omitName ? undefined : id),
      Description: p.Description,
      ScheduleExpression: required(p, 'ScheduleExpression', `Event ${id}`, ctx.line),
      ScheduleExpressionTimezone: p.ScheduleExpressionTimezone,
      FlexibleTimeWindow: p.FlexibleTimeWindow ?? { Mode: 'OFF' },
      GroupName: p.GroupName,
      State: p.State,
      StartDate: p.StartDate,
      EndDate: p.EndDate,
      KmsKeyArn: p.KmsKeyArn,
      Target: compact({
        Arn: getAtt(ctx.fnId, 'Arn'),
        RoleArn: p.RoleArn ?? getAtt(roleId, 'Arn'),
        Input: p.Input,
        RetryPolicy: p.RetryPolicy,
        DeadLetterConfig: deadLetter(
          p.DeadLetterConfig,
          id,
          'scheduler.amazonaws.com',
          getAtt(id, 'Arn'),
          ctx,
        ),
      }),
    }),
  )
}

const sqs: EventTransform = (id, p, ctx) => {
  ctx.generate(
    id,
    'AWS::Lambda::EventSourceMapping',
    compact({
      EventSourceArn: required(p, 'Queue', `Event ${id}`, ctx.line),
      FunctionName: { Ref: ctx.fnId },
      BatchSize: p.BatchSize,
      Enabled: p.Enabled,
      MaximumBatchingWindowInSeconds: p.MaximumBatchingWindowInSeconds,
      FilterCriteria: p.FilterCriteria,
      FunctionResponseTypes: p.FunctionResponseTypes,
      ScalingConfig: p.ScalingConfig,
    }),
  )
  ctx.pollsSqs()
}

const EVENT_TYPES: Record<string, [readonly string[], EventTransform]> = {
  EventBridgeRule: [RULE_KEYS, eventBridgeRule],
  CloudWatchEvent: [RULE_KEYS, eventBridgeRule],
  Schedule: [SCHEDULE_KEYS, schedule],
  ScheduleV2: [SCHEDULE_V2_KEYS, scheduleV2],
  SQS: [SQS_KEYS, sqs],
}

/** Generates the resources of the function's event `eventId`. */
export function transformEvent(eventId: string, event: unknown, ctx: EventContext): void {
  const id = ctx.fnId + eventId
  if (!/^[A-Za-z0-9]+$/.test(eventId)) {
    throw new TemplateError(`${ctx.fnId}: event name ${eventId} must be alphanumeric`, ctx.line)
  }
  if (!isRecord(event) || typeof event.Type !== 'string') {
    throw new TemplateError(`${ctx.fnId}: event ${eventId} needs a Type`, ctx.line)
  }
  const known = own(EVENT_TYPES, event.Type)
  if (known === undefined) {
    throw new TemplateError(
      `${ctx.fnId}: event ${eventId} has type ${event.Type}, which is not supported; the supported event types are ${Object.keys(EVENT_TYPES).join(', ')}`,
      ctx.line,
    )
  }
  const [keys, transform] = known
  transform(
    id,
    checkKeys(
      event.Properties ?? {},
      keys,
      `${ctx.fnId}: event ${eventId} (${event.Type})`,
      ctx.line,
    ),
    ctx,
  )
}
