/**
 * @module
 * The PostgreSQL source: logical replication with pgoutput (protocol 1) through
 * pg-logical-replication 2.5.0, wrapped to keep the rules that stop it losing data
 * (docs/cdc.md, "Guarantees"):
 *
 * 1. A transaction's changes are stored with the checkpoint = its commit **end** LSN in one store
 *    transaction (the sink's `commit`), and only then is exactly that LSN acknowledged. The
 *    library sends `lsn + 1` for whatever it is given, so it is given `end − 1`. Transactions
 *    already received when one commits are stored with it (the last one's end as checkpoint).
 * 2. Every (re)connection starts from our own stored checkpoint, never from the library's
 *    `lastLsn()` (the last received position) and never from the slot alone.
 * 3. No automatic acknowledgements; flow control on, so a slow store pauses the stream.
 * 4. Keepalives are answered with the checkpoint; when everything received is stored and no
 *    transaction is open, the keepalive's position becomes the checkpoint, so an idle
 *    publication does not pin the database's WAL.
 * 5. Values are decoded from PostgreSQL's text by our own decoder (decode.ts), not pg's global
 *    type parsers.
 *
 * A transaction with more than `maxTxnChanges` changes is stored in parts without a checkpoint
 * (memory stays bounded; a crash repeats the parts, with the same ids). Transactions carrying
 * the replication origin `junction` (Junction's own write-back) are dropped. A server going
 * down is noticed on a second, normal connection (57P01 and kin) and the stream is closed at
 * once, so a lagging source never holds up a database shutdown; the source then reconnects with
 * a backoff (1 s doubling to 30 s). What retrying cannot fix stops the source with the fix in its
 * status (see catalog.ts).
 */
import pg from 'pg'
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication'
import type { Logger } from 'pino'
import { NeedsOperator, needsHuman } from '../failure.js'
import type {
  CaptureSink,
  Change,
  ChangeSource,
  OpenSource,
  SourceDefinition,
  SourceDeps,
  SourceState,
  SourceStatus,
} from '../model.js'
import { fitChange } from '../oversize.js'
import {
  classify,
  codeOf,
  lostSlotFix,
  normalClient,
  preflight,
  primaryKey,
  SHUTDOWN_CODES,
  slotOf,
  walNow,
} from './catalog.js'
import { rowChange, type Table, type Txn } from './changes.js'
import { SESSION_OPTIONS } from './decode.js'
import { bigToLsn, compareLsn, lsnToBig, normLsn } from './lsn.js'
import { takeSnapshot } from './snapshot.js'

/** The origin Junction's write-back target writes under (its changes are not captured again). */
export const JUNCTION_ORIGIN = 'junction'

export type PostgresOptions = {
  /** Changes of one transaction held before a part is stored. @default 10000 */
  maxTxnChanges?: number
  /** Rows per snapshot chunk. @default 1000 */
  snapshotChunk?: number
  /** How often the lag is measured. @default 5000 */
  lagEveryMs?: number
}

export const openPostgresSource: OpenSource = (def, sink, deps) =>
  new PostgresSource(def, sink, deps, {})

/** Opens with options (tests use smaller parts). */
export const openPostgresSourceWith =
  (options: PostgresOptions): OpenSource =>
  (def, sink, deps) =>
    new PostgresSource(def, sink, deps, options)

