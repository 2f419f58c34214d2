/**
 * @module
 * SQS event source mappings from Junction's queues: pollers receive batches (long polling, so an
 * idle mapping costs one waiting receive, and the manual clock drives the waits), invoke the
 * function synchronously with Lambda's SQS event, and delete what was processed
 * (services-sqs-errorhandling):
 * - success: the whole batch is deleted;
 * - function error: nothing is deleted; the messages come back after their visibility timeout
 *   and the queue's redrive policy applies;
 * - `ReportBatchItemFailures`: all but the reported `itemIdentifier`s are deleted; a response
 *   that is not valid JSON, an empty or missing identifier or one not in the batch fails the
 *   whole batch; an empty or null response or list succeeds it;
 * - throttled: the invoke is tried again with a backoff while the batch is still invisible.
 * `MaximumConcurrency` bounds the batches in flight per mapping (the pollers).
 */
import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { ReceivedMessage } from '../queue/queues.js'
import type { QueueRef, QueueService } from '../queue/service.js'
import { parseArn } from '../arns.js'
import { createMatcher, type Matcher } from '../pattern/index.js'
import type { FunctionDirectory } from './directory.js'
import type { EventSourceMapping } from './model.js'
import type { FunctionRunner } from './runner.js'

/** Pollers per mapping without a MaximumConcurrency (Lambda starts with five). */
const DEFAULT_POLLERS = 5
/** The most pollers one mapping runs here, whatever MaximumConcurrency allows. */
const MAX_POLLERS = 20
const LONG_POLL_SECONDS = 20
const IDLE_RETRY_MS = 1_000
const BACKOFF_MAX_MS = 60_000

export type EventSourcePollerDeps = {
  directory: FunctionDirectory
  runner: FunctionRunner
  queues: QueueService
  clock: Clock
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
}

type Running = {
  mapping: EventSourceMapping
  abort: AbortController
  loops: Promise<void>[]
  /**
   * One poller gathers a batch at a time, so a batching window collects what arrives during it
   * instead of each waiting poller taking a message of its own; batches are processed in parallel.
   */
  gathering: Promise<unknown>
}

export class EventSourcePoller {
  private readonly running = new Map<string, Running>()
  private stopped = false

  constructor(private readonly deps: EventSourcePollerDeps) {
    deps.directory.onMappingsChanged(() => {
      this.reconcile()
    })
  }

  start(): void {
    this.reconcile()
  }

  /** Batches being processed or polled for, per mapping uuid (for tests and metrics). */
  get mappingsPolled(): string[] {
    return [...this.running.keys()]
  }

