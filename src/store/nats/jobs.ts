/**
 * @module
 * Delivery jobs on NATS JetStream, shared by every node: the `EventStore` of distributed mode,
 * for the jobs and what they need (dead letters, schedule ticks).
 *
 * - The jobs of an append are one message in the `JUNCTION_JOBS` work-queue stream, with their
 *   events (a bundle, see `codec.ts`; split when it would pass half the server's payload
 *   limit), published with a message id made of its jobs' events, rules, targets and attempts,
 *   so an append retried after a lost answer stores nothing twice; it resolves once every
 *   message is acknowledged by the server, which is the durability PutEvents promises.
 * - Every node pulls from one durable consumer (`junction-delivery`), through the window from
 *   {@link NatsJobStore.window}. A node holding a job keeps it leased; a node that dies stops
 *   doing so, and the server hands its jobs to the others after AckWait.
 * - `finish` acks (a bundle once its last job is done); `reschedule` publishes the job again, alone
 *   (one more attempt, its new due time), and then acks the old message; `deadLetter` publishes to `JUNCTION_DEAD_LETTERS`, one subject per
 *   queue ARN, and then acks. Between the two steps a crash leaves both copies: the job is
 *   delivered (or dead-lettered) once more, which at-least-once allows.
 * - Ticks of scheduled rules: the latest one per rule in the `junction-ticks` bucket, written
 *   after the jobs. Two nodes running the same schedule would both fire it: exactly-once ticks
 *   across nodes come with the scheduler's leader lease (one ticker at a time), not here.
 *
 * - Archived events (`extras.archived`): published to their archive's stream (see
 *   `archives.ts`) alongside the jobs, each with a message id of archive and event, so a retried
 *   append archives nothing twice; `append` resolves once they are stored too.
 *
 * @remarks Deliberately not here: reading jobs in due order (`due`: the consumer replaces
 * paging), reading archives (`NatsArchiveStore`), and an
 * event log (an event no rule matched is not stored). A job waiting for its due time counts
 * against the consumer's MaxAckPending (a nak with delay keeps it pending): the retries waiting
 * at once, over all nodes, must stay below it or new jobs wait behind them.
 */