/** `junction sources remove --drop-slot`: drops the slot (waits a little while it is active). */
export async function dropPostgresSlot(def: SourceDefinition): Promise<void> {
  const client = normalClient(def)
  client.on('error', () => undefined)
  await client.connect()
  try {
    for (let i = 0; ; i++) {
      try {
        await client.query(
          'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
          [slotOf(def)],
        )
        return
      } catch (e) {
        // Still in use by a stream that is closing (here or on another node).
        if (codeOf(e) !== '55006' || i >= 50) throw e
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Our pgoutput reader: values stay text (decoded by us), and arrivals are counted. */
class Pgoutput extends PgoutputPlugin {
  received = 0

  override parse(buffer: Buffer) {
    this.received++
    const m = super.parse(buffer)
    if (m.tag === 'relation') for (const c of m.columns) c.parser = (raw: unknown) => raw
    return m
  }
}

type Session = { abort(e?: unknown): void }

/** Where the stream's handler stores what it read (see `stream`). */
type Store = {
  committed(changes: Change[], end: string): Promise<void>
  part(changes: Change[]): Promise<void>
}

class PostgresSource implements ChangeSource {
  private state: SourceState = 'starting'
  private error: string | undefined
  private captured = 0
  private lagBytes: number | undefined
  private lastCommitMs: number | undefined
  private idle = true
  private stopped = false
  private loop: Promise<void> | undefined
  private session: Session | undefined
  private wake: (() => void) | undefined
  private readonly log: Logger
  private readonly slot: string
  private readonly db: string
  private readonly maxTxnChanges: number

  constructor(
    private readonly def: SourceDefinition,
    private readonly sink: CaptureSink,
    private readonly deps: SourceDeps,
    private readonly options: PostgresOptions,
  ) {
    this.log = deps.log
    this.slot = slotOf(def)
    this.db = decodeURIComponent(new URL(def.url).pathname.slice(1)) || 'postgres'
    this.maxTxnChanges = options.maxTxnChanges ?? 10_000
  }

  start(): Promise<void> {
    this.loop ??= this.run()
    return Promise.resolve()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.session?.abort()
    this.wake?.()
    await this.loop
    if (this.state !== 'failed') this.state = 'stopped'
  }

  status(): SourceStatus {
    const checkpoint = this.sink.checkpoint()
    const s: SourceStatus = { state: this.state, changesCaptured: this.captured }
    if (this.error !== undefined) s.error = this.error
    if (this.lagBytes !== undefined) s.lagBytes = this.lagBytes
    if (this.state === 'streaming')
      s.lagSeconds =
        this.idle || this.lastCommitMs === undefined
          ? 0
          : Math.max(0, (this.deps.now() - this.lastCommitMs) / 1000)
    if (checkpoint !== undefined) s.checkpoint = checkpoint
    return s
  }

  /** Read through a call: `stop` changes it while the loop awaits. */
  private halted(): boolean {
    return this.stopped
  }

  private async run(): Promise<void> {
    let backoff = 1000
    while (!this.stopped) {
      const began = Date.now()
      try {
        await this.connectOnce()
        if (this.halted()) break
        this.error = 'The server closed the replication stream.'
      } catch (e) {
        if (this.halted()) break
        const err = classify(e, this.slot)
        this.error = err instanceof Error ? err.message : String(err)
        if (needsHuman(err)) {
          this.state = 'failed'
          this.log.error({ err }, 'change capture stopped: it needs an operator')
          break
        }
        this.log.warn({ err }, 'change capture disconnected; reconnecting')
      }
      this.state = 'reconnecting'
      // A connection that streamed for a while starts the backoff over.
      if (Date.now() - began > 30_000) backoff = 1000
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, backoff)
        this.wake = () => {
          clearTimeout(t)
          resolve()
        }
      })
      backoff = Math.min(30_000, backoff * 2)
    }
  }

  /** One connection's life: checks, the snapshot when due, then the stream until it ends. */
  private async connectOnce(): Promise<void> {
    const side = normalClient(this.def)
    let failure: unknown
    let service: LogicalReplicationService | undefined
    const abort = (e?: unknown) => {
      failure ??= e
      void service?.stop()
    }
    this.session = { abort }
    // The server going down shows first here: close the stream now rather than drain its WAL.
    side.on('error', (e: unknown) => {
      abort(
        SHUTDOWN_CODES.has(codeOf(e) ?? '')
          ? new Error(`the database is shutting down (${String(codeOf(e))})`, { cause: e })
          : e,
      )
    })
    let lagTimer: NodeJS.Timeout | undefined
    try {
      await side.connect()
      const slot = await preflight(side, this.def)
      if (slot.lost) throw new NeedsOperator(lostSlotFix(this.slot))
      await this.prepareSlot(side, slot.exists)
      if (this.stopped) return
      const checkpoint = this.sink.checkpoint()
      if (checkpoint === undefined) throw new Error('no checkpoint after preparing the slot')
      lagTimer = setInterval(() => {
        void this.measureLag(side, abort)
      }, this.options.lagEveryMs ?? 5000)
      lagTimer.unref()
      service = new LogicalReplicationService(
        { connectionString: this.def.url, options: SESSION_OPTIONS },
        { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
      )
      await this.stream(service, checkpoint, side, abort)
      if (failure !== undefined) throw asError(failure)
    } catch (e) {
      throw asError(failure ?? e)
    } finally {
      clearInterval(lagTimer)
      this.session = undefined
      await service?.destroy().catch(() => undefined)
      await side.end().catch(() => undefined)
    }
  }

  /** Makes sure the slot exists and we have a checkpoint (taking the snapshot when asked). */
  private async prepareSlot(side: pg.Client, exists: boolean): Promise<void> {
    const checkpoint = this.sink.checkpoint()
    if (checkpoint !== undefined) {
      if (!exists) throw new NeedsOperator(lostSlotFix(this.slot))
      return
    }
    if (this.def.snapshot) {
      // No checkpoint: the snapshot never finished (or never began). Start it from scratch.
      if (exists)
        await side.query('SELECT pg_drop_replication_slot($1)', [this.slot]).catch((e: unknown) => {
          throw codeOf(e) === '55006' ? new Error(`the slot ${this.slot} is in use`) : e
        })
      this.state = 'snapshotting'
      const point = await takeSnapshot({
        def: this.def,
        db: this.db,
        sink: this.sink,
        chunk: this.options.snapshotChunk ?? 1000,
        now: () => this.deps.now(),
        fit: (c) => this.fit(c),
        stopped: () => this.stopped,
        progress: (n) => (this.captured += n),
      })
      this.log.info({ consistentPoint: point }, 'snapshot taken')
      return
    }
    let start: string
    if (exists) {
      const r = await side.query<{ lsn: string }>(
        'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
        [this.slot],
      )
      start = r.rows[0]!.lsn
    } else {
      const r = await side.query<{ lsn: string }>(
        "SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')",
        [this.slot],
      )
      start = r.rows[0]!.lsn
      this.log.info({ slot: this.slot, at: start }, 'replication slot created')
    }
    await this.sink.commit({ changes: [], checkpoint: normLsn(start) })
  }

  private fit(c: Change): Change {
    return fitChange(c, this.deps.maxEventBytes, this.def.oversize)
  }

  /** Streams from `checkpoint` until the stream ends (stop, error, server gone). */
  private async stream(
    service: LogicalReplicationService,
    checkpoint: string,
    side: pg.Client,
    abort: (e?: unknown) => void,
  ): Promise<void> {
    const plugin = new Pgoutput({ protoVersion: 1, publicationNames: [this.def.publication!] })
    const tables = new Map<number, Table>()
    let handled = 0
    let txn: (Txn & { skip: boolean; changes: Change[] }) | undefined
    let committing = Promise.resolve()
    let broken = false
    // The library sends lsn + 1: give it end − 1 so the server records exactly `end`.
    const ack = (lsn: string) => service.acknowledge(bigToLsn(lsnToBig(lsn) - 1n))
    const commit = (batch: { changes: Change[]; checkpoint?: string }) => {
      const run = committing.then(() => this.sink.commit(batch))
      committing = run.catch(() => undefined)
      return run
    }

    // Transactions read whole but not stored yet: when more have already arrived, several are
    // stored in one store commit (with the last one's end as the checkpoint), which is what lets
    // a backlog of small transactions drain at the store's batch rate, not one fsync each.
    let pending: { changes: Change[]; checkpoint?: string; txns: number } = {
      changes: [],
      txns: 0,
    }
    const take = () => {
      const p = pending
      pending = { changes: [], txns: 0 }
      return p
    }
    const flush = async (extra: Change[] = []) => {
      const p = take()
      const changes = extra.length === 0 ? p.changes : p.changes.concat(extra)
      await commit(p.checkpoint === undefined ? { changes } : { changes, checkpoint: p.checkpoint })
      this.captured += changes.length
      if (p.checkpoint !== undefined) await ack(p.checkpoint)
    }
    const moreWaiting = () => plugin.received - handled - 1 > 0
    const store = {
      /** A transaction read whole (its commit's end LSN). */
      committed: async (changes: Change[], end: string) => {
        for (const c of changes) pending.changes.push(c)
        pending.checkpoint = end
        pending.txns++
        if (moreWaiting() && pending.changes.length < this.maxTxnChanges && pending.txns < 1000)
          return
        await flush()
      },
      /**
       * A part of a large transaction: stored now, after the whole ones read before it (none:
       * just those).
       */
      part: (changes: Change[]) => flush(changes),
    }

    service.on('error', (e: Error) => {
      broken = true
      abort(e)
    })
    service.on('start', () => {
      this.state = 'streaming'
      this.error = undefined
      this.log.info({ slot: this.slot, from: checkpoint }, 'streaming')
    })
    service.on('heartbeat', async (walEnd: string, _time: number, reply: boolean) => {
      if (broken) return
      const idle = plugin.received === handled && txn === undefined && pending.txns === 0
      this.idle = idle
      const at = this.sink.checkpoint()
      try {
        if (idle && at !== undefined && compareLsn(walEnd, at) > 0) {
          // Everything sent before walEnd is stored: move the checkpoint (and the slot) there.
          await commit({ changes: [], checkpoint: normLsn(walEnd) }).then(() => {
            const now = this.sink.checkpoint()
            if (now !== undefined) return ack(now)
          })
        } else if (reply && at !== undefined) await ack(at)
      } catch (e) {
        broken = true
        abort(e)
      }
    })
    service.on('data', async (lsn: string, m: Record<string, unknown> & { tag: string }) => {
      if (broken) return
      try {
        await this.handle(lsn, m, {
          tables,
          side,
          get txn() {
            return txn
          },
          set txn(t) {
            txn = t
          },
          store,
        })
      } catch (e) {
        broken = true
        abort(e)
      } finally {
        handled++
      }
    })
    // Rule 2: from our own checkpoint, every time.
    await service.subscribe(plugin, this.slot, checkpoint)
  }

  private async handle(
    lsn: string,
    m: Record<string, unknown> & { tag: string },
    ctx: {
      tables: Map<number, Table>
      side: pg.Client
      txn: (Txn & { skip: boolean; changes: Change[] }) | undefined
      store: Store
    },
  ): Promise<void> {
    switch (m.tag) {
      case 'begin': {
        this.idle = false
        ctx.txn = {
          xid: m.xid as number,
          commitLsn: normLsn(m.commitLsn as string),
          tsMs: Number((m.commitTime as bigint) / 1000n),
          seq: 0,
          skip: false,
          changes: [],
        }
        return
      }
      case 'origin':
        if (ctx.txn && m.originName === JUNCTION_ORIGIN) ctx.txn.skip = true
        return
      case 'relation': {
        const rel = m as unknown as {
          relationOid: number
          schema: string
          name: string
          columns: { name: string; typeOid: number }[]
        }
        ctx.tables.set(rel.relationOid, {
          schema: rel.schema,
          name: rel.name,
          columns: rel.columns.map((c) => ({ name: c.name, typeOid: c.typeOid })),
          key: await primaryKey(ctx.side, rel.relationOid),
        })
        return
      }
      case 'insert':
      case 'update':
      case 'delete':
        await this.row(lsn, m, ctx)
        return
      case 'truncate': {
        const txn = ctx.txn
        if (!txn || txn.skip) return
        for (const r of m.relations as { relationOid: number }[]) {
          const table = ctx.tables.get(r.relationOid)
          if (!table) continue
          const c = rowChange(this.def, this.db, table, txn, {
            op: 't',
            lsn: normLsn(lsn),
            before: null,
            after: null,
          })
          txn.changes.push(c)
        }
        return
      }
      case 'commit': {
        const txn = ctx.txn
        ctx.txn = undefined
        if (!txn) return
        const end = normLsn(m.commitEndLsn as string)
        // Rule 1: the changes and the commit's end LSN in one store transaction, then the ack
        // of exactly that LSN (possibly with the transactions read right after it).
        this.lastCommitMs = txn.tsMs
        await ctx.store.committed(txn.changes, end)
        return
      }
      default:
        return // type and message records carry no row
    }
  }

  private async row(
    lsn: string,
    m: Record<string, unknown> & { tag: string },
    ctx: {
      tables: Map<number, Table>
      txn: (Txn & { skip: boolean; changes: Change[] }) | undefined
      store: Store
    },
  ): Promise<void> {
    const txn = ctx.txn
    if (!txn || txn.skip) return
    const rel = m.relation as { relationOid: number }
    const table = ctx.tables.get(rel.relationOid)
    if (!table)
      throw new Error(`a change to relation ${String(rel.relationOid)} before its description`)
    type Row = Record<string, unknown> | null
    const op = m.tag === 'insert' ? 'c' : m.tag === 'update' ? 'u' : 'd'
    const before = (m.old as Row) ?? (m.key as Row) ?? null
    const after = op === 'd' ? null : ((m.new as Row) ?? null)
    const change = rowChange(this.def, this.db, table, txn, {
      op,
      lsn: normLsn(lsn),
      before,
      after,
    })
    let fitted: Change
    try {
      fitted = this.fit(change)
    } catch (e) {
      // Stopping for an operator: the whole transactions read before this one are stored first.
      await ctx.store.part([])
      throw e
    }
    txn.changes.push(fitted)
    if (txn.changes.length >= this.maxTxnChanges) {
      // A large transaction: store this part now, without moving the checkpoint.
      const part = txn.changes
      txn.changes = []
      await ctx.store.part(part)
    }
  }

  private async measureLag(side: pg.Client, abort: (e?: unknown) => void): Promise<void> {
    try {
      const { current, lost } = await walNow(side, this.slot)
      if (lost) {
        abort(new NeedsOperator(lostSlotFix(this.slot)))
        return
      }
      const at = this.sink.checkpoint()
      if (at !== undefined) this.lagBytes = Math.max(0, Number(lsnToBig(current) - lsnToBig(at)))
    } catch {
      // The side connection's own error handler decides (shutdown, lost connection).
    }
  }
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)))
