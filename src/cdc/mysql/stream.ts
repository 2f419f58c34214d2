/**
 * @module
 * One binlog connection of a MySQL/MariaDB source, from a GTID position to its end (a stop or a
 * lost connection): row events become {@link Change}s, buffered per transaction and committed to
 * the sink at the transaction's commit with the GTID position after it as the checkpoint.
 *
 * Flow control: zongji emits events synchronously as packets arrive and has no flow control of
 * its own. Events go into a queue that one pump works off in order; while the pump waits (a sink
 * commit, a table lookup) and the queue passes {@link HIGH_WATER} events, the binlog
 * connection is paused (mysql2's `pause()` stops reading the socket and holds packets already
 * read, so no further event is emitted until `resume()`). Memory is then bounded by the queue,
 * one socket read, and the part of a transaction not yet committed ({@link StreamOptions}
 * `maxTransactionChanges`; a larger transaction is committed in parts without a checkpoint).
 *
 * Not re-entrant: one stream, one connection; the source starts a new stream to reconnect.
 */
import ZongJi, { type AnyBinlogEvent, type ZongJiOptions } from '@vlasky/zongji'
import type { ConnectionOptions } from 'mysql2'
import type { Logger } from 'pino'
import type { CaptureSink, Change, SourceDefinition } from '../model.js'
import { buildChange } from './changes.js'
import { inScope, type Scope } from './connection.js'
import { changeId, changeVersion, GtidPosition } from './position.js'
import type { Flavor } from './settings.js'
import type { TableCache, TableInfo } from './tables.js'
import { encodeRow, keyOf } from './values.js'

/** Events queued before the binlog connection is paused. */
const HIGH_WATER = 256
/** A transaction that touched no captured table moves the checkpoint at most this often. */
const IDLE_CHECKPOINT_MS = 1000
/** The server sends a heartbeat when the binlog has been idle this long (ns for the server). */
const HEARTBEAT_MS = 1000

export type StreamOptions = {
  def: SourceDefinition
  sink: CaptureSink
  flavor: Flavor
  scope: Scope
  tables: TableCache
  connection: ConnectionOptions
  serverId: number
  /** Drop transactions written with `skip_replication = 1` (the write-back target's). */
  skipMarked: boolean
  maxTransactionChanges: number
  maxEventBytes: number
  log: Logger
  /** `account/region/name`: what event ids are derived from. */
  sourceKey: string
  onCommitted(info: { changes: number; tsMs: number | undefined; checkpoint?: string }): void
  /** The stream has ended with an error (the connection is already being torn down). */
  onError(err: Error): void
  onReady(): void
}

type Txn = {
  gtid: string
  /** MariaDB: a group with no commit event (DDL); it ends with its statement. */
  standalone: boolean
  /** MySQL: a BEGIN was seen, so a later statement does not end the group. */
  begun: boolean
  tsMs: number
  binlog: { file: string; pos: number }
  changes: Change[]
  /** Next change's place in the transaction. */
  seq: number
  /** Parts already committed (without a checkpoint). */
  parts: number
}

type Item = { kind: 'event'; event: AnyBinlogEvent } | { kind: 'flush' }

const TRUNCATE =
  /^\s*TRUNCATE\s+(?:TABLE\s+)?(?:(`(?:[^`]|``)+`|[^\s.`;]+)\s*\.\s*)?(`(?:[^`]|``)+`|[^\s.`;]+)/i
const unquote = (name: string) =>
  name.startsWith('`') ? name.slice(1, -1).replace(/``/g, '`') : name

export class BinlogStream {
  private z: ZongJi | undefined
  private readonly queue: Item[] = []
  private busy: Promise<void> | undefined
  private paused = false
  private stopped = false
  private txn: Txn | undefined
  private readonly position: GtidPosition
  private idleCheckpoint: string | undefined
  private idleTimer: NodeJS.Timeout | undefined
  /** Where the stream has read up to in the binlog (committed, or idle at a heartbeat). */
  read: { file: string; pos: number } | undefined
  private lastEventAt = Date.now()

  constructor(
    private readonly o: StreamOptions,
    checkpoint: string,
  ) {
    this.position = GtidPosition.parse(o.flavor, checkpoint)
  }

