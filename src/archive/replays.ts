/**
 * @module
 * Replays: an archive's events whose `time` lies in a window go back onto the archive's bus,
 * with `"replay-name"` added to each, through the normal routing and durable delivery path, to
 * the rules `Destination.FilterArns` names (all rules of the bus when absent).
 *
 * Durability: the replay's progress (the last event replayed, as a cursor in the archive's
 * order) is committed in the same transaction as the events and delivery jobs it replays. After
 * a crash or a stop, a replay that was STARTING or RUNNING resumes after its cursor, so no event
 * is replayed twice into one replay and none is skipped; one that was CANCELLING ends CANCELLED.
 *
 * Events go out in the archive's order (event time, then arrival), a page at a time as fast as
 * the store commits (AWS's behaviour), or, with Junction's `speed` extension, spaced as their
 * times were, divided by the speed (on the injected clock).
 *
 * Threading: one loop per running replay; control-plane calls (start, cancel) come through
 * `Registry.exclusive`. A loop re-reads its replay before each page, so a cancel takes effect
 * at the next page or paced event.
 *
 * Nodes sharing a store ({@link ReplayClaims}): a replay runs on the node that holds its lease,
 * renewed as its pages commit. When that node dies the lease lapses and another node adopts the
 * replay, resuming after the cursor the last page committed, so a replay outlives the node that
 * started it. A cancel through any node reaches the runner through the configuration.
 */
import type { Clock } from '../clock.js'
import type { Ingest, Routed } from '../engine/ingest.js'
import type { Registry } from '../engine/registry.js'
import type { EventBus, Replay, ReplayState, Scope } from '../model.js'
import type {
  ArchiveStore,
  ArchivedEvent,
  ConfigEntry,
  ConfigOp,
  ConfigStore,
} from '../store/ports.js'

/** Events replayed per commit when not paced. */
const PAGE = 200

/** At most this many replays active (starting, running or cancelling) per account and region. */
export const MAX_ACTIVE_REPLAYS = 10

export const replayArn = (s: Scope, name: string) =>
  `arn:aws:events:${s.region}:${s.account}:replay/${name}`

const ACTIVE: readonly ReplayState[] = ['STARTING', 'RUNNING', 'CANCELLING']

/** Leases on replays, where several nodes could run them (absent: this process runs them all). */
export type ReplayClaims = {
  /** Takes or renews the replay's lease; whether this node holds it now. */
  hold(arn: string): Promise<boolean>
  release(arn: string): Promise<void>
  /** How often a running replay renews, and how often free ones are looked for. */
  renewEveryMs: number
}

export type ReplaysDeps = {
  /** The store key of an archive, by ARN; undefined once it is deleted. */
  archiveKey: (arn: string) => number | undefined
  registry: Registry
  ingest: Ingest
  store: ArchiveStore
  config: ConfigStore
  clock: Clock
  claims?: ReplayClaims
  onError?: (error: unknown, replay: string) => void
}

/**
 * The event as replayed: its envelope with `"replay-name"` inserted before `"resources"`, where
 * EventBridge puts it. The first `,"resources":` in an envelope is the member itself: the
 * members before it are strings, in which a `"` is always escaped.
 */
export function replayedText(text: string, replayName: string): string {
  const at = text.indexOf(',"resources":')
  if (at < 0) throw new Error('an archived event has no resources member')
  return `${text.slice(0, at)},"replay-name":${JSON.stringify(replayName)}${text.slice(at)}`
}

export class Replays {
  private readonly replays = new Map<string, Replay>()
  private readonly loops = new Map<string, Promise<void>>()
  private readonly wakers = new Map<string, () => void>()
  private stopping = false
  private adopter: NodeJS.Timeout | undefined

  constructor(private readonly deps: ReplaysDeps) {}

  load(entries: ConfigEntry[]): void {
    for (const e of entries) if (e.kind === 'replay') this.replays.set(e.key, e.doc as Replay)
  }

