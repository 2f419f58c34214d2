// Expected fire times were worked out on the calendar (weekdays checked with GNU date), not
// taken from this code's output.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  atFireTime,
  isTimeZone,
  nextCronFire,
  nextRateFire,
  parseRuleSchedule,
  parseSchedulerExpression,
  ScheduleExpressionError,
  type AtSchedule,
  type CronSchedule,
  type RateSchedule,
} from './expression.js'

const at = (iso: string): number => Date.parse(iso)
const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString().replace('.000Z', 'Z')

function cron(text: string): CronSchedule {
  const parsed = parseRuleSchedule(text)
  assert.equal(parsed.kind, 'cron')
  return parsed
}

function rate(text: string): RateSchedule {
  const parsed = parseRuleSchedule(text)
  assert.equal(parsed.kind, 'rate')
  return parsed
}

// §6.1 of the EventBridge reference: expressions AWS was seen to accept and to reject
const AWS_ACCEPTS = [
  'cron(0 2 ? * SAT *)',
  'cron(5,35 14 * * ? *)',
  'cron(15 10 ? * 6L 2002-2005)',
  'cron(0 2 ? * SAT#3 *)',
  'cron(* * ? * SAT#3 *)',
  'cron(0/5 5 ? JAN 1-5 2022)',
  'cron(0/5 8-17 ? * MON-FRI *)',
  'cron(0/30 0-2 ? * MON-FRI *)',
  'cron(0 8 1 * ? *)',
  'rate(1 minute)',
  'rate(5 minutes)',
  'rate(1 hour)',
  'rate(2 hours)',
  'rate(1 day)',
  'rate(7 days)',
]

const AWS_REJECTS = [
  'rate(10 seconds)',
  'rate(10 years)',
  'rate(1 minutes)',
  'rate(1 hours)',
  'rate(1 days)',
  'rate(10 minute)',
  'rate(10 hour)',
  'rate(10 day)',
  'rate()',
  'rate(10)',
  'rate(10 minutess)',
  'rate(foo minutes)',
  'rate(0 minutes)',
  'rate(-10 minutes)',
  'rate(10 MINUTES)',
  'rate( 10 minutes )',
  ' rate(10 minutes)',
  'cron(0 1 * * * *)',
  'cron(7 20 * * NOT *)',
  'cron(INVALID)',
  'cron(0 dummy ? * MON-FRI *)',
  'cron(71 8 1 * ? *)',
]

test('every expression AWS accepts parses', () => {
  for (const text of AWS_ACCEPTS) assert.equal(parseRuleSchedule(text).text, text, text)
})

test('every expression AWS rejects is refused with a ScheduleExpressionError', () => {
  for (const text of AWS_REJECTS)
    assert.throws(() => parseRuleSchedule(text), ScheduleExpressionError, text)
})

test('more of the documented rules: field ranges, ? in exactly one day field, # alone', () => {
  const refused = [
    'cron(0 10 ? * ? *)', // both day fields ?
    'cron(0 10 * * MON *)', // neither is ?
    'cron(0 24 * * ? *)',
    'cron(60 0 * * ? *)',
    'cron(0 0 0 * ? *)',
    'cron(0 0 32 * ? *)',
    'cron(0 0 1 13 ? *)',
    'cron(0 0 1 0 ? *)',
    'cron(0 0 ? * 0 *)',
    'cron(0 0 ? * 8 *)',
    'cron(0 0 1 1 ? 1969)',
    'cron(0 0 1 1 ? 2200)',
    'cron(0 0 1 1 ? 2030-2025)', // a year range must not run backwards
    'cron(0 0 ? * 3#1,6#3 *)', // AWS: only one expression with #
    'cron(0 0 ? * 2#6 *)',
    'cron(0 0 ? * 2#0 *)',
    'cron(0 0 ? * 1/2 *)', // no / in day-of-week
    'cron(0 0 L-3 * ? *)',
    'cron(0 0 1,L * ? *)',
    'cron(0 0 1W,15 * ? *)',
    'cron(0 0 0W * ? *)',
    'cron(0 0 32W * ? *)',
    'cron(0 0 W * ? *)',
    'cron(0 0 ? * 1,6L *)',
    'cron(0/0 * * * ? *)',
    'cron(1,,2 * * * ? *)',
    'cron(1, * * * ? *)',
    'cron(-1 * * * ? *)',
    'cron(5- * * * ? *)',
    'cron(0 L * * ? *)',
    'cron(0 0 * * ?)', // five fields
    'cron(0 0 * * ? * *)', // seven fields
    'cron( 0 0 * * ? *)',
    'cron(0 0 * * ? * )',
    'cron(0\t0 * * ? *)',
    'CRON(0 0 * * ? *)',
    'cron(0 0 * * ? *) ',
    'cron(0 0 ? JANUARY MON *)',
    'at(2025-01-01T00:00:00)', // rules take no at()
    '',
  ]
  for (const text of refused)
    assert.throws(() => parseRuleSchedule(text), ScheduleExpressionError, text)
})

