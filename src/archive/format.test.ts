import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatResult } from './format.js'

const result = {
  columns: ['day', 'n', 'note'],
  rows: [
    ['2026-01-01', 2, 'a,"b"'],
    ['2026-01-02', 1, null],
  ],
  truncated: false,
}

test('CSV quotes fields with commas and quotes, CRLF lines', () => {
  assert.equal(
    formatResult(result, 'csv'),
    'day,n,note\r\n2026-01-01,2,"a,""b"""\r\n2026-01-02,1,\r\n',
  )
})

test('table aligns columns and counts rows', () => {
  assert.equal(
    formatResult(result, 'table'),
    [
      'day        | n | note',
      '-----------+---+------',
      '2026-01-01 | 2 | a,"b"',
      '2026-01-02 | 1 | NULL',
      '(2 rows)',
      '',
    ].join('\n'),
  )
})

test('JSON keeps types', () => {
  assert.deepEqual(JSON.parse(formatResult(result, 'json')), result)
})
