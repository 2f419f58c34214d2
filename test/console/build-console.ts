/**
 * Builds the console for the browser tests, once, however many test files ask at the same time
 * (`node --test` runs each file in its own process, in parallel). A build empties console/dist
 * first, so a second build while another file's browser is loading the console would answer it
 * 404s: the build runs under a lock (a directory, created atomically), and is skipped when
 * console/dist was already built from the same sources (a digest of them kept beside the build).
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dist = join(repoRoot, 'console', 'dist')
const stamp = join(dist, '.sources-digest')
const lock = join(repoRoot, 'console', '.build-lock')

/** What the bundle is made from: the console and the server code it bundles. */
const INPUTS = [
  'console/src',
  'console/index.html',
  'console/vite.config.ts',
  'console/package.json',
  'src/pattern',
  'src/transform',
  'src/schedule',
]

function digest(): string {
  const hash = createHash('sha256')
  const walk = (path: string) => {
    if (!existsSync(path)) return
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) walk(join(path, name))
      return
    }
    hash.update(path).update('\0').update(readFileSync(path)).update('\0')
  }
  for (const input of INPUTS) walk(join(repoRoot, input))
  return hash.digest('hex')
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Takes the lock, waiting for another test file's build; a dead holder's lock is taken over. */
async function acquire(): Promise<void> {
  const deadline = Date.now() + 180_000
  for (;;) {
    try {
      mkdirSync(lock)
      writeFileSync(join(lock, 'pid'), String(process.pid))
      return
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    let holder = NaN
    try {
      holder = Number(readFileSync(join(lock, 'pid'), 'utf8'))
    } catch {
      // the holder has made the directory and not yet written its pid
    }
    if (Number.isInteger(holder) && !pidAlive(holder))
      rmSync(lock, { recursive: true, force: true })
    if (Date.now() > deadline) throw new Error(`the console build lock ${lock} was held too long`)
    await sleep(200)
  }
}

/** The console as the install step builds it, from the sources under test. */
export async function buildConsole(): Promise<void> {
  await acquire()
  try {
    const want = digest()
    if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return
    execFileSync('npm', ['run', 'build', '-w', 'console'], { cwd: repoRoot, stdio: 'pipe' })
    writeFileSync(stamp, want)
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}