  start(): void {
    const z = new ZongJi({ ...this.o.connection })
    this.z = z
    z.on('error', (err: Error) => {
      this.fail(err)
    })
    z.on('ready', () => {
      this.o.onReady()
    })
    z.on('binlog', (event: AnyBinlogEvent) => {
      this.lastEventAt = Date.now()
      this.queue.push({ kind: 'event', event })
      this.pump()
    })
    const options: ZongJiOptions = {
      serverId: this.o.serverId,
      gtidSet: this.position.toString(),
      includeEvents: [
        'tablemap',
        'writerows',
        'updaterows',
        'deleterows',
        'query',
        'xid',
        'gtid',
        'mariadbgtid',
        'heartbeat',
      ],
    }
    z.start(options)
    // Queued on the binlog connection before zongji's own preamble and dump command (mysql2
    // runs a connection's commands in order): the dump thread then filters server-side.
    const conn = z.connection
    if (!conn) throw new Error('zongji opened no binlog connection')
    const onSet = (err: Error | null) => {
      if (err) this.fail(err)
    }
    if (this.o.skipMarked && this.o.flavor === 'mariadb') {
      // MariaDB's dump thread drops events flagged by `SET skip_replication = 1` when the
      // replica's own session has the flag set (its replicate_events_marked_for_skip =
      // FILTER_ON_MASTER does the same).
      conn.query('SET skip_replication = 1', onSet)
    }
    conn.query(`SET @master_heartbeat_period = ${HEARTBEAT_MS * 1_000_000}`, onSet)
  }

  /** Disconnects within `timeoutMs` and resolves once no commit of this stream is in flight. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopped = true
    clearTimeout(this.idleTimer)
    const z = this.z
    if (z) {
      const conn = z.connection
      const ctrl = z.ctrlConnection
      const stopped = new Promise<void>((resolve) => z.once('stopped', () => resolve()))
      try {
        z.stop()
      } catch {
        // already torn down
      }
      let timer: NodeJS.Timeout | undefined
      await Promise.race([stopped, new Promise((r) => (timer = setTimeout(r, timeoutMs)))])
      clearTimeout(timer)
      // zongji has been seen not to exit promptly: make sure no socket of it stays open.
      for (const c of [conn, ctrl]) {
        try {
          c?.destroy()
        } catch {
          // gone
        }
      }
    }
    await this.busy
  }

  /** Commit time of the transaction being read, if one is. */
  readingSince(): number | undefined {
    return this.txn?.tsMs
  }

  /** How long the server has sent nothing, not counting time the source made it wait. */
  silentFor(now: number): number {
    return this.busy || this.paused ? 0 : now - this.lastEventAt
  }

  private isStopped(): boolean {
    return this.stopped
  }

  private fail(err: Error): void {
    if (this.stopped) return
    this.stopped = true
    this.o.onError(err)
  }

  private pump(): void {
    if (this.queue.length >= HIGH_WATER && !this.paused && this.z?.connection) {
      this.paused = true
      this.z.connection.pause()
      this.o.log.debug({ source: this.o.def.name, queued: this.queue.length }, 'binlog paused')
    }
    if (this.busy) return
    this.busy = this.drain().finally(() => {
      this.busy = undefined
      this.lastEventAt = Date.now()
    })
  }

