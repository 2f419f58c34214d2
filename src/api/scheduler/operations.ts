/**
 * @module
 * EventBridge Scheduler's operations (service `scheduler`, API 2021-06-30), shapes and
 * constraints from its model (botocore `scheduler/2021-06-30/service-2.json`). Timestamps on the
 * wire are epoch seconds. Semantics (scheduler-cdc-consoles.md §1): the `default` group always
 * exists and cannot be deleted; deleting a group deletes its schedules; UpdateSchedule replaces
 * every field (an optional one left out returns to its default); RetryPolicy defaults to
 * 86400 s / 185 attempts. ClientToken is accepted and not used (each call acts once).
 */
import { parseArn } from '../../arns.js'
import { BusError } from '../../errors.js'
import type { Scope } from '../../model.js'
import { isTimeZone, parseSchedulerExpression } from '../../schedule/expression.js'
import { isBusTarget } from '../../schedule/invocation.js'
import {
  DEFAULT_GROUP,
  scheduleArn,
  scheduleGroupArn,
  type Schedule,
  type ScheduleGroup,
  type Schedules,
} from '../../schedule/schedules.js'
import { page } from '../paging.js'
import { Checker, type Input, type StringRule } from '../validate.js'

/** An error in Scheduler's REST-JSON form: its own HTTP status, `Message` in the body. */
export class SchedulerError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = code
  }
}

const notFound = (message: string) => new SchedulerError('ResourceNotFoundException', 404, message)
const conflict = (message: string) => new SchedulerError('ConflictException', 409, message)
const invalid = (message: string) => new SchedulerError('ValidationException', 400, message)

export type SchedulerRequest = {
  scope: Scope
  schedules: Schedules
  now: number
  /** Path parameter (`{Name}` or `{ResourceArn}`), decoded. */
  name?: string
  query: URLSearchParams
  body: Input
}

const NAME: StringRule = {
  min: 1,
  max: 64,
  pattern: /^[0-9a-zA-Z\-_.]+$/,
  patternText: '^[0-9a-zA-Z-_.]+$',
}
const PREFIX: StringRule = {
  min: 1,
  max: 64,
  pattern: /^[a-zA-Z][0-9a-zA-Z\-_]*$/,
  patternText: '^[a-zA-Z][0-9a-zA-Z-_]*$',
}
const ROLE_ARN: StringRule = {
  min: 1,
  max: 1600,
  pattern: /^arn:aws(-[a-z]+)?:iam::\d{12}:role\/(service-role\/){0,1}[a-zA-Z0-9+=,.@\-_]+$/,
  patternText:
    '^arn:aws(-[a-z]+)?:iam::\\d{12}:role\\/(service-role\\/){0,1}[a-zA-Z0-9\\+=,\\.@\\-_]+$',
}
const DLQ_ARN: StringRule = {
  min: 1,
  max: 1600,
  pattern: /^arn:aws(-[a-z]+)?:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9\-_]+$/,
  patternText: '^arn:aws(-[a-z]+)?:sqs:[a-z0-9\\-]+:\\d{12}:[a-zA-Z0-9\\-_]+$',
}
const KMS_ARN: StringRule = {
  min: 1,
  max: 2048,
  pattern: /^arn:aws(-[a-z]+)?:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[0-9a-zA-Z\-_]*$/,
  patternText: '^arn:aws(-[a-z]+)?:kms:[a-z0-9\\-]+:\\d{12}:(key|alias)\\/[0-9a-zA-Z-_]*$',
}

/** Seconds on the wire, milliseconds inside. */
const seconds = (ms: number) => ms / 1000

function date(input: Input, member: string): number | undefined {
  const v = input[member]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new BusError('SerializationException', `${member} must be a timestamp.`)
  return Math.round(v * 1000)
}

// ── schedules ────────────────────────────────────────────────────────────────

