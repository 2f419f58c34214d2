/**
 * Queued asynchronous invocations survive `kill -9`: every invocation whose `enqueue` resolved
 * before the kill is run after the restart (at least once), none lost.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { tempDir } from '../helpers/server.js'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '..', '..')

function child(args: string[]): {
  proc: ChildProcess
  lines: string[]
  wait: (p: (l: string[]) => boolean) => Promise<void>
} {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'lambda-async-kill9.child.ts'), ...args],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const lines: string[] = []
  let rest = ''
  const waiters: (() => void)[] = []
  proc.stdout.on('data', (c: Buffer) => {
    const parts = (rest + c.toString()).split('\n')
    rest = parts.pop()!
    lines.push(...parts)
    for (const w of waiters.splice(0)) w()
  })
  const wait = async (p: (l: string[]) => boolean) => {
    const until = Date.now() + 30_000
    while (!p(lines)) {
      if (Date.now() > until)
        throw new Error(`child did not get there: ${lines.slice(-3).join(' | ')}`)
      await new Promise<void>((r) => {
        waiters.push(r)
        setTimeout(r, 200)
      })
    }
  }
  return { proc, lines, wait }
}

const killed = (proc: ChildProcess) =>
  new Promise<void>((r) => {
    proc.once('exit', () => r())
    proc.kill('SIGKILL')
  })

test('asynchronous invocations committed before kill -9 all run after the restart', async () => {
  const dataDir = tempDir('junction-lambda-kill9-')
  const first = child(['enqueue', dataDir, '2000'])
  // Killed in the middle of the stream of commits.
  await first.wait((l) => l.filter((x) => x.startsWith('committed ')).length >= 300)
  await killed(first.proc)
  const committed = first.lines.filter((x) => x.startsWith('committed ')).map((x) => x.slice(10))
  assert.ok(committed.length >= 300 && committed.length < 2000, String(committed.length))

  const second = child(['drain', dataDir])
  try {
    const invoked = () =>
      new Set(second.lines.filter((x) => x.startsWith('invoked ')).map((x) => x.slice(8)))
    await second.wait(() => committed.every((id) => invoked().has(id)))
    const missing = committed.filter((id) => !invoked().has(id))
    assert.deepEqual(missing, [])
  } finally {
    await killed(second.proc)
  }
})
