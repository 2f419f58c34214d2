/**
 * @module
 * The server checks a MySQL/MariaDB source makes before it registers as a replica: each
 * missing setting or privilege fails the source with a message that names the fix, rather than
 * a stream that silently delivers nothing (or statements instead of rows).
 */
import type { Connection, RowDataPacket } from 'mysql2/promise'

export type Flavor = 'mariadb' | 'mysql'

export type ServerInfo = { flavor: Flavor; version: string; serverId: number }

/**
 * A problem only the database's operator can fix: the source stops instead of retrying.
 * `needsHuman` is how the sources' runner tells such failures from passing ones.
 */
export class SourceConfigError extends Error {
  override name = 'SourceConfigError'
  readonly needsHuman = true
}

type Row = RowDataPacket

async function variable(conn: Connection, name: string): Promise<string | undefined> {
  const [rows] = await conn.query<(Row & { Value: string })[]>('SHOW GLOBAL VARIABLES LIKE ?', [
    name,
  ])
  return rows[0]?.Value
}

/** Checks the binlog settings and the account's privileges; throws {@link SourceConfigError}. */
export async function checkServer(conn: Connection): Promise<ServerInfo> {
  const [versionRows] = await conn.query<(Row & { v: string })[]>('SELECT VERSION() AS v')
  const version = versionRows[0]?.v ?? ''
  const flavor: Flavor = /mariadb/i.test(version) ? 'mariadb' : 'mysql'
  const problems: string[] = []
  const logBin = await variable(conn, 'log_bin')
  if (logBin?.toUpperCase() !== 'ON') {
    problems.push('the binary log is off: start the server with log_bin (e.g. --log-bin=binlog)')
  }
  const format = await variable(conn, 'binlog_format')
  if (format?.toUpperCase() !== 'ROW') {
    problems.push(
      `binlog_format is ${format ?? 'unknown'}, not ROW: SET GLOBAL binlog_format = 'ROW' ` +
        '(and binlog_format=ROW in the server configuration)',
    )
  }
  const image = await variable(conn, 'binlog_row_image')
  if (image !== undefined && image.toUpperCase() !== 'FULL') {
    problems.push(
      `binlog_row_image is ${image}, not FULL: SET GLOBAL binlog_row_image = 'FULL' ` +
        '(updates and deletes would lack their full before image)',
    )
  }
  // MariaDB 10.5+ and MySQL 8 have it; older servers lack the variable (and the metadata).
  const metadata = await variable(conn, 'binlog_row_metadata')
  if (metadata !== undefined && metadata.toUpperCase() !== 'FULL') {
    problems.push(
      `binlog_row_metadata is ${metadata}, not FULL: SET GLOBAL binlog_row_metadata = 'FULL' ` +
        '(column names and keys travel in the binlog, so an ALTER TABLE never garbles rows)',
    )
  }
  if (flavor === 'mysql') {
    const gtidMode = await variable(conn, 'gtid_mode')
    if (gtidMode?.toUpperCase() !== 'ON') {
      problems.push(
        `gtid_mode is ${gtidMode ?? 'unknown'}: set gtid_mode=ON and enforce_gtid_consistency=ON ` +
          '(the source resumes from a GTID set)',
      )
    }
  }
  // MySQL 8: zongji cannot decode compressed transactions or partial JSON updates.
  const compression = await variable(conn, 'binlog_transaction_compression')
  if (compression?.toUpperCase() === 'ON') {
    problems.push(
      'binlog_transaction_compression is ON: SET GLOBAL binlog_transaction_compression = OFF ' +
        '(compressed transactions cannot be decoded)',
    )
  }
  const valueOptions = await variable(conn, 'binlog_row_value_options')
  if (valueOptions?.toUpperCase().includes('PARTIAL_JSON')) {
    problems.push(
      "binlog_row_value_options is PARTIAL_JSON: SET GLOBAL binlog_row_value_options = '' " +
        '(partial JSON updates cannot be decoded)',
    )
  }
  const missing = await missingPrivileges(conn, flavor)
  if (missing.length > 0) {
    problems.push(
      `the account lacks ${missing.join(', ')}: GRANT ${missing.join(', ')}, SELECT ON *.* TO ` +
        '<the source user>',
    )
  }
  if (problems.length > 0) {
    throw new SourceConfigError(
      `the server is not ready for change capture: ${problems.join('; ')}`,
    )
  }
  const serverId = Number(await variable(conn, 'server_id'))
  return { flavor, version, serverId }
}

/**
 * Reads SHOW GRANTS of the current account. MariaDB 10.5+ names REPLICATION CLIENT
 * BINLOG MONITOR (one is an alias of the other), and needs it for SHOW BINARY LOGS.
 */
async function missingPrivileges(conn: Connection, flavor: Flavor): Promise<string[]> {
  const [rows] = await conn.query<Row[]>('SHOW GRANTS')
  const grants = rows
    .map((r) => String(Object.values(r)[0]))
    .filter((g) => / ON \*\.\* /i.test(g))
    .map((g) => g.toUpperCase())
  const has = (privilege: string) =>
    grants.some((g) => g.includes('ALL PRIVILEGES') || g.includes(privilege))
  const missing: string[] = []
  if (!has('REPLICATION SLAVE')) missing.push('REPLICATION SLAVE')
  if (flavor === 'mariadb') {
    if (!has('BINLOG MONITOR') && !has('REPLICATION CLIENT')) missing.push('BINLOG MONITOR')
  } else if (!has('REPLICATION CLIENT')) {
    missing.push('REPLICATION CLIENT')
  }
  return missing
}
