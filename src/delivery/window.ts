/**
 * @module
 * The delivery window: the pending jobs the dispatcher holds in memory, at most `maxJobs` of
 * them, paged in from the store in key order (due time, then id). Every other pending job is
 * only in the store, so memory follows the configuration, not the backlog.
 *
 * The invariant that makes paging safe: every pending job whose stored key is at or below the
 * horizon H is in the window. A page reads the jobs just after H and moves H to the last key it
 * read. H starts below every key (nothing is loaded at start), becomes +∞ when a short page shows
 * that the store holds nothing more, and moves down when a new job is turned away for lack of
 * room (it is committed, so a later page reads it). A job leaves the window, back to the store
 * only, when its stored key is beyond H: after its reschedule has committed, never before, or
 * when jobs due later make room for new jobs due sooner (H then moves below the ones leaving).
 *
 * Single-threaded: only the event loop calls it. A page read is the one asynchronous step; what
 * is turned away or leaves while it is outstanding is remembered, so that the page neither moves
 * H past a job it did not see nor brings back a job that has just left.
 */
import {
  compareJobKeys,
  type EventStore,
  type JobKey,
  type PendingDelivery,
} from '../store/ports.js'
import { JobHeap } from './job-heap.js'
import type { Item, JobWindow, JobWindowDeps } from './job-window.js'

export type { Item } from './job-window.js'

export type WindowDeps = Omit<JobWindowDeps, 'log'> & {
  store: Pick<EventStore, 'due'>
  log: { error(obj: object, msg: string): void }
}

const BELOW: JobKey = { dueAt: -Infinity, id: 0 }
const ABOVE: JobKey = { dueAt: Infinity, id: 0 }

/** The greatest key before `k`: ids are integers, so nothing lies between the two. */
const justBelow = (k: JobKey): JobKey => ({ dueAt: k.dueAt, id: k.id - 1 })
const keyOf = (k: JobKey): JobKey => ({ dueAt: k.dueAt, id: k.id })
const minKey = (a: JobKey, b: JobKey): JobKey => (compareJobKeys(a, b) <= 0 ? a : b)

export class DeliveryWindow implements JobWindow {
  /** Every job in memory by id: waiting, due, running or waiting for its outcome's write. */
  private readonly jobs = new Map<number, Item>()
  /** The jobs not running, earliest first. */
  private readonly heap = new JobHeap<Item>()
  private horizon: JobKey = BELOW
  private paging = false
  /** While a page is read: the smallest key turned away or sent back to the store. */
  private droppedMin: JobKey | undefined
  /** While a page is read: the jobs that left (finished or back in the store). */
  private readonly left = new Set<number>()
  private fillScheduled = false
  private stopped = false
  readonly pageSize: number

  constructor(private readonly deps: WindowDeps) {
    // A page is read on the event loop: 500 rows took 3 ms (p99 9 ms) with a million pending,
    // 1,000 twice that.
    this.pageSize = Math.max(1, Math.min(500, Math.floor(deps.maxJobs / 4)))
  }

  /** Jobs in memory. */
  get size(): number {
    return this.jobs.size
  }

  /** Starts paging in (also called whenever room opens up). */
  fill(): void {
    const { deps } = this
    if (this.stopped || this.paging || this.horizon.dueAt === Infinity) return
    if (deps.maxJobs - this.jobs.size < this.pageSize) return
    this.paging = true
    this.droppedMin = undefined
    this.left.clear()
    const after = this.horizon.dueAt === -Infinity ? undefined : keyOf(this.horizon)
    let page: Promise<PendingDelivery[]>
    try {
      page = deps.store.due(after, this.pageSize)
    } catch (e) {
      // A store that throws rather than rejects must not leave `paging` set for good.
      page = Promise.reject(e instanceof Error ? e : new Error(String(e)))
    }
    page.then(
      (rows) => {
        this.paging = false
        if (this.stopped) return
        this.admitPage(rows)
        deps.onAdmit()
        // The next page on a later turn: requests keep being answered between pages.
        this.fillSoon()
      },
      (e: unknown) => {
        this.paging = false
        if (this.stopped) return
        deps.log.error({ err: e }, 'could not read pending deliveries; retrying')
        deps.clock.setTimer(1000, () => {
          this.fill()
        })
      },
    )
  }

