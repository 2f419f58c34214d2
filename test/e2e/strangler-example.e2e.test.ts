/**
 * The strangler example end to end (`npm run example:strangler -- --once`): a throwaway legacy
 * PostgreSQL, change capture onto a bus, the report built from events, new orders written back.
 * The figures below are worked out by hand from the example's story (legacy.sql's two orders,
 * then 102 and 103 inserted, 102 raised to 45.00, 101 deleted, 200 and 201 placed through the
 * bus), not read from the example's own output.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

test('the legacy tables and the report built from their events agree; written-back orders are not captured again', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'examples/strangler/run.ts'), '--once'],
    { cwd: ROOT, timeout: 240_000 },
  )
  // customer 1: 25.00 (100) + 45.00 (102) + 5.00 (201); customer 2: 7.25 (103) + 19.99 (200)
  assert.match(stdout, /report, from events: +customer 1: 75\.00, customer 2: 27\.24\n/)
  assert.match(stdout, /legacy tables, from SQL: +customer 1: 75\.00, customer 2: 27\.24\n/)
  // Two snapshot rows, two inserts, one update, one delete: the sink's two writes are not among them.
  assert.match(stdout, /events read: 6 captured changes, 2 orders placed/)
})
