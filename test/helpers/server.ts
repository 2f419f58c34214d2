/**
 * Starts a real `junction serve` process on a free port (the CLI, through tsx), waits until it
 * listens, and stops it: gracefully (SIGTERM) or as a crash (SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SERVE_NODE_OPTIONS } from '../../src/cli/node-options.js'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export type ServerProcess = {
  url: string
  port: number
  dataDir: string
  child: ChildProcess
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>
  /** SIGKILL, as a crash. */
  kill(): Promise<void>
}

export function tempDir(prefix = 'junction-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export async function startServerProcess(
  options: {
    dataDir?: string
    port?: number
    args?: string[]
    env?: NodeJS.ProcessEnv
    /** Options for node itself (`--cpu-prof`, which NODE_OPTIONS refuses). */
    nodeArgs?: string[]
  } = {},
): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? tempDir()
  const child = spawn(
    process.execPath,
    [
      ...SERVE_NODE_OPTIONS,
      ...(options.nodeArgs ?? []),
      '--import',
      'tsx',
      join(repoRoot, 'src/cli/main.ts'),
      'serve',
      '--port',
      String(options.port ?? 0),
      '--data',
      dataDir,
      ...(options.args ?? []),
    ],
    { cwd: repoRoot, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  child.stdout.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr.on('data', (c: Buffer) => (out += c.toString()))
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)))
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      rej(new Error(`server did not start:\n${out}`))
    }, 30_000)
    const check = () => {
      const m = /"url":"(http:[^"]+)"/.exec(out)
      if (m) {
        clearTimeout(timer)
        res(m[1]!)
      }
    }
    child.stdout.on('data', check)
    void exited.then((code) => {
      clearTimeout(timer)
      rej(new Error(`server exited with ${String(code)}:\n${out}`))
    })
  })
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    child,
    output: () => out,
    async stop() {
      child.kill('SIGTERM')
      return exited
    },
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
  }
}
