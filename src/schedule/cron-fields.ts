/**
 * @module
 * The six fields of an AWS `cron()` expression, checked as AWS documents them
 * (docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html), and
 * written out as a 7-part croner pattern. croner evaluates but does not enforce AWS's rules (it
 * takes `* * * * *`-style day fields, its own range rules, `?` as "now"), so the checking is all
 * here, and the pattern handed to croner lists explicit values wherever it can: ranges, steps and
 * wrap-around ranges are expanded by us, leaving croner only the calendar work (L, W, #).
 *
 * AWS's syntax is Quartz's (1 = Sunday, `?`, `L`, `W`, `#`, a year field), so where the AWS page
 * is silent this follows Quartz's CronExpression:
 * - names (JAN-DEC, SUN-SAT) and the letters L, W are read without regard to case (Quartz
 *   upper-cases the expression; users report AWS's console accepting `mOn`);
 * - numbers may have leading zeros (`05`), as Quartz reads them as integers;
 * - a range whose end is below its start wraps around (`22-2` hours = 22, 23, 0, 1, 2;
 *   `FRI-MON`), except in the year field, where Quartz refuses it;
 * - `a/n` means a, a+n, … up to the field's maximum; `*` + `/n` starts at the field's minimum.
 *
 * Deliberately narrower than Quartz, because the AWS table does not list them: no `/` in
 * day-of-week, no `L-n` offsets, and the day specials (`L`, `LW`, `nW`, `nL`, `n#k`) stand alone
 * in their field (AWS: "If you use '#', you can define only one expression in the day-of-week
 * field"; Quartz likewise refuses L and LW beside other days). A step larger than the field is
 * accepted and yields its start only; AWS documents no limit.
 */

export class CronFieldError extends Error {
  override name = 'CronFieldError'
}

type Field = {
  label: string
  min: number
  max: number
  /** Names for min, min + 1, …; upper case. */
  names?: readonly string[]
  /** Whether a reversed range wraps around (Quartz: all fields but the year). */
  wraps: boolean
}

const MONTH_NAMES = [
  'JAN',
  'FEB',
  'MAR',
  'APR',
  'MAY',
  'JUN',
  'JUL',
  'AUG',
  'SEP',
  'OCT',
  'NOV',
  'DEC',
]
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']

const MINUTES: Field = { label: 'minutes', min: 0, max: 59, wraps: true }
const HOURS: Field = { label: 'hours', min: 0, max: 23, wraps: true }
const DAY_OF_MONTH: Field = { label: 'day-of-month', min: 1, max: 31, wraps: true }
const MONTH: Field = { label: 'month', min: 1, max: 12, names: MONTH_NAMES, wraps: true }
const DAY_OF_WEEK: Field = { label: 'day-of-week', min: 1, max: 7, names: DAY_NAMES, wraps: true }
const YEAR: Field = { label: 'year', min: 1970, max: 2199, wraps: false }

/** The croner pattern (7 parts, seconds first) for the six AWS fields; throws CronFieldError. */
export function cronerPattern(fields: string): string {
  const parts = fields.split(/ +/)
  if (parts.length !== 6 || parts.some((p) => p === ''))
    throw new CronFieldError(`expected 6 fields, got '${fields}'`)
  const [minutes, hours, dom, month, dow, year] = parts.map((p) => p.toUpperCase()) as [
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  if ((dom === '?') === (dow === '?'))
    throw new CronFieldError('exactly one of day-of-month and day-of-week must be ?')
  return [
    '0',
    values(minutes, MINUTES),
    values(hours, HOURS),
    dom === '?' ? '*' : dayOfMonth(dom),
    values(month, MONTH),
    dow === '?' ? '*' : dayOfWeek(dow),
    // croner's `*` year runs past AWS's last year, 2199
    year === '*' ? `${YEAR.min}-${YEAR.max}` : values(year, YEAR),
  ].join(' ')
}

function dayOfMonth(text: string): string {
  if (text === 'L' || text === 'LW') return text
  const w = /^(\d+)W$/.exec(text)
  if (w) return `${number(w[1]!, DAY_OF_MONTH)}W`
  return values(text, DAY_OF_MONTH)
}

function dayOfWeek(text: string): string {
  // a bare L in day-of-week is the last day of the week, Saturday
  if (text === 'L') return '7'
  const last = /^(\w+?)L$/.exec(text)
  if (last) return `${value(last[1]!, DAY_OF_WEEK)}#L`
  const nth = /^(\w+)#(\d+)$/.exec(text)
  if (nth) {
    const k = Number(nth[2])
    if (!/^\d$/.test(nth[2]!) || k < 1 || k > 5)
      throw new CronFieldError(`day-of-week '${text}': the week after # must be 1-5`)
    return `${value(nth[1]!, DAY_OF_WEEK)}#${k}`
  }
  if (text.includes('/')) throw new CronFieldError(`day-of-week '${text}': / is not allowed`)
  return values(text, DAY_OF_WEEK)
}

/** A list of `*`, values, ranges and steps, as the sorted croner list (or `*`). */
function values(text: string, field: Field): string {
  if (text === '*') return '*'
  const set = new Set<number>()
  for (const item of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(item)
    if (!m) throw new CronFieldError(`${field.label} '${text}': cannot read '${item}'`)
    const base = m[1]!
    const step = m[2] === undefined ? undefined : Number(m[2])
    if (step === 0) throw new CronFieldError(`${field.label} '${text}': a step of 0`)
    let from: number
    let to: number
    const dash = base.indexOf('-')
    if (base === '*') {
      from = field.min
      to = field.max
    } else if (dash > 0) {
      from = value(base.slice(0, dash), field)
      to = value(base.slice(dash + 1), field)
    } else {
      from = value(base, field)
      // `a/n` runs to the field's end; a plain value is itself
      to = step === undefined ? from : field.max
    }
    addRange(set, from, to, step ?? 1, field, text)
  }
  return compact([...set].sort((a, b) => a - b))
}

function addRange(
  set: Set<number>,
  from: number,
  to: number,
  step: number,
  field: Field,
  text: string,
): void {
  let end = to
  if (to < from) {
    if (!field.wraps)
      throw new CronFieldError(`${field.label} '${text}': a range must not run backwards`)
    end = to + (field.max - field.min + 1)
  }
  const span = field.max - field.min + 1
  for (let i = from; i <= end; i += step) set.add(((i - field.min) % span) + field.min)
}

/** Consecutive runs as `a-b`, so a year range stays short. */
function compact(sorted: number[]): string {
  const out: string[] = []
  for (let i = 0; i < sorted.length;) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++
    out.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`)
    i = j + 1
  }
  return out.join(',')
}

/** One value: a number or (month, day-of-week) a name. */
function value(text: string, field: Field): number {
  const named = field.names?.indexOf(text) ?? -1
  if (named >= 0) return field.min + named
  return number(text, field)
}

function number(text: string, field: Field): number {
  if (!/^\d+$/.test(text)) throw new CronFieldError(`${field.label}: '${text}' is not a value`)
  const n = Number(text)
  if (n < field.min || n > field.max)
    throw new CronFieldError(`${field.label}: ${n} is outside ${field.min}-${field.max}`)
  return n
}
