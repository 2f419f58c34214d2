/**
 * @module
 * SQS standard queues shared by every node on NATS JetStream: any node answers any SQS call on
 * any queue.
 *
 * - **Queues** are records in the `junction-queues` bucket, one key per queue ARN; every node
 *   watches it, so a queue created through one node is known to the others within milliseconds.
 * - **Messages** are in the `JUNCTION_QUEUES` stream (see `queue-streams.ts`), one subject and
 *   one durable pull consumer per queue, shared by the nodes. A receive pulls from the consumer
 *   and hides each message for its visibility timeout with a nak with that delay; JetStream
 *   hands it out again when the delay ends, and its delivery count is the receive count.
 *   DeleteMessage acks, ChangeMessageVisibility naks with the new delay; both are publishes to
 *   the ack subject the receipt handle carries, so they work through any node.
 * - **Delays** wait on a subject of their own until due (`queue-delays.ts`).
 * - **Redrive**: a message whose receive would exceed maxReceiveCount is published to the
 *   dead-letter queue (keeping id, body, attributes, send time and count) and acked, instead of
 *   being returned.
 * - **Retention**: a receive drops (acks) the expired messages it meets, and a sweep every
 *   minute purges each queue's expired prefix (`queue-retention.ts`); JetStream drops any
 *   message older than 14 days, SQS's longest retention.
 *
 * Standard queues only: FIFO queues are refused at CreateQueue.
 *
 * Safe for concurrent calls: nothing is held between awaits but the queue records, which the
 * bucket's watch replaces in place.
 */
import { listQueues, redriveSources } from '../../queue/queue-lookup.js'
import { randomUUID } from 'node:crypto'
import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream'
import { Kvm, type KV, type KvEntry } from '@nats-io/kv'
import { nanos, type Msg, type NatsConnection } from '@nats-io/transport-node'
import { queueArn } from '../../arns.js'
import type { Clock } from '../../clock.js'
import type { Scope } from '../../model.js'
import {
  ATTRIBUTE_NAMES,
  checkAttributes,
  checkQueueName,
  defaultAttributes,
  settingsOf,
  type QueueSettings,
} from '../../queue/attributes.js'
import { deadLetterAttributes } from '../../queue/dead-letter-message.js'
import { invalidParameter, QueueError } from '../../queue/errors.js'
import { md5OfAttributes, md5OfBody } from '../../queue/md5.js'
import { checkBody, messageSize } from '../../queue/message-rules.js'
import type { QueueRecord, StoredMessage } from '../../queue/model.js'
import { withoutStatement, withPolicy, withStatement } from '../../queue/queue-policy.js'
import {
  EVENTBRIDGE_SENDER,
  type ReceivedMessage,
  type ReceiveRequest,
  type SendEntry,
  type SendResult,
} from '../../queue/queues.js'
import type { QueueRef, QueueService } from '../../queue/service.js'
import type { DeadLetter, EventStore } from '../ports.js'
import { jobMessageId, token } from './codec.js'
import { publishDurably } from './publish.js'
import {
  decodeQueueMessage,
  encodeQueueMessage,
  makeNatsHandle,
  parseNatsHandle,
  type QueueMessageMeta,
} from './queue-codec.js'
import { DelayMover } from './queue-delays.js'
import { expireBefore } from './queue-retention.js'
import {
  DELAYS_CONSUMER,
  delayedSubject,
  dropQueueMessages,
  ensureQueueConsumer,
  ensureQueueStreams,
  parseAck,
  pull,
  purgeQueueMessages,
  queueConsumer,
  QUEUES_BUCKET,
  QUEUES_STREAM,
  readySubject,
} from './queue-streams.js'
import { DEAD_LETTERS_STREAM, DEAD_LETTERS_SUBJECT_PREFIX } from './streams.js'

const PURGE_INTERVAL_MS = 60_000
const SWEEP_INTERVAL_MS = 60_000
/** A message stays in flight at most this long after the receive that took it. */
const MAX_INFLIGHT_MS = 43_200_000
/** How long an ack or nak may take to be confirmed by the server. */
const ACK_TIMEOUT_MS = 10_000

/** A queue record as the bucket holds it, with the last purge (one per minute, over all nodes). */
type StoredQueue = { record: QueueRecord; lastPurgeAt?: number }

/** A queue known to this node; the watch updates it in place. */
export class NatsQueue implements QueueRef {
  record: QueueRecord
  settings: QueueSettings
  lastPurgeAt: number | undefined
  readonly arn: string

