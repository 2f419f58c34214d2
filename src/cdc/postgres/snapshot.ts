/**
 * @module
 * The initial snapshot (`--snapshot`): the slot is created with an exported snapshot
 * (`CREATE_REPLICATION_SLOT … EXPORT_SNAPSHOT`), a second connection imports it
 * (`SET TRANSACTION SNAPSHOT`) and reads every published table through a cursor, in chunks,
 * as `op: r` changes; the checkpoint then becomes the slot's consistent point, where streaming
 * starts: no gap, no overlap.
 *
 * Surviving a kill: the chunks are stored without a checkpoint, and the checkpoint is written
 * only once the last table is read. A source with `--snapshot` and no checkpoint yet therefore
 * has not finished its snapshot: it drops the slot (its exported snapshot is gone with the
 * connection that made it) and starts the snapshot again from scratch. Rows read before the kill
 * come again, under the new consistent point (so with other ids); their versions stay below every
 * streamed change's, so a version-guarded sink is unaffected.
 *
 * Snapshot rows: `commitLsn` is the consistent point, the version is
 * `<16 hex digits of (consistent point − 1)>:<10-digit row number>` (below any streamed change,
 * whose commit LSN is at or after the consistent point), the id is built from
 * `snapshot:<consistent point>:<row number>`.
 */
import pg from 'pg'
import { changeId } from '../change-id.js'
import { detailTypeOf } from '../detail-type.js'
import type { CaptureSink, Change, SourceDefinition } from '../model.js'
import { normalClient, primaryKey, slotOf } from './catalog.js'
import { decodeRow } from './decode.js'
import { lsnHex16, lsnToBig, normLsn } from './lsn.js'

export type SnapshotContext = {
  def: SourceDefinition
  db: string
  sink: CaptureSink
  /** Rows per stored chunk. */
  chunk: number
  now: () => number
  fit: (c: Change) => Change
  /** Whether to give up (the source is stopping). */
  stopped: () => boolean
  progress: (rows: number) => void
}

/** Creates the slot and reads the published tables; resolves with the consistent point. */
export async function takeSnapshot(ctx: SnapshotContext): Promise<string> {
  const { def } = ctx
  const repl = new pg.Client({ connectionString: def.url, replication: 'database' } as never)
  repl.on('error', () => undefined)
  const reader = normalClient(def)
  reader.on('error', () => undefined)
  try {
    await repl.connect()
    const created = await repl.query<{ consistent_point: string; snapshot_name: string }>(
      `CREATE_REPLICATION_SLOT "${slotOf(def)}" LOGICAL pgoutput EXPORT_SNAPSHOT`,
    )
    const row = created.rows[0]!
    const point = normLsn(row.consistent_point)
    await reader.connect()
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    await reader.query(`SET TRANSACTION SNAPSHOT '${row.snapshot_name}'`)
    // Imported: the exporting connection may go (the snapshot lives on in the reader's).
    await repl.end()
    await readTables(ctx, reader, point)
    await reader.query('COMMIT')
    await ctx.sink.commit({ changes: [], checkpoint: point })
    return point
  } finally {
    await repl.end().catch(() => undefined)
    await reader.end().catch(() => undefined)
  }
}

async function readTables(ctx: SnapshotContext, reader: pg.Client, point: string): Promise<void> {
  const { def } = ctx
  const tables = await reader.query<{ schemaname: string; tablename: string; relid: string }>(
    `SELECT schemaname, tablename, format('%I.%I', schemaname, tablename)::regclass::oid::text AS relid
       FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2`,
    [def.publication],
  )
  const below = lsnHex16(lsnToBig(point) - 1n)
  const tsMs = ctx.now()
  let seq = 0
  for (const t of tables.rows) {
    const key = await primaryKey(reader, Number(t.relid))
    const name = `"${t.schemaname.replace(/"/g, '""')}"."${t.tablename.replace(/"/g, '""')}"`
    await reader.query(`DECLARE junction_snapshot NO SCROLL CURSOR FOR SELECT * FROM ${name}`)
    for (;;) {
      if (ctx.stopped()) throw new Error('stopped during the snapshot')
      const r = await reader.query(`FETCH ${String(ctx.chunk)} FROM junction_snapshot`)
      if (r.rows.length === 0) break
      const columns = r.fields.map((f) => ({ name: f.name, typeOid: f.dataTypeID }))
      const changes: Change[] = []
      for (const raw of r.rows as Record<string, unknown>[]) {
        const after = decodeRow(raw, columns)
        const n = seq++
        const keyValues =
          key.length === 0 ? null : Object.fromEntries(key.map((k) => [k, after[k]]))
        changes.push(
          ctx.fit({
            id: changeId(def, `snapshot:${point}:${String(n)}`),
            time: tsMs,
            detailType: detailTypeOf(
              t.schemaname,
              t.tablename,
              def.detailTypeWithOp ? 'r' : undefined,
            ),
            detail: {
              op: 'r',
              key: keyValues,
              before: null,
              after,
              unchanged: [],
              source: {
                connector: 'postgresql',
                name: def.name,
                db: ctx.db,
                schema: t.schemaname,
                table: t.tablename,
                commitLsn: point,
                seq: n,
                tsMs,
                snapshot: true,
                version: `${below}:${String(n).padStart(10, '0')}`,
              },
              transaction: { id: `snapshot:${point}`, order: n },
            },
          }),
        )
      }
      await ctx.sink.commit({ changes })
      ctx.progress(changes.length)
    }
    await reader.query('CLOSE junction_snapshot')
  }
}
