/**
 * @module
 * One queue's messages in memory, and which of them a receive may take. A message is delayed
 * (sent with a delay, never received), visible, or in flight (received, its visibility timeout
 * running). Standard queues hand out visible messages oldest first; FIFO queues keep each
 * message group in order and hold a group back while any of its messages is in flight.
 */
import { Deque } from './deque.js'
import type { DedupRecord, QueueRecord, StoredMessage } from './model.js'
import { settingsOf, type QueueSettings } from './attributes.js'
import { TimerHeap } from './timer-heap.js'

export type MessageState = 'delayed' | 'visible' | 'inflight' | 'gone'

export type LiveMessage = StoredMessage & {
  state: MessageState
  /** MD5 of the body, computed once on first receive. */
  md5?: string
  /** When the latest receive took it (in-flight time is limited to 12 hours from there). */
  receivedAt?: number
}

type Group = { messages: Deque<LiveMessage>; inFlight: number }

/** What a waiting ReceiveMessage call is waiting for. */
export type Waiter = {
  /** Tries to receive; true once the waiter is satisfied (and must be dropped). */
  attempt(): boolean
}

export class LiveQueue {
  record: QueueRecord
  settings: QueueSettings
  readonly arn: string
  readonly byId = new Map<string, LiveMessage>()
  readonly counts = { visible: 0, inflight: 0, delayed: 0 }
  /** FIFO deduplication ids of the last five minutes, by scope key. */
  readonly dedup = new Map<string, DedupRecord>()
  readonly waiters: Waiter[] = []
  /** When PurgeQueue last ran (one purge per 60 s). */
  lastPurgeAt?: number
  /** Messages up to this seq were purged; one committed after the purge is not added. */
  purgedUpTo = 0
  /** Resolves once the queue's creation is committed. */
  created: Promise<void> = Promise.resolve()
  /** The timer that wakes waiters when a hidden message becomes visible. */
  wake?: { at: number; cancel: () => void }

  /** Standard queues: visible messages, oldest first (entries of other states are skipped). */
  private readonly ready = new Deque<LiveMessage>()
  /** FIFO queues: every message by group, in send order. */
  private readonly groups = new Map<string, Group>()
  private readonly hidden = new TimerHeap<LiveMessage>()
  /** True while take() walks a group by index. */
  private taking = false

  constructor(record: QueueRecord, arn: string) {
    this.record = record
    this.arn = arn
    this.settings = settingsOf(record.attributes)
  }

  get fifo(): boolean {
    return this.settings.fifo
  }

  /** Adds a message (new, loaded, or moved here by a redrive) in the state its times give. */
  add(m: StoredMessage, now: number): LiveMessage {
    const live = m as LiveMessage
    this.byId.set(live.id, live)
    if (this.fifo) this.group(live.groupId ?? '').messages.push(live)
    if (live.visibleAt > now) {
      live.state = live.receiveCount > 0 ? 'inflight' : 'delayed'
      if (live.state === 'inflight') this.inFlightChanged(live, 1)
      this.counts[live.state]++
      this.hidden.push(live.visibleAt, live)
    } else {
      live.state = 'visible'
      this.counts.visible++
      if (!this.fifo) this.ready.push(live)
    }
    return live
  }

  /** Makes visible every hidden message whose time has come. */
  promote(now: number): void {
    for (;;) {
      const top = this.hidden.peek()
      if (!top || top.at > now) return
      this.hidden.pop()
      const m = top.item
      if (m.visibleAt !== top.at || (m.state !== 'delayed' && m.state !== 'inflight')) continue
      this.counts[m.state]--
      if (m.state === 'inflight') this.inFlightChanged(m, -1)
      m.state = 'visible'
      this.counts.visible++
      if (!this.fifo) this.ready.push(m)
    }
  }

  /** When the next hidden message becomes visible, if any. */
  nextChange(): number | undefined {
    for (;;) {
      const top = this.hidden.peek()
      if (!top) return undefined
      const m = top.item
      if (m.visibleAt === top.at && (m.state === 'delayed' || m.state === 'inflight')) return top.at
      this.hidden.pop()
    }
  }

