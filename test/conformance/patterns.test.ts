/**
 * Every row of the shared pattern corpus (recorded against AWS, and from peer projects): match
 * rows must give the recorded answer, both for event text and for a parsed event, and rejected
 * patterns must fail with the recorded first line of AWS's message.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkPattern, matchesPattern } from '../../src/pattern/index.js'
import { readJsonLines } from '../helpers/shared.js'

type Row = {
  id: string
  pattern: unknown
  patternText?: string
  event?: unknown
  eventText?: string
  match?: boolean
  valid?: boolean
  error?: string | null
}

const rows = readJsonLines<Row>('conformance', 'patterns.jsonl')

function patternTextOf(row: Row): string {
  if (row.patternText !== undefined) return row.patternText
  return typeof row.pattern === 'string' ? row.pattern : JSON.stringify(row.pattern)
}

function judge(row: Row): string | null {
  const text = patternTextOf(row)
  if (row.valid === false) {
    const error = checkPattern(text)
    if (error === null) return 'accepted a pattern AWS rejects'
    if (row.error == null) return null
    const got = `${error.code}: ${error.message.split('\n')[0]!}`
    return got === row.error.split('\n')[0] ? null : `error ${JSON.stringify(got)}`
  }
  const problem = checkPattern(text)
  if (problem !== null) return `rejected: ${problem.message.split('\n')[0]!}`
  const eventText = row.eventText ?? JSON.stringify(row.event)
  const onText = matchesPattern(text, eventText)
  const onObject = matchesPattern(text, JSON.parse(eventText) as object)
  if (onText !== row.match) return `text event gave ${onText}`
  if (onObject !== row.match) return `parsed event gave ${onObject}`
  return null
}

const sources = [...new Set(rows.map((r) => r.id.split('/')[0]!))]

for (const source of sources) {
  test(`pattern conformance: ${source}`, () => {
    const mine = rows.filter((r) => r.id.startsWith(`${source}/`))
    const failures: string[] = []
    for (const row of mine) {
      const why = judge(row)
      if (why !== null) failures.push(`${row.id}: ${why}`)
    }
    console.log(`# ${source}: ${mine.length - failures.length}/${mine.length} rows pass`)
    assert.deepEqual(failures, [], `${failures.length} of ${mine.length} rows fail`)
  })
}

test('the corpus is complete', () => {
  // the README of the corpus counts 1472 rows; a truncated copy must not pass silently
  assert.equal(rows.length, 1472)
})
