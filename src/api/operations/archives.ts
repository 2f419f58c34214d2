/**
 * @module
 * Archives: CreateArchive, DescribeArchive, ListArchives, UpdateArchive, DeleteArchive
 * (reference §8.1). The archive's events and its managed rule are `archive/archives.ts`'s.
 */
import { randomInt } from 'node:crypto'
import { busNameOf, parseArn, ruleArn } from '../../arns.js'
import { archiveArn, archiveRuleName } from '../../archive/archives.js'
import { BusError, invalid, notFound } from '../../errors.js'
import type { Archive, ArchiveState, EventBus } from '../../model.js'
import { checkPattern } from '../../pattern/index.js'
import type { Operation, RequestContext } from '../context.js'
import { page } from '../paging.js'
import {
  ARN,
  Checker,
  DESCRIPTION,
  LIMIT,
  NAME_PATTERN,
  NEXT_TOKEN,
  type Input,
  type StringRule,
} from '../validate.js'
import { compact, seconds } from './wire.js'

export const ARCHIVE_NAME: StringRule = { min: 1, max: 48, ...NAME_PATTERN }
const KMS_KEY: StringRule = {
  max: 2048,
  pattern: /^[a-zA-Z0-9_\-/:]*$/,
  patternText: '^[a-zA-Z0-9_\\-/:]*$',
}
const STATES = [
  'ENABLED',
  'DISABLED',
  'CREATING',
  'UPDATING',
  'CREATE_FAILED',
  'UPDATE_FAILED',
] as const

/** The bus an EventSourceArn names, which must exist. */
export function requireSourceBus(ctx: RequestContext, arn: string): EventBus {
  const parsed = parseArn(arn)
  if (parsed?.service !== 'events' || !parsed.resource.startsWith('event-bus/'))
    throw invalid('Parameter EventSourceArn is not valid. Reason: Provided Arn is not valid.')
  const name = busNameOf(arn)
  const bus = ctx.services.registry.bus({ account: parsed.account, region: parsed.region }, name)
  if (!bus) throw notFound(`Event bus ${name} does not exist.`)
  return bus
}

function checkArchivePattern(ctx: RequestContext, pattern: string | undefined): void {
  if (pattern === undefined) return
  const error = checkPattern(pattern, { maxLength: ctx.services.limits.maxPatternLength })
  if (error) throw new BusError(error.code, error.message)
}

export function requireArchive(ctx: RequestContext, name: string): Archive {
  const archive = ctx.services.archives.get(ctx.scope, name)
  if (!archive) throw notFound(`Archive ${name} does not exist.`)
  return archive
}

const createArchive: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = check.string(input, 'ArchiveName', 'archiveName', {
    required: true,
    ...ARCHIVE_NAME,
  })
  const source = check.string(input, 'EventSourceArn', 'eventSourceArn', {
    required: true,
    ...ARN,
  })
  const description = check.string(input, 'Description', 'description', DESCRIPTION)
  const pattern = check.string(input, 'EventPattern', 'eventPattern', { max: 4096 })
  const retention = check.integer(input, 'RetentionDays', 'retentionDays', { min: 0 })
  const kms = check.string(input, 'KmsKeyIdentifier', 'kmsKeyIdentifier', KMS_KEY)
  check.done()
  checkArchivePattern(ctx, pattern)
  const { archives, registry, clock } = ctx.services
  const bus = requireSourceBus(ctx, source!)
  const arn = archiveArn(ctx.scope, name!)
  if (archives.byArn(arn))
    throw new BusError('ResourceAlreadyExistsException', `Archive ${name!} already exists.`)
  const managedArn = ruleArn(bus, bus.name, archiveRuleName(name!))
  const rule = registry.rule(managedArn)
  if (rule)
    throw new BusError('ResourceAlreadyExistsException', `Rule ${rule.name} already exists.`)
  const archive: Archive = compact({
    name: name!,
    arn,
    key: randomInt(1, 2 ** 48),
    account: ctx.scope.account,
    region: ctx.scope.region,
    sourceArn: bus.arn,
    description,
    eventPattern: pattern,
    retentionDays: retention ?? 0,
    kmsKeyIdentifier: kms,
    state: 'ENABLED' as const,
    ruleArn: managedArn,
    createdAt: clock.now(),
  })
  await archives.create(archive, bus)
  return { ArchiveArn: arn, State: archive.state, CreationTime: seconds(archive.createdAt) }
}

