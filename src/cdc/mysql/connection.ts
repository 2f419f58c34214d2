/**
 * @module
 * How a MySQL/MariaDB source reaches its server: the definition's `mysql://` URL turned into
 * mysql2 options that every connection of the source shares (the binlog reader's, the control
 * connection's, the snapshot's), so values decode the same way on each path.
 */
import { createHash } from 'node:crypto'
import type { ConnectionOptions } from 'mysql2'
import type { SourceDefinition } from '../model.js'

/** The databases whose tables are captured: the URL's database, or every non-system one. */
export type Scope = { database: string | undefined }

const SYSTEM_DATABASES = new Set(['mysql', 'information_schema', 'performance_schema', 'sys'])

export function inScope(scope: Scope, database: string): boolean {
  if (scope.database !== undefined) return database === scope.database
  return !SYSTEM_DATABASES.has(database)
}

/**
 * `mysql://user:password@host:port/database`. Dates stay text (`dateStrings`, microseconds
 * kept), TIMESTAMPs are read in UTC, BIGINT and DECIMAL come as exact strings.
 */
export function connectionOptions(url: string): { options: ConnectionOptions; scope: Scope } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error('the source URL is not a URL (mysql://user:password@host:port/database)')
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new Error(`the source URL must start with mysql:// (got ${parsed.protocol}//)`)
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || undefined
  const options: ConnectionOptions = {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username) || 'root',
    password: decodeURIComponent(parsed.password),
    dateStrings: true,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    connectTimeout: 10_000,
  }
  return { options, scope: { database } }
}

/**
 * The server id the source registers with when its definition names none: derived from the
 * source's name, so it is stable across restarts, and kept clear of the small ids servers
 * usually have (a replica whose id equals its primary's is refused).
 */
export function defaultServerId(
  def: Pick<SourceDefinition, 'account' | 'region' | 'name'>,
): number {
  const h = createHash('sha1').update(`${def.account}/${def.region}/${def.name}`).digest()
  // 1,000,000 .. 2^31-1
  return 1_000_000 + (h.readUInt32BE(0) % (2 ** 31 - 1_000_000))
}
