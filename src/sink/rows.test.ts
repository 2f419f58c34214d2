import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readSinkDefinition, type SinkDefinition } from './model.js'
import { mysqlDatetime, mysqlUpsert } from './mysql.js'
import { pgUpsert } from './postgres.js'
import { rowOf, type RowWrite } from './rows.js'

const scope = { account: '111111111111', region: 'eu-west-1' }

function def(extra: Record<string, unknown> = {}): SinkDefinition {
  const d = readSinkDefinition(
    { kind: 'postgres', url: 'postgres://u:p@h/db', table: 'orders', key: ['id'], ...extra },
    scope,
    'orders',
    0,
  )
  if (typeof d === 'string') throw new Error(d)
  return d
}

const event = (detail: Record<string, unknown>) => ({
  source: 'junction.cdc.legacy',
  detail: { unchanged: [], source: { version: 'V2' }, ...detail },
})

const row = (r: ReturnType<typeof rowOf>): RowWrite => {
  assert.ok('values' in r, JSON.stringify(r))
  return r
}

test('without a mapping, the after image by column name; the key first', () => {
  const r = row(rowOf(def(), event({ op: 'u', after: { name: 'a', id: 7, tags: ['x'] } })))
  assert.deepEqual(
    [...r.values],
    [
      ['id', 7],
      ['name', 'a'],
      ['tags', ['x']],
    ],
  )
  assert.equal(r.version, 'V2')
  assert.equal(r.deleted, false)
})

test('a delete writes the key from before, then key, and nothing else', () => {
  const r = row(
    rowOf(def(), event({ op: 'd', after: null, before: { id: 7, name: 'a' }, key: { id: 7 } })),
  )
  assert.deepEqual([...r.values], [['id', 7]])
  assert.equal(r.deleted, true)
  const onlyKey = row(rowOf(def(), event({ op: 'd', before: null, key: { id: 8 } })))
  assert.deepEqual([...onlyKey.values], [['id', 8]])
})

test('unchanged columns and columns the event lacks are left out', () => {
  const d = def({ columns: { id: '$.detail.after.id', body: '$.detail.after.body', n: '$.nope' } })
  const r = row(rowOf(d, event({ op: 'u', after: { id: 1 }, unchanged: [] })))
  assert.deepEqual([...r.values], [['id', 1]])
  const u = row(rowOf(def(), event({ op: 'u', after: { id: 1, body: null }, unchanged: ['body'] })))
  assert.deepEqual([...u.values], [['id', 1]])
  const n = row(rowOf(def(), event({ op: 'u', after: { id: 1, body: null } })))
  assert.deepEqual(
    [...n.values],
    [
      ['id', 1],
      ['body', null],
    ],
  )
})

test('a mapping into detail.after reads before on a delete', () => {
  const d = def({ columns: { order_id: '$.detail.after.id' }, key: ['order_id'] })
  const r = row(rowOf(d, event({ op: 'd', before: { id: 3 } })))
  assert.deepEqual([...r.values], [['order_id', 3]])
})

test('no version, no key: a problem naming the path or column; a truncate is skipped', () => {
  assert.deepEqual(rowOf(def(), { detail: { op: 'c', after: { id: 1 } } }), {
    problem:
      'The event has no version at $.detail.source.version (a string such as detail.source.version of a change event).',
  })
  const noKey = rowOf(def(), event({ op: 'c', after: { name: 'x' } }))
  assert.ok('problem' in noKey && noKey.problem.includes('key column id'))
  assert.deepEqual(rowOf(def(), event({ op: 't' })), { skip: true })
})

test('the PostgreSQL upsert guards on the version and quotes names', () => {
  const d = def({ table: 'my"schema.orders' })
  const r = row(rowOf(d, event({ op: 'c', after: { id: 1, 'we"ird': { a: 1 } } })))
  const { text, values } = pgUpsert(d, r)
  assert.equal(
    text,
    'INSERT INTO "my""schema"."orders" AS t ("id", "we""ird", "_junction_version", "_junction_deleted") ' +
      'VALUES ($1, $2, $3, $4) ON CONFLICT ("id") DO UPDATE SET "we""ird" = EXCLUDED."we""ird", ' +
      '"_junction_version" = EXCLUDED."_junction_version", "_junction_deleted" = EXCLUDED."_junction_deleted" ' +
      'WHERE t."_junction_version" IS NULL OR t."_junction_version" COLLATE "C" < EXCLUDED."_junction_version" COLLATE "C"',
  )
  assert.deepEqual(values, [1, '{"a":1}', 'V2', false])
})

test('the MySQL upsert assigns the version last', () => {
  const d = { ...def(), kind: 'mysql' as const }
  const r = row(rowOf(d, event({ op: 'c', after: { id: 1, name: 'n' } })))
  const { text } = mysqlUpsert(d, r)
  const assigned = [...text.matchAll(/`(\w+)` = IF\(/g)].map((m) => m[1])
  assert.deepEqual(assigned, ['name', '_junction_deleted', '_junction_version'])
  assert.ok(!/`id` = IF/.test(text))
})

test('ISO 8601 times become MySQL DATETIME text in UTC, microseconds kept', () => {
  assert.equal(mysqlDatetime('2026-11-29T09:04:04.963767Z'), '2026-11-29 09:04:04.963767')
  assert.equal(mysqlDatetime('2026-11-29T09:04:04+00:00'), '2026-11-29 09:04:04')
  assert.equal(mysqlDatetime('2026-11-29T10:04:04.5+01:00'), '2026-11-29 09:04:04.5')
  assert.equal(mysqlDatetime('2026-11-30T01:30:00-0330'), '2026-11-30 05:00:00')
  assert.equal(mysqlDatetime('2026-11-29 09:04:04'), '2026-11-29 09:04:04')
  assert.equal(mysqlDatetime('not a time'), 'not a time')
})
