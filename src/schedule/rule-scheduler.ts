/**
 * @module
 * Fires scheduled rules (`rate()` and `cron()` on the default bus) at their ticks: never early,
 * never twice. AWS promises only "within the minute"; a tick here is fired at its second.
 *
 * - One timer, for the earliest next tick of all rules ({@link DueTimer}).
 * - A tick is recorded in the store in the transaction that stores its event and jobs
 *   ({@link EventStore.append}), so after a crash the store says exactly which ticks fired.
 * - Ticks due more than `graceMs` ago (the server was down, or stalled) are not fired but
 *   counted (`JunctionScheduleMissedTicks`); those within the grace period are fired once each,
 *   in order, with the scheduled time as the event's `time`.
 * - Each rule's ticks are fired one after another; different rules' ticks are fired at once, so
 *   that many rules due at the same second share a commit.
 */
import type { Clock } from '../clock.js'
import type { Registry } from '../engine/registry.js'
import type { Rule } from '../model.js'
import type { Metrics } from '../observe/metrics.js'
import type { EventStore } from '../store/ports.js'
import {
  nextCronFire,
  nextRateFire,
  parseRuleSchedule,
  type CronSchedule,
  type RateSchedule,
} from './expression.js'
import { TickLoop } from './due-timer.js'

/** Ticks missed while the server was down that are still fired at start. */
export const DEFAULT_SCHEDULE_GRACE_MS = 5 * 60_000
/** Missed cron ticks counted one by one at most; beyond, the count says "at least". */
const MAX_COUNTED_CRON_TICKS = 10_000

export type RuleSchedulerDeps = {
  registry: Pick<Registry, 'scheduledRules' | 'watchRules' | 'rule'>
  store: Pick<EventStore, 'scheduleTicks'>
  /** Stores the tick's event and jobs with the tick (see `Ingest.fireSchedule`). */
  fire: (rule: Rule, tick: number) => Promise<void>
  clock: Clock
  metrics: Pick<Metrics, 'scheduleMissedTicks' | 'scheduleLateness'>
  log: {
    error(obj: object, msg: string): void
    warn(obj: object, msg: string): void
    info(obj: object, msg: string): void
  }
  graceMs: number
}

type Entry = {
  rule: Rule
  schedule: RateSchedule | CronSchedule
  /** What `rate()` ticks count from: the rule's `scheduleSince`. */
  anchor: number
  /** Ticks at or before this are done (fired, missed, or from before the rule's schedule). */
  done: number
  /** The next tick; undefined when there is none (a cron whose years have passed). */
  next: number | undefined
  /** When its heap item is due (the next tick, or a retry of a tick that failed to store). */
  wakeAt: number | undefined
  /** Replaced by a newer entry for the same rule (changed or deleted while firing). */
  stale: boolean
  firing: boolean
}

export class RuleScheduler {
  private readonly entries = new Map<string, Entry>()
  private running = false
  /** Counts starts and stops, so that a start overtaken by a stop gives up. */
  private runs = 0
  private watching = false
  private readonly loop: TickLoop<Entry>
  /** The latest fired tick per rule, from the store at start; then kept up to date here. */
  private fired = new Map<string, number>()
  /**
   * Parsed expressions shared by the rules that use them: a parsed cron holds tables for every
   * field (its years too), tens of kilobytes each, so ten thousand rules must not each have one.
   */
  private readonly parsed = new Map<
    string,
    { schedule: RateSchedule | CronSchedule; users: number }
  >()
  /** Next cron ticks by expression and instant (see {@link after}). */
  private readonly nextCron = new Map<string, number | undefined>()

  constructor(private readonly deps: RuleSchedulerDeps) {
    this.loop = new TickLoop<Entry>({
      clock: deps.clock,
      graceMs: deps.graceMs,
      dueAt: (_entry, tick) => tick,
      fire: (entry, tick) => deps.fire(entry.rule, tick),
      fired: (entry, tick) => {
        deps.metrics.scheduleLateness.observe(labelsOf(entry), deps.clock.now() - tick)
        this.fired.set(entry.rule.arn, tick)
        entry.done = tick
        entry.next = this.after(entry, tick)
      },
      skipMissed: (entry, now) => {
        this.skipMissed(entry, now, labelsOf(entry))
      },
      onFireError: (entry, tick, e) => {
        deps.log.error({ err: e, rule: entry.rule.arn, tick }, 'could not fire a scheduled rule')
      },
    })
  }

