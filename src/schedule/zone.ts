/**
 * @module
 * Wall-clock time in an IANA time zone, from what `Intl` knows. A "wall" value is the local
 * date and time written as if it were UTC (`Date.UTC(y, m, d, h, mi, s)`), so calendar
 * arithmetic on it never meets a daylight-saving change; turning it back into an instant is
 * where the gaps (spring forward) and repeats (fall back) show, and {@link instantsOf} says
 * which instants a wall value has: none, one or two.
 */

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, f)
  }
  return f
}

/**
 * Is `name` a time zone name Node knows? Offsets such as `+02:00` are not names. `Intl` reads
 * names without regard to case, but a Scheduler time zone is an IANA name as written
 * (`America/New_York`), so a name that differs from its canonical form only in case is refused;
 * an alias (`US/Eastern`, `Etc/UTC`) is kept.
 */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z]/.test(name)) return false
  let resolved: string
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone
  } catch {
    return false
  }
  return resolved === name || resolved.toLowerCase() !== name.toLowerCase()
}

/** The local wall-clock of `instantMs` in `timeZone`, as a wall value. */
export function wallClock(instantMs: number, timeZone: string): number {
  if (timeZone === 'UTC') return instantMs
  const ms = ((instantMs % 1000) + 1000) % 1000
  const f: Record<string, number> = {}
  for (const part of formatter(timeZone).formatToParts(instantMs - ms))
    if (part.type !== 'literal') f[part.type] = Number(part.value)
  return Date.UTC(f.year!, f.month! - 1, f.day, f.hour, f.minute, f.second) + ms
}

/** The UTC offset in ms in force at `instantMs`. */
function offsetAt(instantMs: number, timeZone: string): number {
  return wallClock(instantMs, timeZone) - instantMs
}

const DAY = 86_400_000

/**
 * The instants whose wall-clock in `timeZone` is `wall`, earliest first: none in a
 * spring-forward gap, two in a fall-back repeat. The offsets a day either side are the only
 * candidates, which holds wherever a zone changes its offset at most once in two days.
 */
export function instantsOf(wall: number, timeZone: string): number[] {
  if (timeZone === 'UTC') return [wall]
  const before = offsetAt(wall - DAY, timeZone)
  const after = offsetAt(wall + DAY, timeZone)
  const found: number[] = []
  for (const offset of before === after ? [before] : [before, after]) {
    const instant = wall - offset
    if (offsetAt(instant, timeZone) === offset) found.push(instant)
  }
  return found.sort((a, b) => a - b)
}

/**
 * The instant for a wall value that may fall in a gap: the earliest instant when it exists,
 * otherwise the wall value read with the offset in force before the gap, which moves it forward
 * by the gap's length (02:30 on a spring-forward night in New York becomes 03:30 EDT). That is
 * what `java.time.ZonedDateTime.of` and Temporal's default 'compatible' disambiguation do.
 */
export function instantOrLater(wall: number, timeZone: string): number {
  const found = instantsOf(wall, timeZone)
  if (found[0] !== undefined) return found[0]
  return wall - Math.min(offsetAt(wall - DAY, timeZone), offsetAt(wall + DAY, timeZone))
}
