/**
 * @module
 * The initial snapshot of a MySQL/MariaDB source (`def.snapshot` and no checkpoint yet): every
 * captured table read in one consistent transaction, each row an `op: r` change, then the GTID
 * position that transaction saw committed as the checkpoint, so streaming resumes exactly
 * after it (no gap, no overlap).
 *
 * MariaDB: `START TRANSACTION WITH CONSISTENT SNAPSHOT` fixes the binlog coordinates the
 * snapshot matches (`binlog_snapshot_file/position`), and `BINLOG_GTID_POS()` turns them into a
 * GTID position. MySQL has no such status: `FLUSH TABLES WITH READ LOCK` (RELOAD) holds writes
 * while the transaction starts and `gtid_executed` is read, as mysqldump does.
 */
import { createConnection, type ConnectionOptions } from 'mysql2'
import type { Connection, RowDataPacket } from 'mysql2/promise'
import type { CaptureSink, Change, SourceDefinition } from '../model.js'
import { buildChange } from './changes.js'
import type { Scope } from './connection.js'
import { changeId, GtidPosition } from './position.js'
import type { Flavor } from './settings.js'
import { TableCache } from './tables.js'
import { encodeRow, keyOf } from './values.js'

export type SnapshotOptions = {
  def: SourceDefinition
  sink: CaptureSink
  flavor: Flavor
  scope: Scope
  connection: ConnectionOptions
  batchSize: number
  maxEventBytes: number
  sourceKey: string
  now(): number
  /** Polled between rows: a stop ends the snapshot (it starts over on the next start). */
  shouldStop(): boolean
  onCommitted(changes: number): void
}

const SYSTEM = "('mysql','information_schema','performance_schema','sys')"

/** Reads every captured table; resolves with the checkpoint it committed last. */
export async function runSnapshot(o: SnapshotOptions): Promise<string> {
  const core = createConnection({ ...o.connection })
  core.on('error', () => undefined) // the next query fails with it
  const conn = core.promise()
  try {
    await conn.query("SET SESSION time_zone = '+00:00'")
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
    const position = await begin(conn, o.flavor)
    const checkpoint = position.toString()
    const version = position.snapshotVersion()
    const tables = new TableCache(() => conn)
    const databases =
      o.scope.database !== undefined
        ? [o.scope.database]
        : (
            await conn.query<(RowDataPacket & { d: string })[]>(
              `SELECT SCHEMA_NAME AS d FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ${SYSTEM} ORDER BY SCHEMA_NAME`,
            )
          )[0].map((r) => r.d)
    const tsMs = o.now()
    let seq = 0
    let batch: Change[] = []
    const flush = async () => {
      if (batch.length === 0) return
      const changes = batch
      batch = []
      await o.sink.commit({ changes })
      o.onCommitted(changes.length)
    }
    for (const database of databases) {
      for (const table of await tables.list(database)) {
        const info = await tables.get(database, table)
        const query = core
          .query(
            `SELECT * FROM \`${database.replace(/`/g, '``')}\`.\`${table.replace(/`/g, '``')}\``,
          )
          .stream({ highWaterMark: 256 })
        for await (const raw of query as AsyncIterable<Record<string, unknown>>) {
          if (o.shouldStop()) throw new Error('the source was stopped during its snapshot')
          const after = encodeRow(info, raw)
          const key = keyOf(info, after)
          const n = seq++
          batch.push(
            buildChange(
              o.def,
              {
                op: 'r',
                database,
                table,
                key,
                before: null,
                after,
                gtid: checkpoint,
                seq: n,
                tsMs,
                snapshot: true,
                version,
                id: changeId(
                  o.sourceKey,
                  `snapshot:${checkpoint}:${database}.${table}:${JSON.stringify(key ?? after)}`,
                ),
              },
              o.maxEventBytes,
            ),
          )
          // the stream keeps reading while a commit runs: bounded by its highWaterMark
          if (batch.length >= o.batchSize) await flush()
        }
      }
    }
    await flush()
    await conn.query('COMMIT')
    await o.sink.commit({ changes: [], checkpoint })
    return checkpoint
  } finally {
    core.destroy()
  }
}

async function begin(conn: Connection, flavor: Flavor): Promise<GtidPosition> {
  if (flavor === 'mariadb') {
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT')
    const [status] = await conn.query<(RowDataPacket & { Variable_name: string; Value: string })[]>(
      "SHOW STATUS LIKE 'binlog_snapshot_%'",
    )
    const get = (name: string) =>
      status.find((r) => r.Variable_name.toLowerCase() === name)?.Value ?? ''
    const [pos] = await conn.query<(RowDataPacket & { p: string | null })[]>(
      'SELECT BINLOG_GTID_POS(?, ?) AS p',
      [get('binlog_snapshot_file'), Number(get('binlog_snapshot_position'))],
    )
    return GtidPosition.parse('mariadb', pos[0]?.p ?? '')
  }
  await conn.query('FLUSH TABLES WITH READ LOCK')
  try {
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT')
    const [rows] = await conn.query<(RowDataPacket & { g: string })[]>(
      'SELECT @@GLOBAL.gtid_executed AS g',
    )
    return GtidPosition.parse('mysql', rows[0]?.g ?? '')
  } finally {
    await conn.query('UNLOCK TABLES')
  }
}