  constructor(stored: StoredQueue) {
    this.record = stored.record
    this.settings = settingsOf(stored.record.attributes)
    this.lastPurgeAt = stored.lastPurgeAt
    this.arn = queueArn(stored.record, stored.record.name)
  }

  get fifo(): boolean {
    return false
  }

  update(stored: StoredQueue): void {
    this.record = stored.record
    this.settings = settingsOf(stored.record.attributes)
    this.lastPurgeAt = stored.lastPurgeAt
  }
}

export type NatsQueuesDeps = {
  /** Dead letters recorded while their queue did not exist, moved in when it is created. */
  events: Pick<EventStore, 'deadLetters'>
  clock: Clock
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
}

export type NatsQueuesOptions = {
  /** Copies of the stream and bucket. @default 1 */
  replicas?: number
}

export class NatsQueues implements QueueService<NatsQueue> {
  /** A dead letter's message is a publish of its own: the caller ends the job after it. */
  readonly finishesJobs = false
  private readonly byArn = new Map<string, NatsQueue>()
  /** Latest bucket revision applied per key: an older watched change never undoes a newer one. */
  private readonly revisions = new Map<string, number>()
  /** Pulls waiting for messages, ended by close. */
  private readonly waiting = new Set<AbortController>()
  private stopWatching: (() => void) | undefined
  private mover: DelayMover | undefined
  private sweepTimer: (() => void) | undefined
  private closed = false

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly kv: KV,
    private readonly deps: NatsQueuesDeps,
  ) {}

  /**
   * Opens (creating where missing) the queues stream and bucket, reads every queue and starts
   * watching; moves in dead letters kept for queues that exist.
   *
   * @example
   * const queues = await NatsQueues.open(nc, { events, clock: systemClock, log }, { replicas: 3 })
   */
  static async open(
    nc: NatsConnection,
    deps: NatsQueuesDeps,
    options: NatsQueuesOptions = {},
  ): Promise<NatsQueues> {
    const replicas = options.replicas ?? 1
    const jsm = await jetstreamManager(nc)
    await ensureQueueStreams(jsm, replicas)
    const kv = await new Kvm(nc).create(QUEUES_BUCKET, { history: 1, replicas })
    const js = jetstream(nc)
    const queues = new NatsQueues(nc, js, jsm, kv, deps)
    await queues.load()
    queues.mover = new DelayMover({
      js,
      consumer: await js.consumers.get(QUEUES_STREAM, DELAYS_CONSUMER),
      now: () => deps.clock.now(),
      log: deps.log,
    })
    await queues.mover.start()
    for (const q of queues.byArn.values()) await queues.drainDeadLetters(q)
    queues.scheduleSweep()
    return queues
  }

  // --- queues ---------------------------------------------------------------------------------

  find(scope: Scope, name: string): NatsQueue | undefined {
    return this.byArn.get(queueArn(scope, name))
  }

  findByArn(arn: string): NatsQueue | undefined {
    return this.byArn.get(arn)
  }

  /** The caller's queues whose names start with `prefix`, by name. */
  list(scope: Scope, prefix = ''): NatsQueue[] {
    return listQueues(this.byArn.values(), scope, prefix)
  }

  /** Queues whose RedrivePolicy names this one as their dead-letter queue. */
  sourcesOf(q: NatsQueue): NatsQueue[] {
    return redriveSources(this.byArn.values(), q.arn)
  }

  async create(
    scope: Scope,
    name: string,
    attributes: Record<string, string>,
    tags: Record<string, string>,
  ): Promise<NatsQueue> {
    if (attributes.FifoQueue?.toLowerCase() === 'true')
      throw new QueueError(
        'InvalidAttributeValue',
        'Invalid value for the parameter FifoQueue. Reason: FIFO queues are not available in distributed mode (--store nats); use a standard queue.',
      )
    checkQueueName(name, false)
    const arn = queueArn(scope, name)
    const given = checkAttributes(attributes, { fifo: false, arn }, (a) => this.byArn.get(a))
    const existing = this.byArn.get(arn)
    if (existing) return sameOrConflict(existing, given)
    const now = this.deps.clock.now()
    const record: QueueRecord = {
      id: randomUUID(),
      name,
      account: scope.account,
      region: scope.region,
      attributes: { ...defaultAttributes(false), ...given },
      tags: { ...tags },
      createdAt: now,
      modifiedAt: now,
    }
    // The consumer first: once the record is seen, any node may send and receive.
    await ensureQueueConsumer(this.jsm, record.id)
    const key = token(arn)
    let revision: number
    try {
      revision = await this.kv.create(key, JSON.stringify({ record } satisfies StoredQueue))
    } catch (e) {
      // Another node created it first: answer as for an existing queue.
      const entry = await this.kv.get(key)
      if (!entry || entry.operation !== 'PUT') throw e
      await dropQueueMessages(this.jsm, record.id)
      this.apply(entry)
      return sameOrConflict(this.byArn.get(arn)!, given)
    }
    const q = this.remember(key, revision, { record })
    await this.drainDeadLetters(q)
    return q
  }

  async delete(q: NatsQueue): Promise<void> {
    // The watch brings the delete (with its revision) to every node, this one too.
    await this.kv.delete(token(q.arn))
    this.byArn.delete(q.arn)
    await dropQueueMessages(this.jsm, q.record.id)
  }

  async setAttributes(q: NatsQueue, attributes: Record<string, string>): Promise<void> {
    const given = checkAttributes(attributes, { fifo: false, arn: q.arn }, (a) => this.byArn.get(a))
    const cleared = (k: string, v: string) =>
      v === '' && (k === 'RedrivePolicy' || k === 'Policy' || k === 'RedriveAllowPolicy')
    const next = Object.fromEntries(
      Object.entries({ ...q.record.attributes, ...given }).filter(([k, v]) => !cleared(k, v)),
    )
    await this.save(q, { ...q.record, attributes: next, modifiedAt: this.deps.clock.now() })
  }

  async attributes(q: NatsQueue, names: string[]): Promise<Record<string, string>> {
    for (const n of names)
      if (!ATTRIBUTE_NAMES.has(n))
        throw new QueueError('InvalidAttributeName', `Unknown Attribute ${n}.`)
    const counts = await this.counts(q)
    const all: Record<string, string> = {
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inflight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
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

  async addPermission(
    q: NatsQueue,
    label: string,
    accounts: string[],
    actions: string[],
  ): Promise<void> {
    const attributes = withPolicy(q.record.attributes, withStatement(q, label, accounts, actions))
    await this.save(q, { ...q.record, attributes, modifiedAt: this.deps.clock.now() })
  }

  async removePermission(q: NatsQueue, label: string): Promise<void> {
    const attributes = withPolicy(q.record.attributes, withoutStatement(q, label))
    await this.save(q, { ...q.record, attributes, modifiedAt: this.deps.clock.now() })
  }

  async tag(q: NatsQueue, tags: Record<string, string>): Promise<void> {
    await this.save(q, { ...q.record, tags: { ...q.record.tags, ...tags } })
  }

  async untag(q: NatsQueue, keys: string[]): Promise<void> {
    const tags = Object.fromEntries(
      Object.entries(q.record.tags).filter(([k]) => !keys.includes(k)),
    )
    await this.save(q, { ...q.record, tags })
  }

  /** PurgeQueue: deletes every message, in flight or not; once per 60 seconds over all nodes. */
  async purge(q: NatsQueue): Promise<void> {
    const now = this.deps.clock.now()
    if (q.lastPurgeAt !== undefined && now - q.lastPurgeAt < PURGE_INTERVAL_MS)
      throw new QueueError(
        'AWS.SimpleQueueService.PurgeQueueInProgress',
        `Only one PurgeQueue operation on ${q.record.name} is allowed every 60 seconds.`,
      )
    await this.save(q, q.record, now)
    await purgeQueueMessages(this.jsm, q.record.id)
  }

  // --- messages -------------------------------------------------------------------------------

  /** SendMessage(Batch): each entry stored or refused on its own, all stored before answering. */
  async send(
    q: NatsQueue,
    entries: SendEntry[],
    senderId: string,
    options: { batch?: boolean } = {},
  ): Promise<(SendResult | QueueError)[]> {
    const now = this.deps.clock.now()
    const results: (SendResult | QueueError)[] = []
    const publishes: Promise<unknown>[] = []
    for (const entry of entries) {
      try {
        const { meta, result } = this.prepare(q, entry, senderId, now, options)
        const data = this.encode(meta, entry.body, options)
        results.push(result)
        publishes.push(this.publish(q, meta, data))
      } catch (e) {
        if (!(e instanceof QueueError)) throw e
        results.push(e)
      }
    }
    await Promise.all(publishes)
    return results
  }

  private prepare(
    q: NatsQueue,
    entry: SendEntry,
    senderId: string,
    now: number,
    options: { batch?: boolean },
  ): { meta: QueueMessageMeta; result: SendResult } {
    checkBody(entry.body)
    const size = messageSize(entry.body, entry.attributes)
    if (size > q.settings.maximumMessageSize) throw tooLong(q.settings.maximumMessageSize, options)
    if (entry.groupId !== undefined)
      throw invalidParameter(
        'The request include parameter MessageGroupId which is not valid for this queue type',
      )
    if (entry.dedupId !== undefined)
      throw invalidParameter(
        'The request include parameter MessageDeduplicationId which is not valid for this queue type',
      )
    const result: SendResult = { messageId: randomUUID(), md5OfBody: md5OfBody(entry.body) }
    const meta: QueueMessageMeta = { id: result.messageId, senderId, sentAt: now }
    if (entry.attributes && Object.keys(entry.attributes).length > 0) {
      result.md5OfAttributes = md5OfAttributes(entry.attributes)
      meta.attributes = entry.attributes
    }
    if (entry.traceHeader !== undefined) {
      result.md5OfSystemAttributes = md5OfAttributes({
        AWSTraceHeader: { dataType: 'String', stringValue: entry.traceHeader },
      })
      meta.traceHeader = entry.traceHeader
    }
    const delay = entry.delaySeconds ?? q.settings.delaySeconds
    if (delay > 0) meta.notBefore = now + delay * 1000
    return { meta, result }
  }

  /** The message as published; one NATS will not take (max_payload) is refused as too long. */
  private encode(
    meta: QueueMessageMeta,
    body: string,
    options: { batch?: boolean } = {},
  ): Uint8Array {
    const data = encodeQueueMessage(meta, body)
    const max = this.nc.info?.max_payload ?? 1_048_576
    // Headers and the subject travel with it; a kilobyte covers them.
    if (data.length + 1024 > max)
      throw tooLong(max - 1024 - (data.length - Buffer.byteLength(body, 'utf8')), options)
    return data
  }

  /** To the queue's subject, or its delay subject when it is not due yet. */
  private publish(q: NatsQueue, meta: QueueMessageMeta, data: Uint8Array): Promise<unknown> {
    const delayed = meta.notBefore !== undefined && meta.notBefore > this.deps.clock.now()
    const id = q.record.id
    return delayed
      ? publishDurably(this.js, delayedSubject(id), data, { msgID: `${id}/${meta.id}/delayed` })
      : publishDurably(this.js, readySubject(id), data, { msgID: `${id}/${meta.id}` })
  }

  /**
   * ReceiveMessage: up to `max` messages, waiting (long polling) up to the wait time for the
   * first; the signal `abortSignal` gives ends the wait early (the client went away).
   */
  async receive(
    q: NatsQueue,
    request: ReceiveRequest,
    abortSignal?: () => AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const visibility = request.visibilityTimeout ?? q.settings.visibilityTimeout
    const waitSeconds = request.waitSeconds ?? q.settings.receiveMessageWaitTimeSeconds
    const until = Date.now() + waitSeconds * 1000
    const stop = new AbortController()
    const outer = waitSeconds > 0 ? abortSignal?.() : undefined
    const onAbort = () => stop.abort()
    outer?.addEventListener('abort', onAbort)
    if (outer?.aborted) stop.abort()
    this.waiting.add(stop)
    const out: ReceivedMessage[] = []
    try {
      for (;;) {
        if (this.closed) return out
        const left = until - Date.now()
        const started = Date.now()
        const messages = await pull(this.nc, queueConsumer(q.record.id), {
          batch: request.max - out.length,
          expiresMs: left >= 50 ? left : 0,
          signal: stop.signal,
        })
        const taken = await Promise.all(messages.map((m) => this.take(q, m, visibility)))
        for (const r of taken) if (r) out.push(r)
        if (out.length > 0 || stop.signal.aborted || Date.now() >= until - 50) return out
        // The server turned the request away at once (other long polls waiting): not a spin.
        if (messages.length === 0 && Date.now() - started < 50) await sleep(100)
      }
    } finally {
      this.waiting.delete(stop)
      outer?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * A pulled message: hidden for its visibility timeout and returned, or dropped (expired), or
   * moved to the dead-letter queue (received too often).
   */
  private async take(
    q: NatsQueue,
    m: Msg,
    visibility: number,
  ): Promise<ReceivedMessage | undefined> {
    const ack = parseAck(m.reply ?? '')
    if (!ack || !m.reply) return undefined
    const now = this.deps.clock.now()
    let decoded: ReturnType<typeof decodeQueueMessage>
    try {
      decoded = decodeQueueMessage(m.data)
    } catch (e) {
      this.deps.log.error({ err: e, seq: ack.streamSeq }, 'dropping an unreadable queue message')
      await this.answer(m.reply, '+TERM')
      return undefined
    }
    const { meta, body } = decoded
    if (now - meta.sentAt >= q.settings.messageRetentionPeriod * 1000) {
      await this.answer(m.reply, '+ACK')
      return undefined
    }
    const count = (meta.receiveBase ?? 0) + ack.deliveryCount
    const redrive = q.settings.redrive
    const dlq =
      redrive && count > redrive.maxReceiveCount && this.byArn.get(redrive.deadLetterTargetArn)
    if (dlq) {
      // It keeps its id, body, attributes, send time and count, and names where it came from.
      const moved: QueueMessageMeta = { ...meta, sourceArn: q.arn, receiveBase: count - 1 }
      delete moved.notBefore
      await publishDurably(this.js, readySubject(dlq.record.id), encodeQueueMessage(moved, body), {
        msgID: `${dlq.record.id}/${meta.id}`,
      })
      await this.answer(m.reply, '+ACK')
      return undefined
    }
    await this.answer(m.reply, hide(visibility))
    const r: ReceivedMessage = {
      id: meta.id,
      receiptHandle: makeNatsHandle({
        queueId: q.record.id,
        messageId: meta.id,
        receivedAt: now,
        ack: m.reply,
      }),
      body,
      md5OfBody: md5OfBody(body),
      senderId: meta.senderId,
      sentAt: meta.sentAt,
      receiveCount: count,
      // Not shared between nodes: exact on the first receive, this receive's time after it.
      firstReceivedAt: now,
    }
    if (meta.attributes) r.attributes = meta.attributes
    if (meta.traceHeader !== undefined) r.traceHeader = meta.traceHeader
    if (meta.sourceArn !== undefined) r.sourceArn = meta.sourceArn
    return r
  }

  /**
   * DeleteMessage(Batch): acks each message; as on SQS, any handle the message was received with
   * deletes it, and deleting a message already gone succeeds.
   */
  async deleteMessages(q: NatsQueue, handles: string[]): Promise<(QueueError | undefined)[]> {
    return Promise.all(
      handles.map(async (handle) => {
        const parsed = this.handleOf(q, handle)
        if (parsed instanceof QueueError) return parsed
        await this.answer(parsed.ack, '+ACK')
        return undefined
      }),
    )
  }

  /**
   * ChangeMessageVisibility(Batch): hides a received message for `timeout` seconds from now (0
   * makes it visible at once), at most 12 hours after its receive. A message already deleted is
   * not reported (the nak finds nothing to change).
   */
  async changeVisibility(
    q: NatsQueue,
    entries: { handle: string; timeout: number }[],
  ): Promise<(QueueError | undefined)[]> {
    const now = this.deps.clock.now()
    return Promise.all(
      entries.map(async ({ handle, timeout }) => {
        const parsed = this.handleOf(q, handle)
        if (parsed instanceof QueueError) return parsed
        if (now + timeout * 1000 - parsed.receivedAt > MAX_INFLIGHT_MS)
          return invalidParameter(
            `Value ${String(timeout)} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]`,
          )
        await this.answer(parsed.ack, hide(timeout))
        return undefined
      }),
    )
  }

  /** A receipt handle of this queue, or the error SQS gives for a malformed one. */
  private handleOf(q: NatsQueue, handle: string): { ack: string; receivedAt: number } | QueueError {
    const parsed = parseNatsHandle(handle)
    const ack = parsed && parseAck(parsed.ack)
    if (
      !parsed ||
      !ack ||
      parsed.queueId !== q.record.id ||
      ack.consumer !== queueConsumer(q.record.id)
    )
      return new QueueError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${handle}" is not a valid receipt handle.`,
      )
    return parsed
  }

  // --- EventBridge ----------------------------------------------------------------------------

  /** Publishes a dead letter to its queue; false when there is no such queue (the caller keeps it). */
  async deadLetter(letter: DeadLetter): Promise<boolean> {
    const q = this.byArn.get(letter.dlqArn)
    if (!q) return false
    await this.publishDeadLetter(q, letter)
    return true
  }

  private async publishDeadLetter(q: NatsQueue, letter: DeadLetter): Promise<void> {
    const now = this.deps.clock.now()
    const meta: QueueMessageMeta = {
      id: randomUUID(),
      senderId: EVENTBRIDGE_SENDER,
      sentAt: now,
      attributes: deadLetterAttributes(letter),
    }
    if (q.settings.delaySeconds > 0) meta.notBefore = now + q.settings.delaySeconds * 1000
    const data = encodeQueueMessage(meta, letter.event.text)
    const id = q.record.id
    // The same letter published twice (a node died before its job ended) is stored once.
    const msgID = `${id}/dl/${jobMessageId(letter.job)}`
    await (meta.notBefore !== undefined
      ? publishDurably(this.js, delayedSubject(id), data, { msgID })
      : publishDurably(this.js, readySubject(id), data, { msgID }))
  }

  /** Dead letters kept while this queue did not exist arrive once it does, then are dropped. */
  private async drainDeadLetters(q: NatsQueue): Promise<void> {
    const subject = `${DEAD_LETTERS_SUBJECT_PREFIX}.${token(q.arn)}`
    const before = await this.jsm.streams.info(DEAD_LETTERS_STREAM)
    const letters = await this.deps.events.deadLetters(q.arn)
    if (letters.length === 0) return
    for (const letter of letters) await this.publishDeadLetter(q, letter)
    // Only what was there before the read: a letter kept meanwhile stays for the next start.
    await this.jsm.streams.purge(DEAD_LETTERS_STREAM, {
      filter: subject,
      seq: before.state.last_seq + 1,
    })
  }

  // --- migration ------------------------------------------------------------------------------

  /**
   * `junction migrate`: a standard queue of another store, under its own id, with its attributes
   * and tags. Messages follow with {@link NatsQueues.restoreMessages}.
   */
  async restore(record: QueueRecord): Promise<NatsQueue> {
    await ensureQueueConsumer(this.jsm, record.id)
    const key = token(queueArn(record, record.name))
    const stored: StoredQueue = { record }
    return this.remember(key, await this.kv.put(key, JSON.stringify(stored)), stored)
  }

  /**
   * Messages copied from another store, keeping id, body, attributes, sender, send time and
   * receive count. One hidden (delayed, or in flight) stays hidden until its time; the receive
   * that took an in-flight one cannot delete it any more. Expired ones are left behind.
   */
  async restoreMessages(q: NatsQueue, messages: StoredMessage[]): Promise<number> {
    const now = this.deps.clock.now()
    const kept = messages.filter((m) => now - m.sentAt < q.settings.messageRetentionPeriod * 1000)
    await Promise.all(
      kept.map((m) => {
        const meta: QueueMessageMeta = { id: m.id, senderId: m.senderId, sentAt: m.sentAt }
        if (m.attributes) meta.attributes = m.attributes
        if (m.traceHeader !== undefined) meta.traceHeader = m.traceHeader
        if (m.sourceArn !== undefined) meta.sourceArn = m.sourceArn
        if (m.receiveCount > 0) meta.receiveBase = m.receiveCount
        if (m.visibleAt > now) meta.notBefore = m.visibleAt
        return this.publish(q, meta, encodeQueueMessage(meta, m.body))
      }),
    )
    return kept.length
  }

  // --- housekeeping ---------------------------------------------------------------------------

  /**
   * Drops every queue's messages past its retention period, received or not (every node sweeps;
   * a purge done twice removes nothing more).
   */
  async sweep(): Promise<void> {
    const now = this.deps.clock.now()
    for (const q of [...this.byArn.values()]) {
      const sentBefore = now - q.settings.messageRetentionPeriod * 1000 + 1
      await expireBefore(this.jsm, readySubject(q.record.id), sentBefore)
      await expireBefore(this.jsm, delayedSubject(q.record.id), sentBefore)
    }
  }

  private scheduleSweep(): void {
    if (this.closed) return
    this.sweepTimer = this.deps.clock.setTimer(SWEEP_INTERVAL_MS, () => {
      this.sweep()
        .catch((e: unknown) => {
          this.deps.log.warn({ err: e }, 'queue retention sweep failed; the next one tries again')
        })
        .finally(() => {
          this.scheduleSweep()
        })
    })
  }

  /** Ends every long poll (with no messages), stops moving delayed messages and watching. */
  close(): void {
    this.closed = true
    this.sweepTimer?.()
    for (const w of this.waiting) w.abort()
    this.mover?.stop()
    this.stopWatching?.()
  }

  /** Approximate counts from the consumer: see docs/cluster.md. */
  private async counts(
    q: NatsQueue,
  ): Promise<{ visible: number; inflight: number; delayed: number }> {
    const [info, stream] = await Promise.all([
      this.jsm.consumers.info(QUEUES_STREAM, queueConsumer(q.record.id)),
      this.jsm.streams.info(QUEUES_STREAM, { subjects_filter: delayedSubject(q.record.id) }),
    ])
    return {
      visible: info.num_pending,
      inflight: info.num_ack_pending,
      delayed: stream.state.subjects?.[delayedSubject(q.record.id)] ?? 0,
    }
  }

  /** An ack, nak or term on a message's ack subject, confirmed by the server. */
  private async answer(ack: string, payload: string): Promise<void> {
    await this.nc.request(ack, payload, { timeout: ACK_TIMEOUT_MS })
  }

  /** Writes a queue's record (last write wins) and takes it in at once. */
  private async save(
    q: NatsQueue,
    record: QueueRecord,
    lastPurgeAt = q.lastPurgeAt,
  ): Promise<void> {
    const stored: StoredQueue = { record }
    if (lastPurgeAt !== undefined) stored.lastPurgeAt = lastPurgeAt
    const key = token(q.arn)
    const revision = await this.kv.put(key, JSON.stringify(stored))
    this.remember(key, revision, stored)
  }

  /** Reads every queue, after starting the watch so that no change falls between. */
  private async load(): Promise<void> {
    const iter = await this.kv.watch({ include: 'updates' })
    this.stopWatching = () => iter.stop()
    void (async () => {
      for await (const e of iter) this.apply(e)
    })()
    const keys: string[] = []
    for await (const k of await this.kv.keys()) keys.push(k)
    for (const k of keys) {
      const e = await this.kv.get(k)
      if (e) this.apply(e)
    }
  }

  /** A bucket entry, watched or read: a queue created, changed or deleted. */
  private apply(e: KvEntry): void {
    if (e.revision <= (this.revisions.get(e.key) ?? 0)) return
    if (e.operation !== 'PUT') {
      this.forget(e.key, e.revision)
      return
    }
    try {
      this.remember(e.key, e.revision, e.json<StoredQueue>())
    } catch (error) {
      this.deps.log.warn({ err: error, key: e.key }, 'skipping an unreadable queue record')
    }
  }

  private remember(key: string, revision: number, stored: StoredQueue): NatsQueue {
    const arn = queueArn(stored.record, stored.record.name)
    const known = this.byArn.get(arn)
    if (revision <= (this.revisions.get(key) ?? 0) && known) return known
    this.revisions.set(key, revision)
    // The same queue changed: updated in place, so references held elsewhere see it.
    if (known && known.record.id === stored.record.id) {
      known.update(stored)
      return known
    }
    const q = new NatsQueue(stored)
    this.byArn.set(arn, q)
    return q
  }

  private forget(key: string, revision: number): void {
    if (revision < (this.revisions.get(key) ?? 0)) return
    this.revisions.set(key, revision)
    this.byArn.delete(Buffer.from(key, 'base64url').toString('utf8'))
  }
}

/** CreateQueue of an existing name: the queue when every given attribute has its value. */
function sameOrConflict(existing: NatsQueue, given: Record<string, string>): NatsQueue {
  for (const [k, v] of Object.entries(given))
    if (existing.record.attributes[k] !== v)
      throw new QueueError(
        'QueueAlreadyExists',
        `A queue already exists with the same name and a different value for attribute ${k}`,
      )
  return existing
}

function tooLong(max: number, options: { batch?: boolean }): QueueError {
  return invalidParameter(
    `One or more parameters ${options.batch ? 'cannot be validated' : 'are invalid'}. Reason: Message must be shorter than ${String(max)} bytes.`,
  )
}

/** The nak that hides a message for `seconds` (0: visible again at once). */
function hide(seconds: number): string {
  return seconds > 0 ? `-NAK ${JSON.stringify({ delay: nanos(seconds * 1000) })}` : '-NAK'
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