test('where AWS is silent: Quartz-style names in any case, leading zeros, */n, wrapping ranges', () => {
  const accepted = [
    'cron(0 9 ? jan mon-fri *)',
    'cron(0 9 ? Jan Mon *)',
    'cron(0 18 l * ? *)',
    'cron(0 18 lw * ? *)',
    'cron(05 09 01 01 ? *)',
    'cron(*/5 * * * ? *)',
    'cron(0 22-2 ? * FRI-MON *)',
    'cron(0 0 1 1-12/3 ? *)',
    'cron(0 0 LW * ? *)',
    'cron(0 0 15W * ? *)',
    'cron(0 0 ? * L *)',
    'cron(0 0 ? * FRIL *)',
    'cron(0 0 ? * 3#2 *)',
    'cron(0  0 * * ? *)', // several spaces between fields
    'cron(15/65 10 * * ? *)', // a step beyond the field yields its start only
    'cron(0 0 1 1 ? 2020/5)',
  ]
  for (const text of accepted) assert.doesNotThrow(() => parseRuleSchedule(text), text)
})

test('rate: value, unit and period; leading zeros count by value', () => {
  assert.deepEqual(parseRuleSchedule('rate(5 minutes)'), {
    kind: 'rate',
    text: 'rate(5 minutes)',
    value: 5,
    unit: 'minute',
    periodMs: 300_000,
  })
  assert.equal(rate('rate(1 minute)').periodMs, 60_000)
  assert.equal(rate('rate(2 hours)').periodMs, 7_200_000)
  assert.equal(rate('rate(7 days)').periodMs, 604_800_000)
  assert.equal(rate('rate(05 minutes)').value, 5)
  assert.equal(rate('rate(01 minute)').value, 1)
  for (const text of [
    'rate(01 minutes)',
    'rate(00 minutes)',
    'rate(+5 minutes)',
    'rate(5.0 minutes)',
  ])
    assert.throws(() => parseRuleSchedule(text), ScheduleExpressionError, text)
  assert.equal(rate('rate(2147483647 minutes)').value, 2147483647)
  assert.throws(() => parseRuleSchedule('rate(2147483648 minutes)'), ScheduleExpressionError)
})

test('Scheduler: at() with a real calendar date, plus rate() and cron()', () => {
  assert.deepEqual(parseSchedulerExpression('at(2028-02-29T23:59:59)'), {
    kind: 'at',
    text: 'at(2028-02-29T23:59:59)',
    year: 2028,
    month: 2,
    day: 29,
    hour: 23,
    minute: 59,
    second: 59,
  })
  assert.equal(parseSchedulerExpression('rate(1 hour)').kind, 'rate')
  assert.equal(parseSchedulerExpression('cron(0 8 1 * ? *)').kind, 'cron')
  const refused = [
    'at(2025-02-29T00:00:00)',
    'at(2025-04-31T00:00:00)',
    'at(2025-13-01T00:00:00)',
    'at(2025-00-10T00:00:00)',
    'at(2025-01-01T24:00:00)',
    'at(2025-01-01T00:60:00)',
    'at(2025-01-01T00:00:60)',
    'at(2025-01-01 00:00:00)',
    'at(2025-01-01T00:00)',
    'at(2025-01-01T00:00:00Z)',
    'at(25-01-01T00:00:00)',
    'at( 2025-01-01T00:00:00)',
    'rate(1 minutes)',
    'cron(0 1 * * * *)',
    'every(5 minutes)',
  ]
  for (const text of refused)
    assert.throws(() => parseSchedulerExpression(text), ScheduleExpressionError, text)
})

