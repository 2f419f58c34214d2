/**
 * @module
 * The example's Junction: a `junction serve` child process (signatures checked, manual clock,
 * its own data directory and log file), and the `junction` commands run against it as one
 * account or another (`junction deploy`, `junction clock advance`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SERVE_NODE_OPTIONS } from '../../../src/cli/node-options.js'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const CLI = join(REPO_ROOT, 'src', 'cli', 'main.ts')

/** `node --import tsx src/cli/main.ts …`: the command line, run from the sources. */
const junctionArgs = (args: string[]) => ['--import', 'tsx', CLI, ...args]

export type Server = { url: string; child: ChildProcess; stop(): Promise<void> }

/**
 * Starts `junction serve` on a free port with `--auth sigv4`, the credentials file and a manual
 * clock; its log goes to `logFile`. Resolves once it listens.
 */
export async function startServer(o: {
  dataDir: string
  credentials: string
  logFile: string
  port?: number
}): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      ...SERVE_NODE_OPTIONS,
      ...junctionArgs([
        'serve',
        '--port',
        String(o.port ?? 0),
        '--data',
        o.dataDir,
        '--auth',
        'sigv4',
        '--credentials',
        o.credentials,
        '--clock',
        'manual',
        '--allow-manual-clock',
      ]),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const log = createWriteStream(o.logFile)
  child.stdout.pipe(log)
  child.stderr.pipe(log)
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  let head = ''
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      fail(new Error(`junction serve did not start in 30 s; see ${o.logFile}`))
    }, 30_000)
    const look = (chunk: Buffer) => {
      head += chunk.toString()
      const m = /"url":"(http:[^"]+)"/.exec(head)
      if (m) {
        clearTimeout(timer)
        child.stdout.off('data', look)
        done(m[1]!)
      }
    }
    child.stdout.on('data', look)
    void exited.then((code) => {
      clearTimeout(timer)
      fail(new Error(`junction serve exited with ${String(code)}:\n${head}`))
    })
  })
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await exited
    },
  }
}

export type Run = { code: number | null; stdout: string; stderr: string }

/** Runs a `junction` command with the given environment (an account's credentials). */
export function junction(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, junctionArgs(args), {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.once('error', fail)
    child.once('exit', (code) => done({ code, stdout, stderr }))
  })
}

/** `junction …` that must succeed: its output, or an error carrying what it printed. */
export async function mustRun(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const r = await junction(args, env)
  if (r.code !== 0)
    throw new Error(
      `junction ${args.join(' ')} failed (exit ${String(r.code)}):\n${r.stdout}${r.stderr}`,
    )
  return r.stdout
}
