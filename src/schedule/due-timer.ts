/**
 * @module
 * The timing core the schedulers share (scheduled rules and Scheduler's schedules): a heap of
 * entries by the time they are next due and one timer on the injected clock for the earliest
 * ({@link DueTimer}), and the loop that fires each entry's due ticks ({@link TickLoop}).
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

  /** Starts again after {@link stop}, with nothing in it (entries are woken anew). */
  resume(): void {
    this.stopped = false
    this.heap.clear()
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

/** An entry with ticks: `next` is the next one (undefined: none left). */
export type TickEntry = DueEntry & { next: number | undefined }

export type TickLoopHooks<E extends TickEntry> = {
  clock: Clock
  /** Ticks whose invocation is due longer ago than this are skipped (`skipMissed`). */
  graceMs: number
  /** When the tick's invocation is due (the tick itself, or later in a flexible window). */
  dueAt(entry: E, tick: number): number
  /** Stores the tick's invocation with the tick; a rejection leaves the tick unfired. */
  fire(entry: E, tick: number): Promise<void>
  /** After the tick is stored: records it and moves `entry.next` on. */
  fired(entry: E, tick: number): void
  /** Moves `entry.next` past the ticks missed by more than the grace period, counting them. */
  skipMissed(entry: E, now: number): void
  /** Called once an entry has no tick left (after its loop). */
  finished?(entry: E): Promise<void>
  onFireError(entry: E, tick: number, error: unknown): void
}

/**
 * Fires the due ticks of entries, each entry's one after another (different entries' at once, so
 * that many due at the same second share a commit), never early and never twice: a tick counts
 * as fired only once `fire` has stored it. A tick that could not be stored is tried again a
 * second later (missed if that is past the grace period), from the heap, so that nothing waits
 * on that entry meanwhile.
 */
export class TickLoop<E extends TickEntry> {
  readonly due: DueTimer<E>
  private firing = 0
  private idle: (() => void)[] = []
  private stopped = false

  constructor(private readonly hooks: TickLoopHooks<E>) {
    this.due = new DueTimer(hooks.clock, (entry) => void this.fireDue(entry))
  }

  /** Sets the entry's next wake-up from its next tick (call `due.arm()` after). */
  track(entry: E): void {
    this.due.wake(entry, this.wakeOf(entry))
  }

  /** Resolves once no tick is being fired (the manual clock waits for this between steps). */
  settled(): Promise<void> {
    if (this.firing === 0) return Promise.resolve()
    return new Promise((resolve) => this.idle.push(resolve))
  }

  stop(): void {
    this.stopped = true
    this.due.stop()
  }

  /** Starts again after {@link stop} (the caller tracks its entries anew). */
  resume(): void {
    this.stopped = false
    this.due.resume()
  }

  private wakeOf(entry: E): number | undefined {
    return entry.next === undefined ? undefined : this.hooks.dueAt(entry, entry.next)
  }

  private async fireDue(entry: E): Promise<void> {
    const { hooks } = this
    entry.firing = true
    this.firing++
    let retryAt: number | undefined
    try {
      while (!entry.stale && !this.stopped && entry.next !== undefined) {
        const now = hooks.clock.now()
        const tick = entry.next
        const at = hooks.dueAt(entry, tick)
        if (at > now) break
        if (now - at > hooks.graceMs) {
          hooks.skipMissed(entry, now)
          continue
        }
        try {
          await hooks.fire(entry, tick)
        } catch (e) {
          hooks.onFireError(entry, tick, e)
          retryAt = hooks.clock.now() + 1000
          break
        }
        hooks.fired(entry, tick)
      }
      if (entry.next === undefined && !entry.stale && hooks.finished) await hooks.finished(entry)
    } finally {
      entry.firing = false
      if (!entry.stale) this.due.wake(entry, retryAt ?? this.wakeOf(entry))
      if (--this.firing === 0) for (const f of this.idle.splice(0)) f()
      this.due.arm()
    }
  }
}
