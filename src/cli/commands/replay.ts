/**
 * @module
 * `junction replay --archive NAME [--from T] [--to T] [--speed 1|10|max] [--filter-arn ARN]…
 * [--wait]`: starts a replay of an archive onto its bus (StartReplay), in the events' original
 * order. `--speed N` spaces the events as their times were, divided by N; `max` (the default)
 * sends them as fast as the store commits. With `--wait` it prints the replay's progress until
 * it ends, and exits 0 only when it COMPLETED.
 */
import { callEvents, type ClientFlags } from './client.js'

export type ReplayFlags = ClientFlags & {
  archive: string
  name?: string
  from?: string
  to?: string
  speed?: string
  filterArn?: string[]
  wait?: boolean
  /** Milliseconds between progress checks with --wait. */
  interval?: number
}

const FINAL = ['COMPLETED', 'CANCELLED', 'FAILED']

export function parseSpeed(text: string | undefined): number {
  if (text === undefined || text === 'max') return 0
  const n = Number(text.replace(/^x/i, ''))
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`--speed must be a positive number (1, 10, …) or max, not ${text}`)
  return n
}

function epochSeconds(text: string, flag: string): number {
  const t = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text)
  if (Number.isNaN(t)) throw new Error(`${flag} must be an ISO-8601 time or epoch seconds`)
  return t / 1000
}

export async function replay(
  flags: ReplayFlags,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  const speed = parseSpeed(flags.speed)
  const archive = await callEvents(flags, 'DescribeArchive', { ArchiveName: flags.archive })
  const name = flags.name ?? `${flags.archive.slice(0, 40)}-${String(Date.now())}`
  const input: Record<string, unknown> = {
    ReplayName: name,
    EventSourceArn: archive.ArchiveArn,
    EventStartTime: flags.from === undefined ? 0 : epochSeconds(flags.from, '--from'),
    EventEndTime: flags.to === undefined ? Date.now() / 1000 : epochSeconds(flags.to, '--to'),
    Destination: {
      Arn: archive.EventSourceArn,
      ...(flags.filterArn && flags.filterArn.length > 0 ? { FilterArns: flags.filterArn } : {}),
    },
  }
  if (speed > 0) input.JunctionSpeed = speed
  const started = await callEvents(flags, 'StartReplay', input)
  out(JSON.stringify({ ReplayName: name, ...started }))
  if (!flags.wait) return 0
  for (;;) {
    await new Promise((r) => setTimeout(r, flags.interval ?? 1000))
    const d = await callEvents(flags, 'DescribeReplay', { ReplayName: name })
    const state = d.State as string
    if (FINAL.includes(state)) {
      out(JSON.stringify(d))
      return state === 'COMPLETED' ? 0 : 1
    }
  }
}
