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
import type { DedupRecord, QueueRecord } from '../../queue/model.js'
import type { ConfigEntry, ConfigKind, DeadLetter, PendingDelivery, Store } from '../ports.js'
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

/** The writer runs as TypeScript under tsx (tests) and as JavaScript once built. */
const WRITER = new URL(
  import.meta.url.endsWith('.ts') ? './writer.ts' : './writer.js',
  import.meta.url,
)

export function createSqliteStore(options: SqliteStoreOptions): Store {
  mkdirSync(options.dataDir, { recursive: true })
  const file = join(options.dataDir, 'junction.db')
  const synchronous = options.synchronous ?? 'full'
  const db = openDatabase(Database, file, synchronous)
  migrate(db)

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
    letters: db.prepare<[string], LetterRow>(
      `SELECT l.*, e.id AS event_id, e.bus_arn, e.ingested_at, e.hops, e.body FROM dead_letters l
         JOIN events e ON e.seq = l.event_seq
        WHERE l.dlq_arn = ? ORDER BY l.job_id`,
    ),
    queues: db.prepare<[], { doc: string }>('SELECT doc FROM queues'),
    messages: db.prepare<[], MessageRow>('SELECT * FROM queue_messages ORDER BY seq'),
    maxSeq: db.prepare<[], { value: number }>(
      "SELECT value FROM counters WHERE name = 'message_seq'",
    ),
    dedup: db.prepare<[], DedupRecord & { queue_id: string; message_id: string }>(
      'SELECT * FROM queue_dedup',
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
  })

  // Writes made in one turn of the event loop cross to the writer in one message.
  const send = () => {
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
    events: {
      append: (events, jobs) => write({ t: 'append', events, jobs }),
      due(after, limit) {
        if (after === undefined) return Promise.resolve(st.dueFirst.all(limit).map(pendingOf))
        const rows = st.dueSameTime.all(after.dueAt, after.id, limit)
        if (rows.length < limit) rows.push(...st.dueLater.all(after.dueAt, limit - rows.length))
        return Promise.resolve(rows.map(pendingOf))
      },
      pendingCount: () => Promise.resolve(st.pendingCount.get()?.n ?? 0),
      maxJobId: () => Promise.resolve(st.counterGet.get()?.value ?? 0),
      finish: (ids) => write({ t: 'finish', ids }),
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
          messages: st.messages.all().map(messageOfRow),
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
    },
    async close() {
      if (closed) return
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
