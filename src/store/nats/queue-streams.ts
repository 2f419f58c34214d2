/**
 * @module
 * Where SQS queues live in JetStream: one work-queue stream, `JUNCTION_QUEUES`, with a subject
 * per queue for its receivable messages (`junction.queue.<queueId>`) and one for messages sent
 * with a delay (`junction.queue-delay.<queueId>`). Each queue has a durable pull consumer on its
 * subject that every node receives from; the delayed messages have one consumer for all queues
 * (see `queue-delays.ts`). A message acked by its consumer is gone (work-queue retention).
 *
 * Receives are raw pull requests rather than the client's `fetch`: SQS answers a long poll as
 * soon as one message is there, which a pull with `no_wait` and `expires` does (the server
 * answers with what it has, or waits up to `expires` for the first), and a receive that does not
 * wait must not wait the client's one-second minimum either.
 */
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
} from '@nats-io/jetstream'
import { createInbox, nanos, type Msg, type NatsConnection } from '@nats-io/transport-node'
import { DUPLICATE_WINDOW_MS } from './streams.js'

export const QUEUES_STREAM = 'JUNCTION_QUEUES'
export const QUEUES_BUCKET = 'junction-queues'
/** The consumer every node moves delayed messages with, once they are due. */
export const DELAYS_CONSUMER = 'junction-queue-delays'
const READY_PREFIX = 'junction.queue'
const DELAYED_PREFIX = 'junction.queue-delay'
/** SQS's longest retention: JetStream drops anything older (receives drop it earlier). */
const MAX_AGE_MS = 1_209_600_000
/** A receiving node that dies before hiding a message it took gives it back after this. */
const ACK_WAIT_MS = 30_000
/** SQS's limit on messages in flight on a standard queue. */
const MAX_IN_FLIGHT = 120_000
/** Long polls waiting on one queue at once, over all nodes. */
const MAX_WAITING = 1024

export const readySubject = (queueId: string) => `${READY_PREFIX}.${queueId}`
export const delayedSubject = (queueId: string) => `${DELAYED_PREFIX}.${queueId}`
export const queueConsumer = (queueId: string) => `queue-${queueId}`

/** The queue a message's subject names (either subject kind). */
export const queueIdOf = (subject: string) => subject.slice(subject.lastIndexOf('.') + 1)

function isNotFound(e: unknown): boolean {
  return (
    e instanceof JetStreamApiError &&
    (e.code === JetStreamApiCodes.StreamNotFound || e.code === JetStreamApiCodes.ConsumerNotFound)
  )
}

/** The stream and the delays consumer, created where missing. */
export async function ensureQueueStreams(jsm: JetStreamManager, replicas: number): Promise<void> {
  const config = {
    name: QUEUES_STREAM,
    subjects: [`${READY_PREFIX}.*`, `${DELAYED_PREFIX}.*`],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: replicas,
    max_age: nanos(MAX_AGE_MS),
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  }
  try {
    await jsm.streams.info(QUEUES_STREAM)
    await jsm.streams.update(QUEUES_STREAM, config)
  } catch (e) {
    if (!isNotFound(e)) throw e
    await jsm.streams.add(config)
  }
  await ensureConsumer(jsm, {
    durable_name: DELAYS_CONSUMER,
    filter_subject: `${DELAYED_PREFIX}.*`,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ACK_WAIT_MS),
    max_deliver: -1,
    // Every delayed message waits as a nak with delay, which keeps it pending.
    max_ack_pending: 1_000_000,
  })
}

/** A queue's consumer, created where missing (two nodes creating it at once both succeed). */
export async function ensureQueueConsumer(jsm: JetStreamManager, queueId: string): Promise<void> {
  await ensureConsumer(jsm, {
    durable_name: queueConsumer(queueId),
    filter_subject: readySubject(queueId),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ACK_WAIT_MS),
    // A visibility timeout is a nak with delay, which counts as a delivery: never cap them.
    max_deliver: -1,
    max_ack_pending: MAX_IN_FLIGHT,
    max_waiting: MAX_WAITING,
  })
}