  /**
   * A replay another node stored (see `ConfigStore.watch`): its state as that node, which runs
   * it, wrote it.
   */
  changed(op: ConfigOp): void {
    if (op.kind !== 'replay') return
    if (op.op === 'put') this.replays.set(op.key, op.doc as Replay)
    else this.replays.delete(op.key)
  }

  /**
   * Resumes the replays a stop or crash interrupted; with claims, from now on also those whose
   * node stopped renewing them.
   */
  async start(): Promise<void> {
    const { claims } = this.deps
    if (claims) {
      this.adopt()
      this.adopter = setInterval(() => {
        this.adopt()
      }, claims.renewEveryMs)
      this.adopter.unref()
      return
    }
    for (const r of [...this.replays.values()]) {
      if (r.state === 'CANCELLING') await this.finish(r, 'CANCELLED')
      else if (r.state === 'STARTING' || r.state === 'RUNNING') this.launch(r.arn)
    }
  }

  /** Lets the loops end (their replays stay RUNNING in the store, to resume at the next start). */
  async stop(): Promise<void> {
    this.stopping = true
    clearInterval(this.adopter)
    for (const wake of this.wakers.values()) wake()
    await Promise.all(this.loops.values())
  }

  /** Tries to take every active replay no loop here runs (its lease decides). */
  private adopt(): void {
    if (this.stopping) return
    for (const r of this.replays.values())
      if (ACTIVE.includes(r.state) && !this.loops.has(r.arn)) this.launch(r.arn)
  }

  get(scope: Scope, name: string): Replay | undefined {
    return this.replays.get(replayArn(scope, name))
  }

