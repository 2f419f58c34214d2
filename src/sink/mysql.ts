/**
 * @module
 * MySQL/MariaDB sinks: one `INSERT … ON DUPLICATE KEY UPDATE` per event, the batch in one
 * transaction, on a pool of one connection per sink.
 *
 * The version guard: every column is assigned `IF(newer, VALUES(col), col)`, with the version
 * column assigned last, because MySQL evaluates the assignments left to right and each later
 * one sees the columns already changed. `newer` compares the versions as binary strings (byte
 * order, whatever the column's collation); a row without a version (written by someone else) is
 * always overwritten.
 *
 * Echo suppression (MariaDB): each session runs `SET SESSION skip_replication = 1`, so its
 * binlog events carry the skip-replication flag that Junction's MySQL source drops. MySQL has no
 * such setting: a MySQL sink must set `echoSuppression` false.
 */
import mysql from 'mysql2/promise'
import { columnsOf, describeRow, type Dialect, type SinkFailure } from './dialect.js'
import { maskUrl, type SinkDefinition } from './model.js'
import type { RowWrite } from './rows.js'

const ident = (s: string) => `\`${s.replace(/`/g, '``')}\``
const table = (t: string) => t.split('.').map(ident).join('.')

/**
 * The upsert for one row, with its parameters. `temporal` names the table's DATETIME and
 * TIMESTAMP columns: their ISO 8601 values are rewritten as MySQL takes them (UTC).
 */
export function mysqlUpsert(
  def: SinkDefinition,
  row: RowWrite,
  temporal: ReadonlySet<string> = new Set(),
): { text: string; values: unknown[] } {
  const { names, values } = columnsOf(def, row)
  names.forEach((n, i) => {
    const value = values[i]
    if (temporal.has(n) && typeof value === 'string') values[i] = mysqlDatetime(value)
  })
  const key = new Set(def.key)
  const v = ident(def.versionColumn)
  const newer = `(${v} IS NULL OR CAST(VALUES(${v}) AS BINARY) > CAST(${v} AS BINARY))`
  // The version last: the conditions before it must all see the row's old version.
  const updated = [
    ...names.filter((n) => !key.has(n) && n !== def.versionColumn),
    def.versionColumn,
  ]
  const sets = updated.map((n) => `${ident(n)} = IF(${newer}, VALUES(${ident(n)}), ${ident(n)})`)
  const text =
    `INSERT INTO ${table(def.table)} (${names.map(ident).join(', ')}) ` +
    `VALUES (${names.map(() => '?').join(', ')}) ON DUPLICATE KEY UPDATE ${sets.join(', ')}`
  return { text, values }
}

/**
 * A delete, as for PostgreSQL (`pgTombstone`): the row becomes a tombstone under the version
 * guard (`update`); where there is no row yet, a bare tombstone row of the key, the version and
 * the flag is inserted (`insert`), so that a late insert of the key cannot bring it back. Two
 * statements, not an upsert of the key alone: MySQL fills and checks every NOT NULL column of an
 * INSERT's row before it looks for the duplicate key, so such an upsert fails (1364) on a table
 * with other NOT NULL columns even when the row exists.
 */
export function mysqlTombstone(
  def: SinkDefinition,
  row: RowWrite,
): { update: { text: string; values: unknown[] }; insert: { text: string; values: unknown[] } } {
  const keys = def.key.map((k) => row.values.get(k))
  const t = table(def.table)
  const v = ident(def.versionColumn)
  const d = ident(def.deletedColumn)
  const match = def.key.map((k) => `${ident(k)} = ?`).join(' AND ')
  return {
    update: {
      text:
        `UPDATE ${t} SET ${d} = 1, ${v} = ? WHERE ${match} ` +
        `AND (${v} IS NULL OR CAST(${v} AS BINARY) < CAST(? AS BINARY))`,
      values: [row.version, ...keys, row.version],
    },
    insert: {
      text:
        `INSERT INTO ${t} (${[...def.key.map(ident), v, d].join(', ')}) ` +
        `SELECT ${def.key.map(() => '?').join(', ')}, ?, 1 FROM DUAL ` +
        `WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${match})`,
      values: [...keys, row.version, ...keys],
    },
  }
}

/** Around a bare tombstone, which a table with other NOT NULL columns cannot hold. */
const TOMBSTONE_SAVEPOINT = 'junction_tombstone'
/** No default for a NOT NULL column (1364), a NULL into one (1048). */
const CANNOT_HOLD_TOMBSTONE = new Set([1364, 1048])

const ISO_8601 = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d{1,6})?(Z|[+-]\d{2}:?\d{2})?$/

/**
 * An ISO 8601 time (`2026-11-29T09:04:04.963767Z`, as change events carry them) as MySQL's
 * DATETIME text in UTC, microseconds kept (`2026-11-29 09:04:04.963767`); other text unchanged.
 */