test('next cron fire in UTC, worked out on the calendar', () => {
  const cases: [string, string, string | undefined][] = [
    // L: the last day of the month, 29 in a leap February
    ['cron(0 0 L * ? *)', '2025-02-01T00:00:00Z', '2025-02-28T00:00:00Z'],
    ['cron(0 0 L * ? *)', '2028-02-01T00:00:00Z', '2028-02-29T00:00:00Z'],
    // LW: the last weekday; Aug 31 2025 is a Sunday, May 31 2025 a Saturday
    ['cron(0 0 LW * ? *)', '2025-08-01T00:00:00Z', '2025-08-29T00:00:00Z'],
    ['cron(0 0 LW * ? *)', '2025-05-01T00:00:00Z', '2025-05-30T00:00:00Z'],
    // 15W: Jan 15 2025 is a Wednesday; Feb 15 a Saturday (→ Fri 14); Jun 15 a Sunday (→ Mon 16)
    ['cron(0 0 15W * ? *)', '2025-01-01T00:00:00Z', '2025-01-15T00:00:00Z'],
    ['cron(0 0 15W * ? *)', '2025-02-01T00:00:00Z', '2025-02-14T00:00:00Z'],
    ['cron(0 0 15W * ? *)', '2025-06-01T00:00:00Z', '2025-06-16T00:00:00Z'],
    // 1W: Feb 1 2025 is a Saturday; W stays in the month, so Mon Feb 3, not Fri Jan 31
    ['cron(0 0 1W * ? *)', '2025-01-31T12:00:00Z', '2025-02-03T00:00:00Z'],
    ['cron(0 0 1W * ? *)', '2025-06-01T12:00:00Z', '2025-06-02T00:00:00Z'],
    // 31W: Aug 31 2025 is a Sunday; the nearest weekday in August is Fri 29
    ['cron(0 0 31W * ? *)', '2025-08-01T00:00:00Z', '2025-08-29T00:00:00Z'],
    // 6L: the last Friday; Jan 31 and Feb 28 2025 are Fridays
    ['cron(15 10 ? * 6L *)', '2025-01-01T00:00:00Z', '2025-01-31T10:15:00Z'],
    ['cron(15 10 ? * 6L *)', '2025-01-31T10:15:00Z', '2025-02-28T10:15:00Z'],
    ['cron(15 10 ? * FRIL *)', '2025-01-01T00:00:00Z', '2025-01-31T10:15:00Z'],
    // 3#2: the second Tuesday (Jan 7, 14); SAT#3: the third Saturday (Jan 4, 11, 18)
    ['cron(0 12 ? * 3#2 *)', '2025-01-01T00:00:00Z', '2025-01-14T12:00:00Z'],
    ['cron(0 2 ? * SAT#3 *)', '2025-01-01T00:00:00Z', '2025-01-18T02:00:00Z'],
    // bare L in day-of-week is Saturday; 1 is Sunday
    ['cron(0 0 ? * L *)', '2025-01-01T00:00:00Z', '2025-01-04T00:00:00Z'],
    ['cron(0 0 ? * 1 *)', '2025-01-01T00:00:00Z', '2025-01-05T00:00:00Z'],
    // years only in the past: no fire
    ['cron(15 10 ? * 6L 2002-2005)', '2025-01-01T00:00:00Z', undefined],
    ['cron(0 0 1 1 ? 2199)', '2198-06-01T00:00:00Z', '2199-01-01T00:00:00Z'],
    ['cron(0 0 1 1 ? 2199)', '2199-01-01T00:00:00Z', undefined],
    // AWS's years end in 2199, `*` included
    ['cron(0 0 1 1 ? *)', '2199-01-01T00:00:00Z', undefined],
    // Feb 29 in 2025-2030: only 2028 has one
    ['cron(0 0 29 2 ? 2025-2030)', '2025-01-01T00:00:00Z', '2028-02-29T00:00:00Z'],
    // 0/15 and strictly-after: exactly on a fire time gives the next one
    ['cron(0/15 * * * ? *)', '2025-01-01T10:07:00Z', '2025-01-01T10:15:00Z'],
    ['cron(0/15 * * * ? *)', '2025-01-01T10:15:00Z', '2025-01-01T10:30:00Z'],
    ['cron(0/15 * * * ? *)', '2025-01-01T10:45:30Z', '2025-01-01T11:00:00Z'],
    ['cron(*/20 * * * ? *)', '2025-01-01T10:41:00Z', '2025-01-01T11:00:00Z'],
    ['cron(5,35 14 * * ? *)', '2025-01-01T14:05:00Z', '2025-01-01T14:35:00Z'],
    // MON-FRI: after Friday Jan 3 2025 09:00 comes Monday Jan 6
    ['cron(0 9 ? * MON-FRI *)', '2025-01-03T09:00:00Z', '2025-01-06T09:00:00Z'],
    ['cron(0 9 ? * MON-FRI *)', '2025-01-06T09:00:00Z', '2025-01-07T09:00:00Z'],
    ['cron(0 9 ? jan mon *)', '2025-01-01T00:00:00Z', '2025-01-06T09:00:00Z'],
    // Jan 1 2022 is a Saturday, outside SUN-THU (1-5)
    ['cron(0/5 5 ? JAN 1-5 2022)', '2022-01-01T00:00:00Z', '2022-01-02T05:00:00Z'],
    ['cron(0 8 1 * ? *)', '2025-01-01T08:00:00Z', '2025-02-01T08:00:00Z'],
    ['cron(0 0 1 1-12/3 ? *)', '2025-01-01T00:00:00Z', '2025-04-01T00:00:00Z'],
    // wrapping ranges: hours 22, 23, 0, 1, 2 on Friday to Monday (Friday's 00:00 comes first)
    ['cron(0 22-2 ? * FRI-MON *)', '2025-01-01T00:00:00Z', '2025-01-03T00:00:00Z'],
    ['cron(0 22-2 ? * FRI-MON *)', '2025-01-03T02:00:00Z', '2025-01-03T22:00:00Z'],
    ['cron(0 22-2 ? * FRI-MON *)', '2025-01-04T02:00:00Z', '2025-01-04T22:00:00Z'],
    ['cron(0 22-2 ? * FRI-MON *)', '2025-01-06T23:00:00Z', '2025-01-10T00:00:00Z'],
    // a date that never comes
    ['cron(0 0 30 2 ? *)', '2025-01-01T00:00:00Z', undefined],
  ]
  for (const [text, after, expected] of cases)
    assert.equal(iso(nextCronFire(cron(text), at(after))), expected, `${text} after ${after}`)
})

