/**
 * @module
 * PutEvents and TestEventPattern.
 */
import { BusError } from '../../errors.js'
import type { EventEntry } from '../../engine/ingest.js'
import { matchesPattern, PatternError } from '../../pattern/index.js'
import type { Operation } from '../context.js'
import { Checker, PUT_EVENTS_BUS, type Input } from '../validate.js'
import { fromTimestamp } from './wire.js'

const MAX_ENTRIES = 10

const putEvents: Operation = async (ctx, input) => {
  const check = new Checker()
  const list = check.list(input, 'Entries', 'entries', { required: true, min: 1 })
  if (list && list.length > MAX_ENTRIES)
    // AWS prints the list as Java's toString() of its entries; clients see this shape.
    check.fail(
      javaList(list),
      'entries',
      `Member must have length less than or equal to ${String(MAX_ENTRIES)}`,
    )
  check.done()
  const entries: EventEntry[] = list!.map((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      throw new BusError('SerializationException', 'Entries must be a list of objects.')
    return readEntry(check, item as Input, `entries.${String(i + 1)}.member`)
  })
  check.done()
  const results = await ctx.services.ingest.putEvents(ctx.scope, entries)
  let failed = 0
  const out = results.map((r) => {
    if ('eventId' in r) return { EventId: r.eventId }
    failed++
    return { ErrorCode: r.errorCode, ErrorMessage: r.errorMessage }
  })
  return { FailedEntryCount: failed, Entries: out }
}

function readEntry(check: Checker, e: Input, p: string): EventEntry {
  const entry: EventEntry = {}
  const source = check.string(e, 'Source', `${p}.source`)
  const detailType = check.string(e, 'DetailType', `${p}.detailType`)
  const detail = check.string(e, 'Detail', `${p}.detail`)
  const bus = check.string(e, 'EventBusName', `${p}.eventBusName`, PUT_EVENTS_BUS)
  const resources = check.stringList(e, 'Resources', `${p}.resources`, { max: 2048 })
  const traceHeader = check.string(e, 'TraceHeader', `${p}.traceHeader`, { min: 1, max: 500 })
  if (source !== undefined) entry.source = source
  if (detailType !== undefined) entry.detailType = detailType
  if (detail !== undefined) entry.detail = detail
  if (bus !== undefined) entry.busName = bus
  if (resources !== undefined) entry.resources = resources
  if (traceHeader !== undefined) entry.traceHeader = traceHeader
  if (e.Time !== undefined && e.Time !== null) {
    const time = fromTimestamp(e.Time)
    // Beyond ±8.64e15 ms no date exists (and no SDK could have sent one).
    if (time === undefined || !Number.isFinite(time) || Math.abs(time) > 8.64e15)
      throw new BusError('SerializationException', 'Time must be a timestamp.')
    entry.time = time
  }
  return entry
}

function javaList(list: unknown[]): string {
  const field = (v: unknown) =>
    v === undefined || v === null ? 'null' : typeof v === 'string' ? v : JSON.stringify(v)
  return `[${list
    .map((item) => {
      const e = (item ?? {}) as Input
      return (
        `PutEventsRequestEntry(time=${field(e.Time)}, source=${field(e.Source)}, resources=${field(e.Resources)}, ` +
        `detailType=${field(e.DetailType)}, detail=${field(e.Detail)}, eventBusName=${field(e.EventBusName)}, ` +
        `traceHeader=${field(e.TraceHeader)})`
      )
    })
    .join(', ')}]`
}

/** The envelope members TestEventPattern requires (AWS does not enforce `resources`). */
const REQUIRED_EVENT_FIELDS = ['id', 'account', 'source', 'time', 'region', 'detail-type']

const testEventPattern: Operation = (ctx, input) => {
  const check = new Checker()
  const pattern = check.string(input, 'EventPattern', 'eventPattern', {
    required: true,
    max: ctx.services.limits.maxPatternLength,
  })
  const event = check.string(input, 'Event', 'event', { required: true })
  check.done()
  let parsed: unknown
  try {
    parsed = JSON.parse(event!)
  } catch {
    parsed = undefined
  }
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    Array.isArray(parsed) ||
    REQUIRED_EVENT_FIELDS.some((f) => !(f in parsed))
  )
    throw new BusError('ValidationException', 'Parameter Event is not valid.')
  try {
    // The same compiled matcher as routing, never a second implementation.
    return { Result: matchesPattern(pattern!, event!) }
  } catch (e) {
    if (e instanceof PatternError) throw new BusError(e.code, e.message)
    throw e
  }
}

export const eventOperations: Record<string, Operation> = {
  PutEvents: putEvents,
  TestEventPattern: testEventPattern,
}