/** CreateSchedule and UpdateSchedule read the same body; `existing` is the one updated. */
function scheduleFrom(req: SchedulerRequest, existing?: Schedule): Schedule {
  const c = new Checker()
  const { body } = req
  if (req.name !== undefined) c.checkString(req.name, 'name', NAME)
  const group = c.string(body, 'GroupName', 'groupName', NAME) ?? DEFAULT_GROUP
  const expression = c.string(body, 'ScheduleExpression', 'scheduleExpression', {
    required: true,
    min: 1,
    max: 256,
  })
  const timeZone = c.string(body, 'ScheduleExpressionTimezone', 'scheduleExpressionTimezone', {
    min: 1,
    max: 50,
  })
  const description = c.string(body, 'Description', 'description', { max: 512 })
  const state = c.string(body, 'State', 'state', { enum: ['ENABLED', 'DISABLED'] })
  const kmsKeyArn = c.string(body, 'KmsKeyArn', 'kmsKeyArn', KMS_ARN)
  const action = c.string(body, 'ActionAfterCompletion', 'actionAfterCompletion', {
    enum: ['NONE', 'DELETE'],
  })
  c.string(body, 'ClientToken', 'clientToken', {
    min: 1,
    max: 64,
    pattern: /^[a-zA-Z0-9\-_]+$/,
    patternText: '^[a-zA-Z0-9-_]+$',
  })
  const window = c.object(body, 'FlexibleTimeWindow', 'flexibleTimeWindow', true)
  let mode: string | undefined
  let maxWindow: number | undefined
  if (window) {
    mode = c.string(window, 'Mode', 'flexibleTimeWindow.mode', {
      required: true,
      enum: ['OFF', 'FLEXIBLE'],
    })
    maxWindow = c.integer(
      window,
      'MaximumWindowInMinutes',
      'flexibleTimeWindow.maximumWindowInMinutes',
      {
        min: 1,
        max: 1440,
      },
    )
  }
  const target = c.object(body, 'Target', 'target', true)
  if (target) checkTarget(c, target)
  c.done()
  const startDate = date(body, 'StartDate')
  const endDate = date(body, 'EndDate')

  let kind: string
  try {
    kind = parseSchedulerExpression(expression!).kind
  } catch {
    throw invalid(`Invalid Schedule Expression ${expression!}.`)
  }
  if (timeZone !== undefined && !isTimeZone(timeZone))
    throw invalid(`Invalid timezone ${timeZone}.`)
  if (mode === 'FLEXIBLE' && maxWindow === undefined)
    throw invalid('MaximumWindowInMinutes must be provided when the Mode is FLEXIBLE.')
  if (mode === 'OFF' && maxWindow !== undefined)
    throw invalid('MaximumWindowInMinutes must not be provided when the Mode is OFF.')
  if (kind !== 'at' && startDate !== undefined && endDate !== undefined && endDate <= startDate)
    throw invalid('The EndDate must be after the StartDate.')
  const t = target!
  if (isBusTarget(t.Arn as string)) {
    // The Detail of a PutEvents entry must be a JSON object (placeholders sit inside strings).
    const input = t.Input as string | undefined
    if (input !== undefined && !isJsonObject(input))
      throw invalid('Target Input must be a well-formed JSON object for an EventBridge target.')
    if (t.EventBridgeParameters === undefined)
      throw invalid('EventBridgeParameters must be provided for an EventBridge target.')
  }

  const { scope, now } = req
  const name = req.name!
  if (!req.schedules.group(scope, group)) throw notFound(`Schedule group ${group} does not exist.`)
  const schedule: Schedule = {
    name,
    group,
    arn: scheduleArn(scope, group, name),
    account: scope.account,
    region: scope.region,
    expression: expression!,
    timeZone: timeZone ?? 'UTC',
    ...(startDate === undefined ? {} : { startDate }),
    ...(endDate === undefined ? {} : { endDate }),
    ...(description === undefined ? {} : { description }),
    state: state === 'DISABLED' ? 'DISABLED' : 'ENABLED',
    ...(kmsKeyArn === undefined ? {} : { kmsKeyArn }),
    flexibleWindow: {
      mode: mode === 'FLEXIBLE' ? 'FLEXIBLE' : 'OFF',
      ...(maxWindow === undefined ? {} : { maximumWindowInMinutes: maxWindow }),
    },
    actionAfterCompletion: action === 'DELETE' ? 'DELETE' : 'NONE',
    target: {
      ...t,
      RetryPolicy: {
        MaximumEventAgeInSeconds: 86_400,
        MaximumRetryAttempts: 185,
        ...(t.RetryPolicy as object | undefined),
      },
    },
    createdAt: existing?.createdAt ?? now,
    modifiedAt: now,
    // An update (or enabling) starts the schedule afresh: nothing from before it is fired.
    since: now,
  }
  return schedule
}

