/**
 * @module
 * The store's writes as plain data (they cross to the writer thread) and how each is applied
 * inside a transaction.
 */
import type Database from 'better-sqlite3'
import type { DeliveryJob, StoredEvent } from '../../model.js'
import type { ConfigOp, DeadLetter } from '../ports.js'

export type WriteOp =
  | { t: 'config'; ops: ConfigOp[] }
  | { t: 'append'; events: StoredEvent[]; jobs: DeliveryJob[] }
  | { t: 'finish'; ids: number[] }
  | { t: 'reschedule'; job: DeliveryJob }
  | { t: 'deadLetter'; letter: DeadLetter }

/** Main thread → writer: a batch of writes, each with the id its answer will carry. */
export type WriteRequest =
  { kind: 'writes'; writes: { id: number; op: WriteOp }[] } | { kind: 'close' }

/** Writer → main thread: writes committed, or failed with their transaction. */
export type WriteAnswer =
  | { kind: 'committed'; ids: number[] }
  | { kind: 'failed'; ids: number[]; message: string }
  | { kind: 'closed' }

export function writeStatements(db: Database.Database) {
  const st = {
    configPut: db.prepare('INSERT OR REPLACE INTO config (kind, key, doc) VALUES (?, ?, ?)'),
    configDelete: db.prepare('DELETE FROM config WHERE kind = ? AND key = ?'),
    eventInsert: db.prepare(
      'INSERT INTO events (bus_arn, id, ingested_at, hops, body) VALUES (?, ?, ?, ?, ?)',
    ),
    jobInsert: db.prepare(
      'INSERT INTO deliveries (id, event_seq, rule_arn, target_id, attempts, due_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    jobUpdate: db.prepare('UPDATE deliveries SET attempts = ?, due_at = ? WHERE id = ?'),
    jobDelete: db.prepare('DELETE FROM deliveries WHERE id = ?'),
    counterBump: db.prepare("UPDATE counters SET value = max(value, ?) WHERE name = 'delivery_id'"),
    letterInsert: db.prepare(
      `INSERT OR REPLACE INTO dead_letters (job_id, dlq_arn, event_seq, rule_arn, target_arn,
         target_id, error_code, error_message, exhausted_retry_condition, retry_attempts, at)
       SELECT ?, ?, d.event_seq, ?, ?, ?, ?, ?, ?, ?, ? FROM deliveries d WHERE d.id = ?`,
    ),
  }

  return function apply(op: WriteOp): void {
    switch (op.t) {
      case 'config':
        for (const c of op.ops) {
          if (c.op === 'put') st.configPut.run(c.kind, c.key, JSON.stringify(c.doc))
          else st.configDelete.run(c.kind, c.key)
        }
        return
      case 'append': {
        // Jobs refer to their event by its row number, known once it is inserted.
        const seqs = new Map<string, number | bigint>()
        for (const e of op.events)
          seqs.set(
            `${e.busArn} ${e.id}`,
            st.eventInsert.run(e.busArn, e.id, e.ingestedAt, e.hops, e.text).lastInsertRowid,
          )
        let max = 0
        for (const j of op.jobs) {
          const seq = seqs.get(`${j.busArn} ${j.eventId}`)
          if (seq === undefined) throw new Error(`job ${String(j.id)} has no event in its append`)
          st.jobInsert.run(j.id, seq, j.ruleArn, j.targetId, j.attempts, j.dueAt)
          if (j.id > max) max = j.id
        }
        if (max > 0) st.counterBump.run(max)
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
    }
  }
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
