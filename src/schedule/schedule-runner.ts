/**
 * @module
 * Fires EventBridge Scheduler's schedules: at each tick (see `schedule-times.ts`) the schedule's
 * target is invoked with its Input, never early, never twice, durable across restarts, in the
 * way `RuleScheduler` fires scheduled rules:
 *
 * - The invocation (an event and its delivery job) is committed with the tick, keyed by the
 *   schedule's ARN in the store's `schedule_ticks` ({@link EventStore.append}); at start the
 *   latest fired tick of each schedule is read back, so a restart neither repeats nor loses one.
 * - Ticks due more than `graceMs` ago (the server was down) are not fired but counted
 *   (`JunctionScheduleMissedTicks`, with the group as EventBusName and the schedule's name as
 *   RuleName); those within the grace period are fired once each, in order.
 * - A DISABLED schedule fires nothing; enabling it again (UpdateSchedule) catches up on nothing.
 * - `ActionAfterCompletion: DELETE`: once a one-time schedule has fired, or a recurring one with
 *   an EndDate has fired its last tick, it is deleted (a tombstone, see `schedules.ts`). A
 *   recurring schedule without EndDate is never deleted (scheduler-cdc-consoles.md §1.3).
 */
import type { Clock } from '../clock.js'
import type { Metrics } from '../observe/metrics.js'
import type { EventStore } from '../store/ports.js'
import { TickLoop } from './due-timer.js'
import type { ParsedSchedule } from './expression.js'
import { invocationTime } from './flexible-window.js'
import { nextTick, parsedOf } from './schedule-times.js'
import type { Schedule, Schedules } from './schedules.js'

/** How often completed schedules' tombstones are looked at. */
const PURGE_INTERVAL_MS = 3_600_000

/** Missed ticks counted one by one at most before moving on to the grace period. */
const MAX_COUNTED_TICKS = 10_000

export type ScheduleRunnerDeps = {
  schedules: Pick<Schedules, 'all' | 'watch' | 'complete' | 'byArn'>
  /**
   * Drops the tombstones of completed schedules whose deliveries can no longer be retried; run
   * at start and then hourly.
   */
  purgeCompleted?: () => Promise<void>
  /** Runs a change one at a time with the API's (`Registry.exclusive`). */
  exclusive?: <T>(fn: () => Promise<T>) => Promise<T>
  store: Pick<EventStore, 'scheduleTicks'>
  /** Stores the tick's invocation with the tick. */
  fire: (schedule: Schedule, tick: number) => Promise<void>
  clock: Clock
  metrics: Pick<Metrics, 'scheduleMissedTicks' | 'scheduleLateness'>
  log: {
    error(obj: object, msg: string): void
    warn(obj: object, msg: string): void
  }
  graceMs: number
}

type Entry = {
  schedule: Schedule
  parsed: ParsedSchedule
  /** Ticks at or before this are done. */
  done: number
  /** The next nominal tick; undefined when there is none left. */
  next: number | undefined
  /** Whether the schedule has fired a tick (ActionAfterCompletion deletes only then). */
  firedAny: boolean
  wakeAt: number | undefined
  stale: boolean
  firing: boolean
}

export class ScheduleRunner {
  private readonly entries = new Map<string, Entry>()
  private running = false
  /** Counts starts and stops, so that a start overtaken by a stop gives up. */
  private runs = 0
  private watching = false
  private readonly loop: TickLoop<Entry>
  private fired = new Map<string, number>()
  private cancelPurge: (() => void) | undefined

  constructor(private readonly deps: ScheduleRunnerDeps) {
    this.loop = new TickLoop<Entry>({
      clock: deps.clock,
      graceMs: deps.graceMs,
      dueAt: (entry, tick) => invocationTime(entry.schedule, tick),
      fire: (entry, tick) => deps.fire(entry.schedule, tick),
      fired: (entry, tick) => {
        deps.metrics.scheduleLateness.observe(labelsOf(entry), deps.clock.now() - tick)
        this.fired.set(entry.schedule.arn, tick)
        entry.firedAny = true
        entry.done = tick
        entry.next = nextTick(entry.schedule, entry.parsed, tick)
      },
      skipMissed: (entry, now) => {
        this.skipMissed(entry, now, labelsOf(entry))
      },
      finished: async (entry) => {
        this.entries.delete(entry.schedule.arn)
        entry.stale = true
        await this.completeIfDone(entry)
      },
      onFireError: (entry, tick, e) => {
        deps.log.error({ err: e, schedule: entry.schedule.arn, tick }, 'could not fire a schedule')
      },
    })
  }

