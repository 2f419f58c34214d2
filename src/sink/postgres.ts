/**
 * @module
 * PostgreSQL sinks: one `INSERT … ON CONFLICT (key) DO UPDATE … WHERE` per event, the batch in
 * one transaction, on a pool of one connection per sink (one writer at a time keeps the batches
 * large and the replication origin, which one session holds at a time, simple).
 *
 * The version guard: an existing row changes only when the event's version is greater, compared
 * as text in the "C" collation (byte order, whatever the column's collation), or when the row has
 * no version yet (written by someone else). A redelivered or late event then changes nothing.
 *
 * Echo suppression: each session first takes the replication origin `junction` (created when
 * missing), so its commits carry that origin and Junction's PostgreSQL source drops them.
 */
import pg from 'pg'
import { columnsOf, describeRow, type Dialect, type SinkFailure } from './dialect.js'
import { maskUrl, type SinkDefinition } from './model.js'
import type { RowWrite } from './rows.js'

export const REPLICATION_ORIGIN = 'junction'

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`
export const pgTable = (table: string) => table.split('.').map(ident).join('.')

/** The upsert for one row, with its parameters. */
export function pgUpsert(def: SinkDefinition, row: RowWrite): { text: string; values: unknown[] } {
  const { names, values } = columnsOf(def, row)
  const key = new Set(def.key)
  const v = ident(def.versionColumn)
  const sets = names.filter((n) => !key.has(n)).map((n) => `${ident(n)} = EXCLUDED.${ident(n)}`)
  const text =
    `INSERT INTO ${pgTable(def.table)} AS t (${names.map(ident).join(', ')}) ` +
    `VALUES (${names.map((_, i) => `$${String(i + 1)}`).join(', ')}) ` +
    `ON CONFLICT (${def.key.map(ident).join(', ')}) DO UPDATE SET ${sets.join(', ')} ` +
    `WHERE t.${v} IS NULL OR t.${v} COLLATE "C" < EXCLUDED.${v} COLLATE "C"`
  return { text, values }
}

export function openPostgresDialect(def: SinkDefinition): Dialect {
  const pool = new pg.Pool({
    connectionString: def.url,
    max: 1,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: `junction-sink-${def.name}`,
  })
  // An idle connection that breaks is replaced on the next write; nothing to do here.
  pool.on('error', () => undefined)
  const ready = new WeakSet<pg.PoolClient>()

  async function setup(client: pg.PoolClient): Promise<void> {
    if (ready.has(client)) return
    if (def.echoSuppression) {
      try {
        await client.query(
          'SELECT pg_replication_origin_create($1) WHERE pg_replication_origin_oid($1) IS NULL',
          [REPLICATION_ORIGIN],
        )
      } catch (e) {
        // Another session created it at the same moment.
        if ((e as { code?: string }).code !== '42710' && (e as { code?: string }).code !== '23505')
          throw new OriginError(e)
      }
      try {
        await client.query('SELECT pg_replication_origin_session_setup($1)', [REPLICATION_ORIGIN])
      } catch (e) {
        throw new OriginError(e)
      }
    }
    ready.add(client)
  }

  return {
    async write(rows) {
      const client = await pool.connect()
      let broken: Error | undefined
      try {
        await setup(client)
        await client.query('BEGIN')
        try {
          for (const row of rows) {
            const { text, values } = pgUpsert(def, row)
            await client.query(text, values)
          }
          await client.query('COMMIT')
        } catch (e) {
          await client.query('ROLLBACK').catch((r: unknown) => {
            broken = r as Error
          })
          throw e
        }
      } catch (e) {
        if (e instanceof OriginError || !isSqlState((e as PgError).code)) broken ??= e as Error
        throw e
      } finally {
        // A connection in an unknown state is closed, not handed to the next write.
        client.release(broken)
      }
    },
    classify: (e, rows) => classifyPostgres(def, e, rows),
    close: () => pool.end(),
  }
}

/** Taking the replication origin failed: the whole session is unusable for the sink. */
class OriginError extends Error {
  constructor(readonly original: unknown) {
    super((original as Error).message, { cause: original })
  }
}

/** SQLSTATEs worth retrying: connection, resources, shutdown, deadlock, serialization, locks. */
function retryableState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code.startsWith('53') ||
    code.startsWith('57P') ||
    code === '40001' ||
    code === '40P01' ||
    code === '55P03' ||
    // The replication origin is held by another session (another node writing the same database).
    code === '55006'
  )
}

export function classifyPostgres(def: SinkDefinition, e: unknown, rows: RowWrite[]): SinkFailure {
  const err = e instanceof OriginError ? (e.original as PgError) : (e as PgError)
  const where = `sink ${def.name} (${def.table} on ${maskUrl(def.url)})`
  const code = typeof err.code === 'string' ? err.code : ''
  if (e instanceof OriginError) {
    if (code === '42501')
      return {
        retryable: false,
        errorCode: 'NO_PERMISSIONS',
        errorMessage: `The ${where} cannot mark its writes with the replication origin ${REPLICATION_ORIGIN}: ${err.message}. This needs a superuser, or on PostgreSQL 16+ a role granted pg_replication_origin_create and pg_replication_origin_session_setup; or set echoSuppression false on the sink.`,
      }
    if (code === '' || retryableState(code))
      return retryable(
        `The ${where} could not take the replication origin ${REPLICATION_ORIGIN}: ${err.message}`,
      )
    return {
      retryable: false,
      errorCode: 'SDK_CLIENT_ERROR',
      errorMessage: `The ${where} could not take the replication origin ${REPLICATION_ORIGIN}: ${err.message}`,
    }
  }
  // Node's socket errors (ECONNREFUSED, …) and pg's own ("Connection terminated …") have no SQLSTATE.
  if (!isSqlState(code) || retryableState(code))
    return retryable(`The ${where} could not write: ${err.message ?? String(e)}`)
  const column = err.column ? ` (column ${err.column})` : ''
  const row = rows.length === 1 ? `; row ${describeRow(rows[0]!)}` : ''
  const message = `The ${where} could not write: ${err.message}${column} [SQLSTATE ${code}]${row}`
  if (code === '42P01' || code === '3F000')
    return { retryable: false, errorCode: 'NO_RESOURCE', errorMessage: message }
  if (code === '42501' || code.startsWith('28'))
    return { retryable: false, errorCode: 'NO_PERMISSIONS', errorMessage: message }
  return { retryable: false, errorCode: 'SDK_CLIENT_ERROR', errorMessage: message }
}

/** A SQLSTATE, not one of node's socket error codes (`EPIPE`: no SQLSTATE class starts with E). */
const isSqlState = (code: unknown) =>
  typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('E')

type PgError = { code?: unknown; message?: string; column?: string }

const retryable = (errorMessage: string): SinkFailure => ({
  retryable: true,
  errorCode: 'SDK_CLIENT_ERROR',
  errorMessage,
})
