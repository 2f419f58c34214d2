/**
 * @module
 * When a Scheduler schedule fires, as pure functions of the schedule (scheduler-cdc-consoles.md
 * §1.2–1.3):
 *
 * - `at()`: once, at its local time in the schedule's zone; StartDate and EndDate are ignored.
 * - `rate()`: every period from StartDate, its first run falling on StartDate; with no StartDate,
 *   from the time the schedule was created or last updated, the first run "immediately" (the
 *   Scheduler doc history, 2023-03-17). A rate counts elapsed time, so it ignores DST.
 * - `cron()`: in the schedule's zone, DST as Scheduler documents (see `nextCronFire`), no
 *   tick before StartDate.
 * - Recurring schedules fire only ticks before EndDate.
 * - FlexibleTimeWindow FLEXIBLE: the invocation comes at a time within the window after the
 *   tick, never before it. The delay is drawn from a hash of the schedule's ARN and the tick, so
 *   a restart picks the same instant again (`flexible-window.ts`).
 *
 * No Node imports: the console bundles this file to show a schedule's next fire times.
 */
import {
  atFireTime,
  nextCronFire,
  nextRateFire,
  parseSchedulerExpression,
  type ParsedSchedule,
} from './expression.js'

/**
 * What a schedule's fire times depend on besides its expression. A stored `Schedule` has these
 * fields, and the console builds them from GetSchedule's answer (`since` is its
 * LastModificationDate: creating, updating and enabling set both).
 */
export type ScheduleTimes = {
  timeZone: string
  since: number
  startDate?: number
  endDate?: number
}

/** The schedule's expression, parsed (the API validated it when it was stored). */
export function parsedOf(schedule: { expression: string }): ParsedSchedule {
  return parseSchedulerExpression(schedule.expression)
}

/**
 * The schedule's first nominal tick strictly after `afterMs` and after `schedule.since`;
 * undefined when there is none (a one-time schedule done, EndDate passed, a cron's years over).
 */
export function nextTick(
  schedule: ScheduleTimes,
  parsed: ParsedSchedule,
  afterMs: number,
): number | undefined {
  switch (parsed.kind) {
    case 'at': {
      const t = atFireTime(parsed, schedule.timeZone)
      return t > afterMs && t > schedule.since ? t : undefined
    }
    case 'rate': {
      const anchor = schedule.startDate ?? schedule.since
      // nextRateFire counts from anchor + period; one period back puts the first run on anchor.
      // A StartDate in the past keeps the rhythm it sets, from the schedule's creation on.
      const from = Math.max(afterMs, anchor - 1, schedule.since - 1)
      const t = nextRateFire(parsed, anchor - parsed.periodMs, from)
      return beforeEnd(schedule, t)
    }
    case 'cron': {
      const floor = Math.max(afterMs, schedule.since, (schedule.startDate ?? -Infinity) - 1)
      const t = nextCronFire(parsed, floor, schedule.timeZone)
      return t === undefined ? undefined : beforeEnd(schedule, t)
    }
  }
}

function beforeEnd(schedule: ScheduleTimes, t: number): number | undefined {
  return schedule.endDate !== undefined && t >= schedule.endDate ? undefined : t
}
