/**
 * @module
 * PutEvents: checks each entry as EventBridge does, builds the envelope, routes it through the
 * bus's compiled matcher and commits the events with their delivery jobs in one durable write.
 * Only then are EventIds returned and the jobs handed to the dispatcher.
 */
import { randomUUID } from 'node:crypto'
import { tickEventId } from './tick-id.js'
import { busArn, busNameOf, parseArn } from '../arns.js'
import { decidePutEvents } from '../auth/policy.js'
import { BusError } from '../errors.js'
import type { DeliveryJob, EventBus, Rule, Scope, StoredEvent } from '../model.js'
import type { Metrics } from '../observe/metrics.js'
import type { TailHub } from '../observe/tail.js'
import type { AppendExtras, ArchiveEntry, EventStore, PendingDelivery } from '../store/ports.js'
import { envelopeObject, envelopeText, envelopeTime, type EnvelopeFields } from './envelope.js'
import type { Registry } from './registry.js'
import type { Change } from '../cdc/model.js'
import { detailText } from '../cdc/detail-text.js'

export type EventEntry = {
  source?: string
  detailType?: string
  detail?: string
  /** Bus name or ARN; the default bus when absent. */
  busName?: string
  /** Epoch milliseconds. */
  time?: number
  resources?: string[]
  traceHeader?: string
}

export type EntryResult = { eventId: string } | { errorCode: string; errorMessage: string }

export type IngestDeps = {
  registry: Registry
  store: EventStore
  metrics: Metrics
  tail: TailHub
  now: () => number
  /** Largest total entry size of one request (bytes); 1 MiB as AWS since 2026-01-29. */
  maxRequestSize: number
  /** Receives the jobs once they are durable. */
  deliver: (items: (PendingDelivery & { envelope?: Record<string, unknown> })[]) => void
  nextJobId: () => number
  /** An account's organization (from `--credentials`), for `aws:PrincipalOrgID` in bus policies. */
  organizationOf?: (account: string) => string | undefined
}

/**
 * An event whose envelope is ready, bound for a bus; `timeMs` is its `time` in ms when known
 * (else read from the envelope when an archive keeps it).
 */
export type Routed = {
  event: StoredEvent
  envelope: Record<string, unknown>
  bus: EventBus
  timeMs?: number
}

export class Ingest {
  constructor(private readonly deps: IngestDeps) {}

  /** PutEvents. Throws BusError (whole request) for the size limit; per-entry errors are results. */
  async putEvents(scope: Scope, entries: EventEntry[]): Promise<EntryResult[]> {
    const { deps } = this
    if (overSizeLimit(entries, deps.maxRequestSize))
      throw new BusError(
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      )
    deps.metrics.putEventsRequests.inc()
    deps.metrics.putEventsEntries.inc(entries.length)
    const now = deps.now()
    const nowText = envelopeTime(now)
    const results: EntryResult[] = []
    let lastName: string | undefined
    let lastBus: { done: boolean; bus?: EventBus | undefined } = { done: false }
    const routed: Routed[] = []
    for (const entry of entries) {
      const checked = checkEntry(entry)
      if ('errorCode' in checked) {
        deps.metrics.putEventsFailedEntries.inc()
        results.push(checked)
        continue
      }
      // Entries of one request nearly always name the same bus: look it up once.
      let bus: EventBus | undefined
      if (entry.busName === lastName && lastBus.done) bus = lastBus.bus
      else {
        const target = resolveBus(scope, entry.busName)
        bus = deps.registry.bus(target, target.name)
        lastName = entry.busName
        lastBus = { done: true, bus }
      }
      const decision =
        bus && bus.account !== scope.account
          ? decidePutEvents(bus.policy, {
              account: scope.account,
              organizationId: deps.organizationOf?.(scope.account),
            })
          : undefined
      if (bus && decision && !decision.allowed) {
        deps.metrics.putEventsFailedEntries.inc()
        results.push({
          errorCode: 'AccessDeniedException',
          errorMessage: `Account ${scope.account} is not authorized to perform: events:PutEvents on resource: ${bus.arn} ${decision.why}`,
        })
        continue
      }
      const id = randomUUID()
      results.push({ eventId: id })
      // AWS answers with an EventId for a bus that does not exist and drops the event.
      if (!bus) continue
      const fields: EnvelopeFields = {
        id,
        detailType: entry.detailType!,
        source: entry.source!,
        account: scope.account,
        time: entry.time === undefined ? nowText : envelopeTime(entry.time),
        region: scope.region,
        resources: entry.resources ?? [],
        detailText: entry.detail!,
      }
      routed.push({
        event: { id, busArn: bus.arn, text: envelopeText(fields), ingestedAt: now, hops: 0 },
        envelope: envelopeObject(fields, checked.detail),
        bus,
        // The envelope keeps whole seconds.
        timeMs: Math.floor((entry.time ?? now) / 1000) * 1000,
      })
    }
    if (routed.length > 0) await this.commit(routed)
    return results
  }

