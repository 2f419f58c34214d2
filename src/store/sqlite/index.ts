/**
 * @module
 * The embedded store: one SQLite file in WAL mode through better-sqlite3.
 *
 * Writes go to a writer thread (`writer.ts`) that owns the write connection. It commits every
 * write that arrived while the previous commit ran in one transaction (group commit), so
 * concurrent PutEvents requests share one commit and one fsync, and the HTTP thread never waits
 * on the disk. A write's promise resolves only after its transaction has committed. Reads (at
 * start, pages of due jobs, and dead letters) use a connection on the calling thread; WAL lets both work at once.
 */
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { StoredEvent } from '../../model.js'
import type { DedupRecord, MessageTimes, QueueCensus, QueueRecord } from '../../queue/model.js'
import type {
  ArchivedEvent,
  ConfigEntry,
  ConfigKind,
  DeadLetter,
  PendingDelivery,
  LocalStore,
} from '../ports.js'
import { packAppend, packArchived } from './append-rows.js'
import { lockDataDir } from './dir-lock.js'
import { MIGRATIONS } from './migrations.js'
import {
  messageOfRow,
  openDatabase,
  type MessageRow,
  type WriteAnswer,
  type WriteOp,
  type WriteRequest,
} from './writes.js'

export type SqliteStoreOptions = {
  /** Directory holding `junction.db` (created if missing). */
  dataDir: string
  /**
   * `full` (default) fsyncs every commit, so an acknowledged event survives a power cut;
   * `normal` survives a process crash (kill -9) but may lose the last commits on power loss.
   */
  synchronous?: 'full' | 'normal'
  /** Called once if the writer thread dies: nothing more can be stored. */
  onFatal?: (error: Error) => void
}

type Waiter = { resolve: () => void; reject: (e: unknown) => void }

/** Longest a finished job waits for other writes to commit with (see `finish`). */
const FINISH_DELAY_MS = 20

/** The writer runs as TypeScript under tsx (tests) and as JavaScript once built. */
const WRITER = new URL(
  import.meta.url.endsWith('.ts') ? './writer.ts' : './writer.js',
  import.meta.url,
)

