/**
 * @module
 * The store's writes as plain data (they cross to the writer thread) and how each is applied
 * inside a transaction.
 */
import type Database from 'better-sqlite3'
import type { DeliveryJob } from '../../model.js'
import type { QueueWrite, StoredMessage } from '../../queue/model.js'
import type { ConfigOp, DeadLetter, ScheduleTick } from '../ports.js'
import { unpackAppend, unpackArchived, type EventRow } from './append-rows.js'
import { envelopePositions } from './envelope-positions.js'

export type WriteOp =
  | { t: 'config'; ops: ConfigOp[] }
  /** Events and their jobs, packed by {@link packAppend} (one string crosses threads cheaply). */
  | {
      t: 'append'
      packed: string
      archived?: string
      config?: ConfigOp[]
      ticks?: ScheduleTick[]
    }
  | { t: 'archivePurge'; archive: number; before: number }
  | { t: 'archiveDrop'; archive: number }
  | { t: 'finish'; ids: number[] }
  | { t: 'reschedule'; job: DeliveryJob }
  | { t: 'deadLetter'; letter: DeadLetter }
  | { t: 'queue'; writes: QueueWrite[] }

/** Main thread → writer: a batch of writes, each with the id its answer will carry. */
export type WriteRequest =
  { kind: 'writes'; writes: { id: number; op: WriteOp }[] } | { kind: 'close' }

/** Writer → main thread: writes committed, or failed with their transaction. */
export type WriteAnswer =
  | { kind: 'committed'; ids: number[] }
  | { kind: 'failed'; ids: number[]; message: string }
  | { kind: 'closed' }

/** Rows per multi-row INSERT (well under SQLite's limit of bound parameters). */
const ROWS_PER_INSERT = 32