export function mysqlDatetime(text: string): string {
  const m = ISO_8601.exec(text)
  if (!m) return text
  const [, date, time, fraction = '', zone] = m
  if (zone === undefined || zone === 'Z' || /^[+-]00:?00$/.test(zone))
    return `${date!} ${time!}${fraction}`
  const offset = zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`
  const utc = new Date(`${date!}T${time!}${offset}`)
  if (Number.isNaN(utc.getTime())) return text
  return `${utc.toISOString().slice(0, 19).replace('T', ' ')}${fraction}`
}

export function openMysqlDialect(def: SinkDefinition): Dialect {
  const pool = mysql.createPool({
    uri: def.url,
    connectionLimit: 1,
    connectTimeout: 10_000,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
  })
  const ready = new WeakSet<object>()
  // Looked up until the table is found (it may be created after the sink).
  let temporal: Set<string> | undefined
  const [schema, name] = def.table.includes('.') ? def.table.split('.') : [null, def.table]

  return {
    async write(rows) {
      const conn = await pool.getConnection()
      const state = { broken: false }
      try {
        if (!ready.has(conn.connection)) {
          if (def.echoSuppression) {
            try {
              await conn.query('SET SESSION skip_replication = 1')
            } catch (e) {
              state.broken = true
              throw new EchoError(e)
            }
          }
          // TIMESTAMP columns then read the UTC times the events carry as UTC.
          await conn.query("SET SESSION time_zone = '+00:00'")
          ready.add(conn.connection)
        }
        if (temporal === undefined) {
          const [found] = await conn.query(
            `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?
               AND DATA_TYPE IN ('datetime', 'timestamp')`,
            [schema, name],
          )
          const names = (found as { name: string }[]).map((c) => c.name)
          const [exists] = await conn.query(
            `SELECT 1 FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?`,
            [schema, name],
          )
          if ((exists as unknown[]).length > 0) temporal = new Set(names)
        }
        await conn.beginTransaction()
        try {
          for (const row of rows) {
            if (!row.deleted) {
              const { text, values } = mysqlUpsert(def, row, temporal)
              await conn.query(text, values)
              continue
            }
            const { update, insert } = mysqlTombstone(def, row)
            await conn.query(update.text, update.values)
            await conn.query(`SAVEPOINT ${TOMBSTONE_SAVEPOINT}`)
            try {
              await conn.query(insert.text, insert.values)
            } catch (e) {
              // A delete of a row this table never had, and cannot hold as a bare tombstone:
              // nothing to delete (a late insert of that key would then stay; docs/sinks.md).
              if (!CANNOT_HOLD_TOMBSTONE.has(serverErrno(e) ?? 0)) throw e
              await conn.query(`ROLLBACK TO SAVEPOINT ${TOMBSTONE_SAVEPOINT}`)
            }
          }
          await conn.commit()
        } catch (e) {
          await conn.rollback().catch(() => {
            state.broken = true
          })
          if (serverErrno(e) === undefined) state.broken = true
          throw e
        }
      } finally {
        // A connection in an unknown state is closed, not handed to the next write.
        if (state.broken) conn.destroy()
        else conn.release()
      }
    },
    classify: (e, rows) => classifyMysql(def, e, rows),
    close: () => pool.end(),
  }
}

class EchoError extends Error {
  constructor(readonly original: unknown) {
    super((original as Error).message, { cause: original })
  }
}

type MysqlError = { errno?: unknown; sqlState?: unknown; code?: unknown; message?: string }

/**
 * The server's error number, or undefined for a client-side failure (a socket error's `errno`
 * is node's, negative, and comes without a SQLSTATE).
 */
function serverErrno(e: unknown): number | undefined {
  const { errno, sqlState } = e as MysqlError
  return typeof errno === 'number' && errno > 0 && typeof sqlState === 'string' ? errno : undefined
}

/** Server errors worth retrying: deadlock, lock wait, too many connections, shutdown, lost. */
const RETRYABLE_ERRNO = new Set([1040, 1053, 1205, 1213, 1927, 2002, 2003, 2006, 2013, 4031])

export function classifyMysql(def: SinkDefinition, e: unknown, rows: RowWrite[]): SinkFailure {
  const err = (e instanceof EchoError ? e.original : e) as MysqlError
  const where = `sink ${def.name} (${def.table} on ${maskUrl(def.url)})`
  const errno = serverErrno(err)
  if (e instanceof EchoError) {
    if (errno === 1193)
      return {
        retryable: false,
        errorCode: 'SDK_CLIENT_ERROR',
        errorMessage: `The ${where} cannot set skip_replication (a MariaDB setting; MySQL has none): ${err.message ?? ''}. Set echoSuppression false on the sink.`,
      }
    if (errno === 1227 || errno === 1044 || errno === 1045)
      return {
        retryable: false,
        errorCode: 'NO_PERMISSIONS',
        errorMessage: `The ${where} cannot set skip_replication: ${err.message ?? ''}. The server refused it (some servers require the SUPER or BINLOG ADMIN privilege); grant it, or set echoSuppression false on the sink.`,
      }
  }
  // Socket errors (ECONNREFUSED, PROTOCOL_CONNECTION_LOST, …) carry no server errno.
  if (errno === undefined || RETRYABLE_ERRNO.has(errno))
    return {
      retryable: true,
      errorCode: 'SDK_CLIENT_ERROR',
      errorMessage: `The ${where} could not write: ${err.message ?? String(e)}`,
    }
  const row = rows.length === 1 ? `; row ${describeRow(rows[0]!)}` : ''
  const message = `The ${where} could not write: ${err.message ?? ''} [${String(err.code)}]${row}`
  if (errno === 1146 || errno === 1049)
    return { retryable: false, errorCode: 'NO_RESOURCE', errorMessage: message }
  if (errno === 1142 || errno === 1143 || errno === 1044 || errno === 1045)
    return { retryable: false, errorCode: 'NO_PERMISSIONS', errorMessage: message }
  return { retryable: false, errorCode: 'SDK_CLIENT_ERROR', errorMessage: message }
}
