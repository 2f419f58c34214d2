/**
 * @module
 * The queue engine: every queue, and a bounded window of each queue's messages, in memory,
 * written through to the store; the other messages are paged in from the store as receives need
 * them (see `live-queue.ts`). Sends are acknowledged once committed, and only then can a receive
 * see them; deletes are acknowledged once committed. A receive's bookkeeping (receive count,
 * visibility) is written without waiting: if it is lost in a crash the message only becomes
 * visible again sooner, which at-least-once delivery allows.
 */
import { listQueues, redriveSources } from './queue-lookup.js'
import { createHash, randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { queueArn } from '../arns.js'
import type { Clock } from '../clock.js'
import type { Scope } from '../model.js'
import type { DeadLetter, EventStore, QueueStore } from '../store/ports.js'
import {
  ATTRIBUTE_NAMES,
  checkAttributes,
  checkQueueName,
  defaultAttributes,
  settingsOf,
} from './attributes.js'
import { invalidParameter, QueueError } from './errors.js'
import { LiveQueue, type LiveMessage, type Waiter } from './live-queue.js'
import { deadLetterAttributes } from './dead-letter-message.js'
import { md5OfAttributes, md5OfBody } from './md5.js'
import { checkBody, messageSize } from './message-rules.js'
import { makeHandle, parseHandle } from './receipt-handle.js'
import type { QueueService } from './service.js'
import { withoutStatement, withPolicy, withStatement, type PolicyDoc } from './queue-policy.js'
import type {
  DedupRecord,
  MessageAttributeValue,
  QueueRecord,
  QueueWrite,
  StoredMessage,
} from './model.js'

/** FIFO deduplication ids are remembered this long. */
export const DEDUP_WINDOW_MS = 5 * 60_000
const PURGE_INTERVAL_MS = 60_000
const SWEEP_INTERVAL_MS = 60_000
/** Messages only in the store that one sweep drops per queue at most (receives drop the rest). */
const SWEEP_STORED_MAX = 50_000
/** Messages per queue held in memory when `window` is not given. */
export const DEFAULT_QUEUE_WINDOW = 10_000
/** A message stays in flight at most this long after the receive that took it. */
const MAX_INFLIGHT_MS = 43_200_000

export type SendEntry = {
  body: string
  delaySeconds?: number
  attributes?: Record<string, MessageAttributeValue>
  traceHeader?: string
  groupId?: string
  dedupId?: string
}

export type SendResult = {
  messageId: string
  md5OfBody: string
  md5OfAttributes?: string
  md5OfSystemAttributes?: string
  sequenceNumber?: string
}

export type ReceiveRequest = {
  max: number
  /** Seconds; the queue's VisibilityTimeout when absent. */
  visibilityTimeout?: number
  /** Seconds; the queue's ReceiveMessageWaitTimeSeconds when absent. */
  waitSeconds?: number
}

/** A received message, copied out of the engine at the moment of the receive. */
export type ReceivedMessage = {
  id: string
  receiptHandle: string
  body: string
  md5OfBody: string
  attributes?: Record<string, MessageAttributeValue>
  senderId: string
  sentAt: number
  receiveCount: number
  firstReceivedAt: number
  groupId?: string
  dedupId?: string
  sequenceNumber?: string
  traceHeader?: string
  sourceArn?: string
}

export type QueuesDeps = {
  store: QueueStore
  /** Dead letters recorded while their queue did not exist, moved in when it is created. */
  events: EventStore
  clock: Clock
  log: Logger
  /** Messages per queue held in memory; the rest are only in the store. @default 10000 */
  window?: number
}

/** Dead letters and rule deliveries are sent by EventBridge, not by a caller's key. */
export const EVENTBRIDGE_SENDER = 'events.amazonaws.com'

export class Queues implements QueueService<LiveQueue> {
  /** A dead letter's message and the end of its job are one commit. */
  readonly finishesJobs = true
  private readonly byArn = new Map<string, LiveQueue>()
  private readonly byId = new Map<string, LiveQueue>()
  private seq = 0
  private sweepTimer?: () => void
  private closed = false

  private constructor(private readonly deps: QueuesDeps) {}

  static async load(deps: QueuesDeps): Promise<Queues> {
    const queues = new Queues(deps)
    const snapshot = await deps.store.load()
    const now = deps.clock.now()
    queues.seq = snapshot.maxSeq
    // No message is read: each queue is counted, and pages its messages in when received from.
    // The count is taken at a whole second, the grain of the counts of stored messages.
    const at = Math.floor(now / 1000) * 1000
    for (const r of snapshot.queues) queues.register(r).start(deps.store.census(r.id, at), at)
    for (const d of snapshot.dedup) {
      const q = queues.byId.get(d.queueId)
      if (q && now - d.at < DEDUP_WINDOW_MS) q.dedup.set(d.key, d)
    }
    // Dead letters kept while their queue did not exist, if a crash came before they moved in.
    for (const q of queues.byArn.values()) await queues.drainDeadLetters(q)
    queues.scheduleSweep()
    return queues
  }

  // --- queues ---------------------------------------------------------------------------------

  find(scope: Scope, name: string): LiveQueue | undefined {
    return this.byArn.get(queueArn(scope, name))
  }

  findByArn(arn: string): LiveQueue | undefined {
    return this.byArn.get(arn)
  }

  /** The caller's queues whose names start with `prefix`, by name. */
  list(scope: Scope, prefix = ''): LiveQueue[] {
    return listQueues(this.byArn.values(), scope, prefix)
  }

  /** Queues whose RedrivePolicy names this one as their dead-letter queue. */
  sourcesOf(q: LiveQueue): LiveQueue[] {
    return redriveSources(this.byArn.values(), q.arn)
  }

  /**
   * CreateQueue: a new queue, or the existing one when every given attribute has the value it
   * already has (SQS's idempotence); another value is QueueAlreadyExists.
   */
  async create(
    scope: Scope,
    name: string,
    attributes: Record<string, string>,
    tags: Record<string, string>,
  ): Promise<LiveQueue> {
    const fifo = attributes.FifoQueue?.toLowerCase() === 'true'
    // A `.fifo` name without FifoQueue=true fails the standard name rule, as in SQS.
    checkQueueName(name, fifo)
    const arn = queueArn(scope, name)
    const given = checkAttributes(attributes, { fifo, arn }, (a) => this.byArn.get(a))
    const existing = this.byArn.get(arn)
    if (existing) {
      for (const [k, v] of Object.entries(given)) {
        const current = existing.record.attributes[k]
        if (current !== v)
          throw new QueueError(
            'QueueAlreadyExists',
            `A queue already exists with the same name and a different value for attribute ${k}`,
          )
      }
      // A creation still being committed is answered once it is durable.
      await existing.created
      return existing
    }
    const now = this.deps.clock.now()
    const record: QueueRecord = {
      id: randomUUID(),
      name,
      account: scope.account,
      region: scope.region,
      attributes: { ...defaultAttributes(fifo), ...given },
      tags: { ...tags },
      createdAt: now,
      modifiedAt: now,
    }
    const q = this.register(record)
    q.created = this.deps.store.write([{ t: 'putQueue', queue: record }])
    await q.created
    await this.drainDeadLetters(q)
    return q
  }

  async delete(q: LiveQueue): Promise<void> {
    this.unregister(q)
    await this.deps.store.write([{ t: 'dropQueue', queueId: q.record.id }])
  }

  async setAttributes(q: LiveQueue, attributes: Record<string, string>): Promise<void> {
    const given = checkAttributes(attributes, { fifo: q.fifo, arn: q.arn }, (a) =>
      this.byArn.get(a),
    )
    // An empty policy removes it, as in SQS.
    const cleared = (k: string, v: string) =>
      v === '' && (k === 'RedrivePolicy' || k === 'Policy' || k === 'RedriveAllowPolicy')
    const next = Object.fromEntries(
      Object.entries({ ...q.record.attributes, ...given }).filter(([k, v]) => !cleared(k, v)),
    )
    q.record = { ...q.record, attributes: next, modifiedAt: this.deps.clock.now() }
    q.settings = settingsOf(next)
    await this.deps.store.write([{ t: 'putQueue', queue: q.record }])
    // A shorter wait or delay never strands a waiter; a new redrive applies from the next receive.
    this.notify(q)
  }

  /** GetQueueAttributes: the named attributes (`All` for every one) as strings. */
  attributes(q: LiveQueue, names: string[]): Promise<Record<string, string>> {
    return Promise.resolve(this.attributesNow(q, names))
  }

  private attributesNow(q: LiveQueue, names: string[]): Record<string, string> {
    for (const n of names)
      if (!ATTRIBUTE_NAMES.has(n))
        throw new QueueError('InvalidAttributeName', `Unknown Attribute ${n}.`)
    q.promote(this.deps.clock.now())
    const all: Record<string, string> = {
      ApproximateNumberOfMessages: String(q.counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(q.counts.inflight),
      ApproximateNumberOfMessagesDelayed: String(q.counts.delayed),
      CreatedTimestamp: String(Math.floor(q.record.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.record.modifiedAt / 1000)),
      QueueArn: q.arn,
      ...q.record.attributes,
    }
    if (names.includes('All')) return all
    const out: Record<string, string> = {}
    for (const n of names) if (all[n] !== undefined) out[n] = all[n]
    return out
  }

  /**
   * AddPermission: a statement in the queue's Policy (created if there is none) letting the
   * accounts call the actions, named by its label.
   */
  async addPermission(
    q: LiveQueue,
    label: string,
    accounts: string[],
    actions: string[],
  ): Promise<void> {
    await this.setPolicy(q, withStatement(q, label, accounts, actions))
  }

  /** RemovePermission: drops the statement AddPermission made under this label. */
  async removePermission(q: LiveQueue, label: string): Promise<void> {
    await this.setPolicy(q, withoutStatement(q, label))
  }

  private async setPolicy(q: LiveQueue, policy: PolicyDoc | undefined): Promise<void> {
    const attributes = withPolicy(q.record.attributes, policy)
    q.record = { ...q.record, attributes, modifiedAt: this.deps.clock.now() }
    await this.deps.store.write([{ t: 'putQueue', queue: q.record }])
  }

  async tag(q: LiveQueue, tags: Record<string, string>): Promise<void> {
    q.record = { ...q.record, tags: { ...q.record.tags, ...tags } }
    await this.deps.store.write([{ t: 'putQueue', queue: q.record }])
  }

  async untag(q: LiveQueue, keys: string[]): Promise<void> {
    const tags = Object.fromEntries(
      Object.entries(q.record.tags).filter(([k]) => !keys.includes(k)),
    )
    q.record = { ...q.record, tags }
    await this.deps.store.write([{ t: 'putQueue', queue: q.record }])
  }

  /** PurgeQueue: deletes every message sent before now; once per 60 seconds per queue. */
  async purge(q: LiveQueue): Promise<void> {
    const now = this.deps.clock.now()
    if (q.lastPurgeAt !== undefined && now - q.lastPurgeAt < PURGE_INTERVAL_MS)
      throw new QueueError(
        'AWS.SimpleQueueService.PurgeQueueInProgress',
        `Only one PurgeQueue operation on ${q.record.name} is allowed every 60 seconds.`,
      )
    q.lastPurgeAt = now
    const upToSeq = this.seq
    q.purgedUpTo = upToSeq
    for (const m of q.messagesUpTo(upToSeq)) q.remove(m)
    q.dropStored(upToSeq)
    await this.deps.store.write([{ t: 'purge', queueId: q.record.id, upToSeq }])
    if (q.purging === upToSeq) q.purging = 0
  }

  // --- messages -------------------------------------------------------------------------------

  /**
   * SendMessage(Batch): each entry is stored or refused on its own; the stored ones are
   * committed together before this resolves, and become receivable only then.
   */
  async send(
    q: LiveQueue,
    entries: SendEntry[],
    senderId: string,
    options: { batch?: boolean } = {},
  ): Promise<(SendResult | QueueError)[]> {
    const now = this.deps.clock.now()
    const results: (SendResult | QueueError)[] = []
    const messages: StoredMessage[] = []
    const dedup: DedupRecord[] = []
    for (const entry of entries) {
      try {
        const { message, result, dedupRecord } = this.prepare(q, entry, senderId, now, options)
        results.push(result)
        if (message) messages.push(message)
        if (dedupRecord) dedup.push(dedupRecord)
      } catch (e) {
        if (!(e instanceof QueueError)) throw e
        results.push(e)
      }
    }
    if (messages.length === 0) return results
    try {
      await this.commitNew(q, messages, [{ t: 'insert', messages, dedup }])
    } catch (e) {
      // Not stored: release the deduplication ids reserved for it, so a retry is queued.
      for (const d of dedup) if (q.dedup.get(d.key) === d) q.dedup.delete(d.key)
      throw e
    }
    return results
  }

  private prepare(
    q: LiveQueue,
    entry: SendEntry,
    senderId: string,
    now: number,
    options: { batch?: boolean },
  ): { message?: StoredMessage; result: SendResult; dedupRecord?: DedupRecord } {
    checkBody(entry.body)
    const size = messageSize(entry.body, entry.attributes)
    if (size > q.settings.maximumMessageSize)
      throw invalidParameter(
        // SQS words this differently in a batch entry.
        `One or more parameters ${options.batch ? 'cannot be validated' : 'are invalid'}. Reason: Message must be shorter than ${String(q.settings.maximumMessageSize)} bytes.`,
      )
    const result: SendResult = { messageId: randomUUID(), md5OfBody: md5OfBody(entry.body) }
    if (entry.attributes && Object.keys(entry.attributes).length > 0)
      result.md5OfAttributes = md5OfAttributes(entry.attributes)
    if (entry.traceHeader !== undefined)
      result.md5OfSystemAttributes = md5OfAttributes({
        AWSTraceHeader: { dataType: 'String', stringValue: entry.traceHeader },
      })
    let visibleAt = now + q.settings.delaySeconds * 1000
    let dedupRecord: DedupRecord | undefined
    let dedupId = entry.dedupId
    if (q.fifo) {
      if (entry.groupId === undefined)
        // A batch entry reports this as InvalidParameterValue, SendMessage as MissingParameter.
        throw new QueueError(
          options.batch ? 'InvalidParameterValue' : 'MissingParameter',
          'The request must contain the parameter MessageGroupId.',
        )
      if (entry.delaySeconds !== undefined && entry.delaySeconds !== 0)
        throw invalidParameter(
          `Value ${String(entry.delaySeconds)} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`,
        )
      if (dedupId === undefined) {
        if (!q.settings.contentBasedDeduplication)
          throw invalidParameter(
            'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
          )
        dedupId = createHash('sha256').update(entry.body, 'utf8').digest('hex')
      }
      const key =
        q.settings.deduplicationScope === 'messageGroup'
          ? `${entry.groupId}\u0000${dedupId}`
          : dedupId
      const seen = q.dedup.get(key)
      if (seen && now - seen.at < DEDUP_WINDOW_MS) {
        // A duplicate is accepted and answered like the original, but not enqueued again.
        result.messageId = seen.messageId
        result.sequenceNumber = sequenceNumber(seen.seq)
        return { result }
      }
    } else {
      if (entry.dedupId !== undefined)
        throw invalidParameter(
          'The request include parameter MessageDeduplicationId which is not valid for this queue type',
        )
      if (entry.delaySeconds !== undefined) visibleAt = now + entry.delaySeconds * 1000
    }
    const message: StoredMessage = {
      seq: ++this.seq,
      queueId: q.record.id,
      id: result.messageId,
      body: entry.body,
      senderId,
      sentAt: now,
      visibleAt,
      receiveCount: 0,
    }
    if (entry.attributes && Object.keys(entry.attributes).length > 0)
      message.attributes = entry.attributes
    if (entry.traceHeader !== undefined) message.traceHeader = entry.traceHeader
    if (entry.groupId !== undefined) message.groupId = entry.groupId
    if (q.fifo) {
      message.dedupId = dedupId!
      result.sequenceNumber = sequenceNumber(message.seq)
      const key =
        q.settings.deduplicationScope === 'messageGroup'
          ? `${entry.groupId}\u0000${dedupId!}`
          : dedupId!
      dedupRecord = { queueId: q.record.id, key, messageId: message.id, seq: message.seq, at: now }
      // Reserved now, so a duplicate sent before this one commits is recognised.
      q.dedup.set(key, dedupRecord)
    }
    return { message, result, ...(dedupRecord ? { dedupRecord } : {}) }
  }

  /**
   * Stores new messages and makes them receivable once committed, unless their queue went away
   * or was purged meanwhile. Until then pages skip their rows: they are counted once, here.
   */
  private async commitNew(
    q: LiveQueue,
    messages: StoredMessage[],
    writes: QueueWrite[],
  ): Promise<void> {
    for (const m of messages) q.unsettled.add(m.seq)
    try {
      await this.deps.store.write(writes)
    } finally {
      for (const m of messages) q.unsettled.delete(m.seq)
    }
    if (this.byId.get(q.record.id) !== q) return
    const now = this.deps.clock.now()
    for (const m of messages) if (m.seq > q.purgedUpTo) q.admit(m, now)
    this.notify(q)
  }

  /**
   * ReceiveMessage: up to `max` messages, waiting (long polling) up to the wait time for the
   * first to arrive. The signal `abortSignal` gives (asked for only if the call waits) ends the
   * wait early: the client went away.
   */
  receive(
    q: LiveQueue,
    request: ReceiveRequest,
    abortSignal?: () => AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const got = this.receiveNow(q, request)
    const waitSeconds = request.waitSeconds ?? q.settings.receiveMessageWaitTimeSeconds
    if (got.length > 0 || waitSeconds <= 0 || this.closed) return Promise.resolve(got)
    const signal = abortSignal?.()
    if (signal?.aborted) return Promise.resolve(got)
    return new Promise((resolve) => {
      let settled = false
      const finish = (messages: ReceivedMessage[]) => {
        if (settled) return
        settled = true
        cancelTimer()
        signal?.removeEventListener('abort', onAbort)
        const i = q.waiters.indexOf(waiter)
        if (i >= 0) q.waiters.splice(i, 1)
        resolve(messages)
      }
      const waiter: Waiter = {
        attempt: () => {
          if (this.closed || this.byId.get(q.record.id) !== q) {
            finish([])
            return true
          }
          const messages = this.receiveNow(q, request)
          if (messages.length === 0) return false
          finish(messages)
          return true
        },
      }
      const onAbort = () => {
        finish([])
      }
      const cancelTimer = this.deps.clock.setTimer(waitSeconds * 1000, () => {
        finish([])
      })
      signal?.addEventListener('abort', onAbort)
      q.waiters.push(waiter)
      this.armWake(q)
    })
  }

  private receiveNow(q: LiveQueue, request: ReceiveRequest): ReceivedMessage[] {
    const now = this.deps.clock.now()
    q.promote(now)
    if (!q.receivable(now)) return []
    const visibility = (request.visibilityTimeout ?? q.settings.visibilityTimeout) * 1000
    const writes: QueueWrite[] = []
    const removed: number[] = []
    const moved: { to: LiveQueue; m: LiveMessage }[] = []
    const retentionMs = q.settings.messageRetentionPeriod * 1000
    const redrive = q.settings.redrive
    const dlq = redrive ? this.byArn.get(redrive.deadLetterTargetArn) : undefined
    const keep = (m: LiveMessage) => {
      if (now - m.sentAt >= retentionMs) {
        q.remove(m)
        removed.push(m.seq)
        return false
      }
      if (redrive && dlq && m.receiveCount >= redrive.maxReceiveCount) {
        q.remove(m)
        moved.push({ to: dlq, m })
        return false
      }
      return true
    }
    const taken = q.take(request.max, now + visibility, keep)
    // Short of messages in memory: page more in from the store (a few pages at most per call).
    for (let pages = 0; taken.length < request.max && pages < 4; pages++) {
      if (!q.pageMore(now, request.max - taken.length)) break
      taken.push(...q.take(request.max - taken.length, now + visibility, keep))
    }
    const out: ReceivedMessage[] = []
    const updates: Extract<QueueWrite, { t: 'update' }>['messages'] = []
    for (const m of taken) {
      m.receiveCount++
      m.firstReceivedAt ??= now
      m.receipt = randomUUID()
      m.receivedAt = now
      updates.push({
        seq: m.seq,
        queueId: m.queueId,
        visibleAt: m.visibleAt,
        receiveCount: m.receiveCount,
        firstReceivedAt: m.firstReceivedAt,
        receipt: m.receipt,
        receivedAt: now,
      })
      out.push(received(q, m))
    }
    const movedMessages: StoredMessage[] = []
    const arrived: { to: LiveQueue; m: LiveMessage }[] = []
    for (const { to, m } of moved) {
      // The message keeps its id, body, send time and receive count, and names where it came
      // from; it is visible in the dead-letter queue at once.
      const next: StoredMessage = {
        ...stripLive(m),
        queueId: to.record.id,
        visibleAt: now,
        sourceArn: q.arn,
      }
      delete next.receipt
      movedMessages.push(next)
      arrived.push({ to, m: to.arrive(next, now) })
    }
    if (movedMessages.length > 0)
      writes.push(
        { t: 'remove', seqs: movedMessages.map((m) => m.seq) },
        { t: 'insert', messages: movedMessages, dedup: [] },
      )
    if (updates.length > 0) writes.push({ t: 'update', messages: updates })
    if (removed.length > 0) writes.push({ t: 'remove', seqs: removed })
    // Until the writes are committed the store's rows are stale: the messages stay in memory
    // (pinned) and pages skip the removed ones. Then what is beyond a horizon leaves memory.
    for (const m of taken) q.pin(m)
    for (const { m } of moved) q.unsettled.add(m.seq)
    for (const seq of removed) q.unsettled.add(seq)
    if (writes.length > 0)
      this.persist(writes, () => {
        for (const m of taken) q.unpin(m)
        for (const { to, m } of arrived) to.unpin(m)
        for (const { m } of moved) q.unsettled.delete(m.seq)
        for (const seq of removed) q.unsettled.delete(seq)
      })
    for (const { to } of moved) this.notify(to)
    if (q.waiters.length > 0) this.armWake(q)
    return out
  }

  /**
   * DeleteMessage(Batch): each receipt handle deleted or refused on its own. On a standard queue
   * any handle the message was received with deletes it (as SQS does); on a FIFO queue only the
   * latest, while the message is still in flight.
   */
  async deleteMessages(q: LiveQueue, handles: string[]): Promise<(QueueError | undefined)[]> {
    const now = this.deps.clock.now()
    q.promote(now)
    const results: (QueueError | undefined)[] = []
    const seqs: number[] = []
    for (const handle of handles) {
      try {
        const { m, token } = this.byHandle(q, handle, now)
        if (m && q.fifo && (m.state !== 'inflight' || m.receipt !== token))
          throw invalidHandle(handle, 'The receipt handle has expired.')
        if (m) {
          q.remove(m)
          seqs.push(m.seq)
          // A page must not read it back in before the delete is committed.
          q.unsettled.add(m.seq)
        }
        results.push(undefined)
      } catch (e) {
        if (!(e instanceof QueueError)) throw e
        results.push(e)
      }
    }
    if (seqs.length > 0) {
      try {
        await this.deps.store.write([{ t: 'remove', seqs }])
      } finally {
        // Committed, or failed and still in the store: either way pages may read the rows again.
        for (const seq of seqs) q.unsettled.delete(seq)
      }
    }
    // A FIFO group whose in-flight message is gone can be served to a waiting receiver.
    if (q.fifo && seqs.length > 0) this.notify(q)
    return results
  }

  /**
   * ChangeMessageVisibility(Batch): hides a received message for `timeout` seconds from now (0
   * makes it visible at once). A standard queue's message may be hidden again after its timeout
   * ran out, as SQS allows; a FIFO message only while its latest receive holds it.
   */
  async changeVisibility(
    q: LiveQueue,
    entries: { handle: string; timeout: number }[],
  ): Promise<(QueueError | undefined)[]> {
    const now = this.deps.clock.now()
    q.promote(now)
    const results: (QueueError | undefined)[] = []
    const updates: Extract<QueueWrite, { t: 'update' }>['messages'] = []
    const touched: LiveMessage[] = []
    /** Pinned by this call until its change is committed (and only those). */
    const pinned: LiveMessage[] = []
    for (const { handle, timeout } of entries) {
      try {
        const { m, token } = this.byHandle(q, handle, now)
        if (m && !q.fifo) touched.push(m)
        if (!m || m.receiveCount === 0 || m.state === 'delayed')
          throw invalidHandle(
            handle,
            'Message does not exist or is not available for visibility timeout change.',
          )
        if (q.fifo && (m.state !== 'inflight' || m.receipt !== token))
          throw invalidHandle(handle, 'The receipt handle has expired.')
        const since = m.receivedAt ?? now
        if (now + timeout * 1000 - since > MAX_INFLIGHT_MS)
          throw invalidParameter(
            `Value ${String(timeout)} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]`,
          )
        q.hide(m, now + timeout * 1000)
        q.pin(m)
        pinned.push(m)
        updates.push(updateOf(m))
        results.push(undefined)
      } catch (e) {
        if (!(e instanceof QueueError)) throw e
        results.push(e)
      }
    }
    // Messages fetched from the store for a refused handle leave memory at once; changed ones
    // once the change is committed.
    for (const m of touched) if (!m.pins) q.settle(m)
    if (updates.length > 0) {
      await this.deps.store.write([{ t: 'update', messages: updates }])
      for (const m of pinned) q.unpin(m)
    }
    this.notify(q)
    return results
  }

  /**
   * The message a receipt handle names, if it still exists, from memory or else the store; a
   * malformed handle is an error.
   */
  private byHandle(q: LiveQueue, handle: string, now: number): { m?: LiveMessage; token: string } {
    const parsed = parseHandle(handle)
    if (!parsed || parsed.queueId !== q.record.id)
      throw new QueueError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${handle}" is not a valid receipt handle.`,
      )
    q.loadInflight(now)
    const m = q.byId.get(parsed.messageId) ?? q.fetch(parsed.messageId, parsed.seq, now)
    return m ? { m, token: parsed.token } : { token: parsed.token }
  }

  // --- EventBridge ----------------------------------------------------------------------------

  /**
   * Stores a dead letter as a message in its queue, finishing its delivery job in the same
   * commit. False when there is no such standard queue (the caller keeps the letter).
   */
  async deadLetter(letter: DeadLetter): Promise<boolean> {
    const q = this.byArn.get(letter.dlqArn)
    if (!q || q.fifo) return false
    const message = this.deadLetterMessage(q, letter)
    await this.commitNew(
      q,
      [message],
      [
        { t: 'insert', messages: [message], dedup: [] },
        { t: 'finishJob', jobId: letter.job.id },
      ],
    )
    return true
  }

  private deadLetterMessage(q: LiveQueue, letter: DeadLetter): StoredMessage {
    const now = this.deps.clock.now()
    return {
      seq: ++this.seq,
      queueId: q.record.id,
      id: randomUUID(),
      body: letter.event.text,
      attributes: deadLetterAttributes(letter),
      senderId: EVENTBRIDGE_SENDER,
      sentAt: now,
      visibleAt: now + q.settings.delaySeconds * 1000,
      receiveCount: 0,
    }
  }

  /** Dead letters that failed while this queue did not exist arrive once it does. */
  private async drainDeadLetters(q: LiveQueue): Promise<void> {
    if (q.fifo) return
    const letters = await this.deps.events.deadLetters(q.arn)
    if (letters.length === 0 || this.byId.get(q.record.id) !== q) return
    const messages = letters.map((l) => this.deadLetterMessage(q, l))
    await this.commitNew(q, messages, [
      { t: 'insert', messages, dedup: [] },
      { t: 'dropDeadLetters', jobIds: letters.map((l) => l.job.id) },
    ])
  }

  // --- housekeeping ---------------------------------------------------------------------------

  /** Ends every long poll (with no messages) and stops the timers. */
  close(): void {
    this.closed = true
    this.sweepTimer?.()
    for (const q of this.byArn.values()) {
      q.wake?.cancel()
      for (const w of [...q.waiters]) w.attempt()
    }
  }

  private register(record: QueueRecord): LiveQueue {
    const q = new LiveQueue(record, queueArn(record, record.name), {
      store: this.deps.store,
      window: this.deps.window ?? DEFAULT_QUEUE_WINDOW,
    })
    this.byArn.set(q.arn, q)
    this.byId.set(record.id, q)
    return q
  }

  private unregister(q: LiveQueue): void {
    this.byArn.delete(q.arn)
    this.byId.delete(q.record.id)
    q.wake?.cancel()
    for (const w of [...q.waiters]) w.attempt()
  }

  /** Hands visible messages to waiting receivers, oldest waiter first. */
  private notify(q: LiveQueue): void {
    if (q.waiters.length === 0) return
    const now = this.deps.clock.now()
    q.promote(now)
    while (q.waiters.length > 0 && q.receivable(now)) {
      if (!q.waiters[0]!.attempt()) break
    }
    this.armWake(q)
  }

  /** While receivers wait, wakes them when the next hidden message becomes visible. */
  private armWake(q: LiveQueue): void {
    if (q.waiters.length === 0 || this.closed) return
    const at = q.nextChange(this.deps.clock.now())
    if (at === undefined || (q.wake && q.wake.at <= at)) return
    q.wake?.cancel()
    const cancel = this.deps.clock.setTimer(at - this.deps.clock.now(), () => {
      if (q.wake?.cancel === cancel) delete q.wake
      this.notify(q)
    })
    q.wake = { at, cancel }
  }

  /** Expires messages past their retention period and forgets old deduplication ids. */
  private sweep(): void {
    const now = this.deps.clock.now()
    const seqs: number[] = []
    const settled: { q: LiveQueue; seqs: number[] }[] = []
    for (const q of this.byArn.values()) {
      const retentionMs = q.settings.messageRetentionPeriod * 1000
      const gone: number[] = []
      for (const m of q.byId.values())
        if (now - m.sentAt >= retentionMs) {
          q.remove(m)
          gone.push(m.seq)
        }
      gone.push(...this.expireStored(q, now - retentionMs + 1))
      // Pages skip them until the delete is committed.
      for (const seq of gone) q.unsettled.add(seq)
      if (gone.length > 0) {
        settled.push({ q, seqs: gone })
        seqs.push(...gone)
        this.notify(q)
      }
      for (const [k, d] of q.dedup) if (now - d.at >= DEDUP_WINDOW_MS) q.dedup.delete(k)
    }
    const writes: QueueWrite[] = [{ t: 'pruneDedup', before: now - DEDUP_WINDOW_MS }]
    if (seqs.length > 0) writes.push({ t: 'remove', seqs })
    this.persist(writes, () => {
      for (const s of settled) for (const seq of s.seqs) s.q.unsettled.delete(seq)
    })
  }

  /** Messages only in the store sent before `sentBefore`, oldest first: their seqs, uncounted. */
  private expireStored(q: LiveQueue, sentBefore: number): number[] {
    const out: number[] = []
    if (!q.horizon || q.stored.total === 0) return out
    let after = 0
    while (out.length < SWEEP_STORED_MAX) {
      const rows = this.deps.store.expired(q.record.id, sentBefore, after, 1000)
      for (const r of rows) {
        if (q.byId.has(r.id) || q.unsettled.has(r.seq) || r.seq <= q.purging) continue
        q.stored.remove(r)
        out.push(r.seq)
      }
      if (rows.length < 1000) break
      after = rows[rows.length - 1]!.seq
    }
    return out
  }

  private scheduleSweep(): void {
    if (this.closed) return
    this.sweepTimer = this.deps.clock.setTimer(SWEEP_INTERVAL_MS, () => {
      this.sweep()
      this.scheduleSweep()
    })
  }

  /**
   * Writes that nothing waits for; a failure means the store is gone (the bus reports that).
   * `committed` runs once they are durable (never after a failure: the rows stay suspect).
   */
  private persist(writes: QueueWrite[], committed?: () => void): void {
    this.deps.store.write(writes).then(committed, (e: unknown) => {
      this.deps.log.error({ err: e }, 'could not store a queue change')
    })
  }
}

/** The stored fields of a live message (a redrive stores it again under its new queue). */
function stripLive(m: LiveMessage): StoredMessage {
  const copy: Partial<LiveMessage> = { ...m }
  delete copy.state
  delete copy.md5
  delete copy.receivedAt
  delete copy.pins
  return copy as StoredMessage
}

function received(q: LiveQueue, m: LiveMessage): ReceivedMessage {
  const r: ReceivedMessage = {
    id: m.id,
    receiptHandle: makeHandle(q.record.id, m.id, m.receipt!, m.seq),
    body: m.body,
    md5OfBody: (m.md5 ??= md5OfBody(m.body)),
    senderId: m.senderId,
    sentAt: m.sentAt,
    receiveCount: m.receiveCount,
    firstReceivedAt: m.firstReceivedAt!,
  }
  if (m.attributes) r.attributes = m.attributes
  if (m.groupId !== undefined) r.groupId = m.groupId
  if (m.dedupId !== undefined) r.dedupId = m.dedupId
  if (q.fifo) r.sequenceNumber = sequenceNumber(m.seq)
  if (m.traceHeader !== undefined) r.traceHeader = m.traceHeader
  if (m.sourceArn !== undefined) r.sourceArn = m.sourceArn
  return r
}

const invalidHandle = (handle: string, reason: string) =>
  invalidParameter(`Value ${handle} for parameter ReceiptHandle is invalid. Reason: ${reason}`)

function updateOf(m: LiveMessage): Extract<QueueWrite, { t: 'update' }>['messages'][number] {
  return {
    seq: m.seq,
    queueId: m.queueId,
    visibleAt: m.visibleAt,
    receiveCount: m.receiveCount,
    ...(m.firstReceivedAt !== undefined ? { firstReceivedAt: m.firstReceivedAt } : {}),
    ...(m.receipt !== undefined ? { receipt: m.receipt } : {}),
    ...(m.receivedAt !== undefined ? { receivedAt: m.receivedAt } : {}),
  }
}

/** FIFO sequence numbers: 20 digits, growing with every message sent. */
export const sequenceNumber = (seq: number) => String(seq).padStart(20, '0')