function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text)
    return v !== null && typeof v === 'object' && !Array.isArray(v)
  } catch {
    return false
  }
}

function checkTarget(c: Checker, t: Input): void {
  c.string(t, 'Arn', 'target.arn', { required: true, min: 1, max: 1600 })
  c.string(t, 'RoleArn', 'target.roleArn', { required: true, ...ROLE_ARN })
  c.string(t, 'Input', 'target.input', { min: 1 })
  const retry = c.object(t, 'RetryPolicy', 'target.retryPolicy')
  if (retry) {
    c.integer(retry, 'MaximumEventAgeInSeconds', 'target.retryPolicy.maximumEventAgeInSeconds', {
      min: 60,
      max: 86_400,
    })
    c.integer(retry, 'MaximumRetryAttempts', 'target.retryPolicy.maximumRetryAttempts', {
      min: 0,
      max: 185,
    })
  }
  const dlq = c.object(t, 'DeadLetterConfig', 'target.deadLetterConfig')
  if (dlq) c.string(dlq, 'Arn', 'target.deadLetterConfig.arn', DLQ_ARN)
  const eb = c.object(t, 'EventBridgeParameters', 'target.eventBridgeParameters')
  if (eb) {
    c.string(eb, 'DetailType', 'target.eventBridgeParameters.detailType', {
      required: true,
      min: 1,
      max: 128,
    })
    c.string(eb, 'Source', 'target.eventBridgeParameters.source', {
      required: true,
      min: 1,
      max: 256,
    })
  }
  const sqs = c.object(t, 'SqsParameters', 'target.sqsParameters')
  if (sqs)
    c.string(sqs, 'MessageGroupId', 'target.sqsParameters.messageGroupId', { min: 1, max: 128 })
}

function groupParam(req: SchedulerRequest, member: string): string {
  const c = new Checker()
  const g = req.query.get(member) ?? undefined
  if (g !== undefined) c.checkString(g, member, NAME)
  if (req.name !== undefined) c.checkString(req.name, 'name', NAME)
  c.done()
  return g ?? DEFAULT_GROUP
}

function scheduleOut(s: Schedule): Record<string, unknown> {
  return {
    ActionAfterCompletion: s.actionAfterCompletion,
    Arn: s.arn,
    CreationDate: seconds(s.createdAt),
    ...(s.description === undefined ? {} : { Description: s.description }),
    ...(s.endDate === undefined ? {} : { EndDate: seconds(s.endDate) }),
    FlexibleTimeWindow: {
      Mode: s.flexibleWindow.mode,
      ...(s.flexibleWindow.maximumWindowInMinutes === undefined
        ? {}
        : { MaximumWindowInMinutes: s.flexibleWindow.maximumWindowInMinutes }),
    },
    GroupName: s.group,
    ...(s.kmsKeyArn === undefined ? {} : { KmsKeyArn: s.kmsKeyArn }),
    LastModificationDate: seconds(s.modifiedAt),
    Name: s.name,
    ScheduleExpression: s.expression,
    ScheduleExpressionTimezone: s.timeZone,
    ...(s.startDate === undefined ? {} : { StartDate: seconds(s.startDate) }),
    State: s.state,
    Target: s.target,
  }
}

export async function createSchedule(req: SchedulerRequest): Promise<unknown> {
  const schedule = scheduleFrom(req)
  if (req.schedules.get(req.scope, schedule.group, schedule.name))
    throw conflict(`Schedule ${schedule.name} already exists.`)
  await req.schedules.put(schedule)
  return { ScheduleArn: schedule.arn }
}

