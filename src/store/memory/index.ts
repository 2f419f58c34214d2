/**
 * @module
 * The in-memory store: the reference implementation of the ports, for fast unit tests and
 * `--store memory`. Nothing survives the process.
 */
import type { DeliveryJob, StoredEvent } from '../../model.js'
import type { ConfigEntry, ConfigOp, DeadLetter, PendingDelivery, Store } from '../ports.js'

export function createMemoryStore(): Store {
  const config = new Map<string, ConfigEntry>()
  const events = new Map<string, StoredEvent>()
  const jobs = new Map<number, DeliveryJob>()
  const letters: DeadLetter[] = []
  let maxJobId = 0
  const eventKey = (e: { id: string; busArn: string }) => `${e.busArn} ${e.id}`
  // Copies, so callers cannot change what is "stored" by mutating their objects.
  const copy = <T>(v: T): T => structuredClone(v)

  return {
    kind: 'memory',
    config: {
      load: () => Promise.resolve([...config.values()].map(copy)),
      apply(ops: ConfigOp[]) {
        for (const op of ops) {
          const key = `${op.kind} ${op.key}`
          if (op.op === 'put') config.set(key, { kind: op.kind, key: op.key, doc: copy(op.doc) })
          else config.delete(key)
        }
        return Promise.resolve()
      },
    },
    events: {
      append(newEvents, newJobs) {
        for (const e of newEvents) events.set(eventKey(e), copy(e))
        for (const j of newJobs) {
          jobs.set(j.id, copy(j))
          maxJobId = Math.max(maxJobId, j.id)
        }
        return Promise.resolve()
      },
      pending() {
        const out: PendingDelivery[] = []
        for (const job of jobs.values()) {
          const event = events.get(eventKey({ id: job.eventId, busArn: job.busArn }))
          if (event) out.push({ job: copy(job), event: copy(event) })
        }
        return Promise.resolve(out)
      },
      maxJobId: () => Promise.resolve(maxJobId),
      finish(ids) {
        for (const id of ids) jobs.delete(id)
        return Promise.resolve()
      },
      reschedule(job) {
        if (jobs.has(job.id)) jobs.set(job.id, copy(job))
        return Promise.resolve()
      },
      deadLetter(letter) {
        letters.push(copy(letter))
        jobs.delete(letter.job.id)
        return Promise.resolve()
      },
      deadLetters: (arn) => Promise.resolve(letters.filter((l) => l.dlqArn === arn).map(copy)),
    },
    close: () => Promise.resolve(),
  }
}
