/**
 * @module
 * PutPermission and RemovePermission: edit the bus policy (statement form or whole-policy form,
 * reference §7.1). The policy is returned by DescribeEventBus and decides whether other accounts
 * may put events on the bus.
 */
import { parsePolicy, statements, type Statement } from '../../auth/policy.js'
import { BusError, invalid, notFound } from '../../errors.js'
import type { Operation } from '../context.js'
import { Checker } from '../validate.js'
import { compact, requireBus } from './wire.js'

const BUS: { min: number; max: number; pattern: RegExp; patternText: string } = {
  min: 1,
  max: 256,
  pattern: /^[.\-_A-Za-z0-9]+$/,
  patternText: '[\\.\\-_A-Za-z0-9]+',
}
const MAX_POLICY = 10_240

const putPermission: Operation = async (ctx, input) => {
  const check = new Checker()
  const busName = check.string(input, 'EventBusName', 'eventBusName', BUS)
  const action = check.string(input, 'Action', 'action', {
    min: 1,
    max: 64,
    pattern: /^events:[a-zA-Z]+$/,
    patternText: 'events:[a-zA-Z]+',
  })
  const principal = check.string(input, 'Principal', 'principal', {
    min: 1,
    max: 12,
    pattern: /^(\d{12}|\*)$/,
    patternText: '(\\d{12}|\\*)',
  })
  const sid = check.string(input, 'StatementId', 'statementId', {
    min: 1,
    max: 64,
    pattern: /^[a-zA-Z0-9-_]+$/,
    patternText: '[a-zA-Z0-9-_]+',
  })
  const condition = check.object(input, 'Condition', 'condition')
  const policy = check.string(input, 'Policy', 'policy')
  check.done()
  const bus = requireBus(ctx, busName)
  let text: string
  if (policy !== undefined) {
    if (parsePolicy(policy) === undefined) throw invalid('The policy is not valid JSON.')
    text = policy
  } else {
    if (action === undefined || principal === undefined || sid === undefined)
      throw invalid(
        'Parameter(s) Action, Principal and StatementId must be specified, or a Policy.',
      )
    const doc = parsePolicy(bus.policy) ?? { Version: '2012-10-17', Statement: [] }
    const list = statements(doc).filter((s) => s.Sid !== sid)
    const statement: Statement = compact({
      Sid: sid,
      Effect: 'Allow',
      Principal: principal === '*' ? '*' : { AWS: `arn:aws:iam::${principal}:root` },
      Action: action,
      Resource: bus.arn,
      Condition: condition && {
        [String(condition.Type)]: { [String(condition.Key)]: condition.Value },
      },
    })
    list.push(statement)
    text = JSON.stringify({ Version: doc.Version ?? '2012-10-17', Statement: list })
  }
  if (text.length > MAX_POLICY)
    throw new BusError('PolicyLengthExceededException', 'The event bus policy is too long.')
  await ctx.services.registry.putBus({ ...bus, policy: text, modifiedAt: ctx.services.clock.now() })
  return {}
}

const removePermission: Operation = async (ctx, input) => {
  const check = new Checker()
  const busName = check.string(input, 'EventBusName', 'eventBusName', BUS)
  const sid = check.string(input, 'StatementId', 'statementId', {
    min: 1,
    max: 64,
    pattern: /^[a-zA-Z0-9-_]+$/,
    patternText: '[a-zA-Z0-9-_]+',
  })
  const all = check.boolean(input, 'RemoveAllPermissions')
  check.done()
  const bus = requireBus(ctx, busName)
  const next = { ...bus, modifiedAt: ctx.services.clock.now() }
  if (all === true) {
    delete next.policy
  } else {
    if (sid === undefined) throw invalid('Parameter StatementId is required.')
    const doc = parsePolicy(bus.policy)
    const list = statements(doc)
    if (!list.some((s) => s.Sid === sid))
      throw notFound('Statement with the provided id does not exist.')
    const rest = list.filter((s) => s.Sid !== sid)
    if (rest.length === 0) delete next.policy
    else next.policy = JSON.stringify({ ...doc, Statement: rest })
  }
  await ctx.services.registry.putBus(next)
  return {}
}

export const permissionOperations: Record<string, Operation> = {
  PutPermission: putPermission,
  RemovePermission: removePermission,
}
