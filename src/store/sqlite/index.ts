/**
 * @module
 * The embedded store: one SQLite file in WAL mode through better-sqlite3.
 *
 * Group commit: every write (events with their jobs, finished jobs, config changes) is queued
 * and the queue is written in one transaction on the next turn of the event loop, so concurrent
 * PutEvents requests share one commit (and one fsync). A write's promise resolves only after
 * its transaction has committed.
 */
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { DeliveryJob, StoredEvent } from '../../model.js'
import type {
  ConfigEntry,
  ConfigKind,
  ConfigOp,
  DeadLetter,
  PendingDelivery,
  Store,
} from '../ports.js'
import { MIGRATIONS } from './migrations.js'

export type SqliteStoreOptions = {
  /** Directory holding `junction.db` (created if missing). */
  dataDir: string
  /**
   * `full` (default) fsyncs every commit, so an acknowledged event survives a power cut;
   * `normal` survives a process crash (kill -9) but may lose the last commits on power loss.
   */
  synchronous?: 'full' | 'normal'
}

type Write = { run: () => void; resolve: () => void; reject: (e: unknown) => void }

export function createSqliteStore(options: SqliteStoreOptions): Store {
  mkdirSync(options.dataDir, { recursive: true })
  const db = new Database(join(options.dataDir, 'junction.db'))
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
  db.pragma('busy_timeout = 5000')
  migrate(db)

  const st = {
    configAll: db.prepare<[], { kind: string; key: string; doc: string }>(
      'SELECT kind, key, doc FROM config',
    ),
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
    counterGet: db.prepare<[], { value: number }>(
      "SELECT value FROM counters WHERE name = 'delivery_id'",
    ),
    pending: db.prepare<[], PendingRow>(
      `SELECT d.id, e.id AS event_id, e.bus_arn, d.rule_arn, d.target_id, d.attempts, d.due_at,
              e.ingested_at, e.hops, e.body
         FROM deliveries d JOIN events e ON e.seq = d.event_seq
        ORDER BY d.id`,
    ),
    letterInsert: db.prepare(
      `INSERT OR REPLACE INTO dead_letters (job_id, dlq_arn, event_seq, rule_arn, target_arn,
         target_id, error_code, error_message, exhausted_retry_condition, retry_attempts, at)
       SELECT ?, ?, d.event_seq, ?, ?, ?, ?, ?, ?, ?, ? FROM deliveries d WHERE d.id = ?`,
    ),
    letters: db.prepare<[string], LetterRow>(
      `SELECT l.*, e.id AS event_id, e.bus_arn, e.ingested_at, e.hops, e.body FROM dead_letters l
         JOIN events e ON e.seq = l.event_seq
        WHERE l.dlq_arn = ? ORDER BY l.job_id`,
    ),
  }

  let queue: Write[] = []
  let scheduled = false
  let closed = false

  const flush = () => {
    scheduled = false
    const batch = queue
    queue = []
    if (batch.length === 0) return
    try {
      db.transaction(() => {
        for (const w of batch) w.run()
      })()
    } catch (e) {
      for (const w of batch) w.reject(e)
      return
    }
    for (const w of batch) w.resolve()
  }

  const write = (run: () => void): Promise<void> =>
    new Promise((resolve, reject) => {
      if (closed) {
        reject(new Error('store is closed'))
        return
      }
      queue.push({ run, resolve, reject })
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
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
      apply: (ops: ConfigOp[]) =>
        write(() => {
          for (const op of ops) {
            if (op.op === 'put') st.configPut.run(op.kind, op.key, JSON.stringify(op.doc))
            else st.configDelete.run(op.kind, op.key)
          }
        }),
    },
    events: {
      append: (events: StoredEvent[], jobs: DeliveryJob[]) =>
        write(() => {
          // Jobs refer to their event by its row number, known once it is inserted.
          const seqs = new Map<string, number | bigint>()
          for (const e of events)
            seqs.set(
              `${e.busArn} ${e.id}`,
              st.eventInsert.run(e.busArn, e.id, e.ingestedAt, e.hops, e.text).lastInsertRowid,
            )
          let max = 0
          for (const j of jobs) {
            const seq = seqs.get(`${j.busArn} ${j.eventId}`)
            if (seq === undefined) throw new Error(`job ${String(j.id)} has no event in its append`)
            st.jobInsert.run(j.id, seq, j.ruleArn, j.targetId, j.attempts, j.dueAt)
            if (j.id > max) max = j.id
          }
          if (max > 0) st.counterBump.run(max)
        }),
      pending: () =>
        Promise.resolve(
          st.pending.all().map((r): PendingDelivery => ({
            job: {
              id: r.id,
              eventId: r.event_id,
              busArn: r.bus_arn,
              ruleArn: r.rule_arn,
              targetId: r.target_id,
              attempts: r.attempts,
              dueAt: r.due_at,
            },
            event: {
              id: r.event_id,
              busArn: r.bus_arn,
              text: r.body,
              ingestedAt: r.ingested_at,
              hops: r.hops,
            },
          })),
        ),
      maxJobId: () => Promise.resolve(st.counterGet.get()?.value ?? 0),
      finish: (ids: number[]) =>
        write(() => {
          for (const id of ids) st.jobDelete.run(id)
        }),
      reschedule: (job: DeliveryJob) =>
        write(() => {
          st.jobUpdate.run(job.attempts, job.dueAt, job.id)
        }),
      deadLetter: (l: DeadLetter) =>
        write(() => {
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
        }),
      deadLetters: (dlqArn: string) =>
        Promise.resolve(
          st.letters.all(dlqArn).map((r): DeadLetter => {
            const event: StoredEvent = {
              id: r.event_id,
              busArn: r.bus_arn,
              text: r.body,
              ingestedAt: r.ingested_at,
              hops: r.hops,
            }
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
              event,
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
    close() {
      flush()
      closed = true
      db.close()
      return Promise.resolve()
    },
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
