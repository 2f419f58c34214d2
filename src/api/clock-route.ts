/**
 * @module
 * `/junction/clock`: the server's time, and moving a manual clock (`--clock manual`) forward.
 * `GET` answers `{"now":"<ISO time>","epochMillis":…,"manual":true|false}`; `POST` with
 * `{"advance":"90m"}` (or `{"advanceMillis":5400000}`) moves a manual clock, firing every
 * schedule, retry and expiry that falls due on the way, in order, and answers the same shape.
 * A system clock cannot be moved: 400 with a ValidationException.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parseDuration } from '../duration.js'

export const CLOCK_PATH = '/junction/clock'

/** Longest one call may move the clock (each scheduled tick on the way is fired). */
const MAX_ADVANCE_MS = 366 * 86_400_000

export type ClockRouteDeps = {
  clock: {
    readonly manual: boolean
    now(): number
    advance(ms: number): Promise<void>
  }
  readBody: (req: IncomingMessage) => Promise<string>
}

export async function handleClock(
  deps: ClockRouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { clock } = deps
  const answer = () => {
    const now = clock.now()
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({ now: new Date(now).toISOString(), epochMillis: now, manual: clock.manual }),
    )
  }
  const refuse = (status: number, type: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type })
    res.end(JSON.stringify({ __type: type, message }))
  }
  if (req.method !== 'GET' && req.method !== 'POST') {
    refuse(405, 'ValidationException', 'Use GET to read the clock or POST to advance it.')
    return
  }
  // Read (and, when signatures are enforced, checked) for GET too.
  const body = await deps.readBody(req)
  if (req.method === 'GET') {
    answer()
    return
  }
  let ms: number
  try {
    const input = JSON.parse(body) as unknown
    ms = advanceOf(input)
  } catch (e) {
    refuse(400, 'ValidationException', e instanceof Error ? e.message : String(e))
    return
  }
  if (!clock.manual) {
    refuse(
      400,
      'ValidationException',
      'The clock is the system clock; start the server with --clock manual to move it.',
    )
    return
  }
  await clock.advance(ms)
  answer()
}

function advanceOf(input: unknown): number {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new Error('The body must be a JSON object such as {"advance":"90m"}.')
  const { advance, advanceMillis } = input as { advance?: unknown; advanceMillis?: unknown }
  let ms: number
  if (typeof advance === 'string' && advanceMillis === undefined) ms = parseDuration(advance)
  else if (
    typeof advanceMillis === 'number' &&
    Number.isInteger(advanceMillis) &&
    advance === undefined
  )
    ms = advanceMillis
  else throw new Error('Give exactly one of "advance" (such as "90m") or "advanceMillis".')
  if (ms < 0 || ms > MAX_ADVANCE_MS)
    throw new Error(`The clock moves forward only, by at most 366 days (asked: ${String(ms)} ms).`)
  return ms
}
