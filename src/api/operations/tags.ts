/**
 * @module
 * TagResource, UntagResource, ListTagsForResource, for event buses and rules.
 */
import { parseArn } from '../../arns.js'
import { BusError, notFound } from '../../errors.js'
import type { Operation, RequestContext } from '../context.js'
import { ARN, Checker } from '../validate.js'
import { readTags, tagList } from './wire.js'

const MAX_TAGS = 50

/** The resource an ARN names, which must exist: a bus or a rule in the caller's account. */
function requireResource(ctx: RequestContext, arn: string): { managedBy?: string } {
  const { registry } = ctx.services
  const parsed = parseArn(arn)
  const resource = parsed?.resource ?? arn
  if (resource.startsWith('event-bus/')) {
    const name = resource.slice('event-bus/'.length)
    const bus = parsed && registry.bus({ account: parsed.account, region: parsed.region }, name)
    if (!bus) throw notFound(`Event bus ${name} does not exist.`)
    return {}
  }
  if (resource.startsWith('rule/')) {
    const parts = resource.slice('rule/'.length).split('/')
    const name = parts.at(-1)!
    const busName = parts.length > 1 ? parts.slice(0, -1).join('/') : 'default'
    const rule = registry.rule(arn)
    if (!rule) throw notFound(`Rule ${name} does not exist on EventBus ${busName}.`)
    return rule.managedBy === undefined ? {} : { managedBy: rule.managedBy }
  }
  throw notFound(`Resource ${arn} does not exist.`)
}

const tagResource: Operation = async (ctx, input) => {
  const check = new Checker()
  const arn = check.string(input, 'ResourceARN', 'resourceARN', { required: true, ...ARN })
  const tags = readTags(check, input, 'Tags', 'tags')
  if (!tags) check.fail(undefined, 'tags', 'Member must not be null')
  check.done()
  const list = input.Tags as { Key: string }[]
  if (new Set(list.map((t) => t.Key)).size !== list.length)
    throw new BusError('ValidationException', 'Invalid parameter: Duplicated keys are not allowed.')
  const resource = requireResource(ctx, arn!)
  if (resource.managedBy !== undefined)
    throw new BusError(
      'ManagedRuleException',
      'The rule is managed by an AWS service and cannot be tagged.',
    )
  const merged = { ...ctx.services.registry.tagsOf(arn!), ...tags }
  if (Object.keys(merged).length > MAX_TAGS)
    throw new BusError(
      'LimitExceededException',
      'The requested resource exceeds the maximum number allowed.',
    )
  await ctx.services.registry.setTags(arn!, merged)
  return {}
}

const untagResource: Operation = async (ctx, input) => {
  const check = new Checker()
  const arn = check.string(input, 'ResourceARN', 'resourceARN', { required: true, ...ARN })
  const keys = check.stringList(input, 'TagKeys', 'tagKeys', { min: 1, max: 128 })
  if (!keys) check.fail(undefined, 'tagKeys', 'Member must not be null')
  check.done()
  const resource = requireResource(ctx, arn!)
  if (resource.managedBy !== undefined)
    throw new BusError(
      'ManagedRuleException',
      'The rule is managed by an AWS service and cannot be untagged.',
    )
  const remove = new Set(keys)
  const tags = Object.fromEntries(
    Object.entries(ctx.services.registry.tagsOf(arn!)).filter(([k]) => !remove.has(k)),
  )
  await ctx.services.registry.setTags(arn!, tags)
  return {}
}

const listTagsForResource: Operation = (ctx, input) => {
  const check = new Checker()
  const arn = check.string(input, 'ResourceARN', 'resourceARN', { required: true, ...ARN })
  check.done()
  requireResource(ctx, arn!)
  return { Tags: tagList(ctx.services.registry.tagsOf(arn!)) }
}

export const tagOperations: Record<string, Operation> = {
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsForResource: listTagsForResource,
}
