/**
 * @module
 * FlexibleTimeWindow FLEXIBLE: when a Scheduler tick's invocation is due. The delay is drawn
 * from a hash of the schedule's ARN and the tick, so a restart picks the same instant again.
 */
import { createHash } from 'node:crypto'
import type { Schedule } from './schedules.js'

/** When the tick's invocation is due: the tick, or later within the flexible window. */
export function invocationTime(schedule: Schedule, tick: number): number {
  const w = schedule.flexibleWindow
  if (w.mode !== 'FLEXIBLE' || w.maximumWindowInMinutes === undefined) return tick
  const windowMs = w.maximumWindowInMinutes * 60_000
  const digest = createHash('sha256')
    .update(`${schedule.arn} ${String(tick)}`)
    .digest()
  return tick + (digest.readUInt32BE(0) % windowMs)
}
