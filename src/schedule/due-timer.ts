/**
 * @module
 * The timing core the schedulers share (scheduled rules and Scheduler's schedules): a heap of
 * entries by the time they are next due and one timer on the injected clock for the earliest.
 * The timer is capped at an hour, so that far times (yearly crons) do not overflow a timer and a
 * clock that jumps is noticed. An entry is due at its `wakeAt`; a heap item whose time is no
 * longer its entry's `wakeAt`, or whose entry is stale, is skipped when it comes out (cheaper
 * than searching the heap on every change).
 */
import type { Cancel, Clock } from '../clock.js'
import { MinHeap } from '../min-heap.js'

/** Longest a timer is set for; then the heap is looked at again. */
const MAX_TIMER_MS = 3_600_000

export type DueEntry = {
  /** When its heap item is due; undefined while it waits for nothing (or is firing). */
  wakeAt: number | undefined
  /** Replaced or removed: its heap items are skipped. */
  stale: boolean
  /** Being fired: it is woken again when that finishes. */
  firing: boolean
}

export class DueTimer<E extends DueEntry> {
  private readonly heap = new MinHeap<{ at: number; entry: E }>((a, b) => a.at <= b.at)
  private timer: { at: number; cancel: Cancel } | undefined
  private stopped = false

  /** `onDue` starts firing an entry whose time has come (it must not throw). */
  constructor(
    private readonly clock: Clock,
    private readonly onDue: (entry: E) => void,
  ) {}

  /** Sets when the entry is next due (undefined: never); call {@link arm} after. */
  wake(entry: E, at: number | undefined): void {
    entry.wakeAt = at
    if (at !== undefined) this.heap.push({ at, entry })
  }

  stop(): void {
    this.stopped = true
    this.timer?.cancel()
    this.timer = undefined
  }

  /** One timer for the earliest entry; on the ManualClock it fires when time reaches it. */
  arm(): void {
    if (this.stopped) return
    let top = this.heap.peek()
    while (top && (top.entry.stale || top.entry.wakeAt !== top.at)) {
      this.heap.pop()
      top = this.heap.peek()
    }
    if (!top) {
      this.timer?.cancel()
      this.timer = undefined
      return
    }
    if (this.timer && this.timer.at === top.at) return
    this.timer?.cancel()
    const now = this.clock.now()
    const at = top.at
    const timer = {
      at,
      cancel: this.clock.setTimer(Math.min(Math.max(0, at - now), MAX_TIMER_MS), () => {
        if (this.timer === timer) this.timer = undefined
        this.runDue()
      }),
    }
    this.timer = timer
  }

  /** Starts every entry whose time has come (a timer may run early: it is checked), then arms. */
  runDue(): void {
    if (this.stopped) return
    const now = this.clock.now()
    for (;;) {
      const top = this.heap.peek()
      if (!top || top.at > now) break
      this.heap.pop()
      const { entry } = top
      if (entry.stale || entry.firing || entry.wakeAt !== top.at) continue
      entry.wakeAt = undefined
      this.onDue(entry)
    }
    this.arm()
  }
}