test('fire times are whole minutes even when "after" has seconds and milliseconds', () => {
  assert.equal(
    iso(nextCronFire(cron('cron(* * * * ? *)'), at('2025-01-01T10:00:59.999Z'))),
    '2025-01-01T10:01:00Z',
  )
})

test('time zones: the calendar is local (Monday 00:30 in Tokyo is Sunday 15:30 UTC)', () => {
  assert.equal(
    iso(nextCronFire(cron('cron(30 0 ? * MON *)'), at('2025-01-01T00:00:00Z'), 'Asia/Tokyo')),
    '2025-01-05T15:30:00Z',
  )
  assert.equal(
    iso(nextCronFire(cron('cron(0 9 ? * MON-FRI *)'), at('2025-06-01T00:00:00Z'), 'Europe/Berlin')),
    '2025-06-02T07:00:00Z',
  )
})

test('spring forward: a local time that does not exist that day is skipped', () => {
  const daily = cron('cron(30 2 * * ? *)')
  const ny = 'America/New_York' // 2025-03-09 02:00 EST → 03:00 EDT
  assert.equal(iso(nextCronFire(daily, at('2025-03-08T00:00:00Z'), ny)), '2025-03-08T07:30:00Z')
  assert.equal(iso(nextCronFire(daily, at('2025-03-08T07:30:00Z'), ny)), '2025-03-10T06:30:00Z')
  const berlin = 'Europe/Berlin' // 2025-03-30 02:00 CET → 03:00 CEST
  assert.equal(iso(nextCronFire(daily, at('2025-03-29T12:00:00Z'), berlin)), '2025-03-31T00:30:00Z')
  // hourly: 01:00 EST, then 03:00 EDT, one real hour later
  const hourly = cron('cron(0 * * * ? *)')
  assert.equal(iso(nextCronFire(hourly, at('2025-03-09T06:00:00Z'), ny)), '2025-03-09T07:00:00Z')
})

test('fall back: a repeated local time fires once, on its first occurrence', () => {
  const daily = cron('cron(30 1 * * ? *)')
  const ny = 'America/New_York' // 2025-11-02 02:00 EDT → 01:00 EST
  assert.equal(iso(nextCronFire(daily, at('2025-11-01T12:00:00Z'), ny)), '2025-11-02T05:30:00Z')
  assert.equal(iso(nextCronFire(daily, at('2025-11-02T05:30:00Z'), ny)), '2025-11-03T06:30:00Z')
  // from inside the second 01:00-01:59 (01:00 EST), 01:30 has already been
  assert.equal(iso(nextCronFire(daily, at('2025-11-02T06:00:00Z'), ny)), '2025-11-03T06:30:00Z')
  // hourly: 01:00 EDT, then 02:00 EST; 01:00 EST is the same local time again
  const hourly = cron('cron(0 * * * ? *)')
  assert.equal(iso(nextCronFire(hourly, at('2025-11-02T05:00:00Z'), ny)), '2025-11-02T07:00:00Z')
  const berlinDaily = cron('cron(30 2 * * ? *)')
  const berlin = 'Europe/Berlin' // 2025-10-26 03:00 CEST → 02:00 CET
  assert.equal(
    iso(nextCronFire(berlinDaily, at('2025-10-25T12:00:00Z'), berlin)),
    '2025-10-26T00:30:00Z',
  )
  assert.equal(
    iso(nextCronFire(berlinDaily, at('2025-10-26T00:30:00Z'), berlin)),
    '2025-10-27T01:30:00Z',
  )
})