import {
  jetstream,
  jetstreamManager,
  type Consumer,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream'
import { Kvm, type KV } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/transport-node'
import type { JobWindowDeps } from '../../delivery/job-window.js'
import type { DeliveryJob, StoredEvent } from '../../model.js'
import { openNatsArchiveStore, type NatsArchiveStore } from './archives.js'
import type {
  AppendExtras,
  ConfigStore,
  DeadLetter,
  EventStore,
  PendingDelivery,
} from '../ports.js'
import {
  bundleMessageId,
  decodeDeadLetter,
  encodeBundle,
  encodeDeadLetter,
  jobMessageId,
  token,
} from './codec.js'
import { NatsJobWindow } from './job-window.js'
import { publishDurably } from './publish.js'
import { HeldJobs } from './held-jobs.js'
import {
  DEAD_LETTERS_STREAM,
  DEAD_LETTERS_SUBJECT_PREFIX,
  ensureJobStreams,
  JOBS_CONSUMER,
  JOBS_STREAM,
  JOBS_SUBJECT_PREFIX,
  TICKS_BUCKET,
} from './streams.js'

export type NatsJobOptions = {
  /**
   * Copies of each stream in a JetStream cluster.
   * @default 1
   */
  replicas?: number
  /**
   * How long a node may hold a job without a sign of life before the server hands it to
   * another node (held jobs are kept alive every third of it).
   * @default 30000
   */
  ackWaitMs?: number
  /**
   * Most jobs handed out and not yet acked, over all nodes: at least nodes × window, plus the
   * retries waiting for their due time.
   * @default 20000
   */
  maxAckPending?: number
  /**
   * Where control-plane documents written with an append go (a replay's progress); without it
   * an append that carries some is refused.
   */
  config?: Pick<ConfigStore, 'apply'>
  /**
   * Where archived events of an append go.
   * @default an archive store on the same connection, with the same replicas
   */
  archives?: Pick<NatsArchiveStore, 'write'>
  log?: { warn(obj: object, msg: string): void }
}

const DEFAULTS = { replicas: 1, ackWaitMs: 30_000, maxAckPending: 20_000 }

/** What {@link NatsJobStore.window} needs besides the dispatcher's own deps. */
export type NatsWindowOptions = { holdMs?: number; batch?: number }

/**
 * Opens (creating if need be) the jobs stream, its consumer, the dead letters and the ticks
 * bucket on `nc`. The connection stays the caller's: close the store, then the connection.
 *
 * @example
 * const nc = await connect({ servers: 'nats://127.0.0.1:4222' })
 * const jobs = await openNatsJobStore(nc, { ackWaitMs: 30_000 })
 * const dispatcher = new Dispatcher({ ...deps, store: jobs, window: (d) => jobs.window(d) })
 */
export async function openNatsJobStore(
  nc: NatsConnection,
  options: NatsJobOptions = {},
): Promise<NatsJobStore> {
  const settings = {
    replicas: options.replicas ?? DEFAULTS.replicas,
    ackWaitMs: options.ackWaitMs ?? DEFAULTS.ackWaitMs,
    maxAckPending: options.maxAckPending ?? DEFAULTS.maxAckPending,
  }
  const jsm = await jetstreamManager(nc)
  await ensureJobStreams(jsm, settings)
  const js = jetstream(nc)
  const consumer = await js.consumers.get(JOBS_STREAM, JOBS_CONSUMER)
  const ticks = await new Kvm(nc).create(TICKS_BUCKET, {
    replicas: settings.replicas,
    history: 1,
  })
  const log = options.log ?? { warn: () => undefined }
  const archives =
    options.archives ?? (await openNatsArchiveStore(nc, { replicas: settings.replicas }))
  return new NatsJobStore({
    nc,
    js,
    jsm,
    consumer,
    ticks,
    leases: new HeldJobs(settings.ackWaitMs, log),
    archives,
    ...(options.config ? { config: options.config } : {}),
  })
}

type Parts = {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  consumer: Consumer
  ticks: KV
  leases: HeldJobs
  archives: Pick<NatsArchiveStore, 'write'>
  config?: Pick<ConfigStore, 'apply'>
}

export class NatsJobStore implements EventStore {
  constructor(private readonly parts: Parts) {}

  /** The dispatcher's window over the shared consumer (pass it as `DispatcherDeps.window`). */
  window(deps: JobWindowDeps, options: NatsWindowOptions = {}): NatsJobWindow {
    const { nc, consumer, leases } = this.parts
    return new NatsJobWindow({
      ...deps,
      ...options,
      consumer,
      leases,
      connected: () => !nc.isClosed(),
    })
  }

  async append(
    events: StoredEvent[],
    jobs: DeliveryJob[],
    extras: AppendExtras = {},
  ): Promise<void> {
    const { config } = this.parts
    if (extras.config?.length && !config)
      throw new Error('This NATS job store was opened without a config store for appends')
    await Promise.all([
      ...this.bundles(events, jobs).map((b) => this.publish(b.jobs, b.events)),
      this.parts.archives.write(events, extras.archived ?? []),
    ])
    if (extras.ticks?.length)
      await Promise.all(
        extras.ticks.map((t) => this.parts.ticks.put(token(t.ruleArn), String(t.tick))),
      )
    if (extras.config?.length) await config!.apply(extras.config)
  }

  async scheduleTicks(): Promise<Map<string, number>> {
    const { ticks } = this.parts
    const out = new Map<string, number>()
    for await (const key of await ticks.keys()) {
      const entry = await ticks.get(key)
      if (entry?.operation !== 'PUT') continue
      out.set(Buffer.from(key, 'base64url').toString('utf8'), Number(entry.string()))
    }
    return out
  }

  due(): Promise<PendingDelivery[]> {
    return Promise.reject(
      new Error(
        'The NATS job store has no paging by due time: use its window (NatsJobStore.window)',
      ),
    )
  }

  /** Jobs waiting in the stream plus those handed out and not acked (held or waiting to be due). */
  async pendingCount(): Promise<number> {
    const info = await this.parts.consumer.info()
    return info.num_pending + info.num_ack_pending
  }

  /** Job ids are local to a node's window (see `leases.ts`), not stored: nothing to continue from. */
  maxJobId(): Promise<number> {
    return Promise.resolve(0)
  }

  async finish(jobIds: number[]): Promise<void> {
    await Promise.all(jobIds.map((id) => this.ack(id)))
  }

  /**
   * Stores the job again with its new attempts and due time, then lets the old message go. A job
   * no longer held (its lease was lost with the connection) is left alone: the server hands the
   * old message out again, and retrying this write could never succeed.
   */
  async reschedule(job: DeliveryJob): Promise<void> {
    // The held message carries the event: no lookup.
    const event = this.parts.leases.event(job.id)
    if (!event) return
    await this.publish([job], [event])
    await this.ack(job.id)
  }

  async deadLetter(letter: DeadLetter): Promise<void> {
    await publishDurably(
      this.parts.js,
      deadLetterSubject(letter.dlqArn),
      encodeDeadLetter(letter),
      { msgID: `${jobMessageId(letter.job)} dead` },
    )
    await this.ack(letter.job.id)
  }

  /** Reads the queue's dead letters through a short-lived ordered consumer, oldest first. */
  async deadLetters(dlqArn: string): Promise<DeadLetter[]> {
    const subject = deadLetterSubject(dlqArn)
    const info = await this.parts.jsm.streams.info(DEAD_LETTERS_STREAM, {
      subjects_filter: subject,
    })
    const count = info.state.subjects?.[subject] ?? 0
    const out: DeadLetter[] = []
    if (count === 0) return out
    const reader = await this.parts.js.consumers.get(DEAD_LETTERS_STREAM, {
      filter_subjects: subject,
    })
    while (out.length < count) {
      const before = out.length
      const batch = await reader.fetch({ max_messages: count - out.length, expires: 1000 })
      for await (const m of batch) out.push(decodeDeadLetter(m.data))
      if (out.length === before) break // purged meanwhile
    }
    return out
  }

  /** Stops keeping held jobs leased; they come back to some node after AckWait. */
  close(): void {
    this.parts.leases.clear()
  }

  /**
   * The append's jobs in messages of at most {@link bundleBytes} (about: event texts counted),
   * each with the events its jobs deliver.
   */
  private bundles(
    events: StoredEvent[],
    jobs: DeliveryJob[],
  ): { jobs: DeliveryJob[]; events: StoredEvent[] }[] {
    const byId = new Map(events.map((e) => [e.id, e]))
    const out: { jobs: DeliveryJob[]; events: StoredEvent[] }[] = []
    let current:
      { jobs: DeliveryJob[]; events: StoredEvent[]; ids: Set<string>; bytes: number } | undefined
    for (const job of jobs) {
      const event = byId.get(job.eventId)
      if (!event) throw new Error(`job for event ${job.eventId}, which is not in the append`)
      const adds = current?.ids.has(event.id) ? 0 : event.text.length * 1.2 + 200
      if (!current || (current.bytes + adds + 300 > this.bundleBytes && current.jobs.length > 0)) {
        current = { jobs: [], events: [], ids: new Set(), bytes: 0 }
        out.push(current)
      }
      if (!current.ids.has(event.id)) {
        current.ids.add(event.id)
        current.events.push(event)
        current.bytes += event.text.length * 1.2 + 200
      }
      current.jobs.push(job)
      current.bytes += 300
    }
    return out
  }

  /** Half the server's payload limit: room for escaping and headers. */
  private get bundleBytes(): number {
    return Math.floor((this.parts.nc.info?.max_payload ?? 1024 * 1024) / 2)
  }

  private async publish(jobs: DeliveryJob[], events: StoredEvent[]): Promise<void> {
    await publishDurably(
      this.parts.js,
      `${JOBS_SUBJECT_PREFIX}.${token(jobs[0]!.busArn)}`,
      encodeBundle(jobs, events),
      { msgID: bundleMessageId(jobs) },
    )
  }

  /** Ends a held job; acks its message, confirmed by the server, once no job in it is open. */
  private async ack(id: number): Promise<void> {
    const msg = this.parts.leases.end(id)
    if (msg) await msg.ackAck()
  }
}

function deadLetterSubject(dlqArn: string): string {
  return `${DEAD_LETTERS_SUBJECT_PREFIX}.${token(dlqArn)}`
}
