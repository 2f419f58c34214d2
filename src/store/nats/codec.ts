/**
 * @module
 * How jobs and dead letters travel in JetStream messages. A job message carries its event, so a
 * node that takes the job needs no second lookup; the job's id is not in it, since ids are local
 * to the node that holds the message (see `jobs.ts`).
 *
 * The jobs of one append travel together in one message, a bundle (`{"jobs":[…],"events":[…]}`,
 * each event once however many jobs it has): a PutEvents of ten entries is one publish and one
 * acknowledgement instead of ten, and one message for the taking node to fetch and ack.
 */
import { createHash } from 'node:crypto'
import type { DeliveryJob, StoredEvent } from '../../model.js'
import type { DeadLetter } from '../ports.js'

/** A job as stored in the jobs stream: everything but its (node-local) id. */
export type StoredJob = Omit<DeliveryJob, 'id'>

type JobBody = { job: StoredJob; event: StoredEvent }

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The job without its node-local id. */
const storedJob = (job: DeliveryJob): StoredJob => ({
  eventId: job.eventId,
  busArn: job.busArn,
  ruleArn: job.ruleArn,
  targetId: job.targetId,
  attempts: job.attempts,
  dueAt: job.dueAt,
})

export function encodeJob(job: DeliveryJob, event: StoredEvent): Uint8Array {
  return encoder.encode(JSON.stringify({ job: storedJob(job), event } satisfies JobBody))
}

export function decodeJob(data: Uint8Array): JobBody {
  return JSON.parse(decoder.decode(data)) as JobBody
}

type BundleBody = { jobs: StoredJob[]; events: StoredEvent[] }

/** Jobs with their events, each event once (every job's event must be in `events`). */
export function encodeBundle(jobs: DeliveryJob[], events: StoredEvent[]): Uint8Array {
  return encoder.encode(JSON.stringify({ jobs: jobs.map(storedJob), events } satisfies BundleBody))
}

/** The jobs of a message, bundle or single job (as older messages and reschedules are). */
export function decodeJobs(data: Uint8Array): JobBody[] {
  const body = JSON.parse(decoder.decode(data)) as Partial<BundleBody & JobBody>
  if (body.job && body.event) return [{ job: body.job, event: body.event }]
  const events = new Map((body.events ?? []).map((e) => [e.id, e]))
  return (body.jobs ?? []).map((job) => {
    const event = events.get(job.eventId)
    if (!event) throw new Error(`a bundled job's event ${job.eventId} is not in its message`)
    return { job, event }
  })
}

/**
 * A bundle's message id: the same jobs published again (an append retried) are stored once. A
 * bundle of one job has that job's own id.
 */
export function bundleMessageId(jobs: StoredJob[]): string {
  if (jobs.length === 1) return jobMessageId(jobs[0]!)
  const hash = createHash('sha1')
  for (const job of jobs) hash.update(jobMessageId(job)).update('\n')
  return `bundle ${hash.digest('hex')}`
}

/**
 * The message id of a job: the same job published twice (an append retried after a lost
 * answer) is stored once, while its reschedule, with one more attempt, is a new message.
 */
export function jobMessageId(job: StoredJob): string {
  return `${job.eventId} ${job.ruleArn} ${job.targetId} ${String(job.attempts)}`
}

export function encodeDeadLetter(letter: DeadLetter): Uint8Array {
  return encoder.encode(JSON.stringify(letter))
}

export function decodeDeadLetter(data: Uint8Array): DeadLetter {
  return JSON.parse(decoder.decode(data)) as DeadLetter
}

/**
 * Any text (an ARN) as one subject token or KV key: base64url uses only letters, digits, `-`
 * and `_`, none of which NATS gives a meaning (ARNs hold `.`, `*` and `>`, which it does).
 */
export function token(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url')
}