  /**
   * An event arriving through an event-bus target: same envelope, routed on the receiving bus,
   * and marked so it is never forwarded to a further bus.
   */
  async forward(
    event: StoredEvent,
    envelope: Record<string, unknown>,
    bus: EventBus,
  ): Promise<void> {
    const arrived: StoredEvent = {
      id: event.id,
      busArn: bus.arn,
      text: event.text,
      ingestedAt: this.deps.now(),
      hops: event.hops + 1,
    }
    await this.commit([{ event: arrived, envelope, bus }])
  }

  /**
   * A scheduled rule's tick: AWS's `Scheduled Event` to that rule's targets alone (it is not put
   * on the bus for other rules to match), committed with the tick, so that the tick is recorded
   * as fired exactly when its event and jobs are stored.
   */
  async fireSchedule(rule: Rule, tick: number): Promise<void> {
    const { deps } = this
    const id = tickEventId(rule.arn, rule.scheduleSince ?? 0, tick)
    const fields: EnvelopeFields = {
      id,
      detailType: 'Scheduled Event',
      source: 'aws.events',
      account: rule.account,
      time: envelopeTime(tick),
      region: rule.region,
      resources: [rule.arn],
      detailText: '{}',
    }
    const now = deps.now()
    const event: StoredEvent = {
      id,
      busArn: busArn(rule, rule.busName),
      text: envelopeText(fields),
      ingestedAt: now,
      hops: 0,
    }
    const envelope = envelopeObject(fields, {})
    const jobs: DeliveryJob[] = []
    const items: (PendingDelivery & { envelope: Record<string, unknown> })[] = []
    for (const target of deps.registry.targetsOf(rule.arn)) {
      const job: DeliveryJob = {
        id: deps.nextJobId(),
        eventId: id,
        busArn: event.busArn,
        ruleArn: rule.arn,
        targetId: target.id,
        attempts: 0,
        dueAt: now,
      }
      jobs.push(job)
      items.push({ job, event, envelope })
    }
    await deps.store.append([event], jobs, { ticks: [{ ruleArn: rule.arn, tick }] })
    if (items.length > 0) deps.deliver(items)
    deps.metrics.triggeredRules.inc({ EventBusName: rule.busName, RuleName: rule.name })
    if (deps.tail.size === 0) return
    try {
      deps.tail.publish({ busArn: event.busArn, text: event.text, envelope, rules: [rule.name] })
    } catch {
      // A tail subscriber's failure must not fail a tick that has been stored.
    }
  }

  /**
   * A Scheduler schedule's tick: its invocation (the event `scheduleInvocation` built) with one
   * job for the schedule's target, committed with the tick under the schedule's ARN.
   */
  async fireScheduled(event: StoredEvent, scheduleArn: string, targetId: string, tick: number) {
    const { deps } = this
    const job: DeliveryJob = {
      id: deps.nextJobId(),
      eventId: event.id,
      busArn: event.busArn,
      ruleArn: scheduleArn,
      targetId,
      attempts: 0,
      dueAt: event.ingestedAt,
    }
    await deps.store.append([event], [job], { ticks: [{ ruleArn: scheduleArn, tick }] })
    deps.deliver([{ job, event }])
  }