test('at(): read in the time zone; a gap moves forward, a repeat takes the first', () => {
  const one = (text: string) => parseSchedulerExpression(text) as AtSchedule
  assert.equal(iso(atFireTime(one('at(2025-06-01T12:00:30)'))), '2025-06-01T12:00:30Z')
  assert.equal(
    iso(atFireTime(one('at(2025-06-01T12:00:00)'), 'Europe/Berlin')),
    '2025-06-01T10:00:00Z',
  )
  assert.equal(
    iso(atFireTime(one('at(2025-01-15T12:00:00)'), 'Europe/Berlin')),
    '2025-01-15T11:00:00Z',
  )
  // 02:30 does not exist in New York on 2025-03-09: 03:30 EDT
  assert.equal(
    iso(atFireTime(one('at(2025-03-09T02:30:00)'), 'America/New_York')),
    '2025-03-09T07:30:00Z',
  )
  // 01:30 happens twice on 2025-11-02: the EDT one
  assert.equal(
    iso(atFireTime(one('at(2025-11-02T01:30:00)'), 'America/New_York')),
    '2025-11-02T05:30:00Z',
  )
})

test('rate fires are anchored at the anchor, strictly after, k >= 1', () => {
  const five = rate('rate(5 minutes)')
  const anchor = at('2025-01-01T00:00:10Z')
  assert.equal(iso(nextRateFire(five, anchor, anchor)), '2025-01-01T00:05:10Z')
  assert.equal(iso(nextRateFire(five, anchor, at('2025-01-01T00:05:10Z'))), '2025-01-01T00:10:10Z')
  assert.equal(iso(nextRateFire(five, anchor, at('2025-01-01T00:07:00Z'))), '2025-01-01T00:10:10Z')
  assert.equal(iso(nextRateFire(five, anchor, at('2024-12-31T00:00:00Z'))), '2025-01-01T00:05:10Z')
  // rate(1 day) counts 24 h across New York's spring forward: 12:00 EST, then 13:00 EDT
  const day = rate('rate(1 day)')
  const noon = at('2025-03-08T17:00:00Z')
  assert.equal(iso(nextRateFire(day, noon, noon)), '2025-03-09T17:00:00Z')
  assert.equal(iso(nextRateFire(day, noon, at('2025-03-09T17:00:00Z'))), '2025-03-10T17:00:00Z')
})

test('isTimeZone: IANA names as written, aliases too; not offsets, not other cases', () => {
  for (const name of [
    'UTC',
    'America/New_York',
    'Europe/Berlin',
    'Asia/Tokyo',
    'US/Eastern',
    'Etc/UTC',
  ])
    assert.equal(isTimeZone(name), true, name)
  for (const name of ['america/new_york', 'EUROPE/BERLIN', '+02:00', '-0500', 'Nowhere/City', ''])
    assert.equal(isTimeZone(name), false, name)
})

test('a parsed cron is plain data: a copy evaluates the same', () => {
  const original = cron('cron(0 9 ? * MON-FRI *)')
  const copy = JSON.parse(JSON.stringify(original)) as CronSchedule
  const after = at('2025-01-03T09:00:00Z')
  assert.equal(nextCronFire(copy, after), nextCronFire(original, after))
  assert.equal(iso(nextCronFire(copy, after)), '2025-01-06T09:00:00Z')
})

test('many expressions side by side: each evaluates as itself', () => {
  // minute m past hour h, 700 different patterns
  const after = at('2025-01-01T00:00:00Z')
  const schedules = Array.from({ length: 700 }, (_, i) =>
    cron(`cron(${i % 60} ${Math.floor(i / 60)} * * ? *)`),
  )
  for (const s of schedules) nextCronFire(s, after)
  for (const i of [0, 1, 359, 699]) {
    const expected = new Date(after + (Math.floor(i / 60) * 60 + (i % 60)) * 60_000)
    // minute 0 of hour 0 is `after` itself, so that one comes a day later
    if (i === 0) expected.setUTCDate(expected.getUTCDate() + 1)
    assert.equal(nextCronFire(schedules[i]!, after), expected.getTime(), `pattern ${i}`)
  }
})
