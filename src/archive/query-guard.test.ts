import assert from 'node:assert/strict'
import { test } from 'node:test'
import { refusal, words } from './query-guard.js'

test('words skips literals and comments and unquotes identifiers', () => {
  assert.deepEqual(words(`SELECT 'attach' AS "a""b", [c] -- pragma\n/* vacuum */ FROM t`), [
    'SELECT',
    'AS',
    'a"b',
    'c',
    'FROM',
    't',
  ])
})

test('refuses ATTACH, DETACH, PRAGMA, VACUUM and load_extension anywhere in the code', () => {
  for (const sql of [
    "ATTACH DATABASE 'x.db' AS x",
    'detach x',
    'PRAGMA writable_schema = 1',
    "VACUUM INTO '/tmp/copy.db'",
    "SELECT load_extension('/tmp/x.so')",
    `SELECT "load_extension"('/tmp/x.so')`,
    "WITH a AS (SELECT 1) SELECT * FROM a; ATTACH 'x' AS y",
  ])
    assert.ok(refusal(sql), sql)
})

test('lets the same words through inside strings, comments and longer names', () => {
  for (const sql of [
    "SELECT 'attach pragma' AS note",
    'SELECT 1 -- PRAGMA\n',
    'SELECT count(*) AS attachments FROM events',
    "SELECT * FROM pragma_table_info('events')",
  ])
    assert.equal(refusal(sql), undefined, sql)
  assert.ok(refusal('   '))
})
