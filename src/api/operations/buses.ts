/**
 * @module
 * Event buses: CreateEventBus, DeleteEventBus, DescribeEventBus, ListEventBuses, UpdateEventBus.
 */
import { busArn } from '../../arns.js'
import { BusError, invalid, notFound } from '../../errors.js'
import type { EventBus } from '../../model.js'
import type { Operation, RequestContext } from '../context.js'
import { page } from '../paging.js'
import {
  ARN,
  Checker,
  DESCRIPTION,
  EVENT_BUS_NAME,
  EVENT_BUS_NAME_OR_ARN,
  LIMIT,
  NEXT_TOKEN,
  type Input,
} from '../validate.js'
import { compact, readTags, requireBus, seconds } from './wire.js'

function readBusSettings(check: Checker, input: Input) {
  const description = check.string(input, 'Description', 'description', DESCRIPTION)
  const kmsKeyIdentifier = check.string(input, 'KmsKeyIdentifier', 'kmsKeyIdentifier', {
    max: 2048,
    pattern: /^[a-zA-Z0-9_\-/:]*$/,
    patternText: '^[a-zA-Z0-9_\\-/:]*$',
  })
  const dlq = check.object(input, 'DeadLetterConfig', 'deadLetterConfig')
  const deadLetterArn = dlq ? check.string(dlq, 'Arn', 'deadLetterConfig.arn', ARN) : undefined
  const log = check.object(input, 'LogConfig', 'logConfig')
  const logConfig = log
    ? compact({
        includeDetail: check.string(log, 'IncludeDetail', 'logConfig.includeDetail', {
          enum: ['NONE', 'FULL'],
        }),
        level: check.string(log, 'Level', 'logConfig.level', {
          enum: ['OFF', 'ERROR', 'INFO', 'TRACE'],
        }),
      })
    : undefined
  return { description, kmsKeyIdentifier, deadLetterArn, logConfig }
}

function settingsWire(bus: EventBus) {
  return compact({
    Description: bus.description,
    KmsKeyIdentifier: bus.kmsKeyIdentifier,
    DeadLetterConfig: bus.deadLetterArn === undefined ? undefined : { Arn: bus.deadLetterArn },
    LogConfig:
      bus.logConfig &&
      compact({ IncludeDetail: bus.logConfig.includeDetail, Level: bus.logConfig.level }),
  })
}

function describeWire(bus: EventBus) {
  return compact({
    Name: bus.name,
    Arn: bus.arn,
    ...settingsWire(bus),
    Policy: bus.policy,
    CreationTime: seconds(bus.createdAt),
    LastModifiedTime: seconds(bus.modifiedAt),
  })
}

function apply(bus: EventBus, s: ReturnType<typeof readBusSettings>): void {
  if (s.description !== undefined) bus.description = s.description
  if (s.kmsKeyIdentifier !== undefined) bus.kmsKeyIdentifier = s.kmsKeyIdentifier
  if (s.deadLetterArn !== undefined) bus.deadLetterArn = s.deadLetterArn
  if (s.logConfig !== undefined) bus.logConfig = s.logConfig
}

const createEventBus: Operation = async (ctx: RequestContext, input: Input) => {
  const check = new Checker()
  const name = check.string(input, 'Name', 'name', { required: true, ...EVENT_BUS_NAME })
  const eventSource = check.string(input, 'EventSourceName', 'eventSourceName', {
    min: 1,
    max: 256,
  })
  const settings = readBusSettings(check, input)
  const tags = readTags(check, input, 'Tags', 'tags')
  check.done()
  if (eventSource !== undefined)
    // Partner event sources (SaaS integrations) do not exist here.
    throw notFound(`Event source ${eventSource} does not exist.`)
  if (name!.includes('/')) throw invalid(`Event bus name must not contain '/'.`)
  const { registry, clock } = ctx.services
  const arn = busArn(ctx.scope, name!)
  if (name === 'default' || registry.busByArn(arn))
    throw new BusError('ResourceAlreadyExistsException', `Event bus ${name!} already exists.`)
  const t = clock.now()
  const bus: EventBus = {
    name: name!,
    arn,
    account: ctx.scope.account,
    region: ctx.scope.region,
    createdAt: t,
    modifiedAt: t,
  }
  apply(bus, settings)
  await registry.putBus(bus)
  if (tags && Object.keys(tags).length > 0) await registry.setTags(arn, tags)
  return { EventBusArn: arn, ...settingsWire(bus) }
}

const deleteEventBus: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = check.string(input, 'Name', 'name', { required: true, ...EVENT_BUS_NAME })
  check.done()
  if (name === 'default') throw invalid('Cannot delete event bus default.')
  const bus = ctx.services.registry.busByArn(busArn(ctx.scope, name!))
  // AWS accepts deleting a bus that does not exist.
  if (bus) await ctx.services.registry.deleteBus(bus)
  return {}
}

const describeEventBus: Operation = (ctx, input) => {
  const check = new Checker()
  const name = check.string(input, 'Name', 'name', EVENT_BUS_NAME_OR_ARN)
  check.done()
  return describeWire(requireBus(ctx, name))
}

const listEventBuses: Operation = (ctx, input) => {
  const check = new Checker()
  const prefix = check.string(input, 'NamePrefix', 'namePrefix', EVENT_BUS_NAME)
  const token = check.string(input, 'NextToken', 'nextToken', NEXT_TOKEN)
  const limit = check.integer(input, 'Limit', 'limit', LIMIT)
  check.done()
  const buses = ctx.services.registry
    .listBuses(ctx.scope)
    .filter((b) => prefix === undefined || b.name.startsWith(prefix))
  const p = page(buses, token, limit)
  return compact({
    EventBuses: p.items.map((b) =>
      compact({
        Name: b.name,
        Arn: b.arn,
        Description: b.description,
        Policy: b.policy,
        CreationTime: seconds(b.createdAt),
        LastModifiedTime: seconds(b.modifiedAt),
      }),
    ),
    NextToken: p.nextToken,
  })
}

const updateEventBus: Operation = async (ctx, input) => {
  const check = new Checker()
  const name = check.string(input, 'Name', 'name', EVENT_BUS_NAME_OR_ARN)
  const settings = readBusSettings(check, input)
  check.done()
  const bus = { ...requireBus(ctx, name) }
  apply(bus, settings)
  bus.modifiedAt = ctx.services.clock.now()
  await ctx.services.registry.putBus(bus)
  return compact({ Arn: bus.arn, Name: bus.name, ...settingsWire(bus) })
}

export const busOperations: Record<string, Operation> = {
  CreateEventBus: createEventBus,
  DeleteEventBus: deleteEventBus,
  DescribeEventBus: describeEventBus,
  ListEventBuses: listEventBuses,
  UpdateEventBus: updateEventBus,
}