export async function updateSchedule(req: SchedulerRequest): Promise<unknown> {
  const group = (req.body.GroupName as string | undefined) ?? DEFAULT_GROUP
  const existing =
    typeof group === 'string' && req.name !== undefined
      ? req.schedules.get(req.scope, group, req.name)
      : undefined
  const schedule = scheduleFrom(req, existing)
  if (!existing) throw notFound(`Schedule ${schedule.name} does not exist.`)
  await req.schedules.put(schedule)
  return { ScheduleArn: schedule.arn }
}

export function getSchedule(req: SchedulerRequest): unknown {
  const group = groupParam(req, 'groupName')
  const s = req.schedules.get(req.scope, group, req.name!)
  if (!s) throw notFound(`Schedule ${req.name!} does not exist.`)
  return scheduleOut(s)
}

export async function deleteSchedule(req: SchedulerRequest): Promise<unknown> {
  const group = groupParam(req, 'groupName')
  const s = req.schedules.get(req.scope, group, req.name!)
  if (!s) throw notFound(`Schedule ${req.name!} does not exist.`)
  await req.schedules.delete(s)
  return {}
}

export function listSchedules(req: SchedulerRequest): unknown {
  const c = new Checker()
  const q = req.query
  const group = q.get('ScheduleGroup') ?? undefined
  const prefix = q.get('NamePrefix') ?? undefined
  const state = q.get('State') ?? undefined
  const token = q.get('NextToken') ?? undefined
  const max = maxResults(c, q)
  if (group !== undefined) c.checkString(group, 'groupName', NAME)
  if (prefix !== undefined) c.checkString(prefix, 'namePrefix', PREFIX)
  if (state !== undefined) c.checkString(state, 'state', { enum: ['ENABLED', 'DISABLED'] })
  if (token !== undefined) c.checkString(token, 'nextToken', { min: 1, max: 2048 })
  c.done()
  if (group !== undefined && !req.schedules.group(req.scope, group))
    throw notFound(`Schedule group ${group} does not exist.`)
  const all = req.schedules
    .list(req.scope)
    .filter(
      (s) =>
        (group === undefined || s.group === group) &&
        (prefix === undefined || s.name.startsWith(prefix)) &&
        (state === undefined || s.state === state),
    )
  const p = page(all, token, max)
  return {
    Schedules: p.items.map((s) => ({
      Arn: s.arn,
      CreationDate: seconds(s.createdAt),
      GroupName: s.group,
      LastModificationDate: seconds(s.modifiedAt),
      Name: s.name,
      State: s.state,
      Target: { Arn: s.target.Arn },
    })),
    ...(p.nextToken === undefined ? {} : { NextToken: p.nextToken }),
  }
}

function maxResults(c: Checker, q: URLSearchParams): number | undefined {
  const text = q.get('MaxResults')
  if (text === null) return undefined
  const n = Number(text)
  if (!Number.isInteger(n)) throw invalid(`MaxResults must be an integer.`)
  if (n < 1) c.fail(text, 'maxResults', 'Member must have value greater than or equal to 1')
  if (n > 100) c.fail(text, 'maxResults', 'Member must have value less than or equal to 100')
  return n
}

// ── groups ───────────────────────────────────────────────────────────────────

function groupOut(g: ScheduleGroup): Record<string, unknown> {
  return {
    Arn: g.arn,
    CreationDate: seconds(g.createdAt),
    LastModificationDate: seconds(g.modifiedAt),
    Name: g.name,
    State: 'ACTIVE',
  }
}

function groupName(req: SchedulerRequest): string {
  const c = new Checker()
  c.checkString(req.name!, 'name', NAME)
  c.done()
  return req.name!
}

export async function createScheduleGroup(req: SchedulerRequest): Promise<unknown> {
  const name = groupName(req)
  const c = new Checker()
  const tags = tagList(c, req.body, 'Tags', 'tags', false)
  c.done()
  if (req.schedules.group(req.scope, name)) throw conflict(`Schedule group ${name} already exists.`)
  const group: ScheduleGroup = {
    name,
    arn: scheduleGroupArn(req.scope, name),
    account: req.scope.account,
    region: req.scope.region,
    createdAt: req.now,
    modifiedAt: req.now,
    ...(tags && tags.length > 0 ? { tags: Object.fromEntries(tags) } : {}),
  }
  await req.schedules.putGroup(group)
  return { ScheduleGroupArn: group.arn }
}

