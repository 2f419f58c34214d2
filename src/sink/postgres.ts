/**
 * @module
 * PostgreSQL sinks: one `INSERT … ON CONFLICT (key) DO UPDATE … WHERE` per event, the batch in
 * one transaction, on a pool of one connection per sink (one writer at a time keeps the batches
 * large).
 *
 * The version guard: an existing row changes only when the event's version is greater, compared
 * as text in the "C" collation (byte order, whatever the column's collation), or when the row has
 * no version yet (written by someone else). A redelivered or late event then changes nothing.
 *
 * Echo suppression: each transaction runs with the replication origin `junction` taken for its
 * session (created when missing) and let go after it, so its commit carries that origin and
 * Junction's PostgreSQL source drops it. One session of a server can hold an origin at a time,
 * so the sinks of a node writing to one server take turns, and a node
 * finding it held by another waits a little.
 */
import pg from 'pg'
import { columnsOf, describeRow, type Dialect, type SinkFailure } from './dialect.js'
import { maskUrl, type SinkDefinition } from './model.js'
import type { RowWrite } from './rows.js'

export const REPLICATION_ORIGIN = 'junction'

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`
export const pgTable = (table: string) => table.split('.').map(ident).join('.')

/**
 * A delete: the existing row becomes a tombstone (under the version guard); where there is no
 * row yet, a tombstone row is inserted, so that a late insert of the same key cannot bring it
 * back. The insert carries only the key, the version and the flag: a table with other NOT NULL
 * columns cannot hold it, and {@link TOMBSTONE_SAVEPOINT} lets that one statement fail alone.
 */
export function pgTombstone(
  def: SinkDefinition,
  row: RowWrite,
): { text: string; values: unknown[] } {
  const keys = def.key.map((k) => row.values.get(k))
  const t = pgTable(def.table)
  const v = ident(def.versionColumn)
  const d = ident(def.deletedColumn)
  const n = def.key.length
  const match = def.key.map((k, i) => `${ident(k)} = $${String(i + 1)}`).join(' AND ')
  const text =
    `WITH gone AS (UPDATE ${t} AS t SET ${d} = true, ${v} = $${String(n + 1)} WHERE ${match} ` +
    `AND (t.${v} IS NULL OR t.${v} COLLATE "C" < $${String(n + 1)} COLLATE "C") RETURNING 1) ` +
    `INSERT INTO ${t} (${[...def.key.map(ident), v, d].join(', ')}) ` +
    `SELECT ${def.key.map((_, i) => `$${String(i + 1)}`).join(', ')}, $${String(n + 1)}, true ` +
    `WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${match}) ` +
    `ON CONFLICT (${def.key.map(ident).join(', ')}) DO NOTHING`
  return { text, values: [...keys, row.version] }
}

/** Around a tombstone whose row the table cannot hold without its other columns. */
const TOMBSTONE_SAVEPOINT = 'junction_tombstone'
/** not_null_violation: the table has columns a bare tombstone leaves empty. */
const NOT_NULL_VIOLATION = '23502'

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
    // The one connection stays open until the sink is removed or replaced (the pool then ends).
    idleTimeoutMillis: 0,
    application_name: `junction-sink-${def.name}`,
  })
  // An idle connection that breaks is replaced on the next write; nothing to do here.
  pool.on('error', () => undefined)
  let originCreated = false
  const server = serverOf(def.url)

  async function createOrigin(client: pg.PoolClient): Promise<void> {
    if (originCreated) return
    try {
      await client.query(
        'SELECT pg_replication_origin_create($1) WHERE pg_replication_origin_oid($1) IS NULL',
        [REPLICATION_ORIGIN],
      )
    } catch (e) {
      // Another session created it at the same moment.
      const code = (e as PgError).code
      if (code !== '42710' && code !== '23505') throw new OriginError(e)
    }
    originCreated = true
  }

  async function transaction(client: pg.PoolClient, rows: RowWrite[]): Promise<void> {
    await client.query('BEGIN')
    try {
      for (const row of rows) {
        if (!row.deleted) {
          const { text, values } = pgUpsert(def, row)
          await client.query(text, values)
          continue
        }
        const { text, values } = pgTombstone(def, row)
        await client.query(`SAVEPOINT ${TOMBSTONE_SAVEPOINT}`)
        try {
          await client.query(text, values)
        } catch (e) {
          // A delete of a row this table never had, and cannot hold as a bare tombstone:
          // nothing to delete (a late insert of that key would then stay; docs/sinks.md).
          if ((e as PgError).code !== NOT_NULL_VIOLATION) throw e
          await client.query(`ROLLBACK TO SAVEPOINT ${TOMBSTONE_SAVEPOINT}`)
        }
      }
      await client.query('COMMIT')
    } catch (e) {
      await client.query('ROLLBACK').catch((r: unknown) => {
        throw new BrokenSession(e, r)
      })
      throw e
    }
  }

  async function write(rows: RowWrite[]): Promise<void> {
    const client = await pool.connect()
    let broken: Error | undefined
    try {
      if (!def.echoSuppression) {
        await transaction(client, rows)
        return
      }
      await createOrigin(client)
      await takeOrigin(client)
      try {
        await transaction(client, rows)
      } finally {
        await client.query('SELECT pg_replication_origin_session_reset()').catch((r: unknown) => {
          broken = r as Error
        })
      }
    } catch (e) {
      if (e instanceof BrokenSession || !isSqlState((e as PgError).code)) broken ??= e as Error
      throw e instanceof BrokenSession ? e.original : e
    } finally {
      // A connection in an unknown state is closed (which also lets the origin go).
      client.release(broken)
    }
  }

  return {
    // One session of a server holds the origin at a time: this node's sinks take turns.
    write: (rows) => (def.echoSuppression ? serialized(server, () => write(rows)) : write(rows)),
    classify: (e, rows) => classifyPostgres(def, e, rows),
    close: () => pool.end(),
  }
}

/**
 * Takes the origin for this session. Only one session may hold an origin at a time; another
 * node's sink may hold it for the length of a transaction, so a busy origin is waited for (a few
 * seconds) before the write fails as retryable.
 */
async function takeOrigin(client: pg.PoolClient): Promise<void> {
  const deadline = Date.now() + 5000
  for (;;) {
    try {
      await client.query('SELECT pg_replication_origin_session_setup($1)', [REPLICATION_ORIGIN])
      return
    } catch (e) {
      if ((e as PgError).code !== '55006' || Date.now() > deadline) throw new OriginError(e)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
}

/** The server an URL names (origins belong to the whole cluster, not to a database). */
function serverOf(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || '5432'}`
  } catch {
    return url
  }
}

/** The tail of each server's queue of writes that hold the origin. */
const turns = new Map<string, Promise<unknown>>()

function serialized<T>(server: string, fn: () => Promise<T>): Promise<T> {
  const previous = turns.get(server) ?? Promise.resolve()
  const run = previous.then(fn, fn)
  const tail = run.catch(() => undefined)
  turns.set(server, tail)
  void tail.then(() => {
    if (turns.get(server) === tail) turns.delete(server)
  })
  return run
}

/** A failed transaction that could not be rolled back: the session is closed. */
class BrokenSession extends Error {
  constructor(
    readonly original: unknown,
    rollback: unknown,
  ) {
    super((original as Error).message, { cause: rollback })
  }
}

/** Creating or taking the replication origin failed. */
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
  // A missing table, schema or database.
  if (code === '42P01' || code === '3F000' || code === '3D000')
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
