/**
 * @module
 * Column values as they go into events (docs/cdc.md, "MySQL and MariaDB", lists the encoding): integers up to
 * INT and floats as numbers, BIGINT and DECIMAL as exact strings, JSON nested, binary as
 * base64, DATETIME as ISO 8601 without a zone and TIMESTAMP in UTC with `Z`, both keeping
 * microseconds. The binlog reader (zongji) and snapshot queries (mysql2) hand over the same
 * shapes, since both run with `dateStrings`, `timezone: 'Z'` and big-number strings.
 */
import type { TableInfo } from './tables.js'

const DATE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/

export function encodeValue(type: string | undefined, isJson: boolean, value: unknown): unknown {
  if (value === null || value === undefined) return null
  if (Buffer.isBuffer(value)) return value.toString('base64')
  if (typeof value === 'bigint') return value.toString()
  if ((type === 'bigint' || type === 'decimal') && typeof value === 'number') return String(value)
  if (isJson && typeof value === 'string') {
    try {
      return JSON.parse(value) as unknown
    } catch {
      return value
    }
  }
  if (typeof value === 'string' && (type === 'datetime' || type === 'timestamp')) {
    const m = DATE_TIME.exec(value)
    // zero dates ('0000-00-00 00:00:00') are no instants: they stay as the server wrote them
    if (!m || value.startsWith('0000-')) return value
    return `${m[1]!}T${m[2]!}${type === 'timestamp' ? 'Z' : ''}`
  }
  if (value instanceof Date) return value.toISOString()
  return value
}

export function encodeRow(
  table: TableInfo,
  row: Record<string, unknown> | null | undefined,
): Record<string, unknown> | null {
  if (!row) return null
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(row)) {
    out[name] = encodeValue(table.types.get(name), table.json.has(name), value)
  }
  return out
}

/** The primary key's values of an (encoded) row; null when the table has no primary key. */
export function keyOf(
  table: TableInfo,
  row: Record<string, unknown> | null,
): Record<string, unknown> | null {
  if (!row || table.key.length === 0) return null
  const key: Record<string, unknown> = {}
  for (const column of table.key) key[column] = row[column] ?? null
  return key
}