export function getScheduleGroup(req: SchedulerRequest): unknown {
  const name = groupName(req)
  const g = req.schedules.group(req.scope, name)
  if (!g) throw notFound(`Schedule group ${name} does not exist.`)
  return groupOut(g)
}

export async function deleteScheduleGroup(req: SchedulerRequest): Promise<unknown> {
  const name = groupName(req)
  if (name === DEFAULT_GROUP) throw invalid('Cannot delete the default schedule group.')
  const g = req.schedules.group(req.scope, name)
  if (!g) throw notFound(`Schedule group ${name} does not exist.`)
  await req.schedules.deleteGroup(g)
  return {}
}

export function listScheduleGroups(req: SchedulerRequest): unknown {
  const c = new Checker()
  const q = req.query
  const prefix = q.get('NamePrefix') ?? undefined
  const token = q.get('NextToken') ?? undefined
  const max = maxResults(c, q)
  if (prefix !== undefined) c.checkString(prefix, 'namePrefix', PREFIX)
  if (token !== undefined) c.checkString(token, 'nextToken', { min: 1, max: 2048 })
  c.done()
  const all = req.schedules
    .listGroups(req.scope)
    .filter((g) => prefix === undefined || g.name.startsWith(prefix))
  const p = page(all, token, max)
  return {
    ScheduleGroups: p.items.map(groupOut),
    ...(p.nextToken === undefined ? {} : { NextToken: p.nextToken }),
  }
}

// ── tags (schedule groups are the taggable resource) ───────────────────────────

function tagList(
  c: Checker,
  body: Input,
  member: string,
  path: string,
  required: boolean,
): [string, string][] | undefined {
  const list = c.list(body, member, path, { required, max: 200 })
  if (!list) return undefined
  return list.map((item, i) => {
    if (item === null || typeof item !== 'object')
      throw new BusError('SerializationException', `${member} must be a list of tags.`)
    const at = `${path}.${String(i + 1)}.member`
    const key = c.string(item as Input, 'Key', `${at}.key`, { required: true, min: 1, max: 128 })
    const value = c.string(item as Input, 'Value', `${at}.value`, {
      required: true,
      min: 1,
      max: 256,
    })
    return [key ?? '', value ?? '']
  })
}

function taggedGroup(req: SchedulerRequest): ScheduleGroup {
  const arn = req.name!
  const parsed = parseArn(arn)
  const m = /^schedule-group\/([0-9a-zA-Z\-_.]+)$/.exec(parsed?.resource ?? '')
  if (!parsed || parsed.service !== 'scheduler' || !m) throw invalid(`Invalid ResourceArn ${arn}.`)
  const g = req.schedules.group({ account: parsed.account, region: parsed.region }, m[1]!)
  if (
    !g ||
    parsed.account !== req.scope.account ||
    parsed.region !== req.scope.region ||
    g.arn !== arn
  )
    throw notFound(`Schedule group ${m[1]!} does not exist.`)
  return g
}

export async function tagResource(req: SchedulerRequest): Promise<unknown> {
  const c = new Checker()
  const tags = tagList(c, req.body, 'Tags', 'tags', true)
  c.done()
  const g = taggedGroup(req)
  await req.schedules.putGroup({ ...g, tags: { ...g.tags, ...Object.fromEntries(tags!) } })
  return {}
}

export async function untagResource(req: SchedulerRequest): Promise<unknown> {
  const keys = req.query.getAll('TagKeys')
  if (keys.length === 0)
    throw invalid(
      "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
    )
  const g = taggedGroup(req)
  const tags = Object.fromEntries(Object.entries(g.tags ?? {}).filter(([k]) => !keys.includes(k)))
  await req.schedules.putGroup({ ...g, tags })
  return {}
}

export function listTagsForResource(req: SchedulerRequest): unknown {
  const g = taggedGroup(req)
  return { Tags: Object.entries(g.tags ?? {}).map(([Key, Value]) => ({ Key, Value })) }
}