  /**
   * One delivery owed to something other than a rule's target (an asynchronous Lambda
   * invocation): the event and its job, committed together; resolves once durable.
   */
  async enqueueInvocation(event: StoredEvent, ownerArn: string, targetId: string): Promise<void> {
    const { deps } = this
    const job: DeliveryJob = {
      id: deps.nextJobId(),
      eventId: event.id,
      busArn: event.busArn,
      ruleArn: ownerArn,
      targetId,
      attempts: 0,
      dueAt: event.ingestedAt,
    }
    await deps.store.append([event], [job])
    deps.deliver([{ job, event }])
  }

  /**
   * Replayed events (`replay-name` already in their envelope) back onto their bus, only to the
   * rules `allows` lets through; `extras` (the replay's progress) commits with them.
   */
  async replay(
    routed: Routed[],
    allows: (rule: Rule) => boolean,
    extras: AppendExtras,
  ): Promise<void> {
    await this.commit(routed, allows, extras)
  }

  /**
   * Database changes read by a change-capture source onto its bus: each change's own id and
   * commit time, `source = junction.cdc.<name>`; `extras` (the source's checkpoint) commits in
   * the same store transaction, so the position moves exactly when the events are stored.
   */
  async capture(bus: EventBus, changes: Change[], extras: AppendExtras): Promise<void> {
    const now = this.deps.now()
    const routed: Routed[] = changes.map((c) => {
      const fields: EnvelopeFields = {
        id: c.id,
        detailType: c.detailType,
        source: `junction.cdc.${c.detail.source.name}`,
        account: bus.account,
        time: envelopeTime(c.time),
        region: bus.region,
        resources: [],
        detailText: detailText(c),
      }
      return {
        event: { id: c.id, busArn: bus.arn, text: envelopeText(fields), ingestedAt: now, hops: 0 },
        envelope: envelopeObject(fields, c.detail),
        bus,
        timeMs: Math.floor(c.time / 1000) * 1000,
      }
    })
    await this.commit(routed, undefined, extras)
  }

  private async commit(
    routed: Routed[],
    allows?: (rule: Rule) => boolean,
    extras?: AppendExtras,
  ): Promise<void> {
    const { deps } = this
    const jobs: DeliveryJob[] = []
    const items: (PendingDelivery & { envelope: Record<string, unknown> })[] = []
    const matchedByEvent: Rule[][] = []
    let archived: ArchiveEntry[] | undefined
    for (let i = 0; i < routed.length; i++) {
      const r = routed[i]!
      let rules = deps.registry.match(r.bus.arn, r.envelope)
      if (allows) rules = rules.filter(allows)
      matchedByEvent.push(rules)
      for (const rule of rules) {
        // An archive's managed rule has no targets: the event goes into the archive, in the
        // same commit as the event itself.
        if (rule.archiveKey !== undefined) {
          const time = r.timeMs ?? Date.parse(r.envelope.time as string)
          ;(archived ??= []).push({ archive: rule.archiveKey, event: i, time })
          continue
        }
        for (const target of deps.registry.targetsOf(rule.arn)) {
          if (skipsHop(r.event, r.bus, target.arn)) {
            deps.metrics.deadLetterInvocations.inc({
              EventBusName: r.bus.name,
              RuleName: rule.name,
            })
            continue
          }
          const job: DeliveryJob = {
            id: deps.nextJobId(),
            eventId: r.event.id,
            busArn: r.bus.arn,
            ruleArn: rule.arn,
            targetId: target.id,
            attempts: 0,
            dueAt: r.event.ingestedAt,
          }
          jobs.push(job)
          items.push({ job, event: r.event, envelope: r.envelope })
        }
      }
    }
    const more: AppendExtras | undefined = archived ? { ...extras, archived } : extras
    await deps.store.append(
      routed.map((r) => r.event),
      jobs,
      more,
    )
    // Durable now: hand the jobs over before anything else can fail.
    if (items.length > 0) deps.deliver(items)
    routed.forEach((r, i) => {
      const rules = matchedByEvent[i]!
      // Archive rules are not counted: an archive keeping every event would otherwise cost two
      // metric updates per event (a sixth of PutEvents throughput, measured).
      let counted = false
      for (const rule of rules) {
        if (rule.archiveKey !== undefined) continue
        if (!counted) deps.metrics.matchedEvents.inc({ EventBusName: r.bus.name })
        counted = true
        deps.metrics.triggeredRules.inc({ EventBusName: r.bus.name, RuleName: rule.name })
      }
      // Nobody tailing (the usual case): no record to build for every event.
      if (deps.tail.size === 0) return
      try {
        deps.tail.publish({
          busArn: r.bus.arn,
          text: r.event.text,
          envelope: r.envelope,
          rules: rules.map((x) => x.name),
        })
      } catch {
        // A tail subscriber's failure must not fail a PutEvents that has been stored.
      }
    })
  }
}

