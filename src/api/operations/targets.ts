/**
 * @module
 * Targets: PutTargets, RemoveTargets, ListTargetsByRule. Each target is kept twice: parsed for
 * delivery, and exactly as received so that ListTargetsByRule returns every field unchanged.
 */
import { BusError, invalid } from '../../errors.js'
import { DEFAULT_RETRY_POLICY, type HttpParameters, type Target } from '../../model.js'
import { readTargetInput } from '../../transform/index.js'
import type { Operation, RequestContext } from '../context.js'
import { page } from '../paging.js'
import {
  ARN,
  Checker,
  EVENT_BUS_NAME_OR_ARN,
  LIMIT,
  NEXT_TOKEN,
  RULE_NAME,
  TARGET_ID,
  type Input,
} from '../validate.js'
import { compact, requireBus, requireRule } from './wire.js'
import { checkSinkTargets } from './sink-targets.js'

function ruleOf(ctx: RequestContext, input: Input, check: Checker) {
  const name = check.string(input, 'Rule', 'rule', { required: true, ...RULE_NAME })
  const busName = check.string(input, 'EventBusName', 'eventBusName', EVENT_BUS_NAME_OR_ARN)
  return () => {
    check.done()
    const bus = requireBus(ctx, busName)
    return requireRule(ctx, bus, name!)
  }
}

