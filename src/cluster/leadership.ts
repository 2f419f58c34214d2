/**
 * @module
 * One node at a time does a job (firing schedules) while several share a store: the node that
 * holds the job's lease. It renews the lease every third of its time to live; a node that cannot
 * renew it (the store is unreachable, or another node has it) stops at once, and in any case
 * before the lease can have expired, so two nodes never both believe they lead for long. Ticks
 * fired twice across a handover carry the same event id (see `tick-id.ts`), which the store
 * drops.
 */
import type { LeaseStore } from '../store/ports.js'

export type LeadershipDeps = {
  leases: LeaseStore
  /** The lease's name (the job). */
  name: string
  /** This node. */
  holder: string
  onGain: () => void
  onLose: () => void
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }
}

export class Leadership {
  private leading = false
  private heldAt = 0
  private renewing = false
  private stopped = false
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly deps: LeadershipDeps) {}

  get isLeader(): boolean {
    return this.leading
  }

  start(): void {
    const every = Math.max(50, Math.floor(this.deps.leases.ttlMs / 3))
    this.timer = setInterval(() => {
      this.check()
    }, every)
    this.timer.unref()
    this.check()
  }

  /** Stops leading (and gives the lease up, so another node takes over without waiting). */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    if (!this.leading) return
    this.lose('stopping')
    await this.deps.leases.release(this.deps.name, this.deps.holder).catch(() => undefined)
  }

  private check(): void {
    // A renewal that hangs must not let this node lead past the lease's expiry.
    if (this.leading && Date.now() - this.heldAt > (this.deps.leases.ttlMs * 2) / 3)
      this.lose('the lease could not be renewed in time')
    if (this.renewing || this.stopped) return
    this.renewing = true
    const asked = Date.now()
    this.deps.leases
      .hold(this.deps.name, this.deps.holder)
      .then(
        (held) => {
          if (this.stopped) return
          if (!held) {
            if (this.leading) this.lose('another node holds the lease')
            return
          }
          this.heldAt = asked
          if (!this.leading) {
            this.leading = true
            this.deps.log.info({ lease: this.deps.name, holder: this.deps.holder }, 'leading')
            this.deps.onGain()
          }
        },
        (e: unknown) => {
          if (this.leading && !this.stopped) this.lose(`the store did not answer: ${String(e)}`)
        },
      )
      .finally(() => {
        this.renewing = false
      })
  }

  private lose(why: string): void {
    if (!this.leading) return
    this.leading = false
    this.deps.log.warn(
      { lease: this.deps.name, holder: this.deps.holder, why },
      'no longer leading',
    )
    this.deps.onLose()
  }
}
