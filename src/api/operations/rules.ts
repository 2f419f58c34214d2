/**
 * @module
 * Rules: PutRule, DeleteRule, DescribeRule, ListRules, EnableRule, DisableRule,
 * ListRuleNamesByTarget.
 */
import { ruleArn } from '../../arns.js'
import { BusError, invalid } from '../../errors.js'
import type { EventBus, Rule, RuleState } from '../../model.js'
import { checkPattern } from '../../pattern/index.js'
import { parseRuleSchedule, ScheduleExpressionError } from '../../schedule/expression.js'
import type { Operation, RequestContext } from '../context.js'
import { page } from '../paging.js'
import {
  ARN,
  Checker,
  DESCRIPTION,
  EVENT_BUS_NAME_OR_ARN,
  LIMIT,
  NEXT_TOKEN,
  RULE_NAME,
  type Input,
} from '../validate.js'
import { compact, readTags, requireBus, requireRule } from './wire.js'

const STATES = ['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS'] as const

/** The members every rule operation names: the rule and its bus. */
function ruleAndBus(ctx: RequestContext, input: Input, check: Checker = new Checker()) {
  const name = check.string(input, 'Name', 'name', { required: true, ...RULE_NAME })
  const busName = check.string(input, 'EventBusName', 'eventBusName', EVENT_BUS_NAME_OR_ARN)
  check.done()
  return { name: name!, bus: requireBus(ctx, busName) }
}

function managedGuard(rule: Rule | undefined, force = false): void {
  if (rule?.managedBy !== undefined && !force)
    throw new BusError(
      'ManagedRuleException',
      `Rule ${rule.name} is managed by ${rule.managedBy}; it can only be changed with Force or by that service.`,
    )
}

export function ruleWire(rule: Rule) {
  return compact({
    Name: rule.name,
    Arn: rule.arn,
    EventPattern: rule.eventPattern,
    ScheduleExpression: rule.scheduleExpression,
    State: rule.state,
    Description: rule.description,
    RoleArn: rule.roleArn,
    ManagedBy: rule.managedBy,
    EventBusName: rule.busName,
  })
}

const putRule: Operation = async (ctx, input) => {
  const check = new Checker()
  const schedule = check.string(input, 'ScheduleExpression', 'scheduleExpression', { max: 256 })
  const pattern = check.string(input, 'EventPattern', 'eventPattern', {
    max: ctx.services.limits.maxPatternLength,
  })
  const state = check.string(input, 'State', 'state', { enum: STATES }) as RuleState | undefined
  const description = check.string(input, 'Description', 'description', DESCRIPTION)
  const roleArn = check.string(input, 'RoleArn', 'roleArn', ARN)
  const tags = readTags(check, input, 'Tags', 'tags')
  const { name, bus } = ruleAndBus(ctx, input, check)
  if (pattern === undefined && schedule === undefined)
    throw invalid('Parameter(s) EventPattern or ScheduleExpression must be specified.')
  if (schedule !== undefined) {
    try {
      parseRuleSchedule(schedule)
    } catch (e) {
      if (!(e instanceof ScheduleExpressionError)) throw e
      throw invalid('Parameter ScheduleExpression is not valid.')
    }
    if (bus.name !== 'default')
      throw invalid('ScheduleExpression is supported only on the default event bus.')
  }
  if (pattern !== undefined) {
    const patternError = checkPattern(pattern, {
      maxLength: ctx.services.limits.maxPatternLength,
    })
    if (patternError) throw new BusError(patternError.code, patternError.message)
  }
  const { registry } = ctx.services
  const arn = ruleArn(bus, bus.name, name)
  const existing = registry.rule(arn)
  managedGuard(existing)
  // AWS's default quota, 300 rules per bus (managed rules count too); a replaced rule is no new one.
  if (!existing && registry.rulesOf(bus.arn).length >= ctx.services.limits.maxRulesPerBus)
    throw new BusError(
      'LimitExceededException',
      'The requested resource exceeds the maximum number allowed.',
    )
  const ruleState = state ?? 'ENABLED'
  // PutRule replaces the rule: members left out of the request become unset.
  const rule: Rule = compact({
    name,
    arn,
    busName: bus.name,
    account: bus.account,
    region: bus.region,
    eventPattern: pattern,
    scheduleExpression: schedule,
    scheduleSince:
      schedule === undefined
        ? undefined
        : scheduleSince(existing, schedule, ruleState, ctx.services.clock.now()),
    state: ruleState,
    description,
    roleArn,
    createdBy: existing?.createdBy ?? ctx.scope.account,
  })
  await registry.putRule(rule, bus)
  // Tags apply only when the rule is created (AWS ignores them on update).
  if (!existing && tags && Object.keys(tags).length > 0) await registry.setTags(arn, tags)
  return { RuleArn: arn }
}