/** Reads one wire target; `p` is its path prefix, e.g. `targets.1.member`. */
function readTarget(check: Checker, t: Input, p: string): Target | undefined {
  const id = check.string(t, 'Id', `${p}.id`, { required: true, ...TARGET_ID })
  const arn = check.string(t, 'Arn', `${p}.arn`, { required: true, ...ARN })
  const roleArn = check.string(t, 'RoleArn', `${p}.roleArn`, ARN)
  const constant = check.string(t, 'Input', `${p}.input`, { max: 8192 })
  const inputPath = check.string(t, 'InputPath', `${p}.inputPath`, { max: 256 })
  const tr = check.object(t, 'InputTransformer', `${p}.inputTransformer`)
  const template =
    tr &&
    check.string(tr, 'InputTemplate', `${p}.inputTransformer.inputTemplate`, {
      required: true,
      min: 1,
      max: 8192,
    })
  const pathsMap = tr && check.stringMap(tr, 'InputPathsMap')
  const rp = check.object(t, 'RetryPolicy', `${p}.retryPolicy`)
  const maxAttempts =
    rp &&
    check.integer(rp, 'MaximumRetryAttempts', `${p}.retryPolicy.maximumRetryAttempts`, {
      min: 0,
      max: 185,
    })
  const maxAge =
    rp &&
    check.integer(rp, 'MaximumEventAgeInSeconds', `${p}.retryPolicy.maximumEventAgeInSeconds`, {
      min: 60,
      max: 86400,
    })
  const dlq = check.object(t, 'DeadLetterConfig', `${p}.deadLetterConfig`)
  const deadLetterArn = dlq && check.string(dlq, 'Arn', `${p}.deadLetterConfig.arn`, ARN)
  const http = check.object(t, 'HttpParameters', `${p}.httpParameters`)
  const sqs = check.object(t, 'SqsParameters', `${p}.sqsParameters`)
  const groupId =
    sqs && check.string(sqs, 'MessageGroupId', `${p}.sqsParameters.messageGroupId`, { max: 100 })
  let httpParameters: HttpParameters | undefined
  if (http) {
    httpParameters = compact({
      pathParameterValues: check.stringList(
        http,
        'PathParameterValues',
        `${p}.httpParameters.pathParameterValues`,
        {
          pattern: /^(?!\s*$).+/s,
          patternText: '^(?!\\s*$).+',
        },
      ),
      // The model's HeaderKey/HeaderValue and QueryString shapes: no CR, LF or other controls.
      headerParameters: check.stringMap(
        http,
        'HeaderParameters',
        `${p}.httpParameters.headerParameters`,
        {
          key: {
            max: 512,
            pattern: /^[!#$%&'*+\-.^_`|~0-9a-zA-Z]+$/,
            patternText: "^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$",
          },
          value: {
            max: 512,
            pattern: /^[ \t]*[\x20-\x7E]+([ \t]+[\x20-\x7E]+)*[ \t]*$/,
            patternText: '^[ \\t]*[\\x20-\\x7E]+([ \\t]+[\\x20-\\x7E]+)*[ \\t]*$',
          },
        },
      ),
      queryStringParameters: check.stringMap(
        http,
        'QueryStringParameters',
        `${p}.httpParameters.queryStringParameters`,
        {
          // eslint-disable-next-line no-control-regex -- the model's pattern excludes control characters
          key: { max: 512, pattern: /^[^\x00-\x1F\x7F]+$/, patternText: '[^\\x00-\\x1F\\x7F]+' },
          value: {
            max: 512,
            // eslint-disable-next-line no-control-regex -- the model's pattern excludes control characters
            pattern: /^[^\x00-\x09\x0B\x0C\x0E-\x1F\x7F]+$/,
            patternText: '[^\\x00-\\x09\\x0B\\x0C\\x0E-\\x1F\\x7F]+',
          },
        },
      ),
    })
  }
  if (id === undefined || arn === undefined) return undefined
  const chosen = readTargetInput(id, {
    input: constant,
    inputPath,
    inputTransformer:
      template === undefined
        ? undefined
        : pathsMap
          ? { inputPathsMap: pathsMap, inputTemplate: template }
          : { inputTemplate: template },
  })
  if ('error' in chosen) throw invalid(chosen.error)
  const input = chosen.input
  return compact({
    id,
    arn,
    roleArn,
    input,
    retryPolicy: {
      maximumRetryAttempts: maxAttempts ?? DEFAULT_RETRY_POLICY.maximumRetryAttempts,
      maximumEventAgeSeconds: maxAge ?? DEFAULT_RETRY_POLICY.maximumEventAgeSeconds,
    },
    deadLetterArn,
    httpParameters,
    sqsMessageGroupId: groupId,
    spec: t,
  })
}

const putTargets: Operation = async (ctx, input) => {
  const check = new Checker()
  const resolve = ruleOf(ctx, input, check)
  const list = check.list(input, 'Targets', 'targets', { required: true, min: 1, max: 100 })
  const parsed: Target[] = []
  list?.forEach((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      throw new BusError('SerializationException', 'Targets must be a list of objects.')
    const t = readTarget(check, item as Input, `targets.${String(i + 1)}.member`)
    if (t) parsed.push(t)
  })
  const rule = resolve()
  checkSinkTargets(ctx, rule, parsed)
  for (const t of parsed)
    if (/^arn:[^:]+:sqs:.*\.fifo$/.test(t.arn) && t.sqsMessageGroupId === undefined)
      throw invalid(`Parameter(s) SqsParameters must be specified for target: ${t.id}.`)
  for (const t of parsed)
    if (t.deadLetterArn !== undefined && /^arn:[^:]+:sqs:.*\.fifo$/.test(t.deadLetterArn))
      throw invalid('SQS FIFO is not supported by Dead Letter Queues.')
  if (rule.managedBy !== undefined)
    throw new BusError(
      'ManagedRuleException',
      `Rule ${rule.name} is managed by ${rule.managedBy} and cannot be changed.`,
    )
  const { registry, limits } = ctx.services
  const merged = new Map(registry.targetsOf(rule.arn).map((t) => [t.id, t]))
  for (const t of parsed) merged.set(t.id, t)
  if (merged.size > limits.maxTargetsPerRule)
    throw new BusError(
      'LimitExceededException',
      'The requested resource exceeds the maximum number allowed.',
    )
  await registry.setTargets(rule.arn, [...merged.values()])
  return { FailedEntryCount: 0, FailedEntries: [] }
}

const removeTargets: Operation = async (ctx, input) => {
  const check = new Checker()
  const resolve = ruleOf(ctx, input, check)
  const ids = check.stringList(input, 'Ids', 'ids', { ...TARGET_ID, maxItems: 100 })
  const force = check.boolean(input, 'Force')
  if (!ids) check.fail(undefined, 'ids', 'Member must not be null')
  const rule = resolve()
  if (rule.managedBy !== undefined && force !== true)
    throw new BusError(
      'ManagedRuleException',
      `Rule ${rule.name} is managed by ${rule.managedBy}; use Force to remove its targets.`,
    )
  const { registry } = ctx.services
  const current = registry.targetsOf(rule.arn)
  const failed: { TargetId: string; ErrorCode: string; ErrorMessage: string }[] = []
  const remove = new Set<string>()
  for (const id of ids!) {
    if (current.some((t) => t.id === id)) remove.add(id)
    else
      failed.push({
        TargetId: id,
        ErrorCode: 'ResourceNotFoundException',
        ErrorMessage: `Rule ${rule.name} does not have a target with the Id ${id}.`,
      })
  }
  if (remove.size > 0)
    await registry.setTargets(
      rule.arn,
      current.filter((t) => !remove.has(t.id)),
    )
  return { FailedEntryCount: failed.length, FailedEntries: failed }
}

const listTargetsByRule: Operation = (ctx, input) => {
  const check = new Checker()
  const resolve = ruleOf(ctx, input, check)
  const token = check.string(input, 'NextToken', 'nextToken', NEXT_TOKEN)
  const limit = check.integer(input, 'Limit', 'limit', LIMIT)
  const rule = resolve()
  const p = page(ctx.services.registry.targetsOf(rule.arn), token, limit)
  return compact({ Targets: p.items.map((t) => t.spec), NextToken: p.nextToken })
}

export const targetOperations: Record<string, Operation> = {
  PutTargets: putTargets,
  RemoveTargets: removeTargets,
  ListTargetsByRule: listTargetsByRule,
}