export function createSqliteStore(options: SqliteStoreOptions): LocalStore {
  mkdirSync(options.dataDir, { recursive: true })
  const lock = lockDataDir(options.dataDir)
  const file = join(options.dataDir, 'junction.db')
  const synchronous = options.synchronous ?? 'full'
  let db: Database.Database
  try {
    db = openDatabase(Database, file, synchronous)
    migrate(db)
  } catch (e) {
    lock.release()
    throw e
  }

  const st = {
    configAll: db.prepare<[], { kind: string; key: string; doc: string }>(
      'SELECT kind, key, doc FROM config',
    ),
    counterGet: db.prepare<[], { value: number }>(
      "SELECT value FROM counters WHERE name = 'delivery_id'",
    ),
    // A page after a key is two range scans of the deliveries_by_due index: the rest of the
    // key's due time, then later due times. (A row-value comparison, (due_at, id) > (?, ?),
    // seeks to the due time only and then walks every id before the key: with many jobs due
    // at one millisecond, each page cost more than the last.)
    dueFirst: db.prepare<[number], PendingRow>(
      `SELECT ${PENDING_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq
        ORDER BY d.due_at, d.id LIMIT ?`,
    ),
    dueSameTime: db.prepare<[number, number, number], PendingRow>(
      `SELECT ${PENDING_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq
        WHERE d.due_at = ? AND d.id > ? ORDER BY d.id LIMIT ?`,
    ),
    dueLater: db.prepare<[number, number], PendingRow>(
      `SELECT ${PENDING_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq
        WHERE d.due_at > ? ORDER BY d.due_at, d.id LIMIT ?`,
    ),
    pendingCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM deliveries'),
    ticks: db.prepare<[], { rule_arn: string; tick: number }>(
      'SELECT rule_arn, tick FROM schedule_ticks',
    ),
    letters: db.prepare<[string], LetterRow>(
      `SELECT l.*, e.id AS event_id, e.bus_arn, e.ingested_at, e.hops, e.body FROM dead_letters l
         JOIN events e ON e.seq = l.event_seq
        WHERE l.dlq_arn = ? ORDER BY l.job_id`,
    ),
    queues: db.prepare<[], { doc: string }>('SELECT doc FROM queues'),
    visibleCount: db.prepare<[string, number], { n: number }>(
      'SELECT COUNT(*) AS n FROM queue_messages WHERE queue_id = ? AND visible_at <= ?',
    ),
    // Hidden messages by the second they become visible (its end), split by in flight or delayed.
    hiddenCounts: db.prepare<
      [string, number],
      { due: number; inflight: number; delayed: number; max_inflight: number | null }
    >(
      `SELECT ((visible_at + 999) / 1000) * 1000 AS due, SUM(receive_count > 0) AS inflight,
              SUM(receive_count = 0) AS delayed,
              MAX(CASE WHEN receive_count > 0 THEN seq END) AS max_inflight
         FROM queue_messages WHERE queue_id = ? AND visible_at > ? GROUP BY 1 ORDER BY 1`,
    ),
    pageByVisibility: db.prepare<[string, number, number, number], MessageRow>(
      `SELECT * FROM queue_messages WHERE queue_id = ? AND (visible_at, seq) > (?, ?)
        ORDER BY visible_at, seq LIMIT ?`,
    ),
    pageBySeq: db.prepare<[string, number, number], MessageRow>(
      'SELECT * FROM queue_messages WHERE queue_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    ),
    messageBySeq: db.prepare<[number, string, string], MessageRow>(
      'SELECT * FROM queue_messages WHERE seq = ? AND queue_id = ? AND id = ?',
    ),
    // Only for receipt handles from before they carried the seq: a scan of the queue.
    messageById: db.prepare<[string, string], MessageRow>(
      'SELECT * FROM queue_messages WHERE queue_id = ? AND id = ?',
    ),
    oldest: db.prepare<
      [string, number],
      { seq: number; id: string; sent_at: number; visible_at: number; receive_count: number }
    >(
      `SELECT seq, id, sent_at, visible_at, receive_count FROM queue_messages
        WHERE queue_id = ? AND seq > ? ORDER BY seq`,
    ),
    maxSeq: db.prepare<[], { value: number }>(
      "SELECT value FROM counters WHERE name = 'message_seq'",
    ),
    dedup: db.prepare<[], DedupRecord & { queue_id: string; message_id: string }>(
      'SELECT * FROM queue_dedup',
    ),
    archiveStats: db.prepare<[number], { n: number; size: number | null }>(
      'SELECT count(*) AS n, sum(size) AS size FROM archive_events WHERE archive = ?',
    ),
    // As dueSameTime/dueLater: the rest of the cursor's time, then later times.
    archiveFirst: db.prepare<[number, number, number, number], ArchivedRow>(
      `SELECT ${ARCHIVED_COLUMNS} WHERE a.archive = ? AND a.time >= ? AND a.time <= ?
        ORDER BY a.time, a.event_seq LIMIT ?`,
    ),
    archiveSameTime: db.prepare<[number, number, number, number], ArchivedRow>(
      `SELECT ${ARCHIVED_COLUMNS} WHERE a.archive = ? AND a.time = ? AND a.event_seq > ?
        ORDER BY a.event_seq LIMIT ?`,
    ),
    archiveLater: db.prepare<[number, number, number, number], ArchivedRow>(
      `SELECT ${ARCHIVED_COLUMNS} WHERE a.archive = ? AND a.time > ? AND a.time <= ?
        ORDER BY a.time, a.event_seq LIMIT ?`,
    ),
  }

  const writer = WRITER.pathname.endsWith('.ts')
    ? // Under tsx (tests, `node --import tsx`) the worker registers the TypeScript loader first.
      new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
          `.then((tsx) => { tsx.register(); return import(${JSON.stringify(WRITER.href)}) })`,
        { eval: true, workerData: { file, synchronous } },
      )
    : new Worker(WRITER, { workerData: { file, synchronous } })
  const waiting = new Map<number, Waiter>()
  let nextId = 0
  let outbox: { id: number; op: WriteOp }[] = []
  let closed = false
  let writerError: Error | undefined
  let onClosed: (() => void) | undefined

  writer.on('message', (a: WriteAnswer) => {
    if (a.kind === 'closed') {
      onClosed?.()
      return
    }
    const error = a.kind === 'failed' ? new Error(`store write failed: ${a.message}`) : undefined
    for (const id of a.ids) {
      const w = waiting.get(id)
      waiting.delete(id)
      if (error) w?.reject(error)
      else w?.resolve()
    }
    // A closing store waits for the writer's last answer, so it stays referenced then.
    if (waiting.size === 0 && !closed) writer.unref()
  })
  writer.unref()
  writer.on('error', (e) => {
    // The writer cannot continue: fail everything waiting and every later write.
    writerError = e
    for (const w of waiting.values()) w.reject(e)
    waiting.clear()
    options.onFatal?.(e)
    onClosed?.()
  })
  // A writer that ends without answering a close (it died) must not leave close() waiting.
  writer.on('exit', () => {
    onClosed?.()
  })

  // Writes made in one turn of the event loop cross to the writer in one message.
  // Finished jobs wait up to FINISH_DELAY_MS to ride along with the next write: a commit of
  // their own costs an fsync (and the writer's time) per few deliveries, and losing one in a
  // crash only repeats a delivery.
  let finishing: { ids: number[]; waiters: Waiter[]; timer: NodeJS.Timeout } | undefined
  const flushFinishes = () => {
    const f = finishing
    if (!f) return
    finishing = undefined
    clearTimeout(f.timer)
    write({ t: 'finish', ids: f.ids }).then(
      () => {
        for (const w of f.waiters) w.resolve()
      },
      (e: unknown) => {
        for (const w of f.waiters) w.reject(e)
      },
    )
  }
  const finish = (ids: number[]): Promise<void> =>
    new Promise((resolve, reject) => {
      if (closed || writerError) {
        reject(writerError ?? new Error('store is closed'))
        return
      }
      finishing ??= { ids: [], waiters: [], timer: setTimeout(flushFinishes, FINISH_DELAY_MS) }
      for (const id of ids) finishing.ids.push(id)
      finishing.waiters.push({ resolve, reject })
    })

  const send = () => {
    flushFinishes()
    const writes = outbox
    outbox = []
    if (writes.length > 0) writer.postMessage({ kind: 'writes', writes } satisfies WriteRequest)
  }
  const write = (op: WriteOp): Promise<void> =>
    new Promise((resolve, reject) => {
      if (closed || writerError) {
        reject(writerError ?? new Error('store is closed'))
        return
      }
      const id = ++nextId
      // The writer keeps the process alive only while writes are outstanding, so a store that
      // is never closed (a failed test, say) does not hold the process open.
      if (waiting.size === 0) writer.ref()
      waiting.set(id, { resolve, reject })
      if (outbox.length === 0) setImmediate(send)
      outbox.push({ id, op })
    })

  return {
    kind: 'sqlite',
    config: {
      load: () =>
        Promise.resolve(
          st.configAll.all().map((r): ConfigEntry => ({
            kind: r.kind as ConfigKind,
            key: r.key,
            doc: JSON.parse(r.doc),
          })),
        ),
      apply: (ops) => write({ t: 'config', ops }),
    },
    file,
    events: {
      append: (events, jobs, extras) => {
        let op: WriteOp
        try {
          op = { t: 'append', packed: packAppend(events, jobs) }
          if (extras?.archived && extras.archived.length > 0)
            op.archived = packArchived(extras.archived)
          if (extras?.config && extras.config.length > 0) op.config = extras.config
          if (extras?.ticks && extras.ticks.length > 0) op.ticks = extras.ticks
        } catch (e) {
          return Promise.reject(e instanceof Error ? e : new Error(String(e)))
        }
        return write(op)
      },
      scheduleTicks: () =>
        Promise.resolve(new Map(st.ticks.all().map((r) => [r.rule_arn, r.tick] as const))),
      due(after, limit) {
        if (after === undefined) return Promise.resolve(st.dueFirst.all(limit).map(pendingOf))
        const rows = st.dueSameTime.all(after.dueAt, after.id, limit)
        if (rows.length < limit) rows.push(...st.dueLater.all(after.dueAt, limit - rows.length))
        return Promise.resolve(rows.map(pendingOf))
      },
      pendingCount: () => Promise.resolve(st.pendingCount.get()?.n ?? 0),
      maxJobId: () => Promise.resolve(st.counterGet.get()?.value ?? 0),
      finish,
      reschedule: (job) => write({ t: 'reschedule', job }),
      deadLetter: (letter) => write({ t: 'deadLetter', letter }),
      deadLetters: (dlqArn: string) =>
        Promise.resolve(
          st.letters.all(dlqArn).map((r): DeadLetter => {
            const letter: DeadLetter = {
              job: {
                id: r.job_id,
                eventId: r.event_id,
                busArn: r.bus_arn,
                ruleArn: r.rule_arn,
                targetId: r.target_id,
                attempts: r.retry_attempts,
                dueAt: r.at,
              },
              event: eventOf(r),
              dlqArn: r.dlq_arn,
              ruleArn: r.rule_arn,
              targetArn: r.target_arn,
              errorCode: r.error_code,
              errorMessage: r.error_message,
              retryAttempts: r.retry_attempts,
              at: r.at,
            }
            if (r.exhausted_retry_condition !== null)
              letter.exhaustedRetryCondition = r.exhausted_retry_condition
            return letter
          }),
        ),
    },
    queues: {
      load: () =>
        Promise.resolve({
          queues: st.queues.all().map((r) => JSON.parse(r.doc) as QueueRecord),
          dedup: st.dedup.all().map((r): DedupRecord => ({
            queueId: r.queue_id,
            key: r.key,
            messageId: r.message_id,
            seq: r.seq,
            at: r.at,
          })),
          // Sequence numbers continue after the highest ever stored, even once it is deleted.
          maxSeq: st.maxSeq.get()?.value ?? 0,
        }),
      write: (writes) => write({ t: 'queue', writes }),
      census(queueId, at) {
        const census: QueueCensus = {
          visible: st.visibleCount.get(queueId, at)?.n ?? 0,
          hidden: [],
          maxInflightSeq: 0,
        }
        for (const r of st.hiddenCounts.iterate(queueId, at)) {
          census.hidden.push({ due: r.due, inflight: r.inflight, delayed: r.delayed })
          if (r.max_inflight !== null && r.max_inflight > census.maxInflightSeq)
            census.maxInflightSeq = r.max_inflight
        }
        return census
      },
      page: (queueId, order, after, limit) =>
        (order === 'seq'
          ? st.pageBySeq.all(queueId, after.seq, limit)
          : st.pageByVisibility.all(queueId, after.visibleAt, after.seq, limit)
        ).map(messageOfRow),
      message(queueId, id, seq) {
        const row =
          seq === undefined
            ? st.messageById.get(queueId, id)
            : st.messageBySeq.get(seq, queueId, id)
        return row && messageOfRow(row)
      },
      expired(queueId, sentBefore, afterSeq, limit) {
        const out: MessageTimes[] = []
        if (limit <= 0) return out
        for (const r of st.oldest.iterate(queueId, afterSeq)) {
          // Send order is (nearly) send time order: the first message still kept ends the scan.
          if (r.sent_at >= sentBefore) break
          out.push({
            seq: r.seq,
            id: r.id,
            sentAt: r.sent_at,
            visibleAt: r.visible_at,
            receiveCount: r.receive_count,
          })
          if (out.length >= limit) break
        }
        return out
      },
    },
    archives: {
      stats(archive) {
        const r = st.archiveStats.get(archive)
        return Promise.resolve({ eventCount: r?.n ?? 0, sizeBytes: r?.size ?? 0 })
      },
      page(archive, from, to, after, limit) {
        if (after === undefined)
          return Promise.resolve(st.archiveFirst.all(archive, from, to, limit).map(archivedOf))
        const rows =
          after.time >= from && after.time <= to
            ? st.archiveSameTime.all(archive, after.time, after.seq, limit)
            : []
        if (rows.length < limit)
          rows.push(
            ...st.archiveLater.all(
              archive,
              Math.max(after.time, from - 1),
              to,
              limit - rows.length,
            ),
          )
        return Promise.resolve(rows.map(archivedOf))
      },
      purge: (archive, before) => write({ t: 'archivePurge', archive, before }),
      drop: (archive) => write({ t: 'archiveDrop', archive }),
    },
    async close() {
      if (closed) return
      flushFinishes()
      closed = true
      send()
      if (!writerError) {
        writer.ref()
        await new Promise<void>((resolve) => {
          onClosed = resolve
          writer.postMessage({ kind: 'close' } satisfies WriteRequest)
        })
      }
      await writer.terminate()
      db.close()
      lock.release()
    },
  }
}