  async start(): Promise<void> {
    const purge = () => {
      this.cancelPurge = this.deps.clock.setTimer(PURGE_INTERVAL_MS, purge)
      this.deps.purgeCompleted?.().catch((e: unknown) => {
        this.deps.log.error({ err: e }, 'could not drop completed schedules; will try again')
      })
    }
    // Started again after a stop (this node leads the schedules again): the store says which
    // ticks the nodes fired meanwhile.
    this.running = true
    const run = ++this.runs
    for (const arn of [...this.entries.keys()]) this.untrack(arn)
    this.loop.resume()
    this.cancelPurge?.()
    purge()
    this.fired = await this.deps.store.scheduleTicks()
    // Stopped (or stopped and started again) while the ticks were read.
    if (run !== this.runs) return
    for (const s of this.deps.schedules.all()) this.track(s)
    if (!this.watching) {
      this.watching = true
      this.deps.schedules.watch((arn, schedule) => {
        if (!this.running) return
        this.untrack(arn)
        if (schedule) this.track(schedule)
        this.loop.due.arm()
      })
    }
    this.loop.due.runDue()
  }

  /** Schedules being followed (enabled, not completed, with a tick to come). */
  get size(): number {
    return this.entries.size
  }

  /** Resolves once no tick is being fired. */
  settled(): Promise<void> {
    return this.loop.settled()
  }

  /** Fires nothing more until started again; ticks being fired finish. */
  stop(): void {
    this.running = false
    this.runs++
    this.cancelPurge?.()
    this.cancelPurge = undefined
    this.loop.stop()
  }

  private track(schedule: Schedule): void {
    if (schedule.state === 'DISABLED' || schedule.completedAt !== undefined) return
    let parsed: ParsedSchedule
    try {
      parsed = parsedOf(schedule)
    } catch (e) {
      this.deps.log.error({ err: e, schedule: schedule.arn }, 'schedule has an invalid expression')
      return
    }
    const last = this.fired.get(schedule.arn)
    const done = last ?? -Infinity
    const entry: Entry = {
      schedule,
      parsed,
      done,
      next: nextTick(schedule, parsed, done),
      firedAny: last !== undefined && last > schedule.since,
      wakeAt: undefined,
      stale: false,
      firing: false,
    }
    if (entry.next === undefined) {
      // Nothing left to fire: a completion that a crash interrupted is finished now.
      void this.completeIfDone(entry)
      return
    }
    this.entries.set(schedule.arn, entry)
    this.loop.track(entry)
  }

  private untrack(arn: string): void {
    const entry = this.entries.get(arn)
    if (!entry) return
    entry.stale = true
    this.entries.delete(arn)
  }

  /** ActionAfterCompletion DELETE, once the schedule has fired its last tick. */
  private async completeIfDone(entry: Entry): Promise<void> {
    const { schedule } = entry
    if (schedule.actionAfterCompletion !== 'DELETE' || !entry.firedAny) return
    if (entry.parsed.kind !== 'at' && schedule.endDate === undefined) return
    const { schedules } = this.deps
    const exclusive = this.deps.exclusive ?? ((fn: () => Promise<void>) => fn())
    try {
      await exclusive(async () => {
        // Changed or deleted meanwhile (an UpdateSchedule starts it afresh): not completed.
        if (schedules.byArn(schedule.arn) !== schedule) return
        await schedules.complete(schedule)
      })
    } catch (e) {
      // The next start tries again (the schedule has no tick left, so nothing fires meanwhile).
      this.deps.log.error(
        { err: e, schedule: schedule.arn },
        'could not delete a completed schedule',
      )
    }
  }

  /** Moves past the ticks whose invocation is older than the grace period, counting them. */
  private skipMissed(
    entry: Entry,
    now: number,
    labels: { EventBusName: string; RuleName: string },
  ): void {
    const from = now - this.deps.graceMs
    const first = entry.next!
    let missed = 0
    let t: number | undefined = first
    while (t !== undefined && invocationTime(entry.schedule, t) < from) {
      missed++
      entry.done = t
      if (missed >= MAX_COUNTED_TICKS) {
        // A long outage of a frequent schedule: jump to the grace period (a window earlier, so
        // that no tick whose flexible invocation falls inside it is passed over).
        const window = (entry.schedule.flexibleWindow.maximumWindowInMinutes ?? 0) * 60_000
        t = nextTick(entry.schedule, entry.parsed, Math.max(t, from - window - 1))
        while (t !== undefined && invocationTime(entry.schedule, t) < from) {
          entry.done = t
          t = nextTick(entry.schedule, entry.parsed, t)
        }
        break
      }
      t = nextTick(entry.schedule, entry.parsed, t)
    }
    entry.next = t
    this.deps.metrics.scheduleMissedTicks.inc(labels, missed)
    this.deps.log.warn(
      {
        schedule: entry.schedule.arn,
        missed: missed >= MAX_COUNTED_TICKS ? `at least ${String(missed)}` : missed,
        firstMissed: new Date(first).toISOString(),
        graceMs: this.deps.graceMs,
      },
      'schedule ticks missed (due longer ago than the grace period)',
    )
  }
}

const labelsOf = (entry: Entry) => ({
  EventBusName: entry.schedule.group,
  RuleName: entry.schedule.name,
})