  /**
   * Stops polling; waits up to `timeoutMs` (real time: an invocation may run for minutes) for
   * batches in flight. A batch not finished stays in its queue and comes back after its
   * visibility timeout.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true
    const all = [...this.running.values()]
    this.running.clear()
    for (const r of all) r.abort.abort()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(all.flatMap((r) => r.loops)),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ])
    clearTimeout(timer)
  }

  /** Starts pollers for new or changed enabled mappings, stops those of the others. */
  private reconcile(): void {
    if (this.stopped) return
    const wanted = new Map(
      this.deps.directory
        .mappings()
        .filter((m) => m.enabled)
        .map((m) => [m.uuid, m]),
    )
    for (const [uuid, r] of this.running) {
      const m = wanted.get(uuid)
      if (!m || m.lastModified !== r.mapping.lastModified || !same(m, r.mapping)) {
        r.abort.abort()
        this.running.delete(uuid)
      }
    }
    for (const [uuid, m] of wanted) {
      if (this.running.has(uuid)) continue
      const abort = new AbortController()
      const pollers = Math.min(MAX_POLLERS, m.maximumConcurrency ?? DEFAULT_POLLERS)
      const loops: Promise<void>[] = []
      const r: Running = { mapping: m, abort, loops, gathering: Promise.resolve() }
      for (let i = 0; i < pollers; i++)
        loops.push(
          this.poll(r, abort.signal).catch((e: unknown) => {
            this.deps.log.error({ err: e, mapping: uuid }, 'event source poller stopped')
          }),
        )
      this.running.set(uuid, r)
    }
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve()
        return
      }
      const cancel = this.deps.clock.setTimer(ms, done)
      function done() {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
      function onAbort() {
        cancel()
        done()
      }
      signal.addEventListener('abort', onAbort)
    })
  }

  private async poll(r: Running, signal: AbortSignal): Promise<void> {
    const { deps } = this
    const m = r.mapping
    let backoff = 0
    while (!signal.aborted) {
      const q = deps.queues.findByArn(m.eventSourceArn)
      if (!q) {
        await this.sleep(IDLE_RETRY_MS * 10, signal)
        continue
      }
      const gathered = r.gathering.then(() => this.receiveBatch(q, m, signal))
      r.gathering = gathered.catch(() => undefined)
      const batch = await gathered
      if (batch.length === 0) continue
      const ok = await this.process(q, m, batch, signal)
      backoff = ok ? 0 : Math.min(BACKOFF_MAX_MS, Math.max(IDLE_RETRY_MS, backoff * 2))
      if (backoff > 0) await this.sleep(backoff, signal)
    }
  }

  /** Up to BatchSize messages: the first by long polling, more until the batching window ends. */
  private async receiveBatch(
    q: QueueRef,
    m: EventSourceMapping,
    signal: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const { deps } = this
    const batch = await deps.queues.receive(
      q,
      { max: m.batchSize, waitSeconds: LONG_POLL_SECONDS },
      () => signal,
    )
    if (batch.length === 0 || m.maximumBatchingWindowInSeconds <= 0) return batch
    const until = deps.clock.now() + m.maximumBatchingWindowInSeconds * 1000
    while (batch.length < m.batchSize && !signal.aborted) {
      const left = until - deps.clock.now()
      if (left <= 0) break
      const more = await deps.queues.receive(
        q,
        { max: m.batchSize - batch.length, waitSeconds: left / 1000 },
        () => signal,
      )
      // A message whose visibility ran out during the window comes again: one record, with the
      // newest receipt handle (the only one that can still delete it).
      for (const message of more) {
        const i = batch.findIndex((b) => b.id === message.id)
        if (i >= 0) batch[i] = message
        else batch.push(message)
      }
    }
    return batch
  }

  /**
   * Invokes with what was received, in as many invocations as Lambda's 6 MB synchronous payload
   * limit requires, and deletes what succeeded; false when any part failed.
   */
  private async process(
    q: QueueRef,
    m: EventSourceMapping,
    received: ReceivedMessage[],
    signal: AbortSignal,
  ): Promise<boolean> {
    const { wanted, dropped } = filtered(q, m, received)
    // What no filter matches is deleted unprocessed, as Lambda does for SQS sources.
    if (dropped.length > 0)
      await this.deps.queues.deleteMessages(
        q,
        dropped.map((msg) => msg.receiptHandle),
      )
    let ok = true
    for (const { batch, payload } of splitBySize(q, wanted))
      if (!(await this.invoke(q, m, batch, payload, signal))) ok = false
    return ok
  }

  private async invoke(
    q: QueueRef,
    m: EventSourceMapping,
    batch: ReceivedMessage[],
    payload: Buffer,
    signal: AbortSignal,
  ): Promise<boolean> {
    const { deps } = this
    const fn = deps.directory.byArn(m.functionArn)
    if (!fn) return false
    // Throttles are tried again while the batch is still hidden from other receivers.
    const hiddenUntil = deps.clock.now() + q.settings.visibilityTimeout * 1000
    let wait = IDLE_RETRY_MS
    for (;;) {
      const outcome = await deps.runner.invoke(fn, {
        requestId: randomUUID(),
        payload,
        tailLog: false,
      })
      if (outcome.kind === 'function-error') return false
      if (outcome.kind === 'throttled') {
        if (signal.aborted || deps.clock.now() + wait >= hiddenUntil) return false
        await this.sleep(wait, signal)
        wait = Math.min(BACKOFF_MAX_MS, wait * 2)
        continue
      }
      const failed = m.reportBatchItemFailures
        ? failedItems(outcome.payload, batch)
        : new Set<string>()
      if (failed === 'all') return false
      const done = batch.filter((msg) => !failed.has(msg.id)).map((msg) => msg.receiptHandle)
      if (done.length > 0) await deps.queues.deleteMessages(q, done)
      return failed.size === 0
    }
  }
}

/**
 * The messages one of the mapping's filters matches, and the others. A filter is an event
 * pattern over the message's record in the event (`body`, `attributes`, `messageAttributes`, …),
 * with a body that is a JSON object seen as that object, so that `{"body":{"kind":["order"]}}`
 * reads a field of it; any other body is its text.
 */