  /**
   * Takes up to `max` visible messages and marks them in flight until `visibleAt`. `keep` sees
   * each candidate first; when it says no it has removed the message (expired, or moved to a
   * dead-letter queue) and the next one is tried.
   */
  take(max: number, visibleAt: number, keep: (m: LiveMessage) => boolean): LiveMessage[] {
    const out: LiveMessage[] = []
    if (this.fifo) {
      for (const [id, g] of this.groups) {
        if (out.length >= max) break
        if (g.inFlight > 0) continue
        const before = out.length
        // A message `keep` removes must not shift the group under the index (see remove).
        this.taking = true
        try {
          for (let i = 0; i < g.messages.length && out.length < max; i++) {
            const m = g.messages.at(i)!
            if (m.state === 'gone') continue
            if (m.state !== 'visible') break
            if (!keep(m)) continue
            this.hide(m, visibleAt)
            out.push(m)
          }
        } finally {
          this.taking = false
        }
        this.compact(id, g)
        // Served groups go to the back, so the next receive starts with another group.
        if (out.length > before && this.groups.get(id) === g) {
          this.groups.delete(id)
          this.groups.set(id, g)
        }
      }
      return out
    }
    while (out.length < max) {
      const m = this.ready.shift()
      if (!m) break
      if (m.state !== 'visible' || !keep(m)) continue
      this.hide(m, visibleAt)
      out.push(m)
    }
    return out
  }

  /** Hides a visible or in-flight message until `visibleAt` (it is in flight meanwhile). */
  hide(m: LiveMessage, visibleAt: number): void {
    if (m.state !== 'inflight') {
      this.counts[m.state as 'visible' | 'delayed']--
      this.counts.inflight++
      this.inFlightChanged(m, 1)
      m.state = 'inflight'
    }
    m.visibleAt = visibleAt
    this.hidden.push(visibleAt, m)
    this.pruneHidden()
  }

  /**
   * Entries of deleted or re-hidden messages stay in the heap until their time comes; when they
   * outnumber the live ones the heap is rebuilt, so deleted messages (a visibility timeout can
   * be 12 hours) are not held in memory.
   */
  private pruneHidden(): void {
    const live = this.counts.inflight + this.counts.delayed
    if (this.hidden.size < 1024 || this.hidden.size < 2 * live) return
    this.hidden.retain(
      (m, at) => m.visibleAt === at && (m.state === 'delayed' || m.state === 'inflight'),
    )
  }

  /** Deletes a message from the queue. */
  remove(m: LiveMessage): void {
    if (m.state === 'gone') return
    this.counts[m.state]--
    if (m.state === 'inflight') this.inFlightChanged(m, -1)
    m.state = 'gone'
    this.byId.delete(m.id)
    this.pruneHidden()
    if (this.fifo && !this.taking) {
      const id = m.groupId ?? ''
      const g = this.groups.get(id)
      if (g) this.compact(id, g)
    }
  }

  /** Messages sent up to `upToSeq` (a purge), oldest first. */
  messagesUpTo(upToSeq: number): LiveMessage[] {
    return [...this.byId.values()].filter((m) => m.seq <= upToSeq)
  }

  private group(id: string): Group {
    let g = this.groups.get(id)
    if (!g) {
      g = { messages: new Deque(), inFlight: 0 }
      this.groups.set(id, g)
    }
    return g
  }

  private inFlightChanged(m: LiveMessage, by: number): void {
    if (this.fifo) this.group(m.groupId ?? '').inFlight += by
  }

  /** Drops deleted messages from the front of a group, and the group once it is empty. */
  private compact(id: string, g: Group): void {
    while (g.messages.peek()?.state === 'gone') g.messages.shift()
    if (g.messages.length === 0 && g.inFlight === 0) this.groups.delete(id)
  }
}
