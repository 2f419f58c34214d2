/**
 * @module
 * The next fire times of scheduled rules and Scheduler schedules, computed in the browser with
 * the server's own code (`src/schedule/expression.ts` and `schedule-times.ts`, bundled as the
 * pattern engine is), so the console shows the times the server will fire.
 *
 * What the API lets the console know decides what it can show:
 * - A rule's `cron()` is in UTC and depends on nothing else: its times are exact.
 * - A rule's `rate()` counts from when the rule got its schedule (created, or enabled again),
 *   and neither ListRules nor DescribeRule says when that was. Only the period is known.
 * - A Scheduler schedule's answer has all its times depend on: the expression, its time zone,
 *   StartDate, EndDate, and LastModificationDate (the server counts a schedule from its last
 *   create, update or enable, which each set that date).
 *
 * @example
 * ruleNextFires('cron(0 12 * * ? *)', Date.UTC(2026, 0, 1, 13), 2)
 * // { times: [Date.UTC(2026, 0, 2, 12), Date.UTC(2026, 0, 3, 12)] }
 */
import {
  nextCronFire,
  parseRuleSchedule,
  parseSchedulerExpression,
  ScheduleExpressionError,
} from '../../../src/schedule/expression.js'
import { nextTick } from '../../../src/schedule/schedule-times.js'

/** Epoch ms of the next fires, earliest first, and what the times leave out, when anything. */
export type NextFires = { times: number[]; note?: string }

/** The parts of a Scheduler GetSchedule answer the times depend on (dates in epoch seconds). */
export type ScheduleFields = {
  ScheduleExpression: string
  ScheduleExpressionTimezone?: string
  StartDate?: number
  EndDate?: number
  LastModificationDate: number
  State?: string
}

const RATE_UNKNOWN =
  'A rate counts from when the rule got its schedule (created or enabled again); the API does not say when, so only the period is known.'

/** The next `count` fires of a scheduled rule's `ScheduleExpression` after `now`. */
export function ruleNextFires(expression: string, now: number, count = 3): NextFires {
  let parsed
  try {
    parsed = parseRuleSchedule(expression)
  } catch (e) {
    if (e instanceof ScheduleExpressionError) return { times: [], note: e.message }
    throw e
  }
  if (parsed.kind === 'rate')
    return { times: [], note: `Every ${String(parsed.value)} ${parsed.unit}s. ${RATE_UNKNOWN}` }
  const times: number[] = []
  let after = now
  while (times.length < count) {
    const t = nextCronFire(parsed, after)
    if (t === undefined) break
    times.push(t)
    after = t
  }
  return times.length === 0 ? { times, note: 'It will not fire again.' } : { times }
}

/** The next `count` fires of a Scheduler schedule after `now`, in its own time zone. */
export function scheduleNextFires(s: ScheduleFields, now: number, count = 3): NextFires {
  let parsed
  try {
    parsed = parseSchedulerExpression(s.ScheduleExpression)
  } catch (e) {
    if (e instanceof ScheduleExpressionError) return { times: [], note: e.message }
    throw e
  }
  const ms = (seconds: number | undefined) =>
    seconds === undefined ? undefined : Math.round(seconds * 1000)
  // Enabling a schedule is an update: it would count from then, not from the last change.
  const disabled = s.State === 'DISABLED'
  const since = disabled ? now : ms(s.LastModificationDate)!
  const startDate = ms(s.StartDate)
  const endDate = ms(s.EndDate)
  const times: number[] = []
  let after = now
  while (times.length < count) {
    const t = nextTick(
      {
        timeZone: s.ScheduleExpressionTimezone ?? 'UTC',
        since,
        ...(startDate === undefined ? {} : { startDate }),
        ...(endDate === undefined ? {} : { endDate }),
      },
      parsed,
      after,
    )
    if (t === undefined) break
    times.push(t)
    after = t
  }
  const notes: string[] = []
  if (times.length === 0) notes.push('It will not fire again.')
  if (disabled) notes.push('Disabled: these are the times it would fire if enabled now.')
  return notes.length === 0 ? { times } : { times, note: notes.join(' ') }
}

/** An instant as the schedule's zone reads it, with the zone, and in UTC. */
export function showTime(ms: number, timeZone = 'UTC'): string {
  const utc = new Date(ms).toISOString().replace('.000Z', 'Z')
  if (timeZone === 'UTC') return utc
  const local = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(ms)
  return `${local} ${timeZone} (${utc})`
}
