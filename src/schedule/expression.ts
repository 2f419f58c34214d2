/**
 * @module
 * Schedule expressions as AWS reads them: `rate()` and `cron()` for scheduled rules, plus
 * `at()` and a time zone for EventBridge Scheduler. Parsing checks every rule AWS states and
 * throws {@link ScheduleExpressionError}; the callers turn that into AWS's own error text.
 * Evaluation is minute-grained and pure: it takes "after" instants and returns the next fire
 * instant, always at second 0, and never reads the clock.
 *
 * Time zones follow Scheduler's documented DST behaviour (repost.aws knowledge-center
 * "eventbridge-scheduler-adjust-dst"): a cron time that does not exist that day (spring
 * forward) is skipped, and a time that occurs twice (fall back) fires once, on its first
 * occurrence. croner, left to itself, moves a skipped fixed time to the end of the gap and fires
 * interval patterns on both occurrences, so it is only ever asked about wall-clock time in UTC,
 * where there is no DST, and the mapping to real instants is ours ({@link nextCronFire}).
 */

import type { Cron } from 'croner'
import { CronFieldError, cronerPattern } from './cron-fields.js'
import { buildEngine } from './croner-engine.js'
import { instantOrLater, instantsOf, wallClock } from './zone.js'

export { isTimeZone } from './zone.js'

/** Why an expression was refused; the message is for logs, not for the API response. */
export class ScheduleExpressionError extends Error {
  override name = 'ScheduleExpressionError'
}

export type RateUnit = 'minute' | 'hour' | 'day'

export type RateSchedule = {
  kind: 'rate'
  text: string
  value: number
  unit: RateUnit
  periodMs: number
}

export type CronSchedule = {
  kind: 'cron'
  text: string
  /** The same schedule as a 7-part croner pattern (seconds first, weekdays 1 = Sunday). */
  pattern: string
}

/** A one-time schedule: a local date and time, read in the schedule's time zone. */
export type AtSchedule = {
  kind: 'at'
  text: string
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

export type ParsedSchedule = RateSchedule | CronSchedule | AtSchedule

const UNIT_MS: Record<RateUnit, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }

/**
 * The largest rate value taken. AWS states none; this is Java's int range, the likeliest type
 * behind AWS's own parse, and it keeps the period far inside a safe integer.
 */
const MAX_RATE_VALUE = 2_147_483_647

/** Rules (PutRule): rate() and cron() only, exactly as AWS validates them; throws ScheduleExpressionError. */
export function parseRuleSchedule(text: string): RateSchedule | CronSchedule {
  if (text.startsWith('rate(')) return parseRate(text)
  if (text.startsWith('cron(')) return parseCron(text)
  throw new ScheduleExpressionError(`'${text}' is neither rate(…) nor cron(…)`)
}

/** EventBridge Scheduler: at(yyyy-mm-ddThh:mm:ss), rate(), cron(); throws ScheduleExpressionError. */
export function parseSchedulerExpression(text: string): ParsedSchedule {
  if (text.startsWith('at(')) return parseAt(text)
  if (text.startsWith('rate(') || text.startsWith('cron(')) return parseRuleSchedule(text)
  throw new ScheduleExpressionError(`'${text}' is neither at(…), rate(…) nor cron(…)`)
}

/**
 * `rate(N unit)`: exactly one space, nothing around, lower case, the singular unit exactly when
 * N = 1. N is a run of digits read as an integer, so leading zeros are accepted and count by
 * value (`rate(05 minutes)` is five minutes, `rate(01 minute)` one): AWS documents only
 * "a positive integer" and rejects a sign or letters, and a digits-then-integer reading is the
 * one consistent with every rejection it is known to make.
 */
function parseRate(text: string): RateSchedule {
  const m = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(text)
  if (!m) throw new ScheduleExpressionError(`'${text}' is not rate(<positive integer> <unit>)`)
  const value = Number(m[1])
  const unit = m[2] as RateUnit
  if (value < 1 || value > MAX_RATE_VALUE)
    throw new ScheduleExpressionError(`'${text}': the value must be 1-${MAX_RATE_VALUE}`)
  if ((value === 1) !== (m[3] === ''))
    throw new ScheduleExpressionError(`'${text}': the unit is singular exactly when the value is 1`)
  return { kind: 'rate', text, value, unit, periodMs: value * UNIT_MS[unit] }
}

