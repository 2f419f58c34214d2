/**
 * @module
 * What the source knows of each captured table: its primary key (the events' `key`) and which
 * columns hold JSON. MariaDB's JSON is a LONGTEXT with a `json_valid()` check, indistinguishable
 * from text in the binlog, so the check constraints tell. Read from information_schema on a
 * table's first row event and again after any DDL on its database.
 */
import type { Connection, RowDataPacket } from 'mysql2/promise'

export type TableInfo = {
  /** Primary key columns in key order (empty: the table has none, events carry `key: null`). */
  key: string[]
  /** Columns whose values are JSON documents (decoded into nested JSON). */
  json: Set<string>
  /** Column name → lowercased data type (`bigint`, `datetime`, `blob`…). */
  types: Map<string, string>
}

type Row = RowDataPacket

export class TableCache {
  private readonly tables = new Map<string, TableInfo>()

  constructor(private readonly conn: () => Connection) {}

  async get(database: string, table: string): Promise<TableInfo> {
    const name = `${database}.${table}`
    const known = this.tables.get(name)
    if (known) return known
    const info = await this.read(database, table)
    this.tables.set(name, info)
    return info
  }

  /** Only what is cached (row events of a table always follow a lookup of it). */
  peek(database: string, table: string): TableInfo | undefined {
    return this.tables.get(`${database}.${table}`)
  }

  /** After DDL: forget every table (a statement may name several, in any database, or rename). */
  forgetAll(): void {
    this.tables.clear()
  }

  /** Base tables of a database, for the snapshot. */
  async list(database: string): Promise<string[]> {
    const [rows] = await this.conn().query<(Row & { t: string })[]>(
      "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
      [database],
    )
    return rows.map((r) => r.t)
  }

  private async read(database: string, table: string): Promise<TableInfo> {
    const conn = this.conn()
    const [columns] = await conn.query<(Row & { c: string; t: string; k: string })[]>(
      'SELECT COLUMN_NAME AS c, DATA_TYPE AS t, COLUMN_KEY AS k FROM information_schema.COLUMNS ' +
        'WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [database, table],
    )
    const [keys] = await conn.query<(Row & { c: string })[]>(
      'SELECT COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE ' +
        "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
      [database, table],
    )
    const types = new Map(columns.map((r) => [r.c, r.t.toLowerCase()]))
    const json = new Set(columns.filter((r) => r.t.toLowerCase() === 'json').map((r) => r.c))
    // MariaDB: JSON columns are LONGTEXT with the check json_valid(`col`). MySQL has no such
    // table before 8.0.16, and its JSON columns say so in DATA_TYPE.
    try {
      const [checks] = await conn.query<(Row & { clause: string })[]>(
        'SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS ' +
          'WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?',
        [database, table],
      )
      for (const { clause } of checks) {
        const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(clause.trim())
        if (m) json.add(m[1]!.replace(/``/g, '`'))
      }
    } catch {
      // no CHECK_CONSTRAINTS table (MySQL 5.7): JSON columns are typed
    }
    return { key: keys.map((r) => r.c), json, types }
  }
}