  private async drain(): Promise<void> {
    try {
      let item: Item | undefined
      while (!this.stopped && (item = this.queue.shift())) {
        if (item.kind === 'flush') await this.flushIdle()
        else await this.handle(item.event)
        if (this.paused && this.queue.length === 0 && !this.isStopped()) {
          this.paused = false
          this.o.log.debug({ source: this.o.def.name }, 'binlog resumed')
          this.z?.connection?.resume()
        }
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)))
    }
  }

  private async handle(e: AnyBinlogEvent): Promise<void> {
    switch (e.getEventName()) {
      case 'mariadbgtid':
      case 'gtid': {
        const g = e as AnyBinlogEvent & { gtid: string; standalone?: boolean }
        this.txn = {
          gtid: g.gtid,
          standalone: g.standalone === true,
          begun: false,
          tsMs: e.timestamp,
          binlog: { file: this.z?.options.filename ?? '', pos: e.nextPosition },
          changes: [],
          seq: 0,
          parts: 0,
        }
        // until the first commit or heartbeat: at least this far (for the lag)
        this.read ??= this.txn.binlog
        return
      }
      case 'tablemap': {
        const t = e as AnyBinlogEvent & { schemaName: string; tableName: string }
        if (inScope(this.o.scope, t.schemaName)) await this.o.tables.get(t.schemaName, t.tableName)
        return
      }
      case 'writerows':
      case 'updaterows':
      case 'deleterows':
        await this.rows(e)
        return
      case 'query':
        await this.query(e as AnyBinlogEvent & { query: string; schema: string })
        return
      case 'xid':
        await this.end()
        return
      case 'heartbeat': {
        const h = e as AnyBinlogEvent & { binlogName: string }
        if (!this.txn && this.queue.length === 0 && e.nextPosition > 0) {
          this.read = { file: h.binlogName, pos: e.nextPosition }
        }
        return
      }
      default:
        return
    }
  }

  private openTxn(what: string): Txn {
    if (!this.txn)
      throw new Error(`a ${what} event arrived outside a transaction (no GTID before it)`)
    return this.txn
  }

  private async rows(e: AnyBinlogEvent): Promise<void> {
    const r = e as AnyBinlogEvent & {
      tableId: number
      tableMap: Record<number, { parentSchema: string; tableName: string }>
      rows: Record<string, unknown>[]
    }
    const meta = r.tableMap[r.tableId]
    if (!meta || !inScope(this.o.scope, meta.parentSchema)) return
    const txn = this.openTxn(e.getEventName())
    const info =
      this.o.tables.peek(meta.parentSchema, meta.tableName) ??
      (await this.o.tables.get(meta.parentSchema, meta.tableName))
    const op =
      e.getEventName() === 'writerows' ? 'c' : e.getEventName() === 'updaterows' ? 'u' : 'd'
    for (const row of r.rows) {
      let before: Record<string, unknown> | null = null
      let after: Record<string, unknown> | null = null
      if (op === 'c') after = encodeRow(info, row)
      else if (op === 'd') before = encodeRow(info, row)
      else {
        const u = row as { before: Record<string, unknown>; after: Record<string, unknown> }
        before = encodeRow(info, u.before)
        after = encodeRow(info, u.after)
      }
      this.push(txn, meta.parentSchema, meta.tableName, info, op, before, after)
      if (txn.changes.length >= this.o.maxTransactionChanges) await this.commitPart(txn)
    }
  }

  private push(
    txn: Txn,
    database: string,
    table: string,
    info: TableInfo | undefined,
    op: 'c' | 'u' | 'd' | 't',
    before: Record<string, unknown> | null,
    after: Record<string, unknown> | null,
  ): void {
    const seq = txn.seq++
    txn.changes.push(
      buildChange(
        this.o.def,
        {
          op,
          database,
          table,
          key: info ? keyOf(info, after ?? before) : null,
          before,
          after,
          gtid: txn.gtid,
          binlog: txn.binlog,
          seq,
          tsMs: txn.tsMs,
          snapshot: false,
          version: changeVersion(this.o.flavor, txn.gtid, seq),
          id: changeId(this.o.sourceKey, `${txn.gtid}:${seq}`),
        },
        this.o.maxEventBytes,
      ),
    )
  }

  private async query(e: AnyBinlogEvent & { query: string; schema: string }): Promise<void> {
    const text = e.query.trim()
    const upper = text.slice(0, 16).toUpperCase()
    const txn = this.txn
    if (upper === 'BEGIN') {
      if (txn) txn.begun = true
      return
    }
    if (upper === 'COMMIT' || upper.startsWith('ROLLBACK')) {
      // ROLLBACK is logged only when non-transactional tables were changed: those changes stay.
      await this.end()
      return
    }
    if (upper.startsWith('XA ') || upper.startsWith('SAVEPOINT')) return
    const truncate = TRUNCATE.exec(text)
    if (truncate) {
      const database = truncate[1] ? unquote(truncate[1]) : e.schema
      const table = unquote(truncate[2]!)
      // A TRUNCATE empties the table: cached metadata stays right, the rows are gone.
      if (inScope(this.o.scope, database)) {
        this.push(this.openTxn('TRUNCATE'), database, table, undefined, 't', null, null)
      }
    } else {
      // Other DDL: the next row event of any table re-reads its columns and key.
      this.o.tables.forgetAll()
    }
    if (txn && (txn.standalone || (this.o.flavor === 'mysql' && !txn.begun))) await this.end()
  }

  private async commitPart(txn: Txn): Promise<void> {
    const changes = txn.changes
    txn.changes = []
    txn.parts++
    await this.o.sink.commit({ changes })
    this.o.onCommitted({ changes: changes.length, tsMs: txn.tsMs })
  }

  /** The transaction committed at the source: its changes go with the position after it. */
  private async end(): Promise<void> {
    const txn = this.txn
    this.txn = undefined
    if (!txn) return
    this.position.add(txn.gtid)
    const checkpoint = this.position.toString()
    const read = {
      file: this.z?.options.filename ?? txn.binlog.file,
      pos: this.z?.options.position ?? 0,
    }
    if (txn.changes.length === 0 && txn.parts === 0) {
      // Nothing captured (another database, a DDL): move the checkpoint lazily.
      this.idleCheckpoint = checkpoint
      this.read = read
      this.idleTimer ??= setTimeout(() => {
        this.idleTimer = undefined
        this.queue.push({ kind: 'flush' })
        this.pump()
      }, IDLE_CHECKPOINT_MS)
      return
    }
    this.idleCheckpoint = undefined
    await this.o.sink.commit({ changes: txn.changes, checkpoint })
    this.read = read
    this.o.onCommitted({ changes: txn.changes.length, tsMs: txn.tsMs, checkpoint })
  }

  private async flushIdle(): Promise<void> {
    const checkpoint = this.idleCheckpoint
    if (checkpoint === undefined || this.txn) return
    this.idleCheckpoint = undefined
    await this.o.sink.commit({ changes: [], checkpoint })
    this.o.onCommitted({ changes: 0, tsMs: undefined, checkpoint })
  }
}
