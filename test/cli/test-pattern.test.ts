import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

function junction(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('test-pattern exits 0 on a match, 1 on none, 2 on an invalid pattern', () => {
  const hit = junction('test-pattern', '--pattern', '{"source":["a"]}', '--event', '{"source":"a"}')
  assert.equal(hit.status, 0)
  assert.equal(hit.stdout, 'true\n')
  const miss = junction(
    'test-pattern',
    '--pattern',
    '{"source":["a"]}',
    '--event',
    '{"source":"b"}',
    '--explain',
  )
  assert.equal(miss.status, 1)
  assert.equal(miss.stdout, 'no match: source: "b" matched none of ["a"]\n')
  const bad = junction('test-pattern', '--pattern', '{"source":"a"}', '--event', '{}')
  assert.equal(bad.status, 2)
  assert.match(
    bad.stderr,
    /^InvalidEventPatternException: Event pattern is not valid\. Reason: "source" must be an object or an array/,
  )
})

test('test-pattern reads @file arguments', () => {
  const dir = mkdtempSync(join(tmpdir(), 'junction-cli-'))
  writeFileSync(join(dir, 'p.json'), '{"detail":{"n":[{"numeric":[">",1]}]}}')
  writeFileSync(join(dir, 'e.json'), '{"detail":{"n":2}}')
  const r = junction(
    'test-pattern',
    '--pattern',
    `@${join(dir, 'p.json')}`,
    '--event',
    `@${join(dir, 'e.json')}`,
  )
  assert.equal(r.status, 0)
})
