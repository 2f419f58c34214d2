import Database from 'better-sqlite3'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { envelopeText, type EnvelopeFields } from '../../engine/envelope.js'
import { envelopePositions, TIME_LENGTH } from './envelope-positions.js'

const fields = (over: Partial<EnvelopeFields> = {}): EnvelopeFields => ({
  id: '6f7c1b7e-0000-4000-8000-000000000001',
  detailType: 'order',
  source: 'shop',
  account: '111111111111',
  time: '2026-01-02T03:04:05Z',
  region: 'us-east-1',
  resources: [],
  detailText: '{"n":1}',
  ...over,
})

/** What SQLite slices out at the positions, as the archive query's view does. */
function sliced(text: string): { time: string; detail: string } {
  const [timeAt, detailAt] = envelopePositions(text, Buffer.byteLength(text))
  assert.ok(timeAt !== null && detailAt !== null)
  const db = new Database(':memory:')
  const row = db
    .prepare<[Record<string, unknown>], { time: string; detail: string }>(
      `SELECT CAST(substr(CAST(@text AS BLOB), @timeAt, ${String(TIME_LENGTH)}) AS TEXT) AS time,
              CAST(substr(CAST(@text AS BLOB), @detailAt, length(CAST(@text AS BLOB)) - @detailAt) AS TEXT) AS detail`,
    )
    .get({ text, timeAt, detailAt })!
  db.close()
  return row
}

test('the time and detail of an envelope, read back by SQLite at the positions', () => {
  const text = envelopeText(fields())
  assert.deepEqual(sliced(text), { time: '2026-01-02T03:04:05Z', detail: '{"n":1}' })
})

test('keys named time and detail inside the detail, or inside strings before it, do not mislead', () => {
  const text = envelopeText(
    fields({
      detailType: 'a "time":"2000-01-01T00:00:00Z" "detail":{}',
      source: 'detail',
      resources: ['"detail":{"x":1}}'],
      detailText: '{"time":"1999-12-31T23:59:59Z","detail":{"time":"x"}}',
    }),
  )
  assert.deepEqual(sliced(text), {
    time: '2026-01-02T03:04:05Z',
    detail: '{"time":"1999-12-31T23:59:59Z","detail":{"time":"x"}}',
  })
})

test('positions count bytes: characters of two, three and four bytes before and inside', () => {
  const text = envelopeText(
    fields({
      detailType: 'Bestellung für café 注文 🚚',
      resources: ['arn:aws:s3:::bücher'],
      detailText: '{"city":"Zürich 🚚"}',
    }),
  )
  assert.deepEqual(sliced(text), { time: '2026-01-02T03:04:05Z', detail: '{"city":"Zürich 🚚"}' })
  assert.deepEqual(
    JSON.parse(sliced(text).detail),
    (JSON.parse(text) as { detail: unknown }).detail,
  )
})

test('a replayed envelope (replay-name before resources) keeps its positions', () => {
  const text = envelopeText(fields()).replace(',"resources"', ',"replay-name":"r1","resources"')
  assert.deepEqual(sliced(text), { time: '2026-01-02T03:04:05Z', detail: '{"n":1}' })
})

test('text of another shape gets no positions', () => {
  for (const text of [
    '{"a":1}',
    'plain input',
    '{"detail":{"x":1},"time":"2026-01-02T03:04:05Z"}',
    '{"time":"2026-01-02T03:04:05.123Z","detail":{}}',
    '{"time":"2026-01-02T03:04:05Z","detail":[1]}',
    '{"time":"2026-01-02T03:04:05Z","detail":{},"extra":1}',
  ])
    assert.deepEqual(envelopePositions(text, Buffer.byteLength(text)), [null, null], text)
})