const describeRule: Operation = (ctx, input) => {
  const { name, bus } = ruleAndBus(ctx, input)
  const rule = requireRule(ctx, bus, name)
  return { ...ruleWire(rule), CreatedBy: rule.createdBy }
}

const deleteRule: Operation = async (ctx, input) => {
  const check = new Checker()
  const force = check.boolean(input, 'Force')
  const { name, bus } = ruleAndBus(ctx, input, check)
  const { registry } = ctx.services
  const rule = registry.rule(ruleArn(bus, bus.name, name))
  if (!rule) return {} // deleting a rule that does not exist succeeds
  managedGuard(rule, force)
  if (registry.targetsOf(rule.arn).length > 0 && force !== true)
    throw invalid("Rule can't be deleted since it has targets.")
  await registry.deleteRule(rule)
  return {}
}

/**
 * When a scheduled rule's ticks start counting: kept while its expression stays the same and it
 * stays enabled, so that PutRule with the same schedule neither repeats nor shifts a tick;
 * otherwise now (a new schedule, or enabled again after ticks it must not catch up on).
 */
function scheduleSince(
  existing: Rule | undefined,
  schedule: string,
  state: RuleState,
  now: number,
): number {
  if (
    existing?.scheduleSince !== undefined &&
    existing.scheduleExpression === schedule &&
    existing.state !== 'DISABLED' &&
    state !== 'DISABLED'
  )
    return existing.scheduleSince
  return now
}

function setState(state: RuleState): Operation {
  return async (ctx, input) => {
    const { name, bus } = ruleAndBus(ctx, input)
    const rule = requireRule(ctx, bus, name)
    managedGuard(rule)
    if (rule.state === state) return {}
    const changed: Rule = { ...rule, state }
    if (rule.scheduleExpression !== undefined)
      changed.scheduleSince = scheduleSince(
        rule,
        rule.scheduleExpression,
        state,
        ctx.services.clock.now(),
      )
    await ctx.services.registry.putRule(changed, bus)
    return {}
  }
}

const listRules: Operation = (ctx, input) => {
  const check = new Checker()
  const prefix = check.string(input, 'NamePrefix', 'namePrefix', RULE_NAME)
  const busName = check.string(input, 'EventBusName', 'eventBusName', EVENT_BUS_NAME_OR_ARN)
  const token = check.string(input, 'NextToken', 'nextToken', NEXT_TOKEN)
  const limit = check.integer(input, 'Limit', 'limit', LIMIT)
  check.done()
  const bus: EventBus = requireBus(ctx, busName)
  const rules = ctx.services.registry
    .rulesOf(bus.arn)
    .filter((r) => prefix === undefined || r.name.startsWith(prefix))
  const p = page(rules, token, limit)
  return compact({ Rules: p.items.map(ruleWire), NextToken: p.nextToken })
}

const listRuleNamesByTarget: Operation = (ctx, input) => {
  const check = new Checker()
  const targetArn = check.string(input, 'TargetArn', 'targetArn', { required: true, ...ARN })
  const busName = check.string(input, 'EventBusName', 'eventBusName', EVENT_BUS_NAME_OR_ARN)
  const token = check.string(input, 'NextToken', 'nextToken', NEXT_TOKEN)
  const limit = check.integer(input, 'Limit', 'limit', LIMIT)
  check.done()
  const bus = requireBus(ctx, busName)
  const names = ctx.services.registry.rulesTargeting(bus.arn, targetArn!).map((r) => r.name)
  const p = page(names, token, limit)
  return compact({ RuleNames: p.items, NextToken: p.nextToken })
}

export const ruleOperations: Record<string, Operation> = {
  PutRule: putRule,
  DescribeRule: describeRule,
  DeleteRule: deleteRule,
  EnableRule: setState('ENABLED'),
  DisableRule: setState('DISABLED'),
  ListRules: listRules,
  ListRuleNamesByTarget: listRuleNamesByTarget,
}
