/**
 * @module
 * Counts of the messages of one queue that are only in the store (beyond the window held in
 * memory), by state, without holding the messages. A hidden message is counted under the second
 * it becomes visible (`due`, the end of that second), and moves to visible once the clock passes
 * that second: for these messages GetQueueAttributes may be up to a second behind, which the
 * "Approximate" in its names allows. Memory is bounded by the distinct seconds (a visibility
 * timeout is at most 12 hours), not by the messages.
 *
 * A message must be taken out with the times it was counted with (its store row, which does not
 * change while the message is only in the store); whether it is counted as visible or under its
 * second depends only on `due` and how far the tally was promoted, so both agree.
 */
import type { QueueCensus } from './model.js'
import { TimerHeap } from './timer-heap.js'

type Times = { visibleAt: number; receiveCount: number }
type Hidden = { inflight: number; delayed: number }

export class StoreTally {
  visible = 0
  inflight = 0
  delayed = 0
  /** Every second up to this time is promoted: its messages count as visible. */
  private promotedTo = Number.MIN_SAFE_INTEGER
  private readonly hidden = new Map<number, Hidden>()
  private readonly dues = new TimerHeap<number>()

  get total(): number {
    return this.visible + this.inflight + this.delayed
  }

  /** Starts from a census taken at `at` (a whole second, so census and tally agree on states). */
  init(census: QueueCensus, at: number): void {
    this.clear()
    this.promotedTo = at
    this.visible = census.visible
    for (const h of census.hidden) {
      this.bucket(h.due).inflight += h.inflight
      this.bucket(h.due).delayed += h.delayed
      this.inflight += h.inflight
      this.delayed += h.delayed
    }
  }

  /** The earliest time a hidden message here becomes visible, if any. */
  nextDue(): number | undefined {
    for (;;) {
      const top = this.dues.peek()
      if (!top) return undefined
      if (this.hidden.has(top.at)) return top.at
      this.dues.pop()
    }
  }

  add(m: Times): void {
    const due = dueOf(m.visibleAt)
    if (due <= this.promotedTo) {
      this.visible++
      return
    }
    const h = this.bucket(due)
    if (m.receiveCount > 0) {
      h.inflight++
      this.inflight++
    } else {
      h.delayed++
      this.delayed++
    }
  }

  remove(m: Times): void {
    const due = dueOf(m.visibleAt)
    const h = due <= this.promotedTo ? undefined : this.hidden.get(due)
    if (!h) {
      if (this.visible > 0) this.visible--
      return
    }
    if (m.receiveCount > 0 && h.inflight > 0) {
      h.inflight--
      this.inflight--
    } else if (h.delayed > 0) {
      h.delayed--
      this.delayed--
    }
    if (h.inflight === 0 && h.delayed === 0) this.hidden.delete(due)
  }

  /** Counts every second that has ended by `now` as visible. */
  promote(now: number): void {
    if (now > this.promotedTo) this.promotedTo = now
    for (;;) {
      const top = this.dues.peek()
      if (!top || top.at > now) return
      this.dues.pop()
      const h = this.hidden.get(top.at)
      if (!h) continue
      this.hidden.delete(top.at)
      this.visible += h.inflight + h.delayed
      this.inflight -= h.inflight
      this.delayed -= h.delayed
    }
  }

  clear(): void {
    this.visible = this.inflight = this.delayed = 0
    this.hidden.clear()
    this.dues.retain(() => false)
  }

  private bucket(due: number): Hidden {
    let h = this.hidden.get(due)
    if (!h) {
      h = { inflight: 0, delayed: 0 }
      this.hidden.set(due, h)
      this.dues.push(due, due)
    }
    return h
  }
}

/** The end of the second a message becomes visible in. */
export const dueOf = (visibleAt: number) => Math.ceil(visibleAt / 1000) * 1000
