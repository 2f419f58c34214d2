/**
 * @module
 * One server per data directory. Two processes writing one store would each keep their own view
 * of jobs and queues in memory and deliver or hand out the same work twice.
 *
 * The lock is an exclusive SQLite transaction held open on `junction.lock`: SQLite takes it with
 * a POSIX file lock, which the OS releases when the process ends however it ends, so a `kill -9`
 * never leaves a stale lock behind. The holder's process id is written beside it
 * (`junction.pid`) only so that the refusal can name it.
 */
import Database from 'better-sqlite3'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export type DirLock = { release(): void }

export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError'
}

export function lockDataDir(dataDir: string): DirLock {
  const db = new Database(join(dataDir, 'junction.lock'))
  const pidFile = join(dataDir, 'junction.pid')
  try {
    db.pragma('busy_timeout = 0')
    db.exec('BEGIN EXCLUSIVE')
  } catch (e) {
    db.close()
    if ((e as { code?: unknown }).code !== 'SQLITE_BUSY') throw e
    let holder = ''
    try {
      const pid = readFileSync(pidFile, 'utf8').trim()
      if (/^\d+$/.test(pid)) holder = ` (process ${pid})`
    } catch {
      // No pid file yet: the holder is still starting.
    }
    throw new DataDirInUseError(
      `The data directory ${dataDir} is in use by another Junction server${holder}. ` +
        'Run one server per data directory, or give this one another --data.',
    )
  }
  writeFileSync(pidFile, `${String(process.pid)}\n`)
  return {
    release() {
      if (!db.open) return
      db.exec('ROLLBACK')
      db.close()
    },
  }
}