  /** Reads which ticks have fired, fires those missed within the grace period, and starts. */
  async start(): Promise<void> {
    // Started again after a stop (this node leads the schedules again): the store says which
    // ticks the nodes fired meanwhile.
    this.running = true
    const run = ++this.runs
    for (const arn of [...this.entries.keys()]) this.untrack(arn)
    this.loop.resume()
    this.fired = await this.deps.store.scheduleTicks()
    // Stopped (or stopped and started again) while the ticks were read.
    if (run !== this.runs) return
    for (const rule of this.deps.registry.scheduledRules()) this.track(rule)
    if (!this.watching) {
      this.watching = true
      this.deps.registry.watchRules((arn, rule) => {
        if (!this.running) return
        this.untrack(arn)
        if (rule) this.track(rule)
        this.loop.due.arm()
      })
    }
    this.loop.due.runDue()
  }

  /** Rules with a schedule being followed (enabled ones). */
  get size(): number {
    return this.entries.size
  }

  /** Resolves once no tick is being fired (the manual clock waits for this between steps). */
  settled(): Promise<void> {
    return this.loop.settled()
  }

  /** Fires nothing more until started again; ticks being fired finish. */
  stop(): void {
    this.running = false
    this.runs++
    this.loop.stop()
  }

  private track(rule: Rule): void {
    if (rule.scheduleExpression === undefined || rule.state === 'DISABLED') return
    const text = rule.scheduleExpression
    let shared = this.parsed.get(text)
    if (!shared) {
      try {
        shared = { schedule: parseRuleSchedule(text), users: 0 }
      } catch (e) {
        // PutRule validates; a stored expression that no longer parses is logged, not fatal.
        this.deps.log.error({ err: e, rule: rule.arn }, 'scheduled rule has an invalid expression')
        return
      }
      this.parsed.set(text, shared)
    }
    shared.users++
    const schedule = shared.schedule
    const anchor = rule.scheduleSince ?? this.deps.clock.now()
    const done = Math.max(anchor, this.fired.get(rule.arn) ?? -Infinity)
    const entry: Entry = {
      rule,
      schedule,
      anchor,
      done,
      next: undefined,
      wakeAt: undefined,
      stale: false,
      firing: false,
    }
    entry.next = this.after(entry, done)
    this.entries.set(rule.arn, entry)
    this.loop.track(entry)
  }

  private untrack(arn: string): void {
    const entry = this.entries.get(arn)
    if (!entry) return
    // Its heap item is skipped when it comes out (cheaper than searching the heap now).
    entry.stale = true
    this.entries.delete(arn)
    const shared = this.parsed.get(entry.schedule.text)
    if (shared && --shared.users === 0) this.parsed.delete(entry.schedule.text)
  }

  /** The first tick strictly after `t`. */
  private after(entry: Entry, t: number): number | undefined {
    const s = entry.schedule
    if (s.kind === 'rate') return nextRateFire(s, entry.anchor, t)
    // Rules tend to share expressions and so ticks: one evaluation serves them all (a cron's
    // next time costs about a tenth of a millisecond, which ten thousand rules would feel).
    const key = `${s.text} ${String(t)}`
    if (this.nextCron.has(key)) return this.nextCron.get(key)
    const next = nextCronFire(s, t)
    if (this.nextCron.size >= 4096) this.nextCron.clear()
    this.nextCron.set(key, next)
    return next
  }

  /** Moves past the ticks older than the grace period, counting them. */
  private skipMissed(
    entry: Entry,
    now: number,
    labels: { EventBusName: string; RuleName: string },
  ): void {
    const from = now - this.deps.graceMs
    const first = entry.next!
    let missed = 0
    const s = entry.schedule
    if (s.kind === 'rate') {
      // Ticks are evenly spaced: count them instead of walking them (a year of minutes).
      const next = nextRateFire(s, entry.anchor, from - 1)
      missed = Math.round((next - first) / s.periodMs)
      entry.next = next
    } else {
      let t: number | undefined = first
      while (t !== undefined && t < from && missed < MAX_COUNTED_CRON_TICKS) {
        missed++
        t = nextCronFire(s, t)
      }
      if (t !== undefined && t < from) t = nextCronFire(s, from - 1)
      entry.next = t
    }
    entry.done = from - 1
    this.deps.metrics.scheduleMissedTicks.inc(labels, missed)
    this.deps.log.warn(
      {
        rule: entry.rule.arn,
        missed: missed >= MAX_COUNTED_CRON_TICKS ? `at least ${String(missed)}` : missed,
        firstMissed: new Date(first).toISOString(),
        graceMs: this.deps.graceMs,
      },
      'scheduled rule ticks missed (due longer ago than the grace period)',
    )
  }
}

const labelsOf = (entry: Entry) => ({
  EventBusName: entry.rule.busName,
  RuleName: entry.rule.name,
})
