/**
 * @module
 * The process that runs one archive query (see `query.ts`). It opens the store file read-only
 * and runs the query there, on a temporary view `events` of the one archive's rows, so SQLite
 * reads the archive itself (a report grouped over a million events: about 2 s where a virtual
 * table fed from JavaScript took 7.1 s, bench:history) and extracts from each event only the
 * fields the query uses, slicing its time and detail out at positions stored when it was
 * archived. The query may see nothing else of the store (no other archive, no configuration,
 * no secrets): it may not name the store's tables or schemas (the view shadows the event log's
 * own `events` table, which only `main.events` would reach), and the program SQLite compiles for
 * it may open no table but the two the view reads. The connection is read-only and the process
 * can be killed at any point without harm to the store.
 */
import Database from 'better-sqlite3'
import { availableParallelism } from 'node:os'
import { TIME_LENGTH } from '../store/sqlite/envelope-positions.js'
import { refusal, words } from './query-guard.js'

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

/** Each column of `events` as SQL over the store's rows (`a`: archive_events, `e`: events). */
const COLUMN_SQL: Record<(typeof EVENT_COLUMNS)[number], string> = {
  seq: 'a.event_seq',
  id: 'e.id',
  // Sliced out of the event's bytes at the positions archived beside it (store migration 8).
  time: `CASE WHEN a.time_at IS NULL THEN json_extract(e.body, '$.time')
    ELSE CAST(substr(CAST(e.body AS BLOB), a.time_at, ${String(TIME_LENGTH)}) AS TEXT) END`,
  time_ms: 'a.time',
  source: "json_extract(e.body, '$.source')",
  detail_type: "json_extract(e.body, '$.detail-type')",
  account: "json_extract(e.body, '$.account')",
  region: "json_extract(e.body, '$.region')",
  resources: "json_extract(e.body, '$.resources')",
  detail: `CASE WHEN a.detail_at IS NULL THEN json_extract(e.body, '$.detail')
    ELSE CAST(substr(CAST(e.body AS BLOB), a.detail_at, a.size - a.detail_at) AS TEXT) END`,
  event: 'e.body',
  archived_at: 'a.archived_at',
}

/** The tables the view reads: the only ones a query's program may open. */
const VIEW_TABLES = ['archive_events', 'events']

/** Why the query may not run against this store, or undefined. */
function storeRefusal(store: Database.Database, sql: string): string | undefined {
  const schema = store
    .prepare<[], { name: string; tbl_name: string; rootpage: number }>(
      'SELECT name, tbl_name, rootpage FROM sqlite_schema',
    )
    .all()
  // `events` is the view; every other name of the store (and its schemas) is out of reach.
  const forbidden = new Set(['main', 'temp', 'temporary', 'sqlite_schema', 'sqlite_master'])
  for (const o of schema) if (o.name !== 'events') forbidden.add(o.name.toLowerCase())
  for (const word of words(sql)) {
    const w = word.toLowerCase()
    if (forbidden.has(w) || w.startsWith('sqlite_') || w.startsWith('pragma_'))
      return `The query may read only the table events; ${word} is not available.`
  }
  const allowed = new Set(
    schema.filter((o) => VIEW_TABLES.includes(o.tbl_name)).map((o) => o.rootpage),
  )
  type Op = { opcode: string; p2: number; p3: number }
  for (const op of store.prepare<[], Op>(`EXPLAIN ${sql}`).all())
    if (
      (op.opcode === 'OpenRead' || op.opcode === 'ReopenIdx') &&
      (op.p3 !== 0 || !allowed.has(op.p2))
    )
      return 'The query may read only the table events.'
  return undefined
}

export function runQuery(req: QueryRequest): QueryAnswer {
  const refused = refusal(req.sql)
  if (refused) return { ok: false, refused: true, message: refused }
  const store = new Database(req.file, { readonly: true, fileMustExist: true })
  try {
    // Large GROUP BY and ORDER BY sorts run on helper threads too (bench:history: about a
    // quarter less time for the grouped report; a larger page cache only made it slower).
    store.pragma(`threads = ${String(Math.min(4, availableParallelism()))}`)
    const viewColumns = EVENT_COLUMNS.map((c) => `${COLUMN_SQL[c]} AS ${c}`).join(', ')
    // The archive key is an integer from the store, never text from the request.
    store.exec(`CREATE TEMP VIEW events AS SELECT ${viewColumns}
         FROM main.archive_events a JOIN main.events e ON e.seq = a.event_seq
        WHERE a.archive = ${String(Math.trunc(req.archive))} ORDER BY a.time, a.event_seq`)
    let outOfReach: string | undefined
    try {
      outOfReach = storeRefusal(store, req.sql)
    } catch (e) {
      return { ok: false, refused: false, message: e instanceof Error ? e.message : String(e) }
    }
    if (outOfReach) return { ok: false, refused: true, message: outOfReach }
    let stmt: Database.Statement
    try {
      stmt = store.prepare(req.sql)
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
    store.close()
  }
}

process.once('message', (req: QueryRequest) => {
  const answer = runQuery(req)
  process.send?.(answer, () => {
    process.exit(0)
  })
})
