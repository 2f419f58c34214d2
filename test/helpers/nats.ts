/**
 * A nats-server of our own for a test (Debian's package, installed by scripts/test-clients.sh):
 * JetStream on, its store in a temporary directory, on a free loopback port, so that a test can
 * stop or kill it without touching the machine's own server on 4222.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type NatsServer = {
  url: string
  port: number
  storeDir: string
  child: ChildProcess
  /** Everything the server logged so far. */
  output(): string
  /** SIGTERM; resolves when it has exited. */
  stop(): Promise<void>
  /** SIGKILL, as a crash. */
  kill(): Promise<void>
}

export function natsServerBinary(): string {
  for (const path of ['/usr/sbin/nats-server', '/usr/bin/nats-server'])
    if (existsSync(path)) return path
  return 'nats-server'
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => {
        resolve(port)
      })
    })
  })
}

/** A nats-server process that has logged "Server is ready". */
export type NatsProcess = {
  child: ChildProcess
  /** Resolves when the process has exited, however it ended. */
  exited: Promise<void>
  /** Everything the server logged so far. */
  output: () => string
}

/**
 * Spawns nats-server with these arguments and resolves once it is ready to take clients; rejects
 * with the server's log if it exits first or is not ready within 15 s (a port taken, a bad config).
 */
export async function spawnNatsServer(args: string[]): Promise<NatsProcess> {
  const child = spawn(natsServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const collect = (c: Buffer) => (out += c.toString())
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`nats-server did not start:\n${out}`))
    }, 15_000)
    const check = () => {
      if (out.includes('Server is ready')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout.on('data', check)
    child.stderr.on('data', check)
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`nats-server exited:\n${out}`))
    })
  })
  return { child, exited, output: () => out }
}

export async function startNatsServer(
  options: { port?: number; storeDir?: string } = {},
): Promise<NatsServer> {
  const port = options.port ?? (await freePort())
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'junction-nats-'))
  const { child, exited, output } = await spawnNatsServer([
    '-js',
    '-sd',
    storeDir,
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
  ])
  return {
    url: `nats://127.0.0.1:${String(port)}`,
    port,
    storeDir,
    child,
    output,
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
  }
}