type EventColumns = {
  event_id: string
  bus_arn: string
  body: string
  ingested_at: number
  hops: number
}

/** The event part of a row joined with `events`. */
function eventOf(r: EventColumns): StoredEvent {
  return {
    id: r.event_id,
    busArn: r.bus_arn,
    text: r.body,
    ingestedAt: r.ingested_at,
    hops: r.hops,
  }
}

const ARCHIVED_COLUMNS = `a.time, a.event_seq, a.archived_at, e.id AS event_id, e.bus_arn,
  e.ingested_at, e.hops, e.body FROM archive_events a JOIN events e ON e.seq = a.event_seq`

type ArchivedRow = EventColumns & { time: number; event_seq: number; archived_at: number }

function archivedOf(r: ArchivedRow): ArchivedEvent {
  return { time: r.time, seq: r.event_seq, archivedAt: r.archived_at, event: eventOf(r) }
}

const PENDING_COLUMNS = `d.id, e.id AS event_id, e.bus_arn, d.rule_arn, d.target_id, d.attempts,
  d.due_at, e.ingested_at, e.hops, e.body`

function pendingOf(r: PendingRow): PendingDelivery {
  return {
    job: {
      id: r.id,
      eventId: r.event_id,
      busArn: r.bus_arn,
      ruleArn: r.rule_arn,
      targetId: r.target_id,
      attempts: r.attempts,
      dueAt: r.due_at,
    },
    event: eventOf(r),
  }
}

type PendingRow = {
  id: number
  event_id: string
  bus_arn: string
  rule_arn: string
  target_id: string
  attempts: number
  due_at: number
  ingested_at: number
  hops: number
  body: string
}

type LetterRow = {
  job_id: number
  dlq_arn: string
  event_id: string
  bus_arn: string
  rule_arn: string
  target_arn: string
  target_id: string
  error_code: string
  error_message: string
  exhausted_retry_condition: string | null
  retry_attempts: number
  at: number
  ingested_at: number
  hops: number
  body: string
}

/** Applies the migrations this file has not seen yet, each in its own transaction. */
function migrate(db: Database.Database): void {
  const applied = db.pragma('user_version', { simple: true }) as number
  if (applied > MIGRATIONS.length)
    throw new Error(
      `the store was written by a newer Junction (schema ${String(applied)}, this one knows ${String(MIGRATIONS.length)})`,
    )
  for (let i = applied; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i]!)
      db.pragma(`user_version = ${String(i + 1)}`)
    })()
  }
}
