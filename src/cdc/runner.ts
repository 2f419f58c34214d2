/**
 * @module
 * Runs the change-capture sources: one {@link ChangeSource} per definition, each with a
 * {@link CaptureSink} whose `commit` routes the changes as events on the source's bus (rules,
 * targets, archives, tail, metrics, through `Ingest.capture`) and commits them with the
 * checkpoint (a `cdc-checkpoint` document) in the same store append. A source started again
 * resumes from the last committed checkpoint, read at start and kept up to date from every
 * commit (and from other nodes' commits, through `changed`).
 *
 * A source whose start fails is started again with a backoff (1 s doubling to 60 s), unless the
 * failure needs an operator (see `failure.ts`): then it stays failed with that message in its
 * status. Where nodes share a store, a source runs only on the node holding its lease
 * `cdc.<account>.<region>.<name>`.
 *
 * Threading: `add`/`drop` run from the Sources listener (control-plane changes, one at a time);
 * commits run on each source's own loop; the maps here are touched from both, never across an
 * await in a way that matters (each entry is replaced, not mutated, by add/drop).
 */
import type { Logger } from 'pino'
import type { Leadership } from '../cluster/leadership.js'
import type { EventBus, Scope } from '../model.js'
import type { Metrics } from '../observe/metrics.js'
import type { AppendExtras, ConfigEntry, ConfigOp, ConfigStore } from '../store/ports.js'
import { needsHuman } from './failure.js'
import type {
  CaptureSink,
  Change,
  ChangeSource,
  OpenSource,
  SourceDefinition,
  SourceKind,
  SourceStatus,
} from './model.js'
import { notFound, sourceKey, type Sources } from './sources.js'

/** The stored checkpoint; `createdAt` ties it to the definition it belongs to. */
type CheckpointDoc = { checkpoint: string; createdAt: number; at: number }

export type RunnerDeps = {
  sources: Sources
  config: ConfigStore
  capture: (bus: EventBus, changes: Change[], extras: AppendExtras) => Promise<void>
  bus: (scope: Scope, name: string) => EventBus | undefined
  metrics: Metrics
  log: Logger
  now: () => number
  maxEventBytes: number
  openers: Record<SourceKind, OpenSource>
  slotDroppers: Partial<Record<SourceKind, (def: SourceDefinition) => Promise<void>>>
  /** Where nodes share the store: a leadership per source (see `cluster/leadership.ts`). */
  lead?: (name: string, onGain: () => void, onLose: () => void) => Leadership
}

type Entry = {
  def: SourceDefinition
  source: ChangeSource | undefined
  /** Why the last start failed (until the next one). */
  failure: { message: string; final: boolean } | undefined
  attempts: number
  timer: NodeJS.Timeout | undefined
  leadership?: Leadership
  captured: number
  stopped: boolean
}

const MAX_BACKOFF_MS = 60_000

export class SourceRunner {
  private readonly checkpoints = new Map<string, CheckpointDoc>()
  private readonly entries = new Map<string, Entry>()
  private poll: NodeJS.Timeout | undefined

  constructor(private readonly deps: RunnerDeps) {}

  /** Takes the checkpoints out of the stored configuration (read once at start). */
  load(entries: ConfigEntry[]): void {
    for (const e of entries)
      if (e.kind === 'cdc-checkpoint') this.checkpoints.set(e.key, e.doc as CheckpointDoc)
  }

  /** A checkpoint another node committed (it held the source's lease then). */
  changed(op: ConfigOp): void {
    if (op.kind !== 'cdc-checkpoint') return
    if (op.op === 'put') this.checkpoints.set(op.key, op.doc as CheckpointDoc)
    else this.checkpoints.delete(op.key)
  }