async function ensureConsumer(
  jsm: JetStreamManager,
  config: Partial<ConsumerConfig> & { durable_name: string },
): Promise<void> {
  try {
    await jsm.consumers.info(QUEUES_STREAM, config.durable_name)
  } catch (e) {
    if (!isNotFound(e)) throw e
    await jsm.consumers.add(QUEUES_STREAM, config)
  }
}

/** Drops a queue's consumer and every message of it; already gone is fine. */
export async function dropQueueMessages(jsm: JetStreamManager, queueId: string): Promise<void> {
  await purgeQueueMessages(jsm, queueId)
  try {
    await jsm.consumers.delete(QUEUES_STREAM, queueConsumer(queueId))
  } catch (e) {
    if (!isNotFound(e)) throw e
  }
}

/** Deletes every message of a queue, received or not, delayed or not. */
export async function purgeQueueMessages(jsm: JetStreamManager, queueId: string): Promise<void> {
  await jsm.streams.purge(QUEUES_STREAM, { filter: readySubject(queueId) })
  await jsm.streams.purge(QUEUES_STREAM, { filter: delayedSubject(queueId) })
}

/** What a message's ack subject says: the delivery it came with. */
export type AckInfo = { consumer: string; deliveryCount: number; streamSeq: number }

/**
 * Reads an ack subject of the queues stream: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.
 * <dseq>.<ts>.<pending>`, with a domain and account hash after `ACK` on newer servers.
 * Undefined for anything else (a receipt handle is client input).
 */
export function parseAck(subject: string): AckInfo | undefined {
  const t = subject.split('.')
  if (t[0] !== '$JS' || t[1] !== 'ACK') return undefined
  const rest = t.length === 9 ? t.slice(2) : t.length >= 11 ? t.slice(4, 11) : undefined
  if (!rest || rest[0] !== QUEUES_STREAM) return undefined
  const numbers = rest.slice(2)
  if (numbers.length !== 5 || numbers.some((n) => !/^\d{1,20}$/.test(n))) return undefined
  return { consumer: rest[1]!, deliveryCount: Number(rest[2]), streamSeq: Number(rest[3]) }
}

export type PullOptions = {
  batch: number
  /** How long the server may wait for a first message; 0 answers at once. */
  expiresMs: number
  /** Ends the wait early; messages that arrive after it are given back at once. */
  signal?: AbortSignal
}

/**
 * One pull request on a queue's consumer: up to `batch` messages, resolved as soon as the server
 * ends the request (it does once it sent any, or at `expires`). Messages that arrive after the
 * caller stopped waiting are nak'd (visible again at once) rather than kept hidden.
 */
export function pull(nc: NatsConnection, consumer: string, options: PullOptions): Promise<Msg[]> {
  return new Promise((resolve) => {
    const got: Msg[] = []
    let done = false
    const inbox = createInbox()
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      resolve(got)
      // The server may still send what the request asked for: keep listening until it expires.
      if (ended) sub.unsubscribe()
      else setTimeout(() => sub.unsubscribe(), options.expiresMs + 2000).unref()
    }
    let ended = false
    const sub = nc.subscribe(inbox, {
      callback: (_err, m) => {
        const status = m.headers?.code ?? 0
        if (status !== 0 && m.data.length === 0) {
          ended = true
          finish()
          if (done) sub.unsubscribe()
          return
        }
        if (done) {
          try {
            if (m.reply) nc.publish(m.reply, '-NAK')
          } catch {
            // The connection is closing: the message comes back after AckWait.
          }
          return
        }
        got.push(m)
        if (got.length >= options.batch) {
          ended = true
          finish()
        }
      },
    })
    const request: Record<string, unknown> = { batch: options.batch, no_wait: true }
    if (options.expiresMs > 0) request.expires = nanos(options.expiresMs)
    // The server always ends the request; this only guards against an answer lost on the way.
    const timer = setTimeout(finish, options.expiresMs + 5000)
    const onAbort = () => finish()
    options.signal?.addEventListener('abort', onAbort)
    nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${QUEUES_STREAM}.${consumer}`, JSON.stringify(request), {
      reply: inbox,
    })
  })
}
