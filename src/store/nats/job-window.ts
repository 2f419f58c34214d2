/**
 * @module
 * The dispatcher's window when several nodes share NATS JetStream: it pulls jobs from the one
 * durable consumer all nodes share, so each job goes to one node at a time. It pulls while it
 * has room (at most `maxJobs` held), and a job comes to it WITH its event (see `codec.ts`).
 *
 * A job pulled before it is due goes back with `nak(delay)` (the server hands it out again when
 * it is due, to whichever node asks), unless it is due within `holdMs`: then it waits here. Jobs
 * submitted by this node's appends are not taken from `offer`; they arrive through the consumer
 * like everyone else's. A job rescheduled by the store is a new message, so `requeue` only lets
 * the old one go. Held messages are kept leased by {@link HeldJobs}.
 *
 * A bundle (several jobs in one message, see `codec.ts`) cannot be handed back for one job
 * alone: its jobs that must wait wait here, within the window, and the message is answered when
 * its last job is done.
 *
 * Single-threaded: the event loop runs the pull loop and the dispatcher's calls.
 */
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream'
import { JobHeap } from '../../delivery/job-heap.js'
import type { Item, JobWindow, JobWindowDeps } from '../../delivery/job-window.js'
import { decodeJobs } from './codec.js'
import type { HeldJobs } from './held-jobs.js'

export type NatsJobWindowDeps = JobWindowDeps & {
  consumer: Consumer
  leases: HeldJobs
  /** False once the connection is closed: the pull loop ends. */
  connected: () => boolean
  /**
   * A job due within this long is held rather than handed back.
   * @default 1000
   */
  holdMs?: number
  /**
   * Most messages one pull asks for.
   * @default 256
   */
  batch?: number
}

/** How long one pull waits for messages; the server's minimum is 1 s. */
const PULL_EXPIRES_MS = 5_000

export class NatsJobWindow implements JobWindow {
  /** Every job held, by local id: waiting, due or running. */
  private readonly items = new Map<number, Item>()
  private readonly heap = new JobHeap<Item>()
  private pulling = false
  private stopped = false
  private pull: ConsumerMessages | undefined
  private wakeUp: (() => void) | undefined
  private readonly holdMs: number
  private readonly batch: number
  /** Jobs per message lately (bundles carry several): pulls ask for messages, room is in jobs. */
  private jobsPerMessage = 1

  constructor(private readonly deps: NatsJobWindowDeps) {
    this.holdMs = deps.holdMs ?? 1000
    this.batch = Math.max(1, Math.min(deps.batch ?? 256, deps.maxJobs))
  }

  get size(): number {
    return this.items.size
  }

  fill(): void {
    if (this.stopped) return
    if (this.pulling) {
      this.wake()
      return
    }
    this.pulling = true
    this.pullLoop().then(
      () => {
        this.pulling = false
      },
      (e: unknown) => {
        this.pulling = false
        this.deps.log.error({ err: e }, 'the delivery job pull loop stopped')
      },
    )
  }

  offer(): void {
    // This node's jobs come through the shared consumer, like every other node's.
  }

  take(now: number): Item | undefined {
    const top = this.heap.peek()
    if (!top || top.job.dueAt > now) return undefined
    return this.heap.pop()
  }

  nextDueAt(): number | undefined {
    return this.heap.peek()?.job.dueAt
  }

  delay(item: Item): void {
    const wait = item.job.dueAt - this.deps.clock.now()
    if (wait <= this.holdMs || this.stopped || this.deps.leases.shared(item.job.id)) {
      this.heap.push(item)
      return
    }
    // Handed back: when due, any node may take it (with the attempts it was stored with).
    this.answer(item, (msg) => {
      msg.nak(wait)
    })
  }

  requeue(item: Item): void {
    // The reschedule stored the job as a new message and acked this one.
    this.release(item)
  }

  release(item: Item): void {
    this.items.delete(item.job.id)
    this.deps.leases.end(item.job.id)
    this.wake()
  }

  stop(): void {
    this.stopped = true
    this.pull?.stop()
    this.wake()
    // Jobs not started go back at once, for other nodes; running ones finish (or come back
    // after AckWait). A bundle with a job still running goes back whole after AckWait.
    const unstarted = new Set(this.heap.values().map((item) => item.job.id))
    for (const item of this.heap.values()) {
      this.items.delete(item.job.id)
      const msg = this.deps.leases.abandon(item.job.id, unstarted)
      try {
        msg?.nak()
      } catch (e) {
        this.deps.log.warn({ err: e, job: item.job.id }, 'could not hand a delivery job back')
      }
    }
    this.heap.clear()
  }

  /** Answers a job's message for it alone (a message of one job). */
  private answer(item: Item, how: (msg: JsMsg) => void): void {
    this.items.delete(item.job.id)
    const msg = this.deps.leases.end(item.job.id)
    try {
      if (msg) how(msg)
    } catch (e) {
      // A closed connection: the server hands the job out again after AckWait.
      this.deps.log.warn({ err: e, job: item.job.id }, 'could not hand a delivery job back')
    }
  }

  private wake(): void {
    const f = this.wakeUp
    this.wakeUp = undefined
    f?.()
  }

  /** Room for a pull worth making: a quarter of the window, or a whole batch. */
  private room(): number {
    const room = this.deps.maxJobs - this.items.size
    return room >= Math.min(this.batch, Math.ceil(this.deps.maxJobs / 4)) ? room : 0
  }

  private async pullLoop(): Promise<void> {
    const { deps } = this
    while (!this.ended()) {
      const room = this.room()
      if (room === 0) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve))
        continue
      }
      try {
        this.pull = await deps.consumer.fetch({
          max_messages: Math.max(1, Math.floor(Math.min(room, this.batch) / this.jobsPerMessage)),
          expires: PULL_EXPIRES_MS,
        })
        if (this.stopped) this.pull.stop() // stopped while the pull was being set up
        for await (const msg of this.pull) this.admit(msg)
      } catch (e) {
        if (this.ended()) break
        deps.log.error({ err: e }, 'could not pull delivery jobs; retrying')
        await new Promise<void>((resolve) => deps.clock.setTimer(1000, resolve))
      } finally {
        this.pull = undefined
      }
    }
  }

  private ended(): boolean {
    return this.stopped || !this.deps.connected()
  }

  private admit(msg: JsMsg): void {
    let members: ReturnType<typeof decodeJobs>
    try {
      members = decodeJobs(msg.data)
      if (members.length === 0) throw new Error('a job message without jobs')
    } catch (e) {
      // Never deliverable: redelivering it would only fail again, on every node.
      this.deps.log.error({ err: e, seq: msg.seq }, 'dropping a delivery job that cannot be read')
      msg.term()
      return
    }
    if (this.stopped) {
      msg.nak()
      return
    }
    const now = this.deps.clock.now()
    const wait = Math.min(...members.map((m) => m.job.dueAt)) - now
    if (wait > this.holdMs) {
      msg.nak(wait)
      return
    }
    this.jobsPerMessage = this.jobsPerMessage * 0.9 + members.length * 0.1
    const ids = this.deps.leases.add(
      msg,
      members.map((m) => m.event),
    )
    members.forEach((m, i) => {
      const id = ids[i]!
      const item: Item = { job: { ...m.job, id }, event: m.event, stored: true }
      this.items.set(id, item)
      this.heap.push(item)
    })
    this.deps.onAdmit()
  }
}
