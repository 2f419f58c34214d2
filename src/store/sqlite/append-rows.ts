/**
 * @module
 * An append (events and the jobs that deliver them) packed into one string for the trip to the
 * writer thread. Structured cloning the objects cost more main-thread time than everything else
 * PutEvents does (a third of it, profiled); one flat string crosses as a single copy.
 *
 * Fields are separated by U+0000, which none of them can contain: event texts are JSON that
 * JSON.parse accepted (control characters only escaped) re-emitted without whitespace, and ARNs,
 * ids and rule and target names are validated against patterns without control characters.
 */
import type { DeliveryJob, StoredEvent } from '../../model.js'
import type { ArchiveEntry } from '../ports.js'

const SEP = '\u0000'
const EVENT_FIELDS = 5
const JOB_FIELDS = 6

/** An event row as the writer inserts it. */
export type EventRow = {
  busArn: string
  id: string
  ingestedAt: number
  hops: number
  text: string
}

/** A job row; `event` is the index of its event in the same append. */
export type JobRow = {
  id: number
  event: number
  ruleArn: string
  targetId: string
  attempts: number
  dueAt: number
}

/** `events.length, (busArn, id, ingestedAt, hops, text)…, (id, event, ruleArn, targetId, attempts, dueAt)…` */
export function packAppend(events: readonly StoredEvent[], jobs: readonly DeliveryJob[]): string {
  const parts: (string | number)[] = [events.length]
  for (const e of events) parts.push(e.busArn, e.id, e.ingestedAt, e.hops, e.text)
  if (jobs.length === 0) return parts.join(SEP)
  // An append without jobs (events no rule routes, change capture onto a bus without targets)
  // needs no index from event to row.
  const index = new Map<string, number>()
  events.forEach((e, i) => index.set(`${e.busArn} ${e.id}`, i))
  for (const j of jobs) {
    const at = index.get(`${j.busArn} ${j.eventId}`)
    if (at === undefined) throw new Error(`job ${String(j.id)} has no event in its append`)
    parts.push(j.id, at, j.ruleArn, j.targetId, j.attempts, j.dueAt)
  }
  return parts.join(SEP)
}

export function unpackAppend(packed: string): { events: EventRow[]; jobs: JobRow[] } {
  const f = packed.split(SEP)
  const count = Number(f[0])
  const events: EventRow[] = []
  let i = 1
  for (let n = 0; n < count; n++, i += EVENT_FIELDS)
    events.push({
      busArn: f[i]!,
      id: f[i + 1]!,
      ingestedAt: Number(f[i + 2]),
      hops: Number(f[i + 3]),
      text: f[i + 4]!,
    })
  const jobs: JobRow[] = []
  for (; i + JOB_FIELDS <= f.length; i += JOB_FIELDS)
    jobs.push({
      id: Number(f[i]),
      event: Number(f[i + 1]),
      ruleArn: f[i + 2]!,
      targetId: f[i + 3]!,
      attempts: Number(f[i + 4]),
      dueAt: Number(f[i + 5]),
    })
  return { events, jobs }
}

/** Archive rows of an append, `(archive key, event index, time)…`, packed as above. */
export function packArchived(entries: readonly ArchiveEntry[]): string {
  const parts: (string | number)[] = []
  for (const a of entries) parts.push(a.archive, a.event, a.time)
  return parts.join(SEP)
}

export function unpackArchived(packed: string): ArchiveEntry[] {
  const f = packed.split(SEP)
  const out: ArchiveEntry[] = []
  for (let i = 0; i + 3 <= f.length; i += 3)
    out.push({ archive: Number(f[i]), event: Number(f[i + 1]), time: Number(f[i + 2]) })
  return out
}
