/**
 * A MariaDB server of our own for a test: a throwaway instance (mariadb-install-db) in a
 * temporary directory on a free loopback port, with the binlog set up for change capture
 * (`binlog_format=ROW`, `binlog_row_image=FULL`, `binlog_row_metadata=FULL`, GTIDs) and `root`
 * reachable over TCP from 127.0.0.1 without a password. Debian's server binaries are used
 * (scripts/test-clients.sh installs them where missing). The machine's own server on 3306 is
 * never touched.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './nats.js'

export type MariaDbServer = {
  port: number
  /** `mysql://root@127.0.0.1:<port>/test` */
  url: string
  dataDir: string
  /** Runs SQL through the mariadb client (database `test`) and returns its batch output, trimmed. */
  sql(text: string): string
  /** SIGTERM (a clean shutdown); resolves when it has exited. */
  stop(): Promise<void>
  /** SIGKILL, as a crash. */
  kill(): Promise<void>
  /** Starts it again on the same directory and port. */
  start(): Promise<void>
  log(): string
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>
}

const SERVER = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find((p) => existsSync(p)) ?? 'mariadbd'

/** `serverId` is the instance's own server_id (a capturing client must use another). */
export async function startMariaDb(
  options: { serverId?: number; args?: string[] } = {},
): Promise<MariaDbServer> {
  const root = mkdtempSync(join(tmpdir(), 'junction-mariadb-'))
  const dataDir = join(root, 'data')
  const socket = join(root, 'mysqld.sock')
  execFileSync('chown', ['mysql', root])
  execFileSync(
    'mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${dataDir}`,
      // its own temporary files: instances set up at the same time never share /tmp's
      `--tmpdir=${root}`,
      '--user=mysql',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    { stdio: 'pipe' },
  )
  const port = await freePort()
  const args = [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--socket=${socket}`,
    `--tmpdir=${root}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    '--user=mysql',
    `--pid-file=${join(root, 'mysqld.pid')}`,
    `--server-id=${options.serverId ?? 1}`,
    `--log-bin=${join(dataDir, 'binlog')}`,
    '--binlog-format=ROW',
    '--binlog-row-image=FULL',
    '--binlog-row-metadata=FULL',
    '--innodb-flush-log-at-trx-commit=2',
    '--sync-binlog=0',
    '--skip-name-resolve',
    ...(options.args ?? []),
  ]
  let child: ChildProcess | undefined
  let out = ''
  let exited: Promise<void> = Promise.resolve()
  const client = (sqlText: string, viaSocket: boolean, database = 'test') =>
    execFileSync(
      'mariadb',
      [
        ...(viaSocket ? [`--socket=${socket}`] : ['-h', '127.0.0.1', '-P', String(port)]),
        '-u',
        'root',
        '--batch',
        '--skip-column-names',
        ...(database ? ['-D', database] : []),
        '-e',
        sqlText,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    ).trim()
  const start = async () => {
    out = ''
    const c = spawn(SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child = c
    c.stdout.on('data', (b: Buffer) => (out += b.toString()))
    c.stderr.on('data', (b: Buffer) => (out += b.toString()))
    exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    const deadline = Date.now() + 30_000
    for (;;) {
      if (c.exitCode !== null) throw new Error(`mariadbd exited:\n${out}`)
      try {
        client('SELECT 1', true, '')
        return
      } catch {
        if (Date.now() > deadline) throw new Error(`mariadbd did not start:\n${out}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
  }
  await start()
  client(
    "CREATE DATABASE IF NOT EXISTS test; CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; " +
      "GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;",
    true,
    '',
  )
  const stopWith = async (signal: NodeJS.Signals) => {
    if (!child || child.exitCode !== null) return
    child.kill(signal)
    await exited
  }
  let destroyed = false
  return {
    port,
    url: `mysql://root@127.0.0.1:${port}/test`,
    dataDir,
    sql: (text) => client(text, false),
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
    start,
    log: () => out,
    async destroy() {
      if (destroyed) return
      destroyed = true
      await stopWith('SIGKILL')
      rmSync(root, { recursive: true, force: true })
    },
  }
}
