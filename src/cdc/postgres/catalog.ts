/**
 * @module
 * What a PostgreSQL source asks the database over a normal connection: whether it can stream at
 * all (wal_level, the REPLICATION privilege, the publication), the slot's state, primary keys,
 * and the WAL position for the lag. Problems retrying cannot fix become {@link NeedsOperator}
 * errors that say what to do.
 */
import pg from 'pg'
import { NeedsOperator } from '../failure.js'
import type { SourceDefinition } from '../model.js'
import { SESSION_OPTIONS } from './decode.js'

/** Every value as PostgreSQL's text: our decoder reads it (see decode.ts), not pg's globals. */
export const RAW_TYPES = { getTypeParser: () => (value: string) => value }

/** A normal connection with our session settings and text values. */
export function normalClient(def: SourceDefinition): pg.Client {
  return new pg.Client({
    connectionString: def.url,
    options: SESSION_OPTIONS,
    types: RAW_TYPES as unknown as pg.CustomTypesConfig,
    application_name: `junction-cdc-${def.name}`.slice(0, 63),
  })
}

/** The slot a source uses: its own, or `junction_<name>` in slot-name characters. */
export function slotOf(def: SourceDefinition): string {
  return (def.slot ?? `junction_${def.name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`).slice(0, 63)
}

export const lostSlotFix = (slot: string) =>
  `The replication slot ${slot} was lost (PostgreSQL removed the WAL it needed, see max_slot_wal_keep_size): changes since the last checkpoint are gone. Remove the source (junction sources remove NAME --drop-slot) and add it again with --snapshot.`

export type SlotState = { exists: boolean; lost: boolean; active: boolean }

/** Refuses, with the fix, what retrying cannot cure; the slot's state otherwise. */
export async function preflight(client: pg.Client, def: SourceDefinition): Promise<SlotState> {
  const level = (await client.query<{ wal_level: string }>('SHOW wal_level')).rows[0]?.wal_level
  if (level !== 'logical')
    throw new NeedsOperator(
      `wal_level is ${String(level)}: set wal_level = logical in postgresql.conf and restart PostgreSQL.`,
    )
  const role = await client.query<{ ok: string }>(
    'SELECT (rolreplication OR rolsuper)::text AS ok FROM pg_roles WHERE rolname = current_user',
  )
  if (role.rows[0]?.ok !== 'true')
    throw new NeedsOperator(
      'The user of the source lacks the REPLICATION privilege: ALTER ROLE <user> WITH REPLICATION (and grant it SELECT on the published tables).',
    )
  const pub = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [
    def.publication,
  ])
  if (pub.rowCount === 0)
    throw new NeedsOperator(
      `The publication ${String(def.publication)} does not exist: CREATE PUBLICATION ${String(def.publication)} FOR TABLE …`,
    )
  return slotState(client, slotOf(def))
}

export async function slotState(client: pg.Client, slot: string): Promise<SlotState> {
  const r = await client.query<{ wal_status: string | null; active: string }>(
    'SELECT wal_status, active::text AS active FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  )
  const row = r.rows[0]
  if (!row) return { exists: false, lost: false, active: false }
  return { exists: true, lost: row.wal_status === 'lost', active: row.active === 'true' }
}

/** The primary key's columns of a table, in key order (empty when it has none). */
export async function primaryKey(client: pg.Client, relid: number): Promise<string[]> {
  const r = await client.query<{ attname: string }>(
    `SELECT a.attname FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
     WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.n`,
    [relid],
  )
  return r.rows.map((x) => x.attname)
}

/** The WAL position now (for the lag) and whether the slot is lost. */
export async function walNow(
  client: pg.Client,
  slot: string,
): Promise<{ current: string; lost: boolean }> {
  const r = await client.query<{ current: string; wal_status: string | null }>(
    `SELECT pg_current_wal_lsn()::text AS current,
            (SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1) AS wal_status`,
    [slot],
  )
  const row = r.rows[0]!
  return { current: row.current, lost: row.wal_status === 'lost' }
}

/** Errors meaning the server is going down: disconnect now, reconnect later. */
export const SHUTDOWN_CODES = new Set(['57P01', '57P02', '57P03'])

export const codeOf = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined

/** START_REPLICATION's and the stream's errors, sorted into what retrying can and cannot fix. */
export function classify(e: unknown, slot: string): unknown {
  const message = e instanceof Error ? e.message : String(e)
  if (/can no longer get changes from replication slot|has been invalidated/i.test(message))
    return new NeedsOperator(lostSlotFix(slot), { cause: e })
  if (codeOf(e) === '42501' || /must be superuser or replication role/i.test(message))
    return new NeedsOperator(
      'The user of the source lacks the REPLICATION privilege: ALTER ROLE <user> WITH REPLICATION.',
      { cause: e },
    )
  if (/publication .* does not exist/i.test(message))
    return new NeedsOperator(`${message}: create it, or re-add the source with its name.`, {
      cause: e,
    })
  return e
}
