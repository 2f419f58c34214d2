/**
 * The console's next fire times (console/src/schedule/next-fires.ts). Every expected time was
 * worked out by hand from the calendar (2026-01-01 is a Thursday; in 2026 New York springs
 * forward on Sunday 8 March at 02:00 EST and Paris is on CEST, UTC+2, in June), not taken from
 * the code's output.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  ruleNextFires,
  scheduleNextFires,
  showTime,
} from '../../console/src/schedule/next-fires.js'

const at = (iso: string) => Date.parse(iso)
const iso = (times: number[]) => times.map((t) => new Date(t).toISOString())
const seconds = (s: string) => at(s) / 1000

describe('scheduled rules', () => {
  test('cron() is read in UTC: noon every day', () => {
    const out = ruleNextFires('cron(0 12 * * ? *)', at('2026-01-01T13:00:00Z'))
    assert.deepEqual(iso(out.times), [
      '2026-01-02T12:00:00.000Z',
      '2026-01-03T12:00:00.000Z',
      '2026-01-04T12:00:00.000Z',
    ])
    assert.equal(out.note, undefined)
  })

  test('weekdays only: from a Friday afternoon to Monday, Tuesday, Wednesday', () => {
    const out = ruleNextFires('cron(15 10 ? * MON-FRI *)', at('2026-01-02T11:00:00Z'))
    assert.deepEqual(iso(out.times), [
      '2026-01-05T10:15:00.000Z',
      '2026-01-06T10:15:00.000Z',
      '2026-01-07T10:15:00.000Z',
    ])
  })

  test('a time exactly now is not next: the next is strictly after', () => {
    const out = ruleNextFires('cron(0/20 * * * ? *)', at('2026-01-01T10:20:00Z'), 2)
    assert.deepEqual(iso(out.times), ['2026-01-01T10:40:00.000Z', '2026-01-01T11:00:00.000Z'])
  })

  test('a cron whose years are over has no next time, and says so', () => {
    const out = ruleNextFires('cron(0 0 1 1 ? 2025)', at('2026-01-01T00:00:00Z'))
    assert.deepEqual(out.times, [])
    assert.equal(out.note, 'It will not fire again.')
  })

  test('rate(): only the period is known, and the note says why', () => {
    const out = ruleNextFires('rate(5 minutes)', at('2026-01-01T00:00:00Z'))
    assert.deepEqual(out.times, [])
    assert.match(out.note ?? '', /^Every 5 minutes\. /)
    assert.match(out.note ?? '', /the API does not say when/)
  })
})

describe('Scheduler schedules', () => {
  const made = seconds('2026-01-01T10:00:20Z')

  test('cron() in a time zone across the spring-forward night', () => {
    // 09:00 EST is 14:00Z on the 7th; from the 8th 09:00 EDT is 13:00Z.
    const out = scheduleNextFires(
      {
        ScheduleExpression: 'cron(0 9 * * ? *)',
        ScheduleExpressionTimezone: 'America/New_York',
        LastModificationDate: made,
      },
      at('2026-03-07T00:00:00Z'),
    )
    assert.deepEqual(iso(out.times), [
      '2026-03-07T14:00:00.000Z',
      '2026-03-08T13:00:00.000Z',
      '2026-03-09T13:00:00.000Z',
    ])
  })

  test('a local time that does not exist that day is skipped', () => {
    // 02:30 on 8 March 2026 does not exist in New York (02:00 EST jumps to 03:00 EDT).
    const out = scheduleNextFires(
      {
        ScheduleExpression: 'cron(30 2 * * ? *)',
        ScheduleExpressionTimezone: 'America/New_York',
        LastModificationDate: made,
      },
      at('2026-03-07T00:00:00Z'),
    )
    assert.deepEqual(iso(out.times), [
      '2026-03-07T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
      '2026-03-10T06:30:00.000Z',
    ])
  })

  test('rate() without StartDate counts from the last change, its first run at once', () => {
    const out = scheduleNextFires(
      { ScheduleExpression: 'rate(1 hour)', LastModificationDate: made },
      at('2026-01-01T12:30:00Z'),
    )
    assert.deepEqual(iso(out.times), [
      '2026-01-01T13:00:20.000Z',
      '2026-01-01T14:00:20.000Z',
      '2026-01-01T15:00:20.000Z',
    ])
  })

  test('rate() from a StartDate, and nothing at or after the EndDate', () => {
    const out = scheduleNextFires(
      {
        ScheduleExpression: 'rate(1 day)',
        StartDate: seconds('2026-01-10T08:00:00Z'),
        EndDate: seconds('2026-01-11T09:00:00Z'),
        LastModificationDate: made,
      },
      at('2026-01-05T00:00:00Z'),
    )
    assert.deepEqual(iso(out.times), ['2026-01-10T08:00:00.000Z', '2026-01-11T08:00:00.000Z'])
  })

  test('at() is one time, read in its zone; once past, none', () => {
    const s = {
      ScheduleExpression: 'at(2026-06-01T09:00:00)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      LastModificationDate: made,
    }
    assert.deepEqual(iso(scheduleNextFires(s, at('2026-05-01T00:00:00Z')).times), [
      '2026-06-01T07:00:00.000Z',
    ])
    const done = scheduleNextFires(s, at('2026-06-02T00:00:00Z'))
    assert.deepEqual(done.times, [])
    assert.equal(done.note, 'It will not fire again.')
  })

  test('a disabled rate() counts from now, as enabling it would', () => {
    const out = scheduleNextFires(
      { ScheduleExpression: 'rate(10 minutes)', LastModificationDate: made, State: 'DISABLED' },
      at('2026-01-01T12:00:05Z'),
      2,
    )
    assert.deepEqual(iso(out.times), ['2026-01-01T12:10:05.000Z', '2026-01-01T12:20:05.000Z'])
    assert.match(out.note ?? '', /^Disabled/)
  })
})

test('times are shown in the zone, with UTC beside', () => {
  assert.equal(showTime(at('2026-06-01T07:00:00Z')), '2026-06-01T07:00:00Z')
  assert.equal(
    showTime(at('2026-06-01T07:00:00Z'), 'Europe/Paris'),
    '2026-06-01 09:00:00 Europe/Paris (2026-06-01T07:00:00Z)',
  )
})