/**
 * Event-bus targets an event may not reach: any bus once the event has already crossed one
 * (EventBridge's one-hop rule), and the rule's own bus (an endless loop).
 */
function skipsHop(event: StoredEvent, bus: EventBus, targetArn: string): boolean {
  if (!targetArn.includes(':event-bus/')) return false
  return event.hops >= 1 || targetArn === bus.arn
}

function resolveBus(scope: Scope, nameOrArn: string | undefined): Scope & { name: string } {
  if (nameOrArn === undefined) return { ...scope, name: 'default' }
  const arn = nameOrArn.startsWith('arn:') ? parseArn(nameOrArn) : undefined
  const name = busNameOf(nameOrArn)
  return arn ? { account: arn.account, region: arn.region, name } : { ...scope, name }
}

/** The per-entry checks, in EventBridge's order: Source, DetailType, Detail, Detail's shape. */
function checkEntry(
  e: EventEntry,
): { detail: object } | { errorCode: string; errorMessage: string } {
  if (e.source === undefined || e.source === '')
    return argument('Source', 'Source is a required argument.')
  if (e.detailType === undefined || e.detailType === '')
    return argument('DetailType', 'DetailType is a required argument.')
  if (e.detail === undefined || e.detail === '')
    return argument('Detail', 'Detail is a required argument.')
  let detail: unknown
  try {
    detail = JSON.parse(e.detail)
  } catch {
    return malformed
  }
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return malformed
  if (e.source.startsWith('aws.'))
    return {
      errorCode: 'NotAuthorizedForSourceException',
      errorMessage: 'Not authorized for the source.',
    }
  return { detail }
}

const malformed = { errorCode: 'MalformedDetail', errorMessage: 'Detail is malformed.' }

const argument = (name: string, reason: string) => ({
  errorCode: 'InvalidArgument',
  errorMessage: `Parameter ${name} is not valid. Reason: ${reason}`,
})

/**
 * Whether the entries exceed EventBridge's request size: Time counts 14 bytes; Source,
 * DetailType, Detail and Resources their UTF-8 length. A UTF-16 unit is at most 3 UTF-8 bytes,
 * so the exact count is only needed when three times the string lengths could exceed the limit.
 */
function overSizeLimit(entries: EventEntry[], limit: number): boolean {
  let units = 0
  for (const e of entries) {
    if (e.time !== undefined) units += 14
    units += (e.source?.length ?? 0) + (e.detailType?.length ?? 0) + (e.detail?.length ?? 0)
    for (const r of e.resources ?? []) units += r.length
  }
  if (units * 3 <= limit) return false
  let size = 0
  for (const e of entries) {
    if (e.time !== undefined) size += 14
    if (e.source !== undefined) size += Buffer.byteLength(e.source)
    if (e.detailType !== undefined) size += Buffer.byteLength(e.detailType)
    if (e.detail !== undefined) size += Buffer.byteLength(e.detail)
    for (const r of e.resources ?? []) size += Buffer.byteLength(r)
  }
  return size > limit
}
