import Database from 'better-sqlite3'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { before, test } from 'node:test'
import { MIGRATIONS } from '../store/sqlite/migrations.js'
import { runQuery } from './query-child.js'

/** A real store file: archive 1 keeps events 1 and 2, archive 2 keeps event 3; event 4 is only in the log. */
let file: string

before(() => {
  file = join(mkdtempSync(join(tmpdir(), 'junction-query-')), 'junction.db')
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  for (const m of MIGRATIONS) db.exec(m)
  const put = db.prepare(
    'INSERT INTO events (seq, bus_arn, id, ingested_at, hops, body) VALUES (?, ?, ?, ?, 0, ?)',
  )
  const keep = db.prepare(
    'INSERT INTO archive_events (archive, time, event_seq, archived_at, size) VALUES (?, ?, ?, ?, 1)',
  )
  const events: [seq: number, archive: number | undefined, source: string, warehouse: string][] = [
    [1, 1, 'cwi.servicea', 'berlin'],
    [2, 1, 'cwi.servicea', 'paris'],
    [3, 2, 'other.team', 'tokyo'],
    [4, undefined, 'secret.source', 'nowhere'],
  ]
  for (const [seq, archive, source, warehouse] of events) {
    const time = Date.UTC(2026, 0, seq)
    const body = JSON.stringify({
      version: '0',
      id: `id-${String(seq)}`,
      'detail-type': 'NEW_WIDGET',
      source,
      account: '111111111111',
      time: new Date(time).toISOString().replace('.000', ''),
      region: 'us-east-1',
      resources: [],
      detail: { warehouse },
    })
    put.run(
      seq,
      'arn:aws:events:us-east-1:111111111111:event-bus/default',
      `id-${String(seq)}`,
      time,
      body,
    )
    if (archive !== undefined) keep.run(archive, time, seq, time)
  }
  db.prepare(
    "INSERT INTO config (kind, key, doc) VALUES ('connection', 'c', '{\"secret\":\"s3cret\"}')",
  ).run()
  db.close()
})

const rows = (archive: number, sql: string) => {
  const a = runQuery({ file, archive, sql, maxRows: 100 })
  assert.ok(a.ok, JSON.stringify(a))
  return a.rows
}

test('a query reads its archive only, with every column of events', () => {
  assert.deepEqual(
    rows(
      1,
      "SELECT seq, id, source, detail_type, detail ->> '$.warehouse', substr(time, 1, 10) FROM events",
    ),
    [
      [1, 'id-1', 'cwi.servicea', 'NEW_WIDGET', 'berlin', '2026-01-01'],
      [2, 'id-2', 'cwi.servicea', 'NEW_WIDGET', 'paris', '2026-01-02'],
    ],
  )
  assert.deepEqual(rows(2, 'SELECT source, count(*) FROM events GROUP BY source'), [
    ['other.team', 1],
  ])
  assert.deepEqual(rows(1, 'SELECT count(*) FROM events a JOIN events b ON a.seq = b.seq'), [[2]])
})

test("the store's other tables, schemas and the event log itself are out of reach", () => {
  for (const sql of [
    'SELECT * FROM main.events',
    'SELECT * FROM "main"."events"',
    'SELECT body FROM archive_events a JOIN main.events e ON e.seq = a.event_seq',
    'SELECT * FROM config',
    'SELECT * FROM deliveries',
    'SELECT sql FROM sqlite_schema',
    'SELECT * FROM sqlite_temp_master',
    "SELECT * FROM pragma_table_info('config')",
    'SELECT * FROM temp.events',
  ]) {
    const a = runQuery({ file, archive: 1, sql, maxRows: 100 })
    assert.deepEqual({ ok: a.ok, refused: !a.ok && a.refused }, { ok: false, refused: true }, sql)
  }
  // The secret and the unarchived event appear in no answer a query can give.
  const all = JSON.stringify(rows(1, 'SELECT * FROM events'))
  assert.doesNotMatch(all, /s3cret|secret\.source|tokyo/)
})

test('writes are refused and a broken query says why', () => {
  const write = runQuery({ file, archive: 1, sql: 'DELETE FROM events', maxRows: 10 })
  assert.equal(write.ok, false)
  const broken = runQuery({ file, archive: 1, sql: 'SELECT nope FROM events', maxRows: 10 })
  assert.deepEqual(broken, { ok: false, refused: false, message: 'no such column: nope' })
  assert.deepEqual(rows(1, 'SELECT count(*) FROM events'), [[2]])
})