  list(scope: Scope): Replay[] {
    return [...this.replays.values()]
      .filter((r) => r.account === scope.account && r.region === scope.region)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  activeCount(scope: Scope): number {
    return this.list(scope).filter((r) => ACTIVE.includes(r.state)).length
  }

  /** Stores the new replay (STARTING) and starts it. */
  async begin(replay: Replay): Promise<void> {
    await this.save(replay)
    this.launch(replay.arn)
  }

  /** Asks a replay to stop: CANCELLING now, CANCELLED once its loop has let go. */
  async cancel(replay: Replay): Promise<Replay> {
    const next: Replay = { ...replay, state: 'CANCELLING' }
    await this.save(next)
    if (this.loops.has(replay.arn)) this.wakers.get(replay.arn)?.()
    // Where nodes share the store, the node running it (or, if none does, whichever adopts it
    // first) ends it; finishing it here could race that node's last page.
    else if (this.deps.claims) this.launch(replay.arn)
    else await this.finish(next, 'CANCELLED')
    return this.replays.get(replay.arn)!
  }

  /** Resolves once the replay's loop has ended (tests, the CLI's --wait). */
  async settled(arn: string): Promise<void> {
    await this.loops.get(arn)
  }

  private launch(arn: string): void {
    if (this.loops.has(arn)) return
    const { claims } = this.deps
    const loop = (claims ? this.runClaimed(arn, claims) : this.run(arn))
      .catch(async (e: unknown) => {
        this.deps.onError?.(e, arn)
        const r = this.replays.get(arn)
        if (r && !this.stopping)
          await this.finish(r, 'FAILED', e instanceof Error ? e.message : String(e)).catch(
            () => undefined,
          )
      })
      .finally(() => {
        this.loops.delete(arn)
      })
    this.loops.set(arn, loop)
  }

  /** Runs the replay while this node holds its lease; lets the lease go when done. */
  private async runClaimed(arn: string, claims: ReplayClaims): Promise<void> {
    if (!(await claims.hold(arn))) return
    try {
      await this.run(arn, claims)
    } finally {
      await claims.release(arn).catch(() => undefined)
    }
  }

  private async run(arn: string, claims?: ReplayClaims): Promise<void> {
    // Start on a later turn: StartReplay answers STARTING first, as AWS does.
    await new Promise<void>((resolve) => setImmediate(resolve))
    let r = this.replays.get(arn)!
    if (r.state === 'STARTING') {
      r = { ...r, state: 'RUNNING' }
      await this.save(r)
    }
    const { registry, store } = this.deps
    let renewedAt = Date.now()
    for (;;) {
      if (this.stopping) return
      r = this.replays.get(arn)!
      if (r.state === 'CANCELLING') return this.finish(r, 'CANCELLED')
      // Ended elsewhere (another node finished or cancelled it).
      if (r.state !== 'RUNNING') return
      if (claims && Date.now() - renewedAt >= claims.renewEveryMs) {
        // Lost (this node was cut off long enough for another to adopt it): that node goes on.
        if (!(await claims.hold(arn))) return
        renewedAt = Date.now()
      }
      const bus = registry.busByArn(r.destinationArn)
      if (!bus) return this.finish(r, 'FAILED', `Event bus ${r.destinationArn} does not exist.`)
      const key = this.deps.archiveKey(r.archiveArn)
      if (key === undefined)
        return this.finish(
          r,
          'FAILED',
          `Archive ${r.archiveArn.split('/').pop() ?? ''} does not exist.`,
        )
      const limit = r.speed > 0 ? 1 : PAGE
      const page = await store.page(key, r.eventStartTime, r.eventEndTime, r.cursor, limit)
      if (page.length === 0) return this.finish(r, 'COMPLETED')
      if (r.speed > 0 && r.cursor !== undefined) {
        // Paced: the wait is cut into steps no longer than a lease renewal.
        for (let wait = (page[0]!.time - r.cursor.time) / r.speed; wait > 0;) {
          const step = claims ? Math.min(wait, claims.renewEveryMs) : wait
          await this.pause(step, arn)
          wait -= step
          if (this.halted()) return
          r = this.replays.get(arn)!
          if (r.state === 'CANCELLING') return this.finish(r, 'CANCELLED')
          if (r.state !== 'RUNNING') return
          if (claims && wait > 0) {
            if (!(await claims.hold(arn))) return
            renewedAt = Date.now()
          }
        }
      }
      const last = page[page.length - 1]!
      const next: Replay = {
        ...r,
        cursor: { time: last.time, seq: last.seq },
        eventLastReplayedTime: last.time,
      }
      const filter = r.filterArns && new Set(r.filterArns)
      await this.deps.ingest.replay(
        page.map((a) => this.routed(a, r, bus)),
        (rule) => (filter ? filter.has(rule.arn) : true),
        { config: [{ op: 'put', kind: 'replay', key: arn, doc: next }] },
      )
      // A cancel that arrived during the commit keeps its CANCELLING state.
      const now = this.replays.get(arn)!
      this.replays.set(arn, { ...next, state: now.state })
    }
  }

  private routed(a: ArchivedEvent, r: Replay, bus: EventBus): Routed {
    const text = replayedText(a.event.text, r.name)
    return {
      event: {
        id: a.event.id,
        busArn: bus.arn,
        text,
        ingestedAt: this.deps.clock.now(),
        hops: 0,
      },
      envelope: JSON.parse(text) as Record<string, unknown>,
      bus,
    }
  }

  /** Whether the bus is stopping (read again after every wait). */
  private halted(): boolean {
    return this.stopping
  }

  /** Waits `ms` on the clock, or less when stopped or cancelled. */
  private pause(ms: number, arn: string): Promise<void> {
    if (ms <= 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer: { cancel?: () => void } = {}
      const done = () => {
        timer.cancel?.()
        this.wakers.delete(arn)
        resolve()
      }
      timer.cancel = this.deps.clock.setTimer(ms, done)
      this.wakers.set(arn, done)
    })
  }

  private async finish(r: Replay, state: ReplayState, reason?: string): Promise<void> {
    const latest = this.replays.get(r.arn) ?? r
    // A cancel that came in while the last page committed wins over completion.
    if (state === 'COMPLETED' && latest.state === 'CANCELLING') state = 'CANCELLED'
    const next: Replay = { ...latest, state, replayEndTime: this.deps.clock.now() }
    if (reason === undefined) delete next.stateReason
    else next.stateReason = reason
    await this.save(next)
  }

  private async save(r: Replay): Promise<void> {
    await this.deps.config.apply([{ op: 'put', kind: 'replay', key: r.arn, doc: r }])
    this.replays.set(r.arn, r)
  }
}