export function writeStatements(db: Database.Database) {
  const st = {
    configPut: db.prepare('INSERT OR REPLACE INTO config (kind, key, doc) VALUES (?, ?, ?)'),
    configDelete: db.prepare('DELETE FROM config WHERE kind = ? AND key = ?'),
    jobUpdate: db.prepare('UPDATE deliveries SET attempts = ?, due_at = ? WHERE id = ?'),
    jobDelete: db.prepare('DELETE FROM deliveries WHERE id = ?'),
    counterBump: db.prepare("UPDATE counters SET value = max(value, ?) WHERE name = 'delivery_id'"),
    letterInsert: db.prepare(
      `INSERT OR REPLACE INTO dead_letters (job_id, dlq_arn, event_seq, rule_arn, target_arn,
         target_id, error_code, error_message, exhausted_retry_condition, retry_attempts, at)
       SELECT ?, ?, d.event_seq, ?, ?, ?, ?, ?, ?, ?, ? FROM deliveries d WHERE d.id = ?`,
    ),
    queuePut: db.prepare('INSERT OR REPLACE INTO queues (id, doc) VALUES (?, ?)'),
    queueDelete: db.prepare('DELETE FROM queues WHERE id = ?'),
    queueMessagesDelete: db.prepare('DELETE FROM queue_messages WHERE queue_id = ?'),
    queueDedupDelete: db.prepare('DELETE FROM queue_dedup WHERE queue_id = ?'),
    messageInsert: db.prepare(
      `INSERT INTO queue_messages (seq, queue_id, id, body, meta, sent_at, visible_at,
         receive_count, first_received_at, receipt, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    messageUpdate: db.prepare(
      `UPDATE queue_messages SET queue_id = ?, visible_at = ?, receive_count = ?,
         first_received_at = ?, receipt = ?, received_at = ? WHERE seq = ?`,
    ),
    messageDelete: db.prepare('DELETE FROM queue_messages WHERE seq = ?'),
    messagePurge: db.prepare('DELETE FROM queue_messages WHERE queue_id = ? AND seq <= ?'),
    dedupPut: db.prepare(
      'INSERT OR REPLACE INTO queue_dedup (queue_id, key, message_id, seq, at) VALUES (?, ?, ?, ?, ?)',
    ),
    dedupPrune: db.prepare('DELETE FROM queue_dedup WHERE at < ?'),
    seqBump: db.prepare("UPDATE counters SET value = max(value, ?) WHERE name = 'message_seq'"),
    letterDelete: db.prepare('DELETE FROM dead_letters WHERE job_id = ?'),
    tickPut: db.prepare(
      'INSERT INTO schedule_ticks (rule_arn, tick) VALUES (?, ?) ON CONFLICT (rule_arn) DO UPDATE SET tick = max(tick, excluded.tick)',
    ),
    archivePurge: db.prepare('DELETE FROM archive_events WHERE archive = ? AND archived_at < ?'),
    archiveDrop: db.prepare('DELETE FROM archive_events WHERE archive = ?'),
  }

  // Multi-row inserts, one prepared statement per row count: binding one statement of n rows
  // costs far less than n statements of one row.
  const multiRow = (sql: string, columns: number) => {
    const row = `(${Array(columns).fill('?').join(', ')})`
    const cache = new Map<number, Database.Statement>()
    return (rows: number) => {
      let stmt = cache.get(rows)
      if (!stmt) {
        stmt = db.prepare(`${sql} VALUES ${Array(rows).fill(row).join(', ')}`)
        cache.set(rows, stmt)
      }
      return stmt
    }
  }
  const eventInsert = multiRow('INSERT INTO events (bus_arn, id, ingested_at, hops, body)', 5)
  const archiveInsert = multiRow(
    'INSERT INTO archive_events (archive, time, event_seq, archived_at, size, time_at, detail_at)',
    7,
  )
  const jobInsert = multiRow(
    'INSERT INTO deliveries (id, event_seq, rule_arn, target_id, attempts, due_at)',
    6,
  )

  /**
   * Inserts the events and returns their row numbers (jobs refer to them). The rows of one
   * statement get consecutive numbers: SQLite gives each new row the largest rowid plus one.
   */
  const insertEvents = (events: EventRow[]): number[] => {
    const seqs: number[] = []
    for (let at = 0; at < events.length; at += ROWS_PER_INSERT) {
      const chunk = events.slice(at, at + ROWS_PER_INSERT)
      const params: (string | number)[] = []
      for (const e of chunk) params.push(e.busArn, e.id, e.ingestedAt, e.hops, e.text)
      const last = Number(eventInsert(chunk.length).run(params).lastInsertRowid)
      for (let k = chunk.length - 1; k >= 0; k--) seqs.push(last - k)
    }
    return seqs
  }

  const applyQueue = (w: QueueWrite): void => {
    switch (w.t) {
      case 'putQueue':
        st.queuePut.run(w.queue.id, JSON.stringify(w.queue))
        return
      case 'dropQueue':
        st.queueDelete.run(w.queueId)
        st.queueMessagesDelete.run(w.queueId)
        st.queueDedupDelete.run(w.queueId)
        return
      case 'insert':
        for (const m of w.messages)
          st.messageInsert.run(
            m.seq,
            m.queueId,
            m.id,
            m.body,
            messageMeta(m),
            m.sentAt,
            m.visibleAt,
            m.receiveCount,
            m.firstReceivedAt ?? null,
            m.receipt ?? null,
            m.receivedAt ?? null,
          )
        if (w.messages.length > 0) st.seqBump.run(w.messages[w.messages.length - 1]!.seq)
        for (const d of w.dedup) st.dedupPut.run(d.queueId, d.key, d.messageId, d.seq, d.at)
        return
      case 'update':
        for (const u of w.messages)
          st.messageUpdate.run(
            u.queueId,
            u.visibleAt,
            u.receiveCount,
            u.firstReceivedAt ?? null,
            u.receipt ?? null,
            u.receivedAt ?? null,
            u.seq,
          )
        return
      case 'remove':
        for (const seq of w.seqs) st.messageDelete.run(seq)
        return
      case 'purge':
        st.messagePurge.run(w.queueId, w.upToSeq)
        return
      case 'pruneDedup':
        st.dedupPrune.run(w.before)
        return
      case 'finishJob':
        st.jobDelete.run(w.jobId)
        return
      case 'dropDeadLetters':
        for (const id of w.jobIds) st.letterDelete.run(id)
        return
    }
  }

  const applyConfig = (ops: ConfigOp[]): void => {
    for (const c of ops) {
      if (c.op === 'put') st.configPut.run(c.kind, c.key, JSON.stringify(c.doc))
      else st.configDelete.run(c.kind, c.key)
    }
  }

  const insertArchived = (packed: string, events: EventRow[], seqs: number[]): void => {
    const rows = unpackArchived(packed)
    for (let at = 0; at < rows.length; at += ROWS_PER_INSERT) {
      const chunk = rows.slice(at, at + ROWS_PER_INSERT)
      const params: (string | number | null)[] = []
      for (const a of chunk) {
        const e = events[a.event]!
        const size = Buffer.byteLength(e.text)
        const [timeAt, detailAt] = envelopePositions(e.text, size)
        params.push(a.archive, a.time, seqs[a.event]!, e.ingestedAt, size, timeAt, detailAt)
      }
      archiveInsert(chunk.length).run(params)
    }
  }

  return function apply(op: WriteOp): void {
    switch (op.t) {
      case 'config':
        applyConfig(op.ops)
        return
      case 'archivePurge':
        st.archivePurge.run(op.archive, op.before)
        return
      case 'archiveDrop':
        st.archiveDrop.run(op.archive)
        return
      case 'append': {
        const { events, jobs } = unpackAppend(op.packed)
        const seqs = insertEvents(events)
        let max = 0
        for (let at = 0; at < jobs.length; at += ROWS_PER_INSERT) {
          const chunk = jobs.slice(at, at + ROWS_PER_INSERT)
          const params: (string | number)[] = []
          for (const j of chunk) {
            params.push(j.id, seqs[j.event]!, j.ruleArn, j.targetId, j.attempts, j.dueAt)
            if (j.id > max) max = j.id
          }
          jobInsert(chunk.length).run(params)
        }
        if (max > 0) st.counterBump.run(max)
        if (op.archived) insertArchived(op.archived, events, seqs)
        if (op.config) applyConfig(op.config)
        for (const t of op.ticks ?? []) st.tickPut.run(t.ruleArn, t.tick)
        return
      }
      case 'finish':
        for (const id of op.ids) st.jobDelete.run(id)
        return
      case 'reschedule':
        st.jobUpdate.run(op.job.attempts, op.job.dueAt, op.job.id)
        return
      case 'deadLetter': {
        const l = op.letter
        st.letterInsert.run(
          l.job.id,
          l.dlqArn,
          l.ruleArn,
          l.targetArn,
          l.job.targetId,
          l.errorCode,
          l.errorMessage,
          l.exhaustedRetryCondition ?? null,
          l.retryAttempts,
          l.at,
          l.job.id,
        )
        st.jobDelete.run(l.job.id)
        return
      }
      case 'queue':
        for (const w of op.writes) applyQueue(w)
        return
    }
  }
}

/** The message fields kept as one JSON column (read back by {@link messageOfRow}). */
export type MessageMeta = Pick<
  StoredMessage,
  'attributes' | 'traceHeader' | 'senderId' | 'groupId' | 'dedupId' | 'sourceArn'
>

function messageMeta(m: StoredMessage): string {
  const meta: MessageMeta = { senderId: m.senderId }
  if (m.attributes) meta.attributes = m.attributes
  if (m.traceHeader !== undefined) meta.traceHeader = m.traceHeader
  if (m.groupId !== undefined) meta.groupId = m.groupId
  if (m.dedupId !== undefined) meta.dedupId = m.dedupId
  if (m.sourceArn !== undefined) meta.sourceArn = m.sourceArn
  return JSON.stringify(meta)
}

export type MessageRow = {
  seq: number
  queue_id: string
  id: string
  body: string
  meta: string
  sent_at: number
  visible_at: number
  receive_count: number
  first_received_at: number | null
  receipt: string | null
  received_at: number | null
}

export function messageOfRow(r: MessageRow): StoredMessage {
  const meta = JSON.parse(r.meta) as MessageMeta
  const m: StoredMessage = {
    seq: r.seq,
    queueId: r.queue_id,
    id: r.id,
    body: r.body,
    ...meta,
    sentAt: r.sent_at,
    visibleAt: r.visible_at,
    receiveCount: r.receive_count,
  }
  if (r.first_received_at !== null) m.firstReceivedAt = r.first_received_at
  if (r.receipt !== null) m.receipt = r.receipt
  if (r.received_at !== null) m.receivedAt = r.received_at
  return m
}

/** Opens the database file with the settings every connection uses. */
export function openDatabase(
  DatabaseClass: typeof Database,
  file: string,
  synchronous: 'full' | 'normal',
): Database.Database {
  const db = new DatabaseClass(file)
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
  db.pragma('busy_timeout = 5000')
  return db
}
