/**
 * @module
 * The process that runs one archive query (see `query.ts`). It opens the store file read-only
 * and never hands that connection to the query: the query runs on an empty in-memory database
 * whose only table, `events`, is a virtual table reading the one archive's rows. So a query sees
 * nothing else of the store (no other archive, no configuration, no secrets), and its process
 * can be killed at any point without harm to the store.
 */
import Database from 'better-sqlite3'
import { refusal } from './query-guard.js'

export type QueryRequest = { file: string; archive: number; sql: string; maxRows: number }
export type QueryAnswer =
  | { ok: true; columns: string[]; rows: unknown[][]; truncated: boolean }
  | { ok: false; refused: boolean; message: string }

/** The columns of `events`; `event` is the envelope JSON, `detail` and `resources` JSON text. */
export const EVENT_COLUMNS = [
  'seq',
  'id',
  'time',
  'time_ms',
  'source',
  'detail_type',
  'account',
  'region',
  'resources',
  'detail',
  'event',
  'archived_at',
] as const

export function runQuery(req: QueryRequest): QueryAnswer {
  const refused = refusal(req.sql)
  if (refused) return { ok: false, refused: true, message: refused }
  const store = new Database(req.file, { readonly: true, fileMustExist: true })
  const db = new Database(':memory:')
  try {
    const sourceSql = `SELECT a.event_seq AS seq, e.id AS id, json_extract(e.body, '$.time') AS time,
              a.time AS time_ms, json_extract(e.body, '$.source') AS source,
              json_extract(e.body, '$.detail-type') AS detail_type,
              json_extract(e.body, '$.account') AS account,
              json_extract(e.body, '$.region') AS region,
              json_extract(e.body, '$.resources') AS resources,
              json_extract(e.body, '$.detail') AS detail, e.body AS event,
              a.archived_at AS archived_at
         FROM archive_events a JOIN events e ON e.seq = a.event_seq
        WHERE a.archive = ? ORDER BY a.time, a.event_seq`
    db.table('events', {
      columns: [...EVENT_COLUMNS],
      // A statement per scan: a query may read the table twice at once (a self-join).
      *rows() {
        const scan = store.prepare<[number], Record<string, unknown>>(sourceSql)
        for (const r of scan.iterate(req.archive)) yield r
      },
    })
    let stmt: Database.Statement
    try {
      stmt = db.prepare(req.sql)
    } catch (e) {
      return { ok: false, refused: false, message: e instanceof Error ? e.message : String(e) }
    }
    if (!stmt.readonly)
      return { ok: false, refused: true, message: 'Only statements that read are allowed.' }
    if (!stmt.reader) return { ok: false, refused: true, message: 'The statement returns no rows.' }
    const columns = stmt.columns().map((c) => c.name)
    const rows: unknown[][] = []
    let truncated = false
    for (const row of stmt.raw().iterate() as IterableIterator<unknown[]>) {
      if (rows.length >= req.maxRows) {
        truncated = true
        break
      }
      rows.push(row.map((v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)))
    }
    return { ok: true, columns, rows, truncated }
  } catch (e) {
    return { ok: false, refused: false, message: e instanceof Error ? e.message : String(e) }
  } finally {
    // A scan SQLite left unfinished (a LIMIT, an aggregate) keeps the store connection busy;
    // both connections only read, and the process ends right after answering.
    for (const c of [db, store])
      try {
        c.close()
      } catch {
        // nothing to lose
      }
  }
}

process.once('message', (req: QueryRequest) => {
  const answer = runQuery(req)
  process.send?.(answer, () => {
    process.exit(0)
  })
})
