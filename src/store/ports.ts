/**
 * @module
 * The store ports. Every store (memory, sqlite; nats later) implements {@link Store}; only the
 * composition root chooses one.
 */
import type { ArchiveCursor, DeliveryJob, StoredEvent } from '../model.js'
import type {
  MessageTimes,
  PageKey,
  QueueCensus,
  QueueSnapshot,
  QueueWrite,
  StoredMessage,
} from '../queue/model.js'

/** The kinds of control-plane documents. */
export type ConfigKind =
  | 'bus'
  | 'rule'
  | 'targets'
  | 'tags'
  | 'connection'
  | 'api-destination'
  | 'archive'
  | 'replay'
  | 'function'
  | 'event-source-mapping'
  | 'schedule'
  | 'schedule-group'
  | 'stack'
  | 'sink'
  /** A change-capture source (src/cdc/sources.ts) and its committed position (src/cdc/runner.ts). */
  | 'cdc-source'
  | 'cdc-checkpoint'

export type ConfigEntry = { kind: ConfigKind; key: string; doc: unknown }

export type ConfigOp =
  | { op: 'put'; kind: ConfigKind; key: string; doc: unknown }
  | { op: 'delete'; kind: ConfigKind; key: string }

/**
 * Buses, rules, targets, tags, connections and API destinations, as JSON documents by key. The
 * engine keeps everything in memory and writes through; `load` is read once at start.
 */
export type ConfigStore = {
  load(): Promise<ConfigEntry[]>
  /** Applies the operations atomically. */
  apply(ops: ConfigOp[]): Promise<void>
  /**
   * Changes that other writers made after `load` (other nodes sharing the store), in the order
   * they took effect, each once; the caller's own `apply`s are not reported. Stores that only one
   * process writes (memory, SQLite) have no such changes and leave this out. Returns a stop.
   */
  watch?(listener: (op: ConfigOp) => void): () => void
}

/** A job with the event it delivers, as paged in from the store. */
export type PendingDelivery = { job: DeliveryJob; event: StoredEvent }

/**
 * Where a job stands in the order the dispatcher pages jobs in: by due time, then by id (ids
 * are unique, so no two pending jobs share a key).
 */
export type JobKey = { dueAt: number; id: number }

/** The order of {@link JobKey}s; `dueAt` may be ±Infinity (the ends of the order). */
export function compareJobKeys(a: JobKey, b: JobKey): number {
  if (a.dueAt !== b.dueAt) return a.dueAt < b.dueAt ? -1 : 1
  return a.id - b.id
}

/** Why an event went to a dead-letter queue, with the attributes AWS sets on the DLQ message. */
export type DeadLetter = {
  job: DeliveryJob
  event: StoredEvent
  dlqArn: string
  ruleArn: string
  targetArn: string
  errorCode: string
  errorMessage: string
  /** `MaximumRetryAttempts` or `MaximumEventAgeInSeconds`; absent for non-retryable failures. */
  exhaustedRetryCondition?: string
  retryAttempts: number
  at: number
}

/** A scheduled rule's tick, fired: stored with the event it produced (see `append`). */
export type ScheduleTick = { ruleArn: string; tick: number }

/**
 * The event log and the delivery queue. `append` is durable when its promise resolves: the
 * events, the jobs that deliver them and the schedule ticks that produced them are committed
 * together, so a crash never loses or doubles a routing decision or a scheduled event.
 */
export type EventStore = {
  append(events: StoredEvent[], jobs: DeliveryJob[], extras?: AppendExtras): Promise<void>
  /**
   * The latest tick fired of each scheduled rule (by rule ARN), as committed by `append`: a tick
   * is fired in the same transaction that records it, so a restart neither repeats nor loses one.
   */
  scheduleTicks(): Promise<Map<string, number>>
  /**
   * Up to `limit` jobs not yet finished whose key comes after `after` (from the first when
   * absent), in key order, with their events. The dispatcher pages its window in with this, so
   * it must stay cheap however many jobs are pending: a range scan, not a sort.
   */
  due(after: JobKey | undefined, limit: number): Promise<PendingDelivery[]>
  /** How many jobs are not finished (logged at start; never loaded). */
  pendingCount(): Promise<number>
  /** The highest job id ever stored (ids continue from it after a restart). */
  maxJobId(): Promise<number>
  /** Jobs finished (delivered, dropped or dead-lettered). May be batched: losing it only repeats a delivery. */
  finish(jobIds: number[]): Promise<void>
  /** A retry is due later. */
  reschedule(job: DeliveryJob): Promise<void>
  /** Records a dead letter and finishes its job in one step. */
  deadLetter(letter: DeadLetter): Promise<void>
  /** Dead letters recorded for a queue ARN, oldest first. */
  deadLetters(dlqArn: string): Promise<DeadLetter[]>
}

