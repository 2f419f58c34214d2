/**
 * @module
 * The job messages this node holds, by a local job id. JetStream knows a message by its stream
 * sequence, the dispatcher a job by a number; ids are handed out here from one counter for the
 * process, so they are unique in it even with several stores (a log line's job id is never
 * ambiguous), though not across nodes, nor kept across restarts: a redelivered message gets a
 * new one. While a message is held, JetStream must not hand it to another node: every AckWait/3 each
 * one is marked as still being worked on.
 *
 * Single-threaded: the window adds messages, the store ends them; both on the event loop.
 */
import type { JsMsg } from '@nats-io/jetstream'

let lastId = 0

export class HeldJobs {
  private readonly held = new Map<number, JsMsg>()
  private keepAlive: ReturnType<typeof setInterval> | undefined

  /**
   * @param ackWaitMs the consumer's AckWait. The keep-alive runs on real time, not the injected
   *   clock: it races the server's own timer.
   */
  constructor(
    private readonly ackWaitMs: number,
    private readonly log: { warn(obj: object, msg: string): void },
  ) {}

  get size(): number {
    return this.held.size
  }

  /** Holds a message; its job's local id. */
  add(msg: JsMsg): number {
    const id = ++lastId
    this.held.set(id, msg)
    this.keepAlive ??= setInterval(
      () => {
        this.touch()
      },
      Math.max(100, Math.floor(this.ackWaitMs / 3)),
    ).unref()
    return id
  }

  get(id: number): JsMsg | undefined {
    return this.held.get(id)
  }

  /** No longer held (acked, nak'd or given up); unknown ids are ignored. */
  end(id: number): void {
    this.held.delete(id)
    if (this.held.size === 0) this.stopKeepAlive()
  }

  /** Forgets every message without answering for them: they come back after AckWait. */
  clear(): void {
    this.held.clear()
    this.stopKeepAlive()
  }

  private touch(): void {
    try {
      for (const msg of this.held.values()) msg.working()
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