  /**
   * New jobs, committed already: kept if they fall within H and there is room, or if jobs due
   * later can make room for them; otherwise left to the store.
   */
  offer(items: (PendingDelivery & { envelope?: Record<string, unknown> })[]): void {
    for (const p of items) {
      if (this.jobs.has(p.job.id)) continue // a page found it first
      if (compareJobKeys(p.job, this.horizon) <= 0) {
        if (this.jobs.size < this.deps.maxJobs || this.makeRoomBefore(p.job)) {
          this.admit({ ...p, stored: true })
          continue
        }
        // Turned away: the store has it, and H must stay below it so that a page reads it.
        this.horizon = justBelow(p.job)
      }
      this.remember(p.job)
    }
    this.fill()
  }

  /** The earliest job due at `now`, taken out of the heap to run (it stays in the window). */
  take(now: number): Item | undefined {
    const top = this.heap.peek()
    if (!top || top.job.dueAt > now) return undefined
    return this.heap.pop()
  }

  /** When the earliest waiting job is due. */
  nextDueAt(): number | undefined {
    return this.heap.peek()?.job.dueAt
  }

  /** A job delayed in memory only (its store row keeps its earlier key). */
  delay(item: Item): void {
    item.stored = false
    this.heap.push(item)
  }

  /** A job whose reschedule has committed: waits in memory if within H, else in the store. */
  requeue(item: Item): void {
    if (this.stopped) return
    item.stored = true
    if (compareJobKeys(item.job, this.horizon) > 0) {
      this.leave(item, true)
      return
    }
    this.heap.push(item)
  }

  /** A job whose outcome is stored (delivered, dropped, dead-lettered): it leaves memory. */
  release(item: Item): void {
    this.leave(item, false)
  }

  stop(): void {
    this.stopped = true
    this.heap.clear()
  }

  private admit(item: Item): void {
    this.jobs.set(item.job.id, item)
    this.heap.push(item)
  }

  private leave(item: Item, backToStore: boolean): void {
    this.jobs.delete(item.job.id)
    if (this.paging) this.left.add(item.job.id)
    if (backToStore) this.remember(item.job)
    this.fill()
  }

  /** A job beyond H that is (only) in the store; a page being read must not move H past it. */
  private remember(k: JobKey): void {
    if (this.paging && (!this.droppedMin || compareJobKeys(k, this.droppedMin) < 0))
      this.droppedMin = keyOf(k)
  }

  /**
   * Sends the waiting jobs due latest, all after `k`, back to the store (a page's worth at once,
   * so the cost of choosing them is shared), and moves H below them. False if none is due after
   * `k`: jobs due sooner never leave for a later one.
   */
  private makeRoomBefore(k: JobKey): boolean {
    const later = this.heap
      .values()
      .filter((item) => item.stored && compareJobKeys(item.job, k) > 0)
    if (later.length === 0) return false
    later.sort((a, b) => compareJobKeys(b.job, a.job))
    const out = new Set(later.slice(0, this.pageSize))
    this.heap.remove((item) => out.has(item))
    let lowest = ABOVE
    for (const item of out) {
      this.jobs.delete(item.job.id)
      if (this.paging) this.left.add(item.job.id)
      this.remember(item.job)
      lowest = minKey(lowest, item.job)
    }
    // Every job still in memory is due before the lowest one sent back.
    this.horizon = minKey(this.horizon, justBelow(lowest))
    return true
  }

  private admitPage(rows: PendingDelivery[]): void {
    const last = rows[rows.length - 1]
    // A short page: the store had nothing more when it was read; later jobs come by `offer`.
    let reached = rows.length < this.pageSize || !last ? ABOVE : keyOf(last.job)
    if (this.droppedMin) reached = minKey(reached, justBelow(this.droppedMin))
    for (const row of rows) {
      if (compareJobKeys(row.job, reached) > 0) break
      // In memory already (submitted while the page was read), or gone meanwhile: the row is stale.
      if (this.jobs.has(row.job.id) || this.left.has(row.job.id)) continue
      if (this.jobs.size >= this.deps.maxJobs) {
        reached = justBelow(row.job)
        break
      }
      this.admit({ ...row, stored: true })
    }
    // H only moves up here: anything turned away meanwhile kept `reached` below it.
    if (compareJobKeys(reached, this.horizon) > 0) this.horizon = reached
    this.droppedMin = undefined
    this.left.clear()
  }

  private fillSoon(): void {
    if (this.fillScheduled) return
    this.fillScheduled = true
    setImmediate(() => {
      this.fillScheduled = false
      this.fill()
    })
  }
}