function parseCron(text: string): CronSchedule {
  const m = /^cron\((.*)\)$/s.exec(text)
  if (!m) throw new ScheduleExpressionError(`'${text}' is not cron(<six fields>)`)
  try {
    return { kind: 'cron', text, pattern: cronerPattern(m[1]!) }
  } catch (e) {
    if (e instanceof CronFieldError) throw new ScheduleExpressionError(`'${text}': ${e.message}`)
    throw e
  }
}

/** `at(yyyy-mm-ddThh:mm:ss)`, a date that exists on the calendar. */
function parseAt(text: string): AtSchedule {
  const m = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(text)
  if (!m) throw new ScheduleExpressionError(`'${text}' is not at(yyyy-mm-ddThh:mm:ss)`)
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const check = new Date(Date.UTC(year, month - 1, day, hour, minute, second))
  // Date.UTC rolls 2025-02-30 over to March 2; a date that comes back different does not exist
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  )
    throw new ScheduleExpressionError(`'${text}': no such date and time`)
  return { kind: 'at', text, year, month, day, hour, minute, second }
}

/**
 * One croner object per parsed expression, built on first use (parsing alone, as PutRule does,
 * builds none). A WeakMap rather than a field, so a CronSchedule stays plain data that can be
 * stored and read back; a copy gets its own.
 */
const engines = new WeakMap<CronSchedule, Cron>()

function engineOf(cron: CronSchedule): Cron {
  let engine = engines.get(cron)
  if (!engine) {
    engine = buildEngine(cron.pattern).engine
    engines.set(cron, engine)
  }
  return engine
}

/** The first UTC match of the pattern strictly after `afterMs`. */
function nextUtc(engine: Cron, afterMs: number): number | undefined {
  return engine.nextRun(new Date(afterMs))?.getTime()
}

/**
 * The first cron fire time strictly after `afterMs` (epoch ms), evaluated in `timeZone`
 * (default 'UTC'); undefined when there is none (e.g. only past years). Minute granularity:
 * always at second 0. DST as Scheduler documents: a local time that does not exist that day is
 * skipped; a repeated local time fires once.
 *
 * Away from UTC the pattern is matched against wall-clock time and each match is turned into an
 * instant: a match in a gap has none and is passed over, a repeated one takes the first. A
 * match whose instant is not after `afterMs` is passed over too, which is what keeps the second
 * pass through a repeated hour silent (after 01:30 EST on a fall-back night, 01:45 maps to
 * 01:45 EDT, already past).
 */
export function nextCronFire(
  cron: CronSchedule,
  afterMs: number,
  timeZone = 'UTC',
): number | undefined {
  const engine = engineOf(cron)
  if (timeZone === 'UTC') return nextUtc(engine, afterMs)
  let wall = wallClock(afterMs, timeZone)
  // ends: matches strictly increase and run out in 2199; passing over stops once the matches
  // leave the gap or the repeated hour, so at most a day of matches is passed over
  for (;;) {
    const match = nextUtc(engine, wall)
    if (match === undefined) return undefined
    const instant = instantsOf(match, timeZone)[0]
    if (instant !== undefined && instant > afterMs) return instant
    wall = match
  }
}

/**
 * The epoch ms of an at() schedule in `timeZone` (default UTC). A local time that occurs twice
 * is its first occurrence, as for cron. A local time that does not exist (spring forward) is
 * moved forward by the length of the gap (02:30 → 03:30 on a one-hour gap) rather than dropped:
 * AWS is silent here, a one-time schedule that silently never fires would be the worse surprise,
 * and this is the reading `java.time` and Temporal give by default.
 */
export function atFireTime(at: AtSchedule, timeZone = 'UTC'): number {
  const wall = Date.UTC(at.year, at.month - 1, at.day, at.hour, at.minute, at.second)
  return instantOrLater(wall, timeZone)
}

/**
 * Rate fire times are anchored: the first fire strictly after `afterMs` of anchor + k*period
 * (k >= 1). A rate counts elapsed time, so `rate(1 day)` stays 24 h apart across DST (as
 * Scheduler documents) and the rule's creation time, not the clock, sets the phase (as the
 * EventBridge rate page says: "A rate expression starts when you create the scheduled event
 * rule").
 */
export function nextRateFire(rate: RateSchedule, anchorMs: number, afterMs: number): number {
  const k = Math.max(1, Math.floor((afterMs - anchorMs) / rate.periodMs) + 1)
  return anchorMs + k * rate.periodMs
}
