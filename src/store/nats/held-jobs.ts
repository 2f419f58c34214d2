/**
 * @module
 * The job messages this node holds, by a local job id. JetStream knows a message by its stream
 * sequence, the dispatcher a job by a number; ids are handed out here from one counter for the
 * process, so they are unique in it even with several stores (a log line's job id is never
 * ambiguous), though not across nodes, nor kept across restarts: a redelivered message gets a
 * new one. While a message is held, JetStream must not hand it to another node: every AckWait/3 each
 * one is marked as still being worked on.
 *
 * A message may carry several jobs (a bundle, see `codec.ts`): each gets its own id, and the
 * message is answered once, when its last job has ended ({@link end} hands it back then). A
 * bundle given up while some of its jobs were not done ({@link abandon}) is never acked: the
 * server hands all of it out again after AckWait, and the jobs already done are delivered once
 * more, which at-least-once allows.
 *
 * Single-threaded: the window adds messages, the store ends them; both on the event loop.
 */
import type { JsMsg } from '@nats-io/jetstream'
import type { StoredEvent } from '../../model.js'

let lastId = 0

type Held = { msg: JsMsg; open: Set<number>; size: number; abandoned: boolean }

export class HeldJobs {
  private readonly jobs = new Map<number, { held: Held; event: StoredEvent }>()
  private readonly messages = new Set<Held>()
  private keepAlive: ReturnType<typeof setInterval> | undefined

  /**
   * @param ackWaitMs the consumer's AckWait. The keep-alive runs on real time, not the injected
   *   clock: it races the server's own timer.
   */
  constructor(
    private readonly ackWaitMs: number,
    private readonly log: { warn(obj: object, msg: string): void },
  ) {}

  /** Jobs held. */
  get size(): number {
    return this.jobs.size
  }

  /** Holds a message carrying one job per event in `events` (in order); the jobs' local ids. */
  add(msg: JsMsg, events: StoredEvent[]): number[] {
    const held: Held = { msg, open: new Set(), size: events.length, abandoned: false }
    const ids = events.map((event) => {
      const id = ++lastId
      held.open.add(id)
      this.jobs.set(id, { held, event })
      return id
    })
    this.messages.add(held)
    this.keepAlive ??= setInterval(
      () => {
        this.touch()
      },
      Math.max(100, Math.floor(this.ackWaitMs / 3)),
    ).unref()
    return ids
  }

  /** The message that carries the job. */
  get(id: number): JsMsg | undefined {
    return this.jobs.get(id)?.held.msg
  }

  /** The job's event, as its message carried it. */
  event(id: number): StoredEvent | undefined {
    return this.jobs.get(id)?.event
  }

  /** Whether the job's message carries other jobs too (it cannot be answered for this one alone). */
  shared(id: number): boolean {
    return (this.jobs.get(id)?.held.size ?? 1) > 1
  }

  /**
   * The job is no longer held (done, stored again, or handed back). Returns its message when
   * this was the message's last open job and the message is to be answered now; unknown ids,
   * and jobs of an abandoned bundle, return nothing.
   */
  end(id: number): JsMsg | undefined {
    const entry = this.jobs.get(id)
    if (!entry) return undefined
    this.jobs.delete(id)
    const { held } = entry
    held.open.delete(id)
    if (held.open.size > 0) return undefined
    this.messages.delete(held)
    if (this.messages.size === 0) this.stopKeepAlive()
    return held.abandoned ? undefined : held.msg
  }

  /**
   * Gives up the job's message without answering it, unless every open job of the message is in
   * `unstarted`: then it is handed back (returned, for a nak) at once.
   */
  abandon(id: number, unstarted: Set<number>): JsMsg | undefined {
    const entry = this.jobs.get(id)
    if (!entry) return undefined
    const { held } = entry
    const all = [...held.open].every((j) => unstarted.has(j))
    for (const j of held.open) if (unstarted.has(j)) this.jobs.delete(j)
    if (all) {
      held.open.clear()
      this.messages.delete(held)
      if (this.messages.size === 0) this.stopKeepAlive()
      return held.msg
    }
    // Jobs still running end later; the message is neither acked nor kept alive.
    held.abandoned = true
    for (const j of unstarted) held.open.delete(j)
    this.messages.delete(held)
    if (this.messages.size === 0) this.stopKeepAlive()
    return undefined
  }

  /** Forgets every message without answering for them: they come back after AckWait. */
  clear(): void {
    this.jobs.clear()
    this.messages.clear()
    this.stopKeepAlive()
  }

  private touch(): void {
    try {
      for (const held of this.messages) held.msg.working()
    } catch (e) {
      // The connection is gone: the server hands the messages to other nodes after AckWait.
      this.log.warn({ err: e }, 'could not keep delivery jobs leased; they will be redelivered')
      this.clear()
    }
  }

  private stopKeepAlive(): void {
    if (this.keepAlive) clearInterval(this.keepAlive)
    this.keepAlive = undefined
  }
}
