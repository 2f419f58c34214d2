/**
 * @module
 * `junction clock now` and `junction clock advance DURATION`: read a running server's clock,
 * or move it forward when it runs with `--clock manual` (every schedule and retry due on the
 * way fires, in order, before the command returns).
 */
import { CLOCK_PATH } from '../../api/clock-route.js'
import { parseDuration } from '../../duration.js'
import { endpointOf, errorText, signedFetch, type ClientFlags } from './client.js'

export type ClockFlags = Omit<ClientFlags, 'account'>

/** Prints the server's time; exit code 0, or 2 when the server refused or could not be reached. */
export async function clock(
  action: 'now' | 'advance',
  duration: string | undefined,
  flags: ClockFlags,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  const url = new URL(CLOCK_PATH, endpointOf(flags))
  let res: Response
  if (action === 'advance') {
    if (duration === undefined) throw new Error('junction clock advance needs a duration, e.g. 90m')
    const advanceMillis = parseDuration(duration)
    res = await signedFetch(flags, url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceMillis }),
    })
  } else res = await signedFetch(flags, url)
  if (!res.ok) {
    process.stderr.write(`${await errorText(res)}\n`)
    return 2
  }
  const body = (await res.json()) as { now?: string; manual?: boolean }
  out(`${body.now ?? ''}${body.manual ? ' (manual clock)' : ''}`)
  return 0
}
