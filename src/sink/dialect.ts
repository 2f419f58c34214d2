/**
 * @module
 * What each database kind gives a sink's writer: one transaction of upserts, and the meaning of
 * its errors. `postgres.ts` and `mysql.ts` each export one {@link openDialect}-shaped function.
 */
import type { SinkDefinition } from './model.js'
import type { RowWrite } from './rows.js'

/**
 * Why a write failed: `retryable` for what may pass later (the database down, a deadlock, a
 * serialization failure), not for what will fail again (a missing table or column, a value of
 * the wrong type, a missing privilege). The message names the sink's table and the column.
 */
export type SinkFailure = {
  retryable: boolean
  /** The dead-letter queue's ERROR_CODE: `NO_RESOURCE`, `NO_PERMISSIONS`, `SDK_CLIENT_ERROR`. */
  errorCode: string
  errorMessage: string
}

export type Dialect = {
  /** Writes the rows in one transaction (all or none); throws what {@link classify} reads. */
  write(rows: RowWrite[]): Promise<void>
  classify(error: unknown, rows: RowWrite[]): SinkFailure
  /** Closes the pool (connections in use close once released). */
  close(): Promise<void>
}

export type OpenDialect = (def: SinkDefinition) => Dialect

/** The row's columns in statement order: its values, then the version, then the tombstone flag. */
export function columnsOf(
  def: SinkDefinition,
  row: RowWrite,
): { names: string[]; values: unknown[] } {
  const names = [...row.values.keys(), def.versionColumn, def.deletedColumn]
  const values = [...row.values.values(), row.version, row.deleted].map(toParameter)
  return { names, values }
}

/** JSON objects and arrays go to the database as JSON text (json/jsonb columns take it). */
function toParameter(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? JSON.stringify(v) : v
}

/** A short description of the row, for error messages (values cut at 40 characters). */
export function describeRow(row: RowWrite): string {
  const parts = [...row.values].map(([k, v]) => {
    const text = v === undefined ? 'undefined' : JSON.stringify(v)
    return `${k}=${text.length > 40 ? `${text.slice(0, 40)}…` : text}`
  })
  return `${row.deleted ? 'tombstone ' : ''}${parts.join(', ')} (version ${row.version})`
}
