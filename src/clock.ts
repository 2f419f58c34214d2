/**
 * @module
 * Time, injected. Delivery and retries read the clock and set timers only through this, so a
 * test can run a 24-hour retry window in milliseconds with {@link ManualClock}.
 */

export type Cancel = () => void

export type Clock = {
  /** Milliseconds since the epoch. */
  now(): number
  /** Calls `fn` once, `ms` from now. */
  setTimer(ms: number, fn: () => void): Cancel
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms))
    return () => {
      clearTimeout(t)
    }
  },
}

type Timer = { at: number; seq: number; fn: () => void; cancelled: boolean }

/** A clock that moves only when told to; timers fire in time order during {@link advance}. */
export class ManualClock implements Clock {
  private time: number
  private seq = 0
  private timers: Timer[] = []

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start
  }

  now(): number {
    return this.time
  }

  setTimer(ms: number, fn: () => void): Cancel {
    const timer: Timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, cancelled: false }
    this.timers.push(timer)
    return () => {
      timer.cancelled = true
    }
  }

  /**
   * Moves time to the earliest pending timer and fires it; false when none is pending. Tests
   * that mix timers with real I/O step with this, letting the I/O finish between steps.
   */
  runNext(): boolean {
    return this.fireNext(Infinity)
  }

  /**
   * Moves time forward by `ms` as {@link advance} does, but after each timer waits for
   * `between()`: what a timer starts on other threads (a commit) finishes before time moves on,
   * so that a server on this clock behaves as it would have in real time.
   */
  async advanceStepwise(ms: number, between: () => Promise<void>): Promise<void> {
    const end = this.time + ms
    while (this.fireNext(end)) await between()
    this.time = Math.max(this.time, end)
  }

  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const end = this.time + ms
    while (this.fireNext(end));
    this.time = end
  }

  /** Fires the earliest timer due at or before `end` (moving time to it); false if none is. */
  private fireNext(end: number): boolean {
    this.timers = this.timers.filter((t) => !t.cancelled)
    let next: Timer | undefined
    for (const t of this.timers)
      if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)))
        next = t
    if (!next) return false
    this.timers.splice(this.timers.indexOf(next), 1)
    this.time = Math.max(this.time, next.at)
    next.fn()
    return true
  }
}
