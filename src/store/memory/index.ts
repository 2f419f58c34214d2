/**
 * @module
 * The in-memory store: the reference implementation of the ports, for fast unit tests and
 * `--store memory`. Nothing survives the process.
 */
import type { DeliveryJob, StoredEvent } from '../../model.js'
import type {
  DedupRecord,
  MessageTimes,
  QueueCensus,
  QueueRecord,
  QueueWrite,
  StoredMessage,
} from '../../queue/model.js'
import {
  compareJobKeys,
  type ConfigEntry,
  type ConfigOp,
  type ArchivedEvent,
  type DeadLetter,
  type PendingDelivery,
  type LocalStore,
} from '../ports.js'

export function createMemoryStore(): LocalStore {
  const config = new Map<string, ConfigEntry>()
  const events = new Map<string, StoredEvent>()
  const jobs = new Map<number, DeliveryJob>()
  let letters: DeadLetter[] = []
  const queues = new Map<string, QueueRecord>()
  const messages = new Map<number, StoredMessage>()
  let dedup: DedupRecord[] = []
  let maxSeq = 0
  let maxJobId = 0
  const ticks = new Map<string, number>()
  let eventSeq = 0
  let archived: (ArchivedEvent & { archive: number; size: number })[] = []
  const eventKey = (e: { id: string; busArn: string }) => `${e.busArn} ${e.id}`
  // Copies, so callers cannot change what is "stored" by mutating their objects.
  const copy = <T>(v: T): T => structuredClone(v)

  function applyQueueWrite(w: QueueWrite): void {
    switch (w.t) {
      case 'putQueue':
        queues.set(w.queue.id, copy(w.queue))
        return
      case 'dropQueue':
        queues.delete(w.queueId)
        for (const [seq, m] of messages) if (m.queueId === w.queueId) messages.delete(seq)
        dedup = dedup.filter((d) => d.queueId !== w.queueId)
        return
      case 'insert':
        for (const m of w.messages) {
          messages.set(m.seq, copy(m))
          maxSeq = Math.max(maxSeq, m.seq)
        }
        dedup.push(...w.dedup.map(copy))
        return
      case 'update':
        for (const u of w.messages) {
          const m = messages.get(u.seq)
          if (!m) continue
          const next: StoredMessage = {
            ...m,
            queueId: u.queueId,
            visibleAt: u.visibleAt,
            receiveCount: u.receiveCount,
          }
          delete next.firstReceivedAt
          delete next.receipt
          delete next.receivedAt
          if (u.firstReceivedAt !== undefined) next.firstReceivedAt = u.firstReceivedAt
          if (u.receipt !== undefined) next.receipt = u.receipt
          if (u.receivedAt !== undefined) next.receivedAt = u.receivedAt
          messages.set(u.seq, next)
        }
        return
      case 'remove':
        for (const seq of w.seqs) messages.delete(seq)
        return
      case 'purge':
        for (const [seq, m] of messages)
          if (m.queueId === w.queueId && seq <= w.upToSeq) messages.delete(seq)
        return
      case 'pruneDedup':
        dedup = dedup.filter((d) => d.at >= w.before)
        return
      case 'finishJob':
        jobs.delete(w.jobId)
        return
      case 'dropDeadLetters': {
        const ids = new Set(w.jobIds)
        letters = letters.filter((l) => !ids.has(l.job.id))
        return
      }
    }
  }

  const applyConfig = (ops: ConfigOp[]) => {
    for (const op of ops) {
      const key = `${op.kind} ${op.key}`
      if (op.op === 'put') config.set(key, { kind: op.kind, key: op.key, doc: copy(op.doc) })
      else config.delete(key)
    }
  }
  const archiveOrder = (a: { time: number; seq: number }, b: { time: number; seq: number }) =>
    a.time - b.time || a.seq - b.seq

  return {
    kind: 'memory',
    config: {
      load: () => Promise.resolve([...config.values()].map(copy)),
      apply(ops: ConfigOp[]) {
        applyConfig(ops)
        return Promise.resolve()
      },
    },
    events: {
      append(newEvents, newJobs, extras) {
        const seqs = newEvents.map(() => ++eventSeq)
        for (const a of extras?.archived ?? []) {
          const event = newEvents[a.event]!
          const seq = seqs[a.event]!
          if (archived.some((x) => x.archive === a.archive && x.seq === seq)) continue
          archived.push({
            archive: a.archive,
            time: a.time,
            seq,
            archivedAt: event.ingestedAt,
            size: Buffer.byteLength(event.text),
            event: copy(event),
          })
        }
        if (extras?.config) applyConfig(extras.config)
        for (const t of extras?.ticks ?? [])
          ticks.set(t.ruleArn, Math.max(t.tick, ticks.get(t.ruleArn) ?? -Infinity))
        for (const e of newEvents) events.set(eventKey(e), copy(e))
        for (const j of newJobs) {
          jobs.set(j.id, copy(j))
          maxJobId = Math.max(maxJobId, j.id)
        }
        return Promise.resolve()
      },
      scheduleTicks: () => Promise.resolve(new Map(ticks)),
      due(after, limit) {
        // Sorted on every call: this store is for tests, where backlogs are small.
        const out: PendingDelivery[] = []
        const keyed = [...jobs.values()]
          .filter((j) => after === undefined || compareJobKeys(j, after) > 0)
          .sort(compareJobKeys)
        for (const job of keyed) {
          if (out.length >= limit) break
          const event = events.get(eventKey({ id: job.eventId, busArn: job.busArn }))
          if (event) out.push({ job: copy(job), event: copy(event) })
        }
        return Promise.resolve(out)
      },
      pendingCount: () => Promise.resolve(jobs.size),
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
    queues: {
      load: () =>
        Promise.resolve({
          queues: [...queues.values()].map(copy),
          dedup: dedup.map(copy),
          maxSeq,
        }),
      write(writes: QueueWrite[]) {
        for (const w of writes) applyQueueWrite(w)
        return Promise.resolve()
      },
      census(queueId, at) {
        const census: QueueCensus = { visible: 0, hidden: [], maxInflightSeq: 0 }
        const hidden = new Map<number, { due: number; inflight: number; delayed: number }>()
        for (const m of messages.values()) {
          if (m.queueId !== queueId) continue
          if (m.visibleAt <= at) {
            census.visible++
            continue
          }
          const due = Math.ceil(m.visibleAt / 1000) * 1000
          let h = hidden.get(due)
          if (!h) hidden.set(due, (h = { due, inflight: 0, delayed: 0 }))
          if (m.receiveCount > 0) {
            h.inflight++
            census.maxInflightSeq = Math.max(census.maxInflightSeq, m.seq)
          } else h.delayed++
        }
        census.hidden = [...hidden.values()].sort((a, b) => a.due - b.due)
        return census
      },
      page(queueId, order, after, limit) {
        const mine = [...messages.values()].filter((m) => m.queueId === queueId)
        const byVisibility = (a: StoredMessage, b: { visibleAt: number; seq: number }) =>
          a.visibleAt - b.visibleAt || a.seq - b.seq
        const next =
          order === 'seq'
            ? mine.filter((m) => m.seq > after.seq).sort((a, b) => a.seq - b.seq)
            : mine.filter((m) => byVisibility(m, after) > 0).sort(byVisibility)
        return next.slice(0, limit).map(copy)
      },
      message(queueId, id, seq) {
        const m =
          seq === undefined
            ? [...messages.values()].find((x) => x.queueId === queueId && x.id === id)
            : messages.get(seq)
        return m && m.queueId === queueId && m.id === id ? copy(m) : undefined
      },
      expired(queueId, sentBefore, afterSeq, limit) {
        const out: MessageTimes[] = []
        const oldest = [...messages.values()]
          .filter((m) => m.queueId === queueId && m.seq > afterSeq)
          .sort((a, b) => a.seq - b.seq)
        for (const m of oldest) {
          if (m.sentAt >= sentBefore || out.length >= limit) break
          const { seq, id, sentAt, visibleAt, receiveCount } = m
          out.push({ seq, id, sentAt, visibleAt, receiveCount })
        }
        return out
      },
    },
    archives: {
      stats(archive) {
        let eventCount = 0
        let sizeBytes = 0
        for (const a of archived)
          if (a.archive === archive) {
            eventCount++
            sizeBytes += a.size
          }
        return Promise.resolve({ eventCount, sizeBytes })
      },
      page(archive, from, to, after, limit) {
        const out = archived
          .filter(
            (a) =>
              a.archive === archive &&
              a.time >= from &&
              a.time <= to &&
              (after === undefined || archiveOrder(a, after) > 0),
          )
          .sort(archiveOrder)
          .slice(0, limit)
          .map(({ time, seq, archivedAt, event }) => ({
            time,
            seq,
            archivedAt,
            event: copy(event),
          }))
        return Promise.resolve(out)
      },
      purge(archive, before) {
        archived = archived.filter((a) => a.archive !== archive || a.archivedAt >= before)
        return Promise.resolve()
      },
      drop(archive) {
        archived = archived.filter((a) => a.archive !== archive)
        return Promise.resolve()
      },
    },
    close: () => Promise.resolve(),
  }
}
