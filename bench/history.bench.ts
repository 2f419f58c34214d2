/**
 * `npm run bench:history`: a grouped query over a large archive, as `junction query` runs it
 * (a child process on a read-only connection, the archive seen as the view `events`). The
 * store is written directly in the server's schema (`--events N` archived events, default
 * 1,000,000, widget events over six warehouses, one every 2 s), then the report of the
 * founding brief's service C — widgets per warehouse per day — runs `--rounds` times (3).
 * For comparison, in the same run: the same grouping straight over the event log's JSON on one
 * connection (parsing each event's whole JSON, as queries did before the archive kept where
 * each event's time and detail sit), and `SELECT 1` through the same path (the process start).
 * Prints figures; asserts nothing.
 */
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// The compiled query, as `junction query` runs it (`npm run bench:history` builds it first): from
// the TypeScript source its child process would spend a quarter of a second compiling itself.
import { queryArchive } from '../dist/archive/query.js'
import { envelopePositions } from '../src/store/sqlite/envelope-positions.js'
import { MIGRATIONS } from '../src/store/sqlite/migrations.js'
import { numberArg as arg } from './args.js'

const count = arg('events', 1_000_000)
const rounds = arg('rounds', 3)
const WAREHOUSES = ['berlin', 'paris', 'tokyo', 'osaka', 'austin', 'lima']

const dir = mkdtempSync(join(tmpdir(), 'junction-bench-history-'))
const file = join(dir, 'junction.db')

function build(): void {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  for (const m of MIGRATIONS) db.exec(m)
  const event = db.prepare(
    'INSERT INTO events (seq, bus_arn, id, ingested_at, hops, body) VALUES (?, ?, ?, ?, 0, ?)',
  )
  const archived = db.prepare(
    // As the server's writer archives an event: with where its time and detail sit.
    `INSERT INTO archive_events (archive, time, event_seq, archived_at, size, time_at, detail_at)
     VALUES (1, ?, ?, ?, ?, ?, ?)`,
  )
  const start = Date.UTC(2026, 10, 1)
  db.transaction(() => {
    for (let i = 1; i <= count; i++) {
      const time = start + i * 2000
      const body = JSON.stringify({
        version: '0',
        id: `e-${String(i)}`,
        'detail-type': 'NEW_WIDGET',
        source: 'valid.cw.servicea',
        account: '111111111111',
        time: new Date(time).toISOString().replace('.000', ''),
        region: 'us-east-1',
        resources: [],
        detail: {
          widget_id: `w-${String(i % 5000)}`,
          warehouse: WAREHOUSES[i % WAREHOUSES.length],
          location: 'aisle 4',
          weight: (i % 97) / 10,
          time,
        },
      })
      event.run(
        i,
        'arn:aws:events:us-east-1:444444444444:event-bus/default',
        `e-${String(i)}`,
        time,
        body,
      )
      archived.run(time, i, time, body.length, ...envelopePositions(body, body.length))
    }
  })()
  db.close()
}

const REPORT = `SELECT detail ->> '$.warehouse' AS warehouse, substr(time, 1, 10) AS day, count(*) AS widgets
                  FROM events GROUP BY warehouse, day ORDER BY warehouse, day`
const FLOOR = `SELECT body ->> '$.detail.warehouse' AS warehouse, substr(body ->> '$.time', 1, 10) AS day,
                      count(*) AS widgets FROM events GROUP BY warehouse, day`

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

try {
  let t = performance.now()
  build()
  console.log(
    `store: ${String(count)} archived events written in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  )
  const query: number[] = []
  const start: number[] = []
  const floor: number[] = []
  let rows = 0
  for (let r = 0; r < rounds; r++) {
    t = performance.now()
    const answer = await queryArchive(file, 1, REPORT, { timeoutMs: 60_000 })
    query.push(performance.now() - t)
    rows = answer.rows.length
    t = performance.now()
    await queryArchive(file, 1, 'SELECT 1', { timeoutMs: 60_000 })
    start.push(performance.now() - t)
    const db = new Database(file, { readonly: true })
    t = performance.now()
    db.prepare(FLOOR).all()
    floor.push(performance.now() - t)
    db.close()
  }
  const q = median(query)
  const f = median(floor)
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  console.log(
    `report (widgets per warehouse per day, ${String(rows)} rows), median of ${String(rounds)}:`,
  )
  console.log(`  junction query: ${s(q)} (aim < 2 s); rounds: ${query.map(s).join(', ')}`)
  console.log(`  of which the query's process and view (SELECT 1): ${s(median(start))}`)
  console.log(`  the same grouping over the log's JSON on one connection: ${s(f)}`)
  console.log(`  junction query / that: ${(q / f).toFixed(2)}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