function filtered(
  q: QueueRef,
  m: EventSourceMapping,
  messages: ReceivedMessage[],
): { wanted: ReceivedMessage[]; dropped: ReceivedMessage[] } {
  if (m.filters === undefined) return { wanted: messages, dropped: [] }
  const matcher = filterMatcher(m, m.filters)
  const wanted: ReceivedMessage[] = []
  const dropped: ReceivedMessage[] = []
  const records = sqsEvent(q, messages).Records as { body: string }[]
  records.forEach((record, i) => {
    const seen: Record<string, unknown> = { ...record, body: jsonObjectOrText(record.body) }
    ;(matcher.matches(seen).length > 0 ? wanted : dropped).push(messages[i]!)
  })
  return { wanted, dropped }
}

/** Each mapping's filters compiled once (a changed mapping is a new object). */
const matchers = new WeakMap<EventSourceMapping, Matcher>()

function filterMatcher(m: EventSourceMapping, filters: string[]): Matcher {
  let matcher = matchers.get(m)
  if (!matcher) {
    matcher = createMatcher()
    for (const [i, pattern] of filters.entries()) matcher.add(String(i), pattern)
    matchers.set(m, matcher)
  }
  return matcher
}

function jsonObjectOrText(body: string): unknown {
  try {
    const v: unknown = JSON.parse(body)
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : body
  } catch {
    return body
  }
}

/** Lambda's limit on a synchronous invocation's payload. */
export const MAX_SYNC_PAYLOAD = 6 * 1024 * 1024

/**
 * The messages in consecutive batches whose events each fit in {@link MAX_SYNC_PAYLOAD} (each
 * record is serialized once; the event is `{"Records":[…]}` around them).
 */
function splitBySize(
  q: QueueRef,
  messages: ReceivedMessage[],
): { batch: ReceivedMessage[]; payload: Buffer }[] {
  const records = sqsEvent(q, messages).Records.map((r) => JSON.stringify(r))
  const frame = '{"Records":[]}'.length
  const out: { batch: ReceivedMessage[]; payload: Buffer }[] = []
  let from = 0
  let size = frame
  const flush = (to: number) => {
    const text = `{"Records":[${records.slice(from, to).join(',')}]}`
    out.push({ batch: messages.slice(from, to), payload: Buffer.from(text, 'utf8') })
    from = to
    size = frame
  }
  for (let i = 0; i < records.length; i++) {
    const bytes = Buffer.byteLength(records[i]!, 'utf8')
    // A record alone over the limit still goes (alone): the invoke then fails as Lambda's would.
    if (i > from && size + 1 + bytes > MAX_SYNC_PAYLOAD) flush(i)
    size += bytes + (i > from ? 1 : 0)
  }
  if (from < records.length) flush(records.length)
  return out
}

function same(a: EventSourceMapping, b: EventSourceMapping): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** The message ids a ReportBatchItemFailures response names, or 'all' for a failed batch. */
export function failedItems(payload: Buffer, batch: ReceivedMessage[]): Set<string> | 'all' {
  const text = payload.toString('utf8').trim()
  if (text === '') return new Set()
  let response: unknown
  try {
    response = JSON.parse(text)
  } catch {
    return 'all'
  }
  if (response === null) return new Set()
  if (typeof response !== 'object' || Array.isArray(response)) return 'all'
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures
  if (list === undefined || list === null) return new Set()
  if (!Array.isArray(list)) return 'all'
  const ids = new Set(batch.map((m) => m.id))
  const failed = new Set<string>()
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return 'all'
    failed.add(id)
  }
  return failed
}

/** Lambda's SQS event for a batch. */
export function sqsEvent(q: QueueRef, batch: ReceivedMessage[]): { Records: object[] } {
  const region = parseArn(q.arn)?.region ?? ''
  return {
    Records: batch.map((m) => {
      const attributes: Record<string, string> = {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        SenderId: m.senderId,
        ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
      }
      if (m.traceHeader !== undefined) attributes.AWSTraceHeader = m.traceHeader
      if (m.sequenceNumber !== undefined) attributes.SequenceNumber = m.sequenceNumber
      if (m.groupId !== undefined) attributes.MessageGroupId = m.groupId
      if (m.dedupId !== undefined) attributes.MessageDeduplicationId = m.dedupId
      const messageAttributes: Record<string, object> = {}
      for (const [name, v] of Object.entries(m.attributes ?? {}))
        messageAttributes[name] = {
          ...(v.stringValue === undefined ? {} : { stringValue: v.stringValue }),
          ...(v.binaryValue === undefined ? {} : { binaryValue: v.binaryValue }),
          stringListValues: [],
          binaryListValues: [],
          dataType: v.dataType,
        }
      return {
        messageId: m.id,
        receiptHandle: m.receiptHandle,
        body: m.body,
        attributes,
        messageAttributes,
        md5OfBody: m.md5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: q.arn,
        awsRegion: region,
      }
    }),
  }
}