const describeArchive: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = check.string(input, 'ArchiveName', 'archiveName', {
    required: true,
    ...ARCHIVE_NAME,
  })
  check.done()
  const archive = requireArchive(ctx, name!)
  const stats = await ctx.services.archives.stats(archive)
  return compact({
    ArchiveArn: archive.arn,
    ArchiveName: archive.name,
    EventSourceArn: archive.sourceArn,
    Description: archive.description,
    EventPattern: archive.eventPattern,
    State: archive.state,
    StateReason: archive.stateReason,
    KmsKeyIdentifier: archive.kmsKeyIdentifier,
    RetentionDays: archive.retentionDays,
    SizeBytes: stats.sizeBytes,
    EventCount: stats.eventCount,
    CreationTime: seconds(archive.createdAt),
  })
}

const listArchives: Operation = async (ctx, input) => {
  const check = new Checker()
  const prefix = check.string(input, 'NamePrefix', 'namePrefix', ARCHIVE_NAME)
  const source = check.string(input, 'EventSourceArn', 'eventSourceArn', ARN)
  const state = check.string(input, 'State', 'state', { enum: STATES }) as ArchiveState | undefined
  const token = check.string(input, 'NextToken', 'nextToken', NEXT_TOKEN)
  const limit = check.integer(input, 'Limit', 'limit', LIMIT)
  check.done()
  exclusiveFilters(input, ['NamePrefix', 'EventSourceArn', 'State'], 'ListArchives')
  const bus = source === undefined ? undefined : requireSourceBus(ctx, source)
  const archives = ctx.services.archives
    .list(ctx.scope)
    .filter(
      (a) =>
        (prefix === undefined || a.name.startsWith(prefix)) &&
        (bus === undefined || a.sourceArn === bus.arn) &&
        (state === undefined || a.state === state),
    )
  const p = page(archives, token, limit)
  const items = await Promise.all(
    p.items.map(async (a) => {
      const stats = await ctx.services.archives.stats(a)
      return compact({
        ArchiveName: a.name,
        EventSourceArn: a.sourceArn,
        State: a.state,
        StateReason: a.stateReason,
        RetentionDays: a.retentionDays,
        SizeBytes: stats.sizeBytes,
        EventCount: stats.eventCount,
        CreationTime: seconds(a.createdAt),
      })
    }),
  )
  return compact({ Archives: items, NextToken: p.nextToken })
}

/** List filters that AWS allows only one at a time. */
export function exclusiveFilters(input: Input, members: string[], operation: string): void {
  const given = members.filter((m) => input[m] !== undefined && input[m] !== null)
  if (given.length > 1)
    throw invalid(
      `At most one filter is allowed for ${operation}. Use either : ${members.join(', ')}.`,
    )
}

const updateArchive: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = check.string(input, 'ArchiveName', 'archiveName', {
    required: true,
    ...ARCHIVE_NAME,
  })
  const description = check.string(input, 'Description', 'description', DESCRIPTION)
  const pattern = check.string(input, 'EventPattern', 'eventPattern', { max: 4096 })
  const retention = check.integer(input, 'RetentionDays', 'retentionDays', { min: 0 })
  const kms = check.string(input, 'KmsKeyIdentifier', 'kmsKeyIdentifier', KMS_KEY)
  check.done()
  if (description === undefined && pattern === undefined && retention === undefined)
    throw invalid('At least one of EventPattern, RetentionDays or Description must be provided.')
  checkArchivePattern(ctx, pattern)
  const archive = requireArchive(ctx, name!)
  const next: Archive = { ...archive }
  if (description !== undefined) next.description = description
  if (pattern !== undefined) next.eventPattern = pattern
  if (retention !== undefined) next.retentionDays = retention
  if (kms !== undefined) next.kmsKeyIdentifier = kms
  await ctx.services.archives.update(next)
  return { ArchiveArn: next.arn, State: next.state, CreationTime: seconds(next.createdAt) }
}

const deleteArchive: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = check.string(input, 'ArchiveName', 'archiveName', {
    required: true,
    ...ARCHIVE_NAME,
  })
  check.done()
  await ctx.services.archives.delete(requireArchive(ctx, name!))
  return {}
}

export const archiveOperations: Record<string, Operation> = {
  CreateArchive: createArchive,
  DescribeArchive: describeArchive,
  ListArchives: listArchives,
  UpdateArchive: updateArchive,
  DeleteArchive: deleteArchive,
}
