/**
 * @module
 * One writer per sink: events handed to it while a transaction is in flight wait and go into
 * the next one, up to the sink's `batchSize` (the dispatcher runs many deliveries at once, so
 * under load the batches fill by themselves; alone, an event is written at once).
 *
 * A batch is one transaction. When it fails for a reason a row may cause (a bad value, a
 * missing column), each of its rows is written again on its own, so that every event gets its
 * own outcome; when it fails for a reason that is not the rows' (the database is down), every
 * row gets that failure and the dispatcher retries them.
 *
 * Single-threaded: runs on the event loop; at most one transaction per sink at a time.
 */
import type { Dialect, OpenDialect, SinkFailure } from './dialect.js'
import type { SinkDefinition } from './model.js'
import type { RowWrite } from './rows.js'

export type WriteOutcome = { ok: true } | ({ ok: false } & SinkFailure)

type Waiting = { row: RowWrite; done: (outcome: WriteOutcome) => void }

export class SinkWriter {
  private readonly waiting: Waiting[] = []
  private flushing = false
  private closed = false

  constructor(
    readonly def: SinkDefinition,
    private readonly dialect: Dialect,
  ) {}

  write(row: RowWrite): Promise<WriteOutcome> {
    if (this.closed)
      return Promise.resolve({
        ok: false,
        retryable: true,
        errorCode: 'SDK_CLIENT_ERROR',
        errorMessage: `The sink ${this.def.name} was changed or removed during the write.`,
      })
    return new Promise((done) => {
      this.waiting.push({ row, done })
      if (!this.flushing) void this.flush()
    })
  }

  private async flush(): Promise<void> {
    this.flushing = true
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.def.batchSize)
        await this.writeBatch(batch)
      }
    } finally {
      this.flushing = false
    }
  }

  private async writeBatch(batch: Waiting[]): Promise<void> {
    const rows = batch.map((w) => w.row)
    try {
      await this.dialect.write(rows)
      for (const w of batch) w.done({ ok: true })
      return
    } catch (e) {
      const failure = this.dialect.classify(e, rows)
      if (batch.length === 1 || failure.retryable) {
        for (const w of batch) w.done({ ok: false, ...failure })
        return
      }
    }
    // A row refused the batch: each on its own, so that only the bad rows fail.
    for (const w of batch) {
      try {
        await this.dialect.write([w.row])
        w.done({ ok: true })
      } catch (e) {
        w.done({ ok: false, ...this.dialect.classify(e, [w.row]) })
      }
    }
  }

  /** Closes the pool; writes already handed over finish first. */
  async close(): Promise<void> {
    this.closed = true
    while (this.flushing) await new Promise((r) => setTimeout(r, 10))
    await this.dialect.close()
  }
}

/**
 * The writers of the sinks in use, opened on first use and replaced when the sink's definition
 * changes (another definition object). Removing a sink closes its pool.
 */
export class SinkWriters {
  private readonly writers = new Map<string, SinkWriter>()

  constructor(private readonly open: (def: SinkDefinition) => Dialect) {}

  of(def: SinkDefinition): SinkWriter {
    const current = this.writers.get(def.arn)
    if (current && current.def === def) return current
    if (current) void current.close().catch(() => undefined)
    const writer = new SinkWriter(def, this.open(def))
    this.writers.set(def.arn, writer)
    return writer
  }

  /** The sink was removed or replaced: its pool closes. */
  async forget(arn: string): Promise<void> {
    const w = this.writers.get(arn)
    if (!w) return
    this.writers.delete(arn)
    await w.close()
  }

  async closeAll(): Promise<void> {
    const all = [...this.writers.values()]
    this.writers.clear()
    await Promise.all(all.map((w) => w.close().catch(() => undefined)))
  }
}

export const openDialectFor =
  (kinds: Record<SinkDefinition['kind'], OpenDialect>) =>
  (def: SinkDefinition): Dialect =>
    kinds[def.kind](def)
