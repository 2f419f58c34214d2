/**
 * @module
 * How jobs and dead letters travel in JetStream messages. A job message carries its event, so a
 * node that takes the job needs no second lookup; the job's id is not in it, since ids are local
 * to the node that holds the message (see `jobs.ts`).
 */
import type { DeliveryJob, StoredEvent } from '../../model.js'
import type { DeadLetter } from '../ports.js'

/** A job as stored in the jobs stream: everything but its (node-local) id. */
export type StoredJob = Omit<DeliveryJob, 'id'>

type JobBody = { job: StoredJob; event: StoredEvent }

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeJob(job: DeliveryJob, event: StoredEvent): Uint8Array {
  const stored: StoredJob = {
    eventId: job.eventId,
    busArn: job.busArn,
    ruleArn: job.ruleArn,
    targetId: job.targetId,
    attempts: job.attempts,
    dueAt: job.dueAt,
  }
  return encoder.encode(JSON.stringify({ job: stored, event } satisfies JobBody))
}

export function decodeJob(data: Uint8Array): JobBody {
  return JSON.parse(decoder.decode(data)) as JobBody
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
