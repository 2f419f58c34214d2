/**
 * A PostgreSQL server of our own for a test: a throwaway cluster (initdb) in a temporary
 * directory on a free loopback port, with `wal_level = logical` so that change capture works,
 * trust authentication for `postgres`, and fsync off (a test's data need not survive the
 * machine). Debian's server binaries are used (scripts/test-clients.sh installs them where
 * missing); the server runs as the `postgres` user because PostgreSQL refuses to run as root.
 * The machine's own server on 5432 is never touched.
 */
import { execFileSync, spawn } from 'node:child_process'
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './nats.js'

export type PostgresServer = {
  port: number
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string
  dataDir: string
  /** Runs SQL through psql and returns its unaligned, tuples-only output (trimmed). */
  sql(text: string, database?: string): string
  /** `pg_ctl stop -m fast`. */
  stop(): Promise<void>
  /** `pg_ctl start` again on the same directory and port. */
  start(): Promise<void>
  /** `pg_ctl restart -m fast`. */
  restart(): Promise<void>
  /** Everything the server logged so far. */
  log(): string
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>
}

export function postgresBin(name: string): string {
  for (const dir of ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/local/bin'])
    if (existsSync(join(dir, name))) return join(dir, name)
  return name
}

const asPostgres = (command: string, args: string[]) => {
  const quoted = [command, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  // root must hand the work to the postgres user; anyone else runs it directly
  if (process.getuid?.() === 0)
    return execFileSync('su', ['postgres', '-c', quoted], { stdio: 'pipe' })
  return execFileSync(command, args, { stdio: 'pipe' })
}

/** Extra lines for postgresql.conf (e.g. `max_slot_wal_keep_size = 1MB`). */
export async function startPostgres(options: { conf?: string[] } = {}): Promise<PostgresServer> {
  const root = mkdtempSync(join(tmpdir(), 'junction-pg-'))
  const dataDir = join(root, 'data')
  const logFile = join(root, 'server.log')
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', root])
  asPostgres(postgresBin('initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ])
  const port = await freePort()
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    [
      "listen_addresses = '127.0.0.1'",
      `port = ${port}`,
      `unix_socket_directories = '${root}'`,
      'wal_level = logical',
      'max_replication_slots = 10',
      'max_wal_senders = 10',
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      ...(options.conf ?? []),
      '',
    ].join('\n'),
  )
  const ctl = (...args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const quoted = [postgresBin('pg_ctl'), '-D', dataDir, '-l', logFile, ...args]
        .map((a) => `'${a}'`)
        .join(' ')
      const child =
        process.getuid?.() === 0
          ? spawn('su', ['postgres', '-c', quoted], { stdio: 'ignore' })
          : spawn(postgresBin('pg_ctl'), ['-D', dataDir, '-l', logFile, ...args], {
              stdio: 'ignore',
            })
      child.once('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`pg_ctl ${args.join(' ')} exited ${code}:\n${readLog()}`)),
      )
    })
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')
  await ctl('-w', 'start')
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  let destroyed = false
  return {
    port,
    url,
    dataDir,
    sql(text, database = 'postgres') {
      return execFileSync(
        postgresBin('psql'),
        [
          '-h',
          '127.0.0.1',
          '-p',
          String(port),
          '-U',
          'postgres',
          '-d',
          database,
          '-v',
          'ON_ERROR_STOP=1',
          '-At',
          '-c',
          text,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      ).trim()
    },
    stop: () => ctl('-w', '-m', 'fast', 'stop'),
    start: () => ctl('-w', 'start'),
    restart: () => ctl('-w', '-m', 'fast', 'restart'),
    log: readLog,
    async destroy() {
      if (destroyed) return
      destroyed = true
      await ctl('-w', '-m', 'immediate', 'stop').catch(() => {})
      rmSync(root, { recursive: true, force: true })
    },
  }
}