  /** Starts every stored source, and follows the sources added and removed from now on. */
  start(): void {
    for (const [key, def] of this.deps.sources.all()) this.add(key, def)
    this.deps.sources.listen((key, def) => {
      if (def) this.add(key, def)
      else void this.drop(key)
    })
    this.poll = setInterval(() => {
      this.report()
    }, 2000)
    this.poll.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.poll)
    await Promise.all([...this.entries.keys()].map((k) => this.drop(k)))
  }

  /** The source's status as this node sees it. */
  status(def: SourceDefinition): SourceStatus {
    const e = this.entries.get(sourceKey(def, def.name))
    if (!e) return { state: 'stopped', changesCaptured: 0 }
    const checkpoint = this.checkpointOf(sourceKey(def, def.name), def)
    if (e.source) return { ...e.source.status(), changesCaptured: e.captured }
    if (e.failure)
      return {
        state: e.failure.final ? 'failed' : 'reconnecting',
        error: e.failure.message,
        changesCaptured: e.captured,
        ...(checkpoint === undefined ? {} : { checkpoint }),
      }
    if (e.leadership && !e.leadership.isLeader)
      return {
        state: 'stopped',
        error: 'Runs on the node holding its lease.',
        changesCaptured: e.captured,
        ...(checkpoint === undefined ? {} : { checkpoint }),
      }
    return { state: 'starting', changesCaptured: e.captured }
  }

  /** Stops the source, removes it (and its checkpoint) and, when asked, drops its slot. */
  async remove(scope: Scope, name: string, dropSlot: boolean): Promise<void> {
    const key = sourceKey(scope, name)
    const def = this.deps.sources.get(scope, name)
    if (!def) throw notFound(name)
    await this.drop(key)
    await this.deps.sources.remove(scope, name)
    this.checkpoints.delete(key)
    const dropper = this.deps.slotDroppers[def.kind]
    if (dropSlot && dropper) await dropper(def)
  }

  private add(key: string, def: SourceDefinition): void {
    if (this.entries.has(key)) return
    const entry: Entry = {
      def,
      source: undefined,
      failure: undefined,
      timer: undefined,
      attempts: 0,
      captured: 0,
      stopped: false,
    }
    this.entries.set(key, entry)
    if (this.deps.lead) {
      entry.leadership = this.deps.lead(
        `cdc.${def.account}.${def.region}.${def.name}`,
        () => {
          this.run(key, entry)
        },
        () => {
          void this.halt(entry)
        },
      )
      entry.leadership.start()
    } else this.run(key, entry)
  }

  private async drop(key: string): Promise<void> {
    const entry = this.entries.get(key)
    if (!entry) return
    this.entries.delete(key)
    entry.stopped = true
    await entry.leadership?.stop()
    await this.halt(entry)
    const labels = { Account: entry.def.account, Source: entry.def.name }
    this.deps.metrics.cdcLagBytes.remove(labels)
    this.deps.metrics.cdcLagSeconds.remove(labels)
  }

  private async halt(entry: Entry): Promise<void> {
    clearTimeout(entry.timer)
    entry.timer = undefined
    const source = entry.source
    entry.source = undefined
    if (source)
      await source.stop().catch((e: unknown) => {
        this.deps.log.warn({ err: e, source: entry.def.name }, 'source did not stop cleanly')
      })
  }

  private run(key: string, entry: Entry): void {
    if (entry.stopped || entry.source) return
    const { deps } = this
    const { def } = entry
    let source: ChangeSource
    try {
      source = deps.openers[def.kind](def, this.sink(key, entry), {
        now: deps.now,
        log: deps.log.child({ source: def.name, account: def.account }),
        maxEventBytes: deps.maxEventBytes,
      })
    } catch (e) {
      this.failed(key, entry, e)
      return
    }
    entry.source = source
    entry.failure = undefined
    source.start().then(
      () => {
        entry.attempts = 0
      },
      (e: unknown) => {
        if (entry.source === source) entry.source = undefined
        void source.stop().catch(() => undefined)
        this.failed(key, entry, e)
      },
    )
  }

  private failed(key: string, entry: Entry, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e)
    const final = needsHuman(e)
    entry.failure = { message, final }
    this.deps.log.error({ err: e, source: entry.def.name, final }, 'change-capture source failed')
    if (final || entry.stopped) return
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** entry.attempts++)
    entry.timer = setTimeout(() => {
      entry.timer = undefined
      if (this.entries.get(key) === entry && (!entry.leadership || entry.leadership.isLeader))
        this.run(key, entry)
    }, delay)
    entry.timer.unref()
  }

  private checkpointOf(key: string, def: SourceDefinition): string | undefined {
    const doc = this.checkpoints.get(key)
    // A checkpoint left by an earlier source of the same name is not this one's.
    return doc && doc.createdAt === def.createdAt ? doc.checkpoint : undefined
  }

  private sink(key: string, entry: Entry): CaptureSink {
    const { deps } = this
    const { def } = entry
    const labels = { Account: def.account, Source: def.name }
    return {
      checkpoint: () => this.checkpointOf(key, def),
      commit: async (batch) => {
        if (entry.stopped) throw new Error('the source was removed')
        const doc: CheckpointDoc | undefined =
          batch.checkpoint === undefined
            ? undefined
            : { checkpoint: batch.checkpoint, createdAt: def.createdAt, at: deps.now() }
        const config: ConfigOp[] = doc ? [{ op: 'put', kind: 'cdc-checkpoint', key, doc }] : []
        if (batch.changes.length === 0) {
          if (config.length > 0) await deps.config.apply(config)
        } else {
          const bus = deps.bus(def, def.busName)
          if (!bus)
            throw new Error(
              `The bus ${def.busName} does not exist (any more); create it and the source resumes.`,
            )
          await deps.capture(bus, batch.changes, config.length > 0 ? { config } : {})
        }
        if (doc) this.checkpoints.set(key, doc)
        entry.captured += batch.changes.length
        if (batch.changes.length > 0)
          deps.metrics.cdcChangesCaptured.inc(labels, batch.changes.length)
      },
    }
  }

  /** Lag gauges from each running source's status. */
  private report(): void {
    for (const entry of this.entries.values()) {
      const s = entry.source?.status()
      if (!s) continue
      const labels = { Account: entry.def.account, Source: entry.def.name }
      if (s.lagBytes !== undefined) this.deps.metrics.cdcLagBytes.set(labels, s.lagBytes)
      if (s.lagSeconds !== undefined) this.deps.metrics.cdcLagSeconds.set(labels, s.lagSeconds)
    }
  }
}
