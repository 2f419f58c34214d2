/**
 * One server per data directory: a second `junction serve` on a directory in use exits with an
 * error naming the directory and the process holding it, and a `kill -9` leaves no stale lock.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createSqliteStore } from '../../src/store/sqlite/index.js'
import { startServerProcess, tempDir } from '../helpers/server.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Runs `junction serve` on `dataDir` to its exit; what it printed and its exit code. */
function serveUntilExit(dataDir: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'src/cli/main.ts'),
      'serve',
      '--port',
      '0',
      '--data',
      dataDir,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr.on('data', (c: Buffer) => (output += c.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  return new Promise((res) =>
    child.once('exit', (code) => {
      clearTimeout(timer)
      res({ code, output })
    }),
  )
}

describe('one server per data directory', () => {
  test('a second server on a directory in use exits naming it and the holder', async () => {
    const first = await startServerProcess()
    try {
      const second = await serveUntilExit(first.dataDir)
      assert.notEqual(second.code, 0)
      assert.ok(second.output.includes(first.dataDir), second.output)
      assert.ok(second.output.includes(`process ${String(first.child.pid)}`), second.output)
      assert.doesNotMatch(second.output, /junction is listening/)
      // The first one is unharmed.
      assert.equal((await fetch(`${first.url}/health`)).status, 200)
    } finally {
      await first.stop()
    }
  })

  test('kill -9 leaves no stale lock: the next server starts on the directory', async () => {
    const first = await startServerProcess()
    await first.kill()
    const next = await startServerProcess({ dataDir: first.dataDir })
    try {
      assert.equal((await fetch(`${next.url}/health`)).status, 200)
    } finally {
      assert.equal(await next.stop(), 0)
    }
  })

  test('in one process too: a second store on the directory is refused until the first closes', async () => {
    const dataDir = tempDir()
    const store = createSqliteStore({ dataDir })
    assert.throws(() => createSqliteStore({ dataDir }), {
      name: 'DataDirInUseError',
      message: new RegExp(`data directory ${dataDir} is in use`),
    })
    await store.close()
    const again = createSqliteStore({ dataDir })
    await again.close()
  })
})
