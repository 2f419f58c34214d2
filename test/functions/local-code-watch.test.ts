// CodeWatches on real directories: changes anywhere in the tree (also in directories created
// after the watch began) are reported once per quiet spell; node_modules and dot-names are not;
// an unwatched or replaced tree reports nothing more.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { CodeWatches } from '../../src/functions/code-watch.js'

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'junction-watch-'))
  writeFileSync(join(dir, 'index.mjs'), 'a')
  mkdirSync(join(dir, 'lib'))
  mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true })
  const calls: string[] = []
  const failures: string[] = []
  const watches = new CodeWatches({
    debounceMs: 100,
    changed: (key) => calls.push(key),
    failed: (key, _dir, e) => failures.push(`${key}: ${e.message}`),
  })
  return { dir, calls, failures, watches }
}

test('a change in the tree is reported once after the quiet spell', async () => {
  const { dir, calls, watches } = setup()
  watches.watch('fn', dir)
  writeFileSync(join(dir, 'index.mjs'), 'b')
  writeFileSync(join(dir, 'lib', 'util.mjs'), 'c')
  writeFileSync(join(dir, 'index.mjs'), 'd')
  await sleep(50)
  assert.deepEqual(calls, [])
  await sleep(300)
  assert.deepEqual(calls, ['fn'])
  watches.close()
})

test('a directory created after the watch began is watched too', async () => {
  const { dir, calls, watches } = setup()
  watches.watch('fn', dir)
  mkdirSync(join(dir, 'handlers', 'deep'), { recursive: true })
  await sleep(300)
  calls.length = 0
  writeFileSync(join(dir, 'handlers', 'deep', 'x.mjs'), 'x')
  await sleep(300)
  assert.deepEqual(calls, ['fn'])
  // Removed again: no error, and changes elsewhere still count.
  rmSync(join(dir, 'handlers'), { recursive: true })
  await sleep(300)
  calls.length = 0
  writeFileSync(join(dir, 'lib', 'y.mjs'), 'y')
  await sleep(300)
  assert.deepEqual(calls, ['fn'])
  watches.close()
})

test('node_modules and dot-names are ignored', async () => {
  const { dir, calls, watches } = setup()
  watches.watch('fn', dir)
  writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'module.exports = 2')
  mkdirSync(join(dir, '.git'))
  writeFileSync(join(dir, '.git', 'HEAD'), 'ref')
  writeFileSync(join(dir, '.index.mjs.swp'), 'swap')
  await sleep(400)
  assert.deepEqual(calls, [])
  watches.close()
})

test('after unwatch, or a watch moved to another directory, the old one reports nothing', async () => {
  const { dir, calls, watches } = setup()
  const other = mkdtempSync(join(tmpdir(), 'junction-watch-other-'))
  watches.watch('fn', dir)
  watches.watch('fn', other)
  assert.equal(watches.watched('fn'), other)
  writeFileSync(join(dir, 'index.mjs'), 'changed')
  await sleep(300)
  assert.deepEqual(calls, [])
  writeFileSync(join(other, 'index.mjs'), 'new')
  await sleep(300)
  assert.deepEqual(calls, ['fn'])
  watches.unwatch('fn')
  writeFileSync(join(other, 'index.mjs'), 'again')
  await sleep(300)
  assert.deepEqual(calls, ['fn'])
})

test('a directory that does not exist fails the watch, naming it', () => {
  const { dir, failures, watches } = setup()
  watches.watch('fn', join(dir, 'missing'))
  assert.equal(failures.length, 1)
  assert.match(failures[0]!, /^fn: .*ENOENT.*missing/)
  assert.equal(watches.watched('fn'), undefined)
})