/**
 * Queues and their messages. The engine keeps queues, and a bounded window of each queue's
 * messages, in memory and writes through; `load` is read once at start and reads no message.
 * A `write` is atomic and durable when its promise resolves.
 *
 * The message reads answer synchronously and see only committed writes: the engine pages
 * messages in while it answers a receive, without letting another request in between (which
 * keeps its bookkeeping simple). NATS, which cannot answer synchronously, has a queue engine of
 * its own instead (`store/nats/queues.ts`, behind the same `QueueService`).
 *
 * @remarks Deliberately not here: reads by message attributes or body, and any read of a
 * message a write not yet committed touches; the engine tracks those itself.
 */
export type QueueStore = {
  load(): Promise<QueueSnapshot>
  write(writes: QueueWrite[]): Promise<void>
  /** The queue's messages counted by state at `at` (visible when `visibleAt <= at`). */
  census(queueId: string, at: number): QueueCensus
  /**
   * Up to `limit` of the queue's messages after `after`, in order: by (visibleAt, seq) with
   * `order` `visibility` (standard queues), by seq with `order` `seq` (FIFO queues).
   */
  page(queueId: string, order: 'visibility' | 'seq', after: PageKey, limit: number): StoredMessage[]
  /** One message by its id, and its seq when known (receipt handles carry it). */
  message(queueId: string, id: string, seq?: number): StoredMessage | undefined
  /**
   * The queue's oldest messages after `afterSeq`, by seq, while they were sent before
   * `sentBefore` (stopping at the first one sent later), at most `limit`: what retention drops.
   */
  expired(queueId: string, sentBefore: number, afterSeq: number, limit: number): MessageTimes[]
}

/**
 * An event an archive keeps: `archive` is the archive's store key, `event` the event's index in
 * the same append, `time` its `time` (ms).
 */
export type ArchiveEntry = { archive: number; event: number; time: number }

/** What commits with an append, in the same transaction. */
export type AppendExtras = {
  /** Events the archives keep (archiving costs no commit of its own). */
  archived?: ArchiveEntry[]
  /** Control-plane documents (a replay's progress, with the events it replayed). */
  config?: ConfigOp[]
  /** Scheduled rules' ticks fired by these events. */
  ticks?: ScheduleTick[]
}

/** An archived event, with its place in the archive's order (`time`, then `seq`). */
export type ArchivedEvent = { time: number; seq: number; archivedAt: number; event: StoredEvent }

/**
 * The events archives keep, by the archive's store key (`Archive.key`). Rows are written by {@link EventStore.append}; this reads them,
 * purges old ones and drops an archive's.
 *
 * @remarks The event text is the event log's own row (the log is append-only), so an archived
 * event costs a small index row, not a second copy of the event.
 */
export type ArchiveStore = {
  stats(archive: number): Promise<{ eventCount: number; sizeBytes: number }>
  /**
   * Up to `limit` events of the archive whose time is in [from, to], after `after` in the
   * archive's order (from the first when absent).
   */
  page(
    archive: number,
    from: number,
    to: number,
    after: ArchiveCursor | undefined,
    limit: number,
  ): Promise<ArchivedEvent[]>
  /** Forgets the events archived before `archivedBefore` (ms). */
  purge(archive: number, archivedBefore: number): Promise<void>
  /** Forgets all of an archive's events. */
  drop(archive: number): Promise<void>
}

/**
 * Named leases that the nodes sharing a store compete for: one holder at a time, until it stops
 * renewing (it died, or lost the store) and `ttlMs` has passed.
 */
export type LeaseStore = {
  readonly ttlMs: number
  /**
   * Takes the lease for `holder` when nobody has it, renews it when `holder` has it; whether
   * `holder` has it now. Throws when the store cannot be reached (the caller must then assume
   * it has lost the lease).
   */
  hold(name: string, holder: string): Promise<boolean>
  /** Gives the lease up when `holder` has it, for another node to take at once. */
  release(name: string, holder: string): Promise<void>
}

/**
 * Functions' deployment packages, for nodes that share a store: a zip put by the node that took
 * CreateFunction is there for every other node to unpack before it runs the function. Absent
 * where one process owns the store (its own disk has every package).
 */
export type CodeStore = {
  /** Stores the zip (durable when the promise resolves); its SHA-256, hex. */
  put(zip: Buffer): Promise<string>
  /** The zip with this SHA-256 (hex), or undefined when none was put. */
  get(sha256Hex: string): Promise<Buffer | undefined>
}

export type Store = {
  readonly kind: 'memory' | 'sqlite' | 'nats'
  readonly config: ConfigStore
  readonly events: EventStore
  /** Absent with NATS, whose queues are an engine of their own (`store/nats/queues.ts`). */
  readonly queues?: QueueStore
  readonly archives: ArchiveStore
  /** Absent where one process owns the store (memory, SQLite): it holds every lease. */
  readonly leases?: LeaseStore
  /** Absent where one process owns the store (memory, SQLite). */
  readonly code?: CodeStore
  /** The SQLite file, for read-only queries over archives (absent for the memory store). */
  readonly file?: string
  close(): Promise<void>
}

/** A store one process owns (memory, SQLite): its queues are messages the engine pages in. */
export type LocalStore = Store & { readonly kind: 'memory' | 'sqlite'; readonly queues: QueueStore }
